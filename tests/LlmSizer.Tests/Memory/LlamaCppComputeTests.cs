using LlmSizer.Architecture;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>The llama.cpp compute buffer against the sizes llama.cpp c0c7e147 logged (LLamaSharp 0.30.0, CPU backend,
/// n_ubatch 512, one sequence) for GGUFs of these widths in tests/LlmSizer.Engine.Tests (ArchitectureComputeBufferTests;
/// table in docs/memory.md). Those tests run the engine; these keep the check in the CI that has no native library.</summary>
public class LlamaCppComputeTests
{
    private static ModelInfo Qwen15Moe() => MemoryTestModels.FromSpec("qwen1.5-moe-a2.7b", new ArchitectureSpec
    {
        Family = "qwen2_moe", Layers = 24, Hidden = 2048, Heads = 16, KvHeads = 16, HeadDim = 128, Intermediate = 5632, Vocab = 151936,
        Moe = new MoeSpec { Experts = 60, ActiveExperts = 4, ExpertIntermediate = 1408, SharedExperts = 1, SharedIntermediate = 5632, SharedExpertGate = true },
    });

    private static ModelInfo DeepSeekV2Lite() => MemoryTestModels.FromSpec("deepseek-v2-lite", new ArchitectureSpec
    {
        Family = "deepseek_v2", Layers = 27, Hidden = 2048, Heads = 16, KvHeads = 16, HeadDim = 192, ValueHeadDim = 128, Intermediate = 10944, Vocab = 102400,
        Moe = new MoeSpec { Experts = 64, ActiveExperts = 6, ExpertIntermediate = 1408, SharedExperts = 2, SharedIntermediate = 2816 },
        Mla = new MlaSpec { KvLoraRank = 512, QkNopeHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 },
    });

    private static ModelInfo Model(string name) => name switch
    {
        "llama3-8b" => MemoryTestModels.Llama3_8B(),
        "llama2-7b" => MemoryTestModels.Llama2_7B(),
        "qwen15-moe" => Qwen15Moe(),
        _ => DeepSeekV2Lite(),
    };

    [Theory]
    // The cases issue 8 item 9 named (before: 334, 87, 305, 208 MiB), then the rest of each stage.
    [InlineData("llama3-8b", 4096, false, 308.01)]
    [InlineData("llama3-8b", 8192, false, 572.01)]
    [InlineData("llama3-8b", 8192, true, 266.50)]
    [InlineData("llama2-7b", 512, false, 105.51)]
    [InlineData("llama2-7b", 4096, false, 320.01)]
    [InlineData("llama2-7b", 4096, true, 100.51)]
    [InlineData("qwen15-moe", 512, true, 308.75)]
    [InlineData("qwen15-moe", 4096, true, 328.99)]
    [InlineData("qwen15-moe", 8192, false, 328.99)]
    [InlineData("deepseek-v2-lite", 512, true, 212.00)]
    [InlineData("deepseek-v2-lite", 512, false, 241.01)]
    [InlineData("deepseek-v2-lite", 4096, true, 240.26)]
    [InlineData("deepseek-v2-lite", 8192, false, 330.27)]
    public void ComputeBuffer_MatchesLlamaCppLog_Within5PercentOr16MiB(string name, int ctx, bool fa, double loggedMiB)
    {
        var e = MemoryEstimator.Estimate(Model(name), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = 512, Dtype = "f16",
            FlashAttn = fa ? FlashAttention.On : FlashAttention.Off,
        });
        double ours = e["compute_buffer"].Bytes / (double)ByteSize.MiB;
        Assert.InRange(ours, loggedMiB - Math.Max(16, loggedMiB * 0.05), loggedMiB + Math.Max(16, loggedMiB * 0.05));
    }

    [Theory]
    [InlineData(4096, 308.01)]
    [InlineData(8192, 572.01)]
    public void ComputeBuffer_NoFlashAttention_GrowsByKqScoresAndMaskPerCell(int ctx, double loggedMiB)
    {
        // Llama-3-8B: each cell adds ubatch × (32 heads × 4 B + 4 B mask) = 67,584 B; the logs differ by 264 MiB over 4096 cells.
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = 512, Dtype = "f16", FlashAttn = FlashAttention.Off,
        });
        Assert.Equal(loggedMiB, e["compute_buffer"].Bytes / (double)ByteSize.MiB, 0.02);
    }
}
