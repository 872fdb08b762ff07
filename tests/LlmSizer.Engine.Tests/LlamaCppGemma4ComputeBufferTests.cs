using LLama.Native;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using LlmSizer.Tests.Memory;
using LlmSizer.Units;
using Xunit.Abstractions;

namespace LlmSizer.Engine.Tests;

/// <summary>The compute buffer of the Gemma 4 GGUFs <see cref="Gemma4Gguf"/> writes (E4B widths: per-layer head dims 256 / 512,
/// 4 KV-shared layers, per-layer inputs; 31B widths: per-layer head_count_kv, attention_k_eq_v) against the bundled llama.cpp's
/// "compute buffer size = … MiB" line (c0c7e147, CPU backend), n_ctx 512 and 4096, flash attention on and off, f16 cache,
/// n_ubatch 512, swa_full off (our default). Tolerance: 5 % or 16 MiB, as <see cref="ArchitectureComputeBufferTests"/>.</summary>
/// <remarks>Expected values are llama.cpp's log lines. Our side is LlamaCppCompute.Gemma4: the two masks and the per-layer
/// head sizes are derived from src/models/gemma4.cpp; the one Q row added to the feed-forward stage without flash attention
/// was read off these same logs (in-sample, docs/memory.md "Gemma 4"). Results per case: docs/memory.md.</remarks>
public sealed class LlamaCppGemma4ComputeBufferTests(ITestOutputHelper output)
{
    private const double ToleranceMiB = 16;
    private const double ToleranceShare = 0.05;

    public static TheoryData<string, int, bool> Cases()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var name in new[] { "e4b", "31b" })
        {
            foreach (int ctx in new[] { 512, 4096 })
            {
                data.Add(name, ctx, true);
                data.Add(name, ctx, false);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemma4Gguf_ComputeBuffer_Within5PercentOr16MiB(string name, int ctx, bool fa)
    {
        const int ub = 512;
        var shape = LlamaCppGemma4MemoryTests.Shapes[name];
        var path = LlamaCppProbe.Write(Gemma4Gguf.Build(shape), "g4-" + name, GgufWriter.DataMode.Sparse);
        var engine = LlamaCppProbe.Run(path, (uint)ctx, ub, GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_F16, fa, keepLoaded: true, swaFull: false);
        Assert.True(engine.ContextCreated, engine.Log[^Math.Min(3000, engine.Log.Length)..]);
        var est = MemoryEstimator.Estimate(Sizer.Load(path), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = ub, KvDtype = "f16",
            FlashAttn = fa ? FlashAttention.On : FlashAttention.Off,
        });
        double ours = est["compute_buffer"].Bytes / (double)ByteSize.MiB;
        double allowed = Math.Max(ToleranceMiB, engine.ComputeMiB * ToleranceShare);
        output.WriteLine($"G4CASE {name} n_ctx {ctx} fa {fa}: ours {ours:F2} MiB, llama.cpp {engine.ComputeMiB:F2} MiB ({engine.ComputeMiB4:F4})");
        Assert.True(Math.Abs(ours - engine.ComputeMiB) <= allowed,
            $"{name} n_ctx {ctx} fa {fa}: ours {ours:F2} MiB, llama.cpp {engine.ComputeMiB:F2} MiB, allowed ±{allowed:F2}");
    }
}
