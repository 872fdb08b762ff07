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

    [Theory]
    [InlineData("gemma-3-4b", 4_300_079_472L, 3_880_263_168L)]
    [InlineData("gemma-3-12b", 12_187_325_040L, 11_766_034_176L)]
    [InlineData("gemma-3-27b", 27_432_406_640L, 27_009_346_304L)]
    public void Gemma3Catalog_WholeModel_EqualsPublishedCountWithLanguageModelApart(string id, long whole, long languageModel)
    {
        // Given the catalog's Gemma 3 configs (the -pt repositories share the -it shapes). Published whole-model counts:
        // keras-hub gemma3_presets.py medgemma_4b 4,300,079,472 and medgemma_instruct_27b 27,432,406,640 (262,208-row
        // vocab); gemma3_12b 12,187,079,280 counts 262,144 rows: + 64 x 3840 = 12,187,325,040. The language models are
        // keras-hub's gemma3_*_text presets + 64 rows x hidden: 3,880,099,328 + 163,840; 11,765,788,416 + 245,760;
        // 27,009,002,240 + 344,064.
        var inventory = ModelResolver.Resolve(id).Inventory;

        // Then the whole model and its language model are those figures; the rest is the SigLIP tower and projector
        Assert.Equal(whole, inventory.TotalParameters.Value);
        Assert.Equal(languageModel, inventory.ByComponent()[LlmSizer.Tensors.ModelComponent.LanguageModel].Value);
    }
}
