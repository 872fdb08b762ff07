using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>The Gemma 4 compute buffer against the sizes llama.cpp c0c7e147 logged (LLamaSharp 0.30.0, CPU backend, n_ubatch
/// 512, f16 cache, swa_full off) for the GGUFs tests/LlmSizer.Engine.Tests writes (LlamaCppGemma4ComputeBufferTests, table in
/// docs/memory.md), so the check also runs where the native library is absent. The specs carry what our GGUF reader reads
/// from those files.</summary>
public class LlamaCppGemma4ComputeTests
{
    private static ArchitectureSpec Spec(string pattern, int hidden, int heads, int kv, int globalKv, int ff, int window, int shared, int ple, bool kEqV)
    {
        int n = pattern.Length;
        var kinds = pattern.Select(c => c == 'S' ? AttentionLayerKind.Sliding : AttentionLayerKind.Full).ToArray();
        return new ArchitectureSpec
        {
            Family = "gemma4_text", Layers = n, Hidden = hidden, Heads = heads, KvHeads = kv, HeadDim = 256, Intermediate = ff, Vocab = 512,
            SlidingWindow = window, LayerKinds = [.. kinds],
            LayerHeadDims = [.. kinds.Select(k => k == AttentionLayerKind.Sliding ? 256 : 512)],
            LayerKvHeads = [.. Enumerable.Range(0, n).Select(il => il >= n - shared ? 0 : kinds[il] == AttentionLayerKind.Sliding || globalKv == 0 ? kv : globalKv)],
            Details = new Gemma4Details { GlobalHeadDim = 512, GlobalKvHeads = globalKv == 0 ? kv : globalKv, KvSharedLayers = shared, PerLayerInput = ple, AttentionKEqV = kEqV },
        };
    }

    private static ArchitectureSpec E4b() => Spec("SSSFSSSF", 2560, 8, 2, 0, 10240, 512, 4, 256, false);

    private static ArchitectureSpec B31() => Spec("SSSSSF", 5376, 32, 16, 4, 21504, 1024, 0, 0, true);

    [Theory]
    [InlineData("e4b", 512, true, 89.02)]
    [InlineData("e4b", 4096, true, 93.02)]
    [InlineData("e4b", 512, false, 102.02)]
    [InlineData("e4b", 4096, false, 117.02)]
    [InlineData("31b", 512, true, 174.52)]
    [InlineData("31b", 4096, true, 179.02)]
    [InlineData("31b", 512, false, 191.51)]
    [InlineData("31b", 4096, false, 384.01)]
    public void ComputeBuffer_Gemma4_MatchesLlamaCppLog_Within5PercentOr16MiB(string name, int ctx, bool fa, double loggedMiB)
    {
        var spec = name == "e4b" ? E4b() : B31();
        var e = MemoryEstimator.Estimate(MemoryTestModels.FromSpec(name, spec), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = 512, Dtype = "f16",
            FlashAttn = fa ? FlashAttention.On : FlashAttention.Off,
        });
        double ours = e["compute_buffer"].Bytes / (double)ByteSize.MiB;
        Assert.InRange(ours, loggedMiB - Math.Max(16, loggedMiB * 0.05), loggedMiB + Math.Max(16, loggedMiB * 0.05));
    }

    [Fact]
    public void ComputeBuffer_Gemma4_GrowsByBothMasksPerCell()
    {
        // Flash attention, f16 masks: n_ctx 512 → 4096 adds (3584 full + 512 sliding cells) × 512 × 2 B = 4 MiB on the E4B
        // widths (SWA cache 512 → 1024 cells) and (3584 + 1024) × 1024 B = 4.5 MiB on the 31B widths (1536 cells): the logs
        // differ by 93.02 − 89.02 and 179.02 − 174.52 MiB.
        double Mib(ArchitectureSpec s, int ctx) => MemoryEstimator.Estimate(MemoryTestModels.FromSpec("g4", s), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = 512, Dtype = "f16", FlashAttn = FlashAttention.On,
        })["compute_buffer"].Bytes / (double)ByteSize.MiB;
        Assert.Equal(93.02 - 89.02, Mib(E4b(), 4096) - Mib(E4b(), 512), 0.02);
        Assert.Equal(179.02 - 174.52, Mib(B31(), 4096) - Mib(B31(), 512), 0.02);
    }
}
