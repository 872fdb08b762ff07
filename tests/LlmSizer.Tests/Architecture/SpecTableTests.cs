using System.Text.Json;
using LlmSizer.Architecture;

namespace LlmSizer.Tests.Architecture;

/// <summary>The spec table: every row of every Specs/models*.json file pairs a real config.json with the parameter count
/// published for that checkpoint by an independent source (cited in the row).</summary>
public class SpecTableTests
{
    public static TheoryData<string, string, string, long> Rows()
    {
        var data = new TheoryData<string, string, string, long>();
        foreach (var file in Directory.GetFiles(TestPaths.SpecsDir, "models*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                data.Add(
                    Path.GetFileName(file),
                    row.GetProperty("model").GetString()!,
                    row.GetProperty("config").GetString()!,
                    row.GetProperty("params").GetInt64());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Total_PublishedModel_EqualsPublishedCount(string table, string model, string config, long published)
    {
        // Given the official config.json of the model
        var path = Path.Combine(TestPaths.SpecsDir, config);

        // When it is read and its tensors generated
        var (spec, family) = HuggingFaceConfigReader.ReadFile(path);
        var inventory = family.Generate(spec);

        // Then the unique parameter count equals the published one
        Assert.True(published == inventory.TotalParameters.Value,
            $"{table}: {model}: expected {published:N0}; generated {inventory.TotalParameters.Value:N0} (difference {inventory.TotalParameters.Value - published:N0}).");
    }

    [Fact]
    public void Rows_EveryTable_HasSourcesAndExistingConfigs()
    {
        foreach (var file in Directory.GetFiles(TestPaths.SpecsDir, "models*.json"))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (var row in doc.RootElement.EnumerateArray())
            {
                Assert.False(string.IsNullOrWhiteSpace(row.GetProperty("source").GetString()), $"{file}: a row has no source");
                Assert.True(File.Exists(Path.Combine(TestPaths.SpecsDir, row.GetProperty("config").GetString()!)), $"{file}: missing config");
            }
        }
    }
}
