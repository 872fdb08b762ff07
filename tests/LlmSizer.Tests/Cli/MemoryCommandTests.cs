using System.Text.Json;

namespace LlmSizer.Tests.Cli;

public class MemoryCommandTests
{
    [Fact]
    public void Memory_Json_HasContractFields()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--context", "8192", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain("error", r.Stderr); // informational warnings may go to stderr; never an error
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama-3.1-8b", root.GetProperty("model").GetString());
        Assert.Equal("inference", root.GetProperty("mode").GetString());
        // The contract: assumption values are typed (a number here); assumptions_text keeps the one-string form.
        Assert.Equal(8192, root.GetProperty("assumptions").GetProperty("context").GetInt64());
        Assert.Equal("8192", root.GetProperty("assumptions_text").GetProperty("context").GetString());
        Assert.Equal(1, root.GetProperty("gpus").GetInt32());
        var components = root.GetProperty("components").EnumerateArray().ToList();
        var names = components.Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("weights", names);
        Assert.Contains("kv_cache", names);
        Assert.Contains("overhead", names);
        // bf16 weights: 8,030,261,248 × 2 B; KV: 8192 tokens × 131,072 B (measured.json case 1).
        Assert.Equal(16_060_522_496L, components.Single(c => c.GetProperty("name").GetString() == "weights").GetProperty("per_gpu_bytes").GetInt64());
        Assert.Equal(8192L * 131_072, components.Single(c => c.GetProperty("name").GetString() == "kv_cache").GetProperty("bytes").GetInt64());
        Assert.All(components, c => Assert.False(string.IsNullOrEmpty(c.GetProperty("formula").GetString())));
        long sum = components.Where(c => c.GetProperty("on_device").GetBoolean()).Sum(c => c.GetProperty("per_gpu_bytes").GetInt64());
        Assert.Equal(sum, root.GetProperty("per_gpu_bytes").GetInt64());
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
    }

    [Fact]
    public void Memory_LlamaCpp_Table_ShowsBuffersAssumptionsAndBreakdown()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--engine", "llamacpp", "--dtype", "q4_k_m", "--kv-dtype", "q8_0");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("compute_buffer", r.Stdout);
        Assert.Contains("output_buffer (host)", r.Stdout);
        Assert.Contains("flash_attn", r.Stdout);
        Assert.Contains("per GPU breakdown", r.Stdout);
        Assert.Contains("warning:", r.Stderr);
        Assert.DoesNotContain("warning:", r.Stdout);
    }

    [Fact]
    public void Memory_ContextBeyondMaxPositions_WarnsOnStderrNotError()
    {
        // Llama-3.1-8B was trained to 131,072 positions (config max_position_embeddings).
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--context", "200000", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("max_position_embeddings", r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Contains(doc.RootElement.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("131072", StringComparison.Ordinal));
    }

    [Fact]
    public void Memory_TpWithoutGpus_UsesTpGpusAndRejectsNonDivisor()
    {
        // --tp 2 alone means two GPUs. Each holds half of the split matrices and a full copy of the norms:
        // norms = 65 x 4096 = 266,240 params = 532,480 B (replicated); (16,060,522,496 - 532,480) / 2 + 532,480.
        var ok = CliRunner.Run("memory", "llama-3.1-8b", "--tp", "2", "--json");
        Assert.Equal(0, ok.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(ok.Stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("gpus").GetInt32());
        var weights = doc.RootElement.GetProperty("components").EnumerateArray().First(c => c.GetProperty("name").GetString() == "weights");
        Assert.Equal(((16_060_522_496L - 532_480) / 2) + 532_480, weights.GetProperty("per_gpu_bytes").GetInt64());

        // 3 does not divide the 32 attention heads.
        var bad = CliRunner.Run("memory", "llama-3.1-8b", "--tp", "3");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--tp", bad.Stderr);
        Assert.Single(bad.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Memory_Training_Si_ShowsGB()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--mode", "training", "--zero", "3", "--gpus", "8", "--si");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("optimizer_states", r.Stdout);
        Assert.Contains("master_weights", r.Stdout);
        Assert.Contains(" GB", r.Stdout);
    }

    [Theory]
    [InlineData("--tp", "3", "--tp:")]
    [InlineData("--engine", "foo", "--engine:")]
    [InlineData("--context", "-5", "--context:")]
    [InlineData("--dtype", "q9_z", "--dtype:")]
    [InlineData("--batch", "abc", "--batch:")]
    [InlineData("--gpu-memory", "lots", "--gpu-memory:")]
    [InlineData("--max-mm-tokens", "0", "--max-mm-tokens:")]
    public void Memory_BadFlag_IsOneLineErrorExit1(string flag, string value, string expected)
    {
        var args = flag == "--tp" ? new[] { "memory", "llama-3.1-8b", flag, value, "--gpus", value } : new[] { "memory", "llama-3.1-8b", flag, value };
        var r = CliRunner.Run(args);

        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains(expected, r.Stderr);
    }

    [Theory]
    [InlineData("nvlink", 102L + 1833L)]
    [InlineData("pcie", 102L + 102L)]
    public void Memory_Interconnect_SetsTheTensorParallelNonTorchMemory(string link, long expectedMiB)
    {
        // vLLM non-torch memory at TP 2: 0.10 GiB runtime + NCCL/custom all-reduce: 1.79 GiB over NVLink (vllm PR #10511),
        // 0.10 GiB over PCIe (vllm PR #14447's RTX 3090 log: 0.20 GiB in all).
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--tp", "2", "--interconnect", link, "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var overhead = doc.RootElement.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "overhead");
        Assert.Equal(expectedMiB * 1024 * 1024, overhead.GetProperty("per_gpu_bytes").GetInt64());
        Assert.Equal(link, doc.RootElement.GetProperty("assumptions").GetProperty("interconnect").GetString());
    }

    [Theory]
    [InlineData(new[] { "--interconnect", "infiniband" }, "--interconnect: expected one of nvlink, pcie; found \"infiniband\".")]
    [InlineData(new[] { "--interconnect", "pcie", "--engine", "llamacpp" }, "--interconnect")]
    [InlineData(new[] { "--interconnect", "pcie", "--mode", "training" }, "--interconnect")]
    public void Memory_Interconnect_BadOrMisplaced_IsOneLineError(string[] extra, string expected)
    {
        var r = CliRunner.Run(["memory", "llama-3.1-8b", .. extra]);

        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains(expected, r.Stderr);
    }

    [Fact]
    public void Memory_MaxBatchedTokens_CapsSlidingWindowCache()
    {
        // Mistral-7B-v0.1: every layer slides over 4,096 tokens; 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B/token.
        // vLLM SlidingWindowSpec: (cdiv(min(4096 - 1 + 2048, 32768), 16) + 1) x 16 = (384 + 1) x 16 = 6,160 tokens.
        var r = CliRunner.Run("memory", "mistral-7b-v0.1", "--context", "32768", "--max-batched-tokens", "2048", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var kv = doc.RootElement.GetProperty("components").EnumerateArray().First(c => c.GetProperty("name").GetString() == "kv_cache");
        Assert.Equal(6_160L * 131_072, kv.GetProperty("bytes").GetInt64());
        Assert.Equal(2048, doc.RootElement.GetProperty("assumptions").GetProperty("max_num_batched_tokens").GetInt64());
    }
}
