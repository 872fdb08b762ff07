using LlmSizer.Tests.Memory;
using LLama.Native;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;
using LlmSizer.Tests.Fixtures;
using LlmSizer.Units;

namespace LlmSizer.Engine.Tests;

/// <summary>Our llama.cpp profile against the real engine: LLamaSharp 0.30.0 bundles llama.cpp commit
/// c0c7e147e7efa6c5858754b47259ba4880f8a906 (LLamaSharp.nuspec release notes) and runs it on the CPU backend. Each case
/// writes a small llama GGUF with the shared <see cref="GgufWriter"/>, creates a context and reads the buffer sizes
/// that llama.cpp logs (two-decimal MiB, compared within ±0.005 MiB).</summary>
/// <remarks>Observed behaviour of this build: the KV cache has n_ctx padded up to a multiple of 256 cells (300 → 512,
/// 1000 → 1024) with or without flash attention; n_ubatch is capped at the unpadded n_ctx; the output buffer holds
/// n_seq_max × n_vocab f32 logits; a quantized V cache without flash attention is refused ("quantized V cache requires
/// flash_attn to be enabled") and no context is created.</remarks>
public class LlamaCppBufferTests
{
    private const double HalfCent = 0.005 + 1e-9;

    public static readonly TheoryData<string, int, int, int, int, int, int> Models = new()
    {
        // name, embedding, heads, kv heads, ff, vocab, layers (head_dim = embedding / heads: 64 or 32, as q8_0/q4_0 KV needs)
        { "hd64", 256, 4, 2, 512, 1024, 2 },
        { "hd32", 256, 8, 2, 512, 1024, 2 },
        { "mha4", 256, 4, 4, 1024, 2048, 4 },
        { "bigvocab", 64, 2, 1, 128, 32000, 2 },
    };

    private static GgufWriter.LlamaOptions Options(int h, int heads, int kv, int ff, int vocab, int layers) =>
        new() { Embedding = h, Heads = heads, KvHeads = kv, FeedForward = ff, Vocab = vocab, Layers = layers, Context = 4096 };

    /// <summary>The tensors <see cref="GgufWriter.TinyLlama"/> writes, by GGUF name, outermost dimension first.</summary>
    private static ModelInfo Model(string name, GgufWriter.LlamaOptions o)
    {
        int hd = o.Embedding / o.Heads;
        long d = o.Embedding, kv = (long)hd * o.KvHeads;
        var b = new InventoryBuilder(DataType.F16);
        b.Add("token_embd.weight", TensorGroup.Embedding, null, o.Vocab, d);
        b.Add(new TensorInfo("output_norm.weight", [d], DataType.F32, TensorGroup.Norm));
        b.Add("output.weight", TensorGroup.LmHead, null, o.Vocab, d);
        for (int l = 0; l < o.Layers; l++)
        {
            var p = $"blk.{l}.";
            b.Add(new TensorInfo(p + "attn_norm.weight", [d], DataType.F32, TensorGroup.Norm) { Layer = l });
            b.Add(p + "attn_q.weight", TensorGroup.Attention, l, d, d);
            b.Add(p + "attn_k.weight", TensorGroup.Attention, l, kv, d);
            b.Add(p + "attn_v.weight", TensorGroup.Attention, l, kv, d);
            b.Add(p + "attn_output.weight", TensorGroup.Attention, l, d, d);
            b.Add(new TensorInfo(p + "ffn_norm.weight", [d], DataType.F32, TensorGroup.Norm) { Layer = l });
            b.Add(p + "ffn_gate.weight", TensorGroup.Mlp, l, o.FeedForward, d);
            b.Add(p + "ffn_up.weight", TensorGroup.Mlp, l, o.FeedForward, d);
            b.Add(p + "ffn_down.weight", TensorGroup.Mlp, l, d, o.FeedForward);
        }

        var spec = new ArchitectureSpec
        {
            Family = "llama", Layers = o.Layers, Hidden = o.Embedding, Heads = o.Heads, KvHeads = o.KvHeads, HeadDim = hd,
            Intermediate = o.FeedForward, Vocab = o.Vocab, MaxPositions = o.Context,
        };
        return new ModelInfo { Name = name, Source = ModelSourceKind.Gguf, Architecture = spec, Inventory = b.Build() };
    }

