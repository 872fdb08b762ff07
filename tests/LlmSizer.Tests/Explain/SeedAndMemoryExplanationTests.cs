using LlmSizer.Explain;
using LlmSizer.Memory;

namespace LlmSizer.Tests.Explain;

/// <summary>seed --explain shows the post's figures exactly as the post prints them, beside the corrections; memory
/// --explain's equations hold and its numbers are the estimate's.</summary>
public class SeedAndMemoryExplanationTests
{
    // Copied by hand from the post (shared/brief/seed-post.md, "Example Calculation" and "VRAM Requirements").
    private static readonly string[] PostFigures =
    [
        "50,000 × 512 = 25,600,000",
        "12 × 8 × (512 × 64) = 3,932,160",
        "12 × 2 × 512^2 = 6,291,456",
        "512 × 50,000 = 25,600,000",
        "25,600,000 + 3,932,160 + 6,291,456 + 25,600,000 = 61,423,616",
        "61,423,616 × 4 = 245,694,464 bytes or roughly 234 MB",
        "61,423,616 × 2 = 122,847,232 bytes or roughly 117 MB",
        "61,423,616 × 1 = 61,423,616 bytes or roughly 58.6 MB",
        "234 + 200 + 468 + 50 = 952 MB",
    ];

    [Fact]
    public void SeedExplain_PrintsEveryPostFigureExactly()
    {
        var text = string.Join('\n', ExplainText.Lines(Sizer.ExplainSeed()));

        foreach (var figure in PostFigures)
        {
            Assert.Contains($"post prints: \"{figure}\"", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SeedExplain_ErratumSitsAtTheAttentionLine()
    {
        // Given
        var steps = Sizer.ExplainSeed().Steps;

        // When
        var attention = steps.Single(s => s.Name == "attention");

        // Then: 12 × 8 × 512 × 64 = 3,145,728 by hand; the post prints 3,932,160.
        Assert.Equal(3_145_728L, attention.Post.Result);
        Assert.Equal(3_932_160L, attention.PrintedValue);
        Assert.Contains("3,145,728", attention.Erratum, StringComparison.Ordinal);
        Assert.Null(steps.Single(s => s.Name == "embedding").Erratum);
        Assert.Contains("gradients", steps.Single(s => s.Name == "training_total").Erratum, StringComparison.Ordinal);
    }

    [Fact]
    public void SeedExplain_ExactMethodBesideEachLine()
    {
        var steps = Sizer.ExplainSeed().Steps;

        // Exact GPT-2-style (tied): wte 50,000·512 + wpe 1,024·512 = 25,600,000 + 524,288 = 26,124,288.
        Assert.Equal(26_124_288L, steps.Single(s => s.Name == "embedding").Exact[0].Result);
        // Attention per layer: c_attn 512·1536 + 1536 + c_proj 512·512 + 512 = 1,050,624; × 12 = 12,607,488.
        Assert.Equal(12_607_488L, steps.Single(s => s.Name == "attention").Exact[0].Result);
        // MLP per layer: 512·2048 + 2048 + 2048·512 + 512 = 2,099,712; × 12 = 25,196,544.
        Assert.Equal(25_196_544L, steps.Single(s => s.Name == "feed_forward").Exact[0].Result);
        // Tied head 0; untied 25,600,000.
        Assert.Equal([0L, 25_600_000L], steps.Single(s => s.Name == "output").Exact.Select(x => x.Result));
    }

    [Fact]
    public void SeedExplain_EveryEquationOutsideThePostsQuotesHolds()
    {
        var lines = ExplainText.Lines(Sizer.ExplainSeed());

        var report = EquationChecker.Check(lines, new Dictionary<string, System.Numerics.BigInteger> { ["d"] = 512, ["L"] = 12, ["H"] = 8, ["V"] = 50_000 });

        Assert.True(report.Failures.Count == 0, string.Join('\n', report.Failures));
        Assert.True(report.Equations >= 20);
    }

    [Theory]
    [InlineData("llama-3.1-8b", "vllm")]
    [InlineData("gemma-2-9b", "llamacpp")]
    [InlineData("deepseek-v3", "vllm")]
    [InlineData("qwen3-30b-a3b", "hf")]
    public void MemoryExplain_SumAndKvEquationsHold(string model, string engine)
    {
        // Given
        var request = new MemoryRequest { Model = model, Workload = new Workload { Context = 8192, Batch = 2, Engine = WorkloadNames.TryParse(engine, out InferenceEngine e) ? e : null } };

        // When
        var explanation = Sizer.ExplainMemory(request);
        var estimate = Sizer.Memory(request);
        var report = EquationChecker.Check(ExplainText.Lines(explanation).Where(l => !l.TrimStart().StartsWith("formula:", StringComparison.Ordinal)));

        // Then
        Assert.True(report.Failures.Count == 0, string.Join('\n', report.Failures));
        Assert.Equal(estimate.PerGpu.Bytes, explanation.PerGpu.Result);
        Assert.Equal(estimate.Components.Select(c => c.PerGpu.Bytes), explanation.Components.Select(c => c.Result));
        Assert.NotNull(explanation.KvPerToken);
    }

    [Fact]
    public void MemoryExplain_Llama31_8B_KvPerTokenAndPerSequenceByHand()
    {
        // 32 layers × 2 (K, V) × 8 KV heads × 128 × 2 B = 131,072 B/token; 8,192 tokens (a multiple of 16) × 2 sequences.
        var e = Sizer.ExplainMemory(new MemoryRequest { Model = "llama-3.1-8b", Workload = new Workload { Context = 8192, Batch = 2 } });

        Assert.Equal(131_072L, e.KvPerToken!.Result);
        Assert.Equal(2L * 8192 * 131_072, e.KvPerSequence!.Result);
        Assert.Equal("2·8192·131072", e.KvPerSequence.Substituted);
        // BF16 weights: 8,030,261,248 × 2 B = 16,060,522,496.
        Assert.Equal(16_060_522_496L, e.WeightsByType!.Result);
        Assert.Equal("8030261248·2", e.WeightsByType.Substituted);
    }

    [Fact]
    public void MemoryExplain_Q4KM_WeightsByBlockType()
    {
        // Q4_K and Q6_K are 256-element blocks of 144 and 210 bytes (ggml type_traits): the weights are a sum of
        // blocks × block bytes per type, equal to the estimate's tensor bytes.
        var e = Sizer.ExplainMemory(new MemoryRequest { Model = "llama-3.1-8b", Workload = new Workload { Engine = InferenceEngine.LlamaCpp, Format = LlmSizer.Quantization.WeightFormat.Parse("q4_k_m") } });

        Assert.Contains("/256·144", e.WeightsByType!.Substituted, StringComparison.Ordinal);
        Assert.Contains("/256·210", e.WeightsByType.Substituted, StringComparison.Ordinal);
        var host = Sizer.Memory(new MemoryRequest { Model = "llama-3.1-8b", Workload = new Workload { Engine = InferenceEngine.LlamaCpp, Format = LlmSizer.Quantization.WeightFormat.Parse("q4_k_m") } });
        Assert.Equal(host["weights"].Bytes + host.Component("host_weights")!.Total.Bytes, e.WeightsByType.Result);
    }
}
