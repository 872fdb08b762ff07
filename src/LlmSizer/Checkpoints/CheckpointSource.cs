using System.Globalization;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Errors;

namespace LlmSizer.Checkpoints;

/// <summary>What a model path names, before any checkpoint is parsed.</summary>
internal enum SourceKind
{
    /// <summary>Nothing this loader reads (a folder with neither weights nor an index).</summary>
    None,

    /// <summary>One file, named by the user: its format is detected from its bytes.</summary>
    File,

    /// <summary>A <c>*.safetensors.index.json</c> in a folder.</summary>
    Index,

    /// <summary>One or more <c>*.safetensors</c> files of a folder.</summary>
    SafetensorsShards,

    /// <summary>A gguf-split set (<c>&lt;name&gt;-0000N-of-0000M.gguf</c>).</summary>
    GgufSplit,
}

/// <summary>A model path resolved to the files to read.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Files">The files: one for <see cref="SourceKind.File"/> and <see cref="SourceKind.Index"/>, the shards
/// otherwise (any shard of a split set).</param>
/// <param name="Folder">The folder that holds them (where a side config.json is looked for).</param>
/// <param name="DisplayName">The model's name: the folder (or <c>org/name</c> of a Hugging Face cache) or file name.</param>
internal sealed record ResolvedSource(SourceKind Kind, IReadOnlyList<string> Files, string Folder, string DisplayName);

/// <summary>Turns a path into what it holds: a file, a folder of shards or an index, or a Hugging Face cache folder
/// (<c>models--org--name</c>, whose snapshot <c>refs/main</c> names, else the newest). Folders are chosen by the
/// Hugging Face file names (an index, else <c>model.safetensors</c>, else every <c>*.safetensors</c>, else the
/// <c>.gguf</c> files); a file named by the user is judged by its bytes (see <see cref="CheckpointFormats"/>).</summary>
internal static class CheckpointSourceResolver
{
    public static ResolvedSource Resolve(string path)
    {
        if (File.Exists(path))
        {
            var full = Path.GetFullPath(path);
            return new ResolvedSource(SourceKind.File, [path], Path.GetDirectoryName(full) ?? ".", Path.GetFileName(full));
        }

        if (!Directory.Exists(path))
        {
            return new ResolvedSource(SourceKind.None, [], path, path);
        }

        string folder = ResolveHuggingFaceCache(path);
        string name = DisplayName(path);
        var index = Path.Combine(folder, "model.safetensors.index.json");
        if (!File.Exists(index))
        {
            index = Directory.EnumerateFiles(folder, "*.safetensors.index.json").Order(StringComparer.Ordinal).FirstOrDefault() ?? index;
        }

        if (File.Exists(index))
        {
            return new ResolvedSource(SourceKind.Index, [index], folder, name);
        }

        var single = Path.Combine(folder, "model.safetensors");
        var shards = File.Exists(single) ? [single] : Directory.EnumerateFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (shards.Count > 0)
        {
            return new ResolvedSource(SourceKind.SafetensorsShards, shards, folder, name);
        }

        var ggufs = Directory.EnumerateFiles(folder, "*.gguf").Order(StringComparer.Ordinal).ToList();
        if (ggufs.Count == 1)
        {
            return new ResolvedSource(SourceKind.File, ggufs, folder, name);
        }

        if (ggufs.Count > 1)
        {
            // One gguf-split set (and nothing else): load it from its first shard.
            var sets = ggufs.Select(g => GgufSplit.TryParse(g, out var sp) ? sp : null).ToList();
            if (sets.All(sp => sp is not null) && sets.Select(sp => sp!.Prefix).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                return new ResolvedSource(SourceKind.GgufSplit, [ggufs[0]], folder, name);
            }

            throw new UnknownModelException(
                $"{MessageText.Clean(path)}: expected one .gguf file in the folder; found {ggufs.Count} ({string.Join(", ", ggufs.Select(g => MessageText.Clean(Path.GetFileName(g), 80)).Take(6))}): name the file.");
        }

        return new ResolvedSource(SourceKind.None, [], folder, name);
    }

