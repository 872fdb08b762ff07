using System.Text.Json;
using LlmSizer.Architecture;

namespace LlmSizer.Tests.Architecture;

/// <summary>Every config in ../shared/samples/configs counts exactly the published total in that folder's counts.json
/// (each row names its source). Skipped rows report nothing when the shared folder is absent.</summary>
public class SharedSampleConfigsTests
{
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        if (TestPaths.SharedSamples is { } dir && File.Exists(Path.Combine(dir, "configs", "counts.json")))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "configs", "counts.json")));
            foreach (var row in doc.RootElement.EnumerateObject())
            {
                data.Add(row.Name);
            }
        }
        else
        {
            data.Add("");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void SampleConfig_Total_EqualsPublishedCount(string name)
    {
        if (name.Length == 0)
        {
            return; // ../shared/samples is not beside this checkout; the spec table tests cover the same ground.
        }

        // Given the published count from counts.json (its "source" field cites where it is published)
        var dir = Path.Combine(TestPaths.SharedSamples!, "configs");
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "counts.json")));
        var expected = doc.RootElement.GetProperty(name).GetProperty("params").GetInt64();

        // When we read the config and generate its tensors
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(dir, name + ".json"));
        var total = family.Generate(spec).TotalParameters.Value;

        // Then the totals agree to the last parameter
        Assert.Equal(expected, total);
    }
}
