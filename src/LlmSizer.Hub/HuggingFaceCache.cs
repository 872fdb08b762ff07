using LlmSizer.Checkpoints;
using LlmSizer.Errors;

namespace LlmSizer.Hub;

/// <summary>Reads a model from the Hugging Face cache (<c>models--org--name/refs/&lt;rev&gt;</c> names a commit,
/// <c>snapshots/&lt;commit&gt;/</c> holds its files as links to blobs) when the snapshot holds every file the model
/// needs; then no network is used at all.</summary>
internal static class HuggingFaceCache
{
    private const int MaxListedFiles = 100_000;

    /// <summary>The model, or null with <paramref name="missing"/> saying what the cache lacks.</summary>
    public static ModelInfo? TryLoad(string cacheRoot, HubModelReference reference, string what, out string? missing)
    {
        var repoFolder = Path.Combine(cacheRoot, HeaderCache.RepoFolder(reference.Repo!));
        if (!Directory.Exists(repoFolder))
        {
            missing = $"has no folder {HeaderCache.RepoFolder(reference.Repo!)}";
            return null;
        }

        string? commit = reference.RevisionIsCommit ? reference.Revision : ReadRef(Path.Combine(repoFolder, "refs", reference.Revision));
        if (commit is null)
        {
            missing = $"has no refs/{reference.Revision}";
            return null;
        }

        var snapshot = Path.Combine(repoFolder, "snapshots", commit);
        if (!Directory.Exists(snapshot))
        {
            missing = $"has no snapshot {commit}";
            return null;
        }

        var files = new List<string>();
        foreach (var f in Directory.EnumerateFiles(snapshot, "*", SearchOption.AllDirectories))
        {
            files.Add(Path.GetRelativePath(snapshot, f).Replace(Path.DirectorySeparatorChar, '/'));
            if (files.Count > MaxListedFiles)
            {
                break;
            }
        }

        HubSelection selection;
        try
        {
            selection = HubFileSelector.Select(files, reference, what);
        }
        catch (LlmSizerException e)
        {
            missing = $"has snapshot {commit} but not the weights ({e.Message})";
            return null;
        }

        string Full(string relative) => Path.Combine(snapshot, Path.Combine(relative.Split('/')));
        var needed = new List<string>(selection.Files);
        if (selection.Kind == SelectionKind.SafetensorsIndex)
        {
            try
            {
                var index = selection.Files[0];
                var (weightMap, _) = ShardAssembly.ReadIndex(Full(index), LocalFiles.ReadAll(Full(index), ModelLimits.MaxJsonBytes, scanned: true));
                string folder = index.Contains('/', StringComparison.Ordinal) ? index[..(index.LastIndexOf('/') + 1)] : "";
                needed.AddRange(weightMap.Values.Distinct(StringComparer.Ordinal).Select(s => folder + s));
            }
            catch (LlmSizerException e)
            {
                missing = $"has an unreadable index in snapshot {commit} ({e.Message})";
                return null;
            }
        }

        var absent = needed.Where(n => !File.Exists(Full(n))).ToList();
        if (absent.Count > 0)
        {
            missing = $"has snapshot {commit} without {string.Join(", ", absent.Take(4).Select(a => MessageText.Clean(a, 120)))}{(absent.Count > 4 ? $" and {absent.Count - 4} more" : "")}";
            return null;
        }

        missing = null;
        var target = selection.Kind == SelectionKind.Safetensors && selection.Files.Count > 1 && reference.FilePath is null
            ? snapshot
            : Full(selection.Files[0]);
        return CheckpointLoader.TryLoad(target);
    }

    private static string? ReadRef(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length is 0 or > 256)
            {
                return null;
            }

            var text = File.ReadAllText(path).Trim();
            return text.Length is >= 7 and <= 64 && text.All(char.IsAsciiHexDigit) ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
