using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Errors;

namespace LlmSizer.Catalog;

/// <summary>One built-in model: its config.json values (facts, with their source) and its published parameter count.</summary>
public sealed record CatalogEntry
{
    /// <summary>The id users type, e.g. "llama-3.1-8b".</summary>
    public required string Id { get; init; }

    /// <summary>The Hugging Face repository the config comes from, e.g. "meta-llama/Llama-3.1-8B".</summary>
    public required string Repository { get; init; }

    /// <summary>Where the config values were taken from (a URL).</summary>
    public required string Source { get; init; }

    /// <summary>The config.json object.</summary>
    public required ConfigObject Config { get; init; }

    /// <summary>Other accepted ids (lower case).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>How the model card counts "active" parameters, when the catalog records it (<c>model_card</c> in the
    /// entry): with or without the input embedding, and where that was read.</summary>
    public ModelCardActive? CardActive { get; init; }
}

/// <summary>Which active count a model card quotes.</summary>
/// <param name="WithEmbeddings">True when the card's figure includes the input embedding.</param>
/// <param name="Figure">The card's figure as printed, e.g. "5.1B".</param>
/// <param name="Source">Where the figure was read (a URL).</param>
public sealed record ModelCardActive(bool WithEmbeddings, string Figure, string Source);

/// <summary>The built-in catalog of well-known models, stored as their config.json values so the tool works offline.</summary>
/// <remarks>Each entry is an embedded JSON file under <c>Catalog/Models/</c>:
/// <c>{ "id": ..., "repository": ..., "source": ..., "aliases": [...], "config": { ...config.json... } }</c>.</remarks>
public static class ModelCatalog
{
    private static readonly Lazy<FrozenDictionary<string, CatalogEntry>> Entries = new(Load);

    /// <summary>Every entry, sorted by id.</summary>
    public static IReadOnlyList<CatalogEntry> All =>
        [.. Entries.Value.Values.Distinct().OrderBy(e => e.Id, StringComparer.Ordinal)];

    /// <summary>Every entry with its family and exact size (or its error), sorted by id.</summary>
    /// <returns>The summaries.</returns>
    public static IReadOnlyList<CatalogSummary> Summaries() => [.. All.Select(CatalogSummary.Of)];

    // Suffixes of fine-tuned variants whose tensors have the base model's shapes (instruct/chat tuning changes weights,
    // not the architecture): meta-llama/Llama-3.1-8B-Instruct, google/gemma-2-9b-it, Qwen/Qwen2.5-7B-Instruct.
    private static readonly string[] FineTuneSuffixes = ["-instruct", "-chat", "-it", "-hf", "-sft", "-dpo", "-base"];

    /// <summary>Finds the catalog entry of a fine-tune's base model: the name with its instruct/chat suffixes removed.</summary>
    /// <param name="name">The name, e.g. <c>meta-llama/Llama-3.1-8B-Instruct</c>.</param>
    /// <param name="entry">The base model's entry.</param>
    /// <returns>True when the stripped name is a catalog id or alias.</returns>
    public static bool TryGetFineTuneBase(string name, out CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(name);
        entry = null!;
        var n = name.Trim();
        for (int round = 0; round < 3; round++)
        {
            var suffix = FineTuneSuffixes.FirstOrDefault(x => n.EndsWith(x, StringComparison.OrdinalIgnoreCase));
            if (suffix is null)
            {
                return false;
            }

            n = n[..^suffix.Length];
            if (TryGet(n, out entry) || (n.Contains('/', StringComparison.Ordinal) && TryGet(n[(n.LastIndexOf('/') + 1)..], out entry)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The catalog ids closest to a mistyped name (edit distance on ids and aliases, case and separators
    /// ignored), best first.</summary>
    /// <param name="name">The name.</param>
    /// <param name="max">The most suggestions.</param>
    /// <returns>The ids.</returns>
    public static IReadOnlyList<string> Suggest(string name, int max = 3)
    {
        ArgumentNullException.ThrowIfNull(name);
        static string Key(string s) => new([.. s.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(64)]);
        var query = Key(name.Contains('/', StringComparison.Ordinal) ? name[(name.LastIndexOf('/') + 1)..] : name);
        if (query.Length == 0)
        {
            return [];
        }

        return All
            .Select(e => (e.Id, Score: e.Aliases.Prepend(e.Id).Select(a => Gpus.GpuNameMatcher.Score(query, Key(a.Contains('/', StringComparison.Ordinal) ? a[(a.LastIndexOf('/') + 1)..] : a))).Min()))
            .Where(x => x.Score <= Math.Max(4, query.Length)) // within about half the name's length in edits
            .OrderBy(x => x.Score).ThenBy(x => x.Id, StringComparer.Ordinal)
            .Take(max).Select(x => x.Id).ToList();
    }

    /// <summary>Finds an entry by id or alias, case-insensitively.</summary>
    /// <param name="id">The id.</param>
    /// <param name="entry">The entry, when found.</param>
    /// <returns>True when found.</returns>
    public static bool TryGet(string id, out CatalogEntry entry) => Entries.Value.TryGetValue(id.Trim(), out entry!);

    private static FrozenDictionary<string, CatalogEntry> Load()
    {
        var map = new Dictionary<string, CatalogEntry>(StringComparer.OrdinalIgnoreCase);
        var assembly = typeof(ModelCatalog).Assembly;
        const string prefix = "LlmSizer.Catalog.Models.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            var root = ConfigObject.Parse(reader.ReadToEnd(), "catalog:" + name[prefix.Length..]);
            var entry = new CatalogEntry
            {
                Id = root.String("id") ?? throw root.Error("id", "missing"),
                Repository = root.String("repository") ?? throw root.Error("repository", "missing"),
                Source = root.String("source") ?? throw root.Error("source", "missing"),
                Aliases = root.StringArray("aliases") ?? [],
                CardActive = root.Object("model_card") is { } card
                    ? new ModelCardActive(
                        (card.String("active_counts") ?? throw card.Error("active_counts", "missing")) switch
                        {
                            "with_embeddings" => true,
                            "without_embeddings" => false,
                            _ => throw card.Error("active_counts", "expected with_embeddings or without_embeddings"),
                        },
                        card.String("active") ?? throw card.Error("active", "missing"),
                        card.String("source") ?? throw card.Error("source", "missing"))
                    : null,
                Config = new ConfigObject((root.Object("config") ?? throw root.Error("config", "missing")).Element, "catalog:" + (root.String("id") ?? name)),
            };
            foreach (var key in entry.Aliases.Prepend(entry.Id))
            {
                if (!map.TryAdd(key, entry))
                {
                    throw new InvalidOperationException($"Catalog id '{key}' is defined twice.");
                }
            }
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
