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
}

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
