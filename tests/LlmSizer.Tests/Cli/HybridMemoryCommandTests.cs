using System.Text.Json;

namespace LlmSizer.Tests.Cli;

/// <summary><c>memory</c> on the hybrid catalog models: the KV cache covers only the attention layers, the recurrent state
/// the delta-net or Mamba-2 layers (hand-calculated bytes).</summary>
public class HybridMemoryCommandTests
{
    private static long Component(string stdout, string name)
    {
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("components").EnumerateArray()
            .Single(c => c.GetProperty("name").GetString() == name).GetProperty("bytes").GetInt64();
    }

    [Fact]
    public void Memory_Qwen35_35B_A3B_KvForTenAttentionLayers_StateForThirtyDeltaNets()
    {
        // Given Qwen3.5-35B-A3B with transformers, 1,000 tokens, a bf16 cache
        var r = CliRunner.Run("memory", "qwen3.5-35b-a3b", "--engine", "hf", "--context", "1000", "--kv-dtype", "bf16", "--json");
        Assert.Equal(0, r.ExitCode);

        // Then KV: 10 full-attention layers x 2 (K, V) x 2 KV heads x head_dim 256 x 2 B = 20,480 B per token
        Assert.Equal(1000L * 10 * 2 * 2 * 256 * 2, Component(r.Stdout, "kv_cache"));

        // And the state of 30 delta-net layers in the bf16 model dtype: conv 3 x (2 x 2048 + 4096) + 32 x 128 x 128 values
        Assert.Equal(30L * ((3 * 8192) + (32 * 128 * 128)) * 2, Component(r.Stdout, "recurrent_state"));
    }

    [Fact]
    public void Memory_Zamba2_1_2B_KvForSixSharedBlockInvocations_StateForAllLayers()
    {
        // Given Zamba2-1.2B with transformers in bf16, 1,000 tokens, a bf16 cache
        var r = CliRunner.Run("memory", "zamba2-1.2b", "--engine", "hf", "--dtype", "bf16", "--context", "1000", "--kv-dtype", "bf16", "--json");
        Assert.Equal(0, r.ExitCode);

        // Then KV: 6 hybrid layers x 2 x 32 KV heads x head_dim 128 x 2 B = 98,304 B per token
        Assert.Equal(1000L * 6 * 2 * 32 * 128 * 2, Component(r.Stdout, "kv_cache"));

        // And a Mamba-2 state in all 38 layers: conv 3 x (4096 + 2 x 128) + SSM 64 heads x 64 x 128 values, 2 B each
        Assert.Equal(38L * ((3 * 4352) + (64 * 64 * 128)) * 2, Component(r.Stdout, "recurrent_state"));
    }
}
