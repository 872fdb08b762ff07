using System.Globalization;
using System.Text.RegularExpressions;
using LlmSizer.Errors;

namespace LlmSizer.Hub;

/// <summary>What to read from a repository.</summary>
internal enum SelectionKind
{
    /// <summary>A <c>*.safetensors.index.json</c> and the shards its weight_map names.</summary>
    SafetensorsIndex,

    /// <summary>One or more safetensors files.</summary>
    Safetensors,

    /// <summary>One GGUF file, or the shards of a gguf-split set in order.</summary>
    Gguf,
}

/// <summary>The files of a repository to read.</summary>
/// <param name="Kind">What they are.</param>
/// <param name="Files">The checkpoint files (the index for <see cref="SelectionKind.SafetensorsIndex"/>).</param>
/// <param name="Config">The config.json to read beside safetensors, when the repository has one.</param>
/// <param name="AdapterConfig">For a PEFT adapter repository (<c>adapter_config.json</c> beside
/// <c>adapter_model.safetensors</c>), the adapter's config: the counts are the adapter's, reported on its base model.</param>
internal sealed record HubSelection(SelectionKind Kind, IReadOnlyList<string> Files, string? Config, string? AdapterConfig = null);

/// <summary>Chooses the checkpoint files of a repository from its file list, as a user would: the file named; the
/// GGUF file (or split set) of the quantization named; else the safetensors index, <c>model.safetensors</c> or the
/// root's safetensors files; else the repository's only GGUF model. <c>mmproj-*</c> GGUF files (vision projectors)
/// are never taken for the language model.</summary>
internal static partial class HubFileSelector
{
    public static HubSelection Select(IReadOnlyCollection<string> files, HubModelReference reference, string what)
    {
        var set = new HashSet<string>(files, StringComparer.Ordinal);
        if (reference.FilePath is { } path)
        {
            if (!set.Contains(path))
            {
                throw new RemoteModelException(RemoteErrorKind.NotFound, what,
                    $"{what}: no file '{MessageText.Clean(path, 200)}' in {reference.Repo} at revision {reference.Revision}; it has {Describe(files)}.");
            }

            var folder = path.Contains('/', StringComparison.Ordinal) ? path[..(path.LastIndexOf('/') + 1)] : "";
            string? config = set.Contains(folder + "config.json") ? folder + "config.json" : null;
            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            {
                return new HubSelection(SelectionKind.Gguf, SplitSet(path, set, what), null);
            }

            if (path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            {
                return new HubSelection(SelectionKind.SafetensorsIndex, [path], config);
            }

            return new HubSelection(SelectionKind.Safetensors, [path], config);
        }

        var ggufs = files.Where(f => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !IsProjector(f)).Order(StringComparer.Ordinal).ToList();
        if (reference.Quant is { } quant)
        {
            var token = new Regex("(?<![A-Za-z0-9])" + Regex.Escape(quant) + "(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            var groups = ggufs.Where(f => token.IsMatch(f)).GroupBy(SetKey, StringComparer.Ordinal).ToList();
            if (groups.Count == 0)
            {
                throw new RemoteModelException(RemoteErrorKind.NotFound, what,
                    $"{what}: no GGUF file of quantization '{MessageText.Clean(quant, 40)}' in {reference.Repo} at revision {reference.Revision}; {AvailableQuants(ggufs)}.");
            }

            if (groups.Count > 1)
            {
                throw new UnknownModelException(
                    $"{what}: {groups.Count} GGUF files match '{MessageText.Clean(quant, 40)}' ({string.Join(", ", groups.Select(g => MessageText.Clean(g.First(), 100)).Take(6))}); name the file: hf:{reference.Repo}/<file>.");
            }

            return new HubSelection(SelectionKind.Gguf, SplitSet(groups[0].First(), set, what), null);
        }

        string? rootConfig = set.Contains("config.json") ? "config.json" : null;
        if (set.Contains("model.safetensors.index.json"))
        {
            return new HubSelection(SelectionKind.SafetensorsIndex, ["model.safetensors.index.json"], rootConfig);
        }

        var rootIndexes = files.Where(f => !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".safetensors.index.json", StringComparison.Ordinal)
            && !f.StartsWith("consolidated", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (rootIndexes.Count > 0)
        {
            return new HubSelection(SelectionKind.SafetensorsIndex, [rootIndexes[0]], rootConfig);
        }

        if (set.Contains("model.safetensors"))
        {
            return new HubSelection(SelectionKind.Safetensors, ["model.safetensors"], rootConfig);
        }

        var rootShards = files.Where(f => !f.Contains('/', StringComparison.Ordinal) && f.EndsWith(".safetensors", StringComparison.Ordinal)
            && !f.StartsWith("consolidated", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (rootShards.Count > 0)
        {
            bool adapter = rootShards is ["adapter_model.safetensors"] && set.Contains("adapter_config.json");
            return new HubSelection(SelectionKind.Safetensors, rootShards, rootConfig, adapter ? "adapter_config.json" : null);
        }

        var models = ggufs.GroupBy(SetKey, StringComparer.Ordinal).ToList();
        if (models.Count == 1)
        {
            return new HubSelection(SelectionKind.Gguf, SplitSet(models[0].First(), set, what), null);
        }

        if (models.Count > 1)
        {
            throw new UnknownModelException(
                $"{what}: the repository holds {models.Count} GGUF models; pick a quantization, e.g. hf:{reference.Repo}:{FirstQuant(ggufs) ?? "Q4_K_M"} ({AvailableQuants(ggufs)}), or name the file.");
        }

        throw new RemoteModelException(RemoteErrorKind.NotFound, what,
            $"{what}: no safetensors or GGUF weights at the root of {reference.Repo} at revision {reference.Revision} (it has {Describe(files)}); name a file: hf:{reference.Repo}/<path>.");
    }

    /// <summary>True for a vision projector file (<c>mmproj-*.gguf</c>), reported apart from the language model.</summary>
    public static bool IsProjector(string path)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        return name.StartsWith("mmproj", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The shards of the gguf-split set <paramref name="path"/> belongs to, in order; just the file otherwise.</summary>
    public static List<string> SplitSet(string path, HashSet<string> files, string what)
    {
        var m = ShardName().Match(path);
        if (!m.Success)
        {
            return [path];
        }

        int count = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (count < 2 || count > 4096)
        {
            return [path];
        }

        var shards = new List<string>(count);
        for (int i = 1; i <= count; i++)
        {
            var shard = string.Create(CultureInfo.InvariantCulture, $"{m.Groups[1].Value}-{i:D5}-of-{m.Groups[3].Value}.gguf");
            if (!files.Contains(shard))
            {
                throw new RemoteModelException(RemoteErrorKind.NotFound, what, $"{what}: gguf-split set {MessageText.Clean(m.Groups[1].Value, 200)} lacks shard {i} of {count} ('{MessageText.Clean(shard, 200)}').");
            }

            shards.Add(shard);
        }

        return shards;
    }

    private static string SetKey(string path) => ShardName().Match(path) is { Success: true } m ? m.Groups[1].Value : path;

    private static string AvailableQuants(List<string> ggufs)
    {
        var quants = ggufs.Select(QuantOf).Where(q => q is not null).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        return quants.Count > 0 ? "available: " + string.Join(", ", quants.Take(24)) : ggufs.Count == 0 ? "it holds no GGUF files" : "GGUF files: " + string.Join(", ", ggufs.Take(8));
    }

    private static string? FirstQuant(List<string> ggufs) => ggufs.Select(QuantOf).FirstOrDefault(q => q is not null);

    private static string? QuantOf(string path)
    {
        var m = QuantToken().Match(path[(path.LastIndexOf('/') + 1)..]);
        return m.Success ? m.Value.ToUpperInvariant() : null;
    }

    private static string Describe(IReadOnlyCollection<string> files) =>
        files.Count == 0 ? "no files" : string.Create(CultureInfo.InvariantCulture, $"{files.Count} files: ") + string.Join(", ", files.Take(8).Select(f => MessageText.Clean(f, 80))) + (files.Count > 8 ? ", ..." : "");

    [GeneratedRegex(@"^(.+)-([0-9]{5})-of-([0-9]{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ShardName();

    [GeneratedRegex(@"(?<![A-Za-z0-9])(I?Q[0-9]+(_[A-Z0-9]+)*|BF16|F16|F32|MXFP4)(?=[-.])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QuantToken();
}
