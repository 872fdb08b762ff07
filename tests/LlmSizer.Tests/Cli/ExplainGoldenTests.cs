using System.Text.Json;

namespace LlmSizer.Tests.Cli;

/// <summary>Golden output of --explain through the real entry point, for five families (dense GQA, MoE, MLA, sliding
/// window, encoder–decoder), memory and the seed. The golden files were read by hand; their numbers are asserted
/// against hand calculations in tests/LlmSizer.Tests/Explain.</summary>
public class ExplainGoldenTests
{
    [Theory]
    [InlineData("llama-3.1-8b", "Llama31_8B")]
    [InlineData("mixtral-8x7b", "Mixtral_8x7B")]
    [InlineData("deepseek-v3", "DeepSeek_V3")]
    [InlineData("gemma-2-9b", "Gemma2_9B")]
    [InlineData("t5-base", "T5_Base")]
    public void ParamsExplain_MatchesGolden(string model, string golden)
    {
        var r = CliRunner.Run("params", model, "--explain");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Explain/Params_" + golden);
    }

    [Fact]
    public void MemoryExplain_Llama31_8B_MatchesGolden()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--context", "8192", "--explain");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Explain/Memory_Llama31_8B");
    }

    [Fact]
    public void MemoryExplain_Gemma2_LlamaCpp_MatchesGolden()
    {
        var r = CliRunner.Run("memory", "gemma-2-9b", "--engine", "llamacpp", "--dtype", "q4_k_m", "--context", "16384", "--explain");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Explain/Memory_Gemma2_9B_LlamaCpp");
    }

    [Fact]
    public void SeedExplain_MatchesGolden()
    {
        var r = CliRunner.Run("seed", "--explain");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Explain/Seed");
    }

    [Fact]
    public void ParamsExplainJson_HasStableSnakeCaseNames()
    {
        // Given
        var r = CliRunner.Run("params", "mixtral-8x7b", "--explain", "--json");

        // When
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;

        // Then
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(46_702_792_704L, root.GetProperty("total").GetInt64());
        Assert.Equal(12_879_925_248L, root.GetProperty("active").GetProperty("result").GetInt64());
        var experts = root.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("name").GetString() == "experts");
        Assert.Equal("L·E·(2·d_e·d + d·d_e)", experts.GetProperty("formula").GetString());
        var term = experts.GetProperty("terms")[0];
        Assert.Equal("L·E", term.GetProperty("multiplicity").GetString());
        Assert.Equal("32·8", term.GetProperty("multiplicity_substituted").GetString());
        Assert.Equal(256L, term.GetProperty("count").GetInt64());
        var d = root.GetProperty("symbols").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "d");
        Assert.Equal("catalog mixtral-8x7b config.json hidden_size", d.GetProperty("source").GetString());
        Assert.True(root.GetProperty("text").GetArrayLength() > 20);
    }

    [Fact]
    public void MemoryExplainJson_ComponentsAndKvPerToken()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--explain", "--json");

        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(0, r.ExitCode);
        // 32 layers × (1024 K + 1024 V) × 2 B = 131,072 B per token.
        Assert.Equal(131_072L, root.GetProperty("kv_per_token").GetProperty("result").GetInt64());
        Assert.Equal("bytes", root.GetProperty("kv_per_token").GetProperty("unit").GetString());
        var names = root.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Equal(["weights", "kv_cache", "activations", "overhead"], names);
        Assert.Equal(root.GetProperty("per_gpu").GetProperty("result").GetInt64(),
            root.GetProperty("components").EnumerateArray().Sum(c => c.GetProperty("result").GetInt64()));
        Assert.Contains(root.GetProperty("assumptions").EnumerateArray(), a => a.GetProperty("name").GetString() == "context" && a.GetProperty("source").GetString()!.StartsWith("default", StringComparison.Ordinal));
    }

    [Fact]
    public void SeedExplainJson_KeepsThePostsFiguresBesideTheCorrections()
    {
        var r = CliRunner.Run("seed", "--explain", "--json");

        using var doc = JsonDocument.Parse(r.Stdout);
        var attention = doc.RootElement.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "attention");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(3_932_160L, attention.GetProperty("printed_value").GetInt64());
        Assert.Equal(3_145_728L, attention.GetProperty("post").GetProperty("result").GetInt64());
        Assert.False(attention.GetProperty("erratum").ValueKind == JsonValueKind.Null);
    }
}
