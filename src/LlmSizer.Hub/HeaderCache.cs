using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LlmSizer.Hub;

/// <summary>One cached remote file: the prefix read (a header, or a whole small JSON file), the file's full length,
/// its ETag, and (for revision answers) the commit it resolved to.</summary>
internal sealed record CachedEntry(byte[] Prefix, long Length, string? ETag, string? Commit);

/// <summary>Our own cache of fetched configs, indexes, headers and revision answers, under <c>$XDG_CACHE_HOME/llmsize</c>:
/// <c>hub/models--org--name/&lt;commit&gt;/&lt;path&gt;</c> for repository files (a commit's files never change),
/// <c>hub/models--org--name/revisions/&lt;rev&gt;</c> for the model API's answer (revalidated with its ETag), and
/// <c>url/&lt;sha256&gt;</c> for plain URLs (revalidated with theirs). Every entry is one file, written to a temporary
/// name and moved into place, and read back with its size bounded; a damaged entry is a miss.</summary>
internal sealed class HeaderCache(string root, long maxEntryBytes)
{
    private static ReadOnlySpan<byte> Magic => "LLMSZC01"u8;

    public string Root { get; } = root;

    public string RepoFile(string repo, string commit, string path) =>
        Path.Combine(Root, "hub", RepoFolder(repo), commit, Path.Combine(path.Split('/')) + ".llmsize");

    public string RevisionFile(string repo, string revision) => Path.Combine(Root, "hub", RepoFolder(repo), "revisions", revision + ".llmsize");

    public string UrlFile(Uri url) =>
        Path.Combine(Root, "url", Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(url.AbsoluteUri))) + ".llmsize");

    public static string RepoFolder(string repo) => "models--" + repo.Replace("/", "--", StringComparison.Ordinal);

    public CachedEntry? TryRead(string file)
    {
        try
        {
            var info = new FileInfo(file);
            if (!info.Exists || info.Length > maxEntryBytes + 4096 || info.Length < 24)
            {
                return null;
            }

            var bytes = File.ReadAllBytes(file);
            var span = bytes.AsSpan();
            if (!span.StartsWith(Magic))
            {
                return null;
            }

            long length = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
            int at = 16;
            string? etag = ReadText(span, ref at);
            string? commit = ReadText(span, ref at);
            if (length < 0 || at > span.Length || span.Length - at > length)
            {
                return null;
            }

            return new CachedEntry(span[at..].ToArray(), length, etag, commit);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Stores an entry; a cache that cannot be written is skipped (the answer is still right, only not kept).</summary>
    public void Write(string file, CachedEntry entry)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            var temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                Span<byte> head = stackalloc byte[16];
                Magic.CopyTo(head);
                BinaryPrimitives.WriteInt64LittleEndian(head[8..], entry.Length);
                stream.Write(head);
                WriteText(stream, entry.ETag);
                WriteText(stream, entry.Commit);
                stream.Write(entry.Prefix);
            }

            File.Move(temp, file, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string? ReadText(ReadOnlySpan<byte> span, ref int at)
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (n < 0)
        {
            return null;
        }

        if (n > 4096 || at + n > span.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(span));
        }

        var text = Encoding.UTF8.GetString(span.Slice(at, n));
        at += n;
        return text;
    }

    private static void WriteText(Stream stream, string? text)
    {
        Span<byte> n = stackalloc byte[4];
        var bytes = text is null ? null : Encoding.UTF8.GetBytes(text);
        BinaryPrimitives.WriteInt32LittleEndian(n, bytes?.Length ?? -1);
        stream.Write(n);
        if (bytes is not null)
        {
            stream.Write(bytes);
        }
    }
}