    private static double Mib(ByteSize b) => b.Bytes / (double)ByteSize.MiB;

    private static (ProbeResult Engine, MemoryEstimate Ours) Both(string name, GgufWriter.LlamaOptions o, int ctx, int ub, string kv, bool? fa)
    {
        var path = LlamaCppProbe.Write(GgufWriter.TinyLlama(o), name);
        var type = kv switch { "q8_0" => GGMLType.GGML_TYPE_Q8_0, "q4_0" => GGMLType.GGML_TYPE_Q4_0, _ => GGMLType.GGML_TYPE_F16 };
        var engine = LlamaCppProbe.Run(path, (uint)ctx, (uint)ub, type, type, fa);
        var ours = MemoryEstimator.Estimate(Model(name, o), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = ctx, Ubatch = ub, KvDtype = kv,
            FlashAttn = fa switch { true => FlashAttention.On, false => FlashAttention.Off, _ => FlashAttention.Auto },
        });
        return (engine, ours);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ModelAndOutputBuffers_EqualLlamaCppLog(string name, int h, int heads, int kv, int ff, int vocab, int layers)
    {
        var (engine, ours) = Both(name, Options(h, heads, kv, ff, vocab, layers), 512, 512, "f16", true);
        Assert.True(engine.ContextCreated, engine.Log[^Math.Min(2000, engine.Log.Length)..]);

        // CPU backend: one CPU model buffer holds every tensor (on a GPU, token_embd stays in host memory).
        Assert.Equal(engine.ModelMiB, Mib(ours["weights"] + ours["host_weights"]), HalfCent);
        Assert.Equal(engine.OutputMiB, Mib(ours["output_buffer"]), HalfCent);
    }

    public static readonly TheoryData<string, int, int, string, bool?> KvCases = new()
    {
        { "hd64", 512, 512, "f16", true },
        { "hd64", 300, 512, "f16", true },
        { "hd64", 1000, 512, "f16", false },
        { "hd64", 2048, 128, "q8_0", true },
        { "hd64", 1000, 256, "q4_0", null },
        { "hd32", 2048, 512, "q8_0", true },
        { "hd32", 777, 256, "q4_0", true },
        { "hd32", 4096, 512, "f16", false },
        { "mha4", 1536, 512, "f16", null },
        { "mha4", 1100, 64, "q8_0", true },
        { "bigvocab", 2048, 512, "f16", true },
        { "bigvocab", 2048, 512, "f16", false },
        { "bigvocab", 1024, 256, "q8_0", true },
    };

    private static GgufWriter.LlamaOptions ByName(string name) => name switch
    {
        "hd64" => Options(256, 4, 2, 512, 1024, 2),
        "hd32" => Options(256, 8, 2, 512, 1024, 2),
        "mha4" => Options(256, 4, 4, 1024, 2048, 4),
        _ => Options(64, 2, 1, 128, 32000, 2),
    };

    [Theory]
    [MemberData(nameof(KvCases))]
    public void KvCache_EqualsLlamaCppLog(string name, int ctx, int ub, string kv, bool? fa)
    {
        var (engine, ours) = Both(name, ByName(name), ctx, ub, kv, fa);
        Assert.True(engine.ContextCreated);
        Assert.Equal((ctx + 255) / 256 * 256, engine.KvCells); // n_ctx padded to 256 in this build
        Assert.Equal(engine.KvMiB, Mib(ours["kv_cache"]), HalfCent);
    }

