using System.Text.Json;
using LlmSizer.Catalog;

namespace LlmSizer.Tests.Catalog;

/// <summary>Where a catalog entry names the same repository as a row of the spec tables (Specs/models*.json, whose
/// counts are published figures with sources), the catalog's config must count exactly that published figure.</summary>
public class CatalogAgainstSpecTableTests
{
    [Fact]
    public void CatalogEntries_WithPublishedCount_CountExactly()
    {
        // Given every published count of the spec tables, by repository
        var published = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        foreach (var file in Directory.GetFiles(TestPaths.SpecsDir, "models*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                published[row.GetProperty("model").GetString()!] = row.GetProperty("params").GetInt64();
            }
        }

        // When each catalog entry with a published count is resolved
        var compared = 0;
        var failures = new List<string>();
        foreach (var entry in ModelCatalog.All)
        {
            if (!published.TryGetValue(entry.Repository, out var expected))
            {
                continue;
            }

            compared++;
            var total = ModelResolver.Resolve(entry.Id).Inventory.TotalParameters.Value;
            if (total != expected)
            {
                failures.Add($"{entry.Id} ({entry.Repository}): catalog counts {total:N0}, published {expected:N0}");
            }
        }

        // Then all agree, and the comparison covers a good share of the catalog
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(compared >= 15, $"only {compared} catalog entries have a published count in the spec tables");
    }
}