    /// <summary>For a Hugging Face cache folder (<c>models--org--name</c> with <c>snapshots/</c>), the snapshot folder
    /// that <c>refs/main</c> names, else the most recently written one; any other folder is returned as is.</summary>
    public static string ResolveHuggingFaceCache(string folder)
    {
        var snapshots = Path.Combine(folder, "snapshots");
        if (!Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))).StartsWith("models--", StringComparison.Ordinal) || !Directory.Exists(snapshots))
        {
            return folder;
        }

        var refMain = Path.Combine(folder, "refs", "main");
        if (File.Exists(refMain))
        {
            // refs/main is a 40-character commit hash; read a bounded amount of it (it could be anything). An empty,
            // oversized or non-regular one is ignored: the newest snapshot is used instead.
            string rev;
            try
            {
                rev = System.Text.Encoding.UTF8.GetString(LocalFiles.ReadAll(refMain, 4096, scanned: true)).Trim();
            }
            catch (ModelFileFormatException)
            {
                rev = "";
            }

            var candidate = Path.Combine(snapshots, rev);
            if (rev.Length > 0 && Path.GetFileName(rev) == rev && Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Directory.EnumerateDirectories(snapshots).OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault() ?? folder;
    }

    /// <summary>The model name of a folder: <c>org/name</c> for a Hugging Face cache folder, else its name.</summary>
    public static string DisplayName(string folder)
    {
        var leaf = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (leaf.StartsWith("models--", StringComparison.Ordinal))
        {
            var parts = leaf["models--".Length..].Split("--");
            return string.Join('/', parts);
        }

        return leaf;
    }
}

/// <summary>Opens local files so that nothing blocks or reads without bound: a FIFO, socket or device found in a model
/// folder is refused before it is opened (opening a FIFO waits for a writer forever); one the user names under
/// <c>/dev</c> or <c>/proc</c> (<c>/dev/stdin</c>, <c>&lt;(cat config.json)</c> as <c>/dev/fd/63</c>) is read as a
/// stream, at most <see cref="ModelLimits.MaxStreamBytes"/> (so <c>/dev/zero</c> ends with an error).</summary>
/// <remarks>.NET exposes no file type (FIFO, device) without opening, so the test is the size the file system
/// reports: regular checkpoint and config files are never empty, while FIFOs, sockets and devices report 0.
/// Symbolic links (Hugging Face snapshots are links to blobs) are followed first.</remarks>
internal static class LocalFiles
{
    /// <summary>True for paths under <c>/dev/</c> or <c>/proc/</c>: pipes and devices the user names on purpose.</summary>
    public static bool IsStreamPath(string path)
    {
        var full = Path.GetFullPath(path);
        return full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal);
    }

    /// <summary>Throws unless <paramref name="path"/> (after links) is a non-empty file, or a stream path the user named.</summary>
    /// <param name="path">The path.</param>
    /// <param name="scanned">True for a file found in a folder (or next to another), false for one the user named.</param>
    public static void CheckOpenable(string path, bool scanned)
    {
        if (!scanned && IsStreamPath(path))
        {
            return;
        }

        if (TargetLength(path) == 0)
        {
            throw new ModelFileFormatException(path, 0,
                $"{MessageText.Clean(path, 400)}: expected a regular file with content; found 0 bytes (an empty file, or a FIFO, socket or device: only paths under /dev, such as /dev/stdin, are read as streams).");
        }
    }

    /// <summary>Opens a file as a byte source (see the class remarks); dispose the result when it is <see cref="IDisposable"/>.</summary>
    public static ISynchronousByteSource Open(string path, bool scanned)
    {
        CheckOpenable(path, scanned);
        FileByteSource file;
        try
        {
            file = new FileByteSource(path);
        }
        catch (NotSupportedException) when (IsStreamPath(path))
        {
            // A pipe (/dev/stdin, /dev/fd/63): no length, no seeking. Nothing was read from it yet.
            return ReadStream(path);
        }

        if (file.FileLength > 0 || !IsStreamPath(path))
        {
            return file;
        }

        file.Dispose();
        return ReadStream(path);
    }

    /// <summary>Reads a whole small file (config.json, index, refs/main), refusing more than <paramref name="maxBytes"/>.</summary>
    public static byte[] ReadAll(string path, long maxBytes, bool scanned)
    {
        var source = Open(path, scanned);
        try
        {
            long length = source.Length ?? 0;
            if (length > maxBytes)
            {
                throw new ModelFileFormatException(path, 0, string.Create(CultureInfo.InvariantCulture,
                    $"{MessageText.Clean(path, 400)}: expected a file of at most {maxBytes:N0} bytes; found {length:N0} bytes."));
            }

            var bytes = new byte[length];
            if (!source.TryReadExactly(0, bytes))
            {
                throw new ModelFileFormatException(path, 0, $"{MessageText.Clean(path, 400)}: the file shrank while it was read.");
            }

            return bytes;
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    private static MemoryByteSource ReadStream(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        return ByteSource.Buffer(stream, path, ModelLimits.MaxStreamBytes);
    }

    private static long TargetLength(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            try
            {
                if (File.ResolveLinkTarget(path, returnFinalTarget: true) is FileInfo target)
                {
                    info = target;
                }
            }
            catch (IOException)
            {
                // A link loop: opening fails later with its own message.
            }
        }

        return info.Exists ? info.Length : -1;
    }
}
