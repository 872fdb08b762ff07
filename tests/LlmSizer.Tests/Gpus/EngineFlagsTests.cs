using System.Text.Json;

namespace LlmSizer.Tests.Gpus;

/// <summary>engine-flags.json (the documented flags of vllm serve, SGLang and llama-server) loads, names its sources,
/// and holds the flags later fit tests will check generated commands against.</summary>
public class EngineFlagsTests
{
    private static readonly string FilePath = Path.Combine(TestPaths.RepoRoot, "tests", "LlmSizer.Tests", "Gpus", "engine-flags.json");

    [Theory]
    [InlineData("vllm", "--tensor-parallel-size", "--pipeline-parallel-size", "--max-model-len", "--gpu-memory-utilization", "--kv-cache-dtype", "--quantization", "--max-num-seqs", "--max-num-batched-tokens", "--dtype")]
    [InlineData("sglang", "--tp", "--context-length", "--mem-fraction-static", "--model-path", "--kv-cache-dtype", "--quantization")]
    [InlineData("llamacpp", "-m", "-c", "-ngl", "-fa", "-ctk", "-ctv", "-np", "-ub", "-b", "--host", "--port")]
    public void EngineFlags_Engine_ParsesWithSourceVersionAndRequiredFlags(string engine, params string[] required)
    {
        // Given
        using var doc = JsonDocument.Parse(File.ReadAllText(FilePath));

        // When
        var entry = doc.RootElement.GetProperty("engines").EnumerateArray().Single(e => e.GetProperty("engine").GetString() == engine);
        var spellings = entry.GetProperty("flags").EnumerateArray()
            .SelectMany(f => f.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()!).Prepend(f.GetProperty("flag").GetString()!))
            .ToList();

        // Then
        Assert.StartsWith("https://", entry.GetProperty("documentation").GetString());
        Assert.False(string.IsNullOrWhiteSpace(entry.GetProperty("version").GetString()));
        Assert.All(required, flag => Assert.Contains(flag, spellings));
        Assert.Equal(spellings.Count, spellings.Distinct(StringComparer.Ordinal).Count());
        Assert.All(spellings, s => Assert.StartsWith("-", s));
    }
}