    [Theory]
    [InlineData(2048, 512)]
    [InlineData(4096, 256)]
    [InlineData(300, 512)]
    public void ComputeBuffer_LargeVocabF16FlashAttention_EqualsOutputStage(int ctx, int ub)
    {
        // Where the output stage dominates (vocab ≫ n_ff), the buffer is exactly (n_vocab + 2·n_embd) × n_ubatch × 4 B,
        // n_ubatch capped at n_ctx (300 here). Hand check for 2048/512: (32000 + 128) × 512 × 4 = 65,798,144 B = 62.75 MiB.
        var (engine, ours) = Both("bigvocab", ByName("bigvocab"), ctx, ub, "f16", true);
        Assert.Equal(engine.ComputeMiB, Mib(ours["compute_buffer"]), HalfCent);
    }

    [Theory]
    [InlineData(2048, 512, "f16", false)]
    [InlineData(1024, 256, "q8_0", true)]
    [InlineData(1024, 256, "q4_0", true)]
    public void ComputeBuffer_LargeVocabOtherSettings_Within2Percent(int ctx, int ub, string kv, bool fa)
    {
        // FA off adds the f32 mask; a quantized cache adds conversion scratch: both small next to the logits.
        var (engine, ours) = Both("bigvocab", ByName("bigvocab"), ctx, ub, kv, fa);
        Assert.InRange(Mib(ours["compute_buffer"]), engine.ComputeMiB * 0.98, engine.ComputeMiB * 1.02);
    }

    [Theory]
    [MemberData(nameof(KvCases))]
    public void ComputeBuffer_TinyModels_Within1MiBOr5Percent(string name, int ctx, int ub, string kv, bool? fa)
    {
        // Tiny widths: the stage rows are exact without flash attention; with it ggml-alloc reuses one more hole than
        // the 3·n_ff + 4·h rows assume, so we read up to 1 MiB high (LlamaCppCompute remarks; docs/memory.md table).
        var (engine, ours) = Both(name, ByName(name), ctx, ub, kv, fa);
        double ourMib = Mib(ours["compute_buffer"]);
        Assert.InRange(ourMib, Math.Min(engine.ComputeMiB * 0.95, engine.ComputeMiB - 1), Math.Max(engine.ComputeMiB * 1.05, engine.ComputeMiB + 1));
    }

    [Theory]
    [InlineData(2, 1024)]
    [InlineData(4, 2048)]
    public void ParallelSequences_ShareOneUnifiedCache_AndOneOutputRowEach(int seqs, int nCtx)
    {
        // llama.cpp's n_ctx is the total over sequences (kv_unified = true in this build): we model it as context × batch.
        // The large vocabulary makes the output buffer (seqs × 32000 × 4 B) visible in two-decimal MiB.
        var o = ByName("bigvocab");
        var path = LlamaCppProbe.Write(GgufWriter.TinyLlama(o), "bigvocab");
        var engine = LlamaCppProbe.Run(path, (uint)nCtx, 512, GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_F16, true, (uint)seqs);
        var ours = MemoryEstimator.Estimate(Model("bigvocab", o), new FlatWorkload
        {
            Engine = InferenceEngine.LlamaCpp, Context = nCtx / seqs, Batch = seqs, Ubatch = 512, FlashAttn = FlashAttention.On,
        });
        Assert.True(engine.ContextCreated);
        Assert.Equal(engine.KvMiB, Mib(ours["kv_cache"]), HalfCent);
        Assert.Equal(engine.OutputMiB, Mib(ours["output_buffer"]), HalfCent);
    }

    [Fact]
    public void QuantizedVCache_WithoutFlashAttention_RefusedByBothEngineAndEstimator()
    {
        var path = LlamaCppProbe.Write(GgufWriter.TinyLlama(ByName("hd64")), "hd64");
        var engine = LlamaCppProbe.Run(path, 512, 512, GGMLType.GGML_TYPE_Q8_0, GGMLType.GGML_TYPE_Q8_0, false);
        Assert.False(engine.ContextCreated);
        Assert.Contains("requires flash_attn", engine.Log, StringComparison.Ordinal);
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(Model("hd64", ByName("hd64")),
            new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 512, KvDtype = "q8_0", FlashAttn = FlashAttention.Off }));
        Assert.Equal("kv_dtype", ex.Setting);
    }
}
