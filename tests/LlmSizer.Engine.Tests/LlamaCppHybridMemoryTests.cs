using System.Globalization;
using System.Text.RegularExpressions;
using LLama.Native;
using LlmSizer.Architecture;
using LlmSizer.Memory;
using Xunit.Abstractions;

namespace LlmSizer.Engine.Tests;

/// <summary>Hybrid attention/state-space GGUFs our writer generates, loaded by the bundled llama.cpp: our recurrent state
/// (R conv states and S SSM states) and our KV cache (attention layers only) against the sizes llama.cpp logs
/// ("llama_memory_recurrent: … R (f32): … MiB, S (f32): … MiB" and "llama_kv_cache: … K (f16): … MiB, V (f16): … MiB").</summary>
public sealed partial class LlamaCppHybridMemoryTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, HybridShape> Shapes = new[]
    {
        // Granite 4.0-H-Tiny widths (hidden 1536, 48 Mamba-2 heads of 64, d_state 128, 1 group; 12 query / 4 KV heads of 128),
        // dense feed-forward; three Mamba-2 layers and one attention layer.
        new HybridShape
        {
            Name = "granite-h", Arch = "granitehybrid", Pattern = "SSSA", Embedding = 1536, Heads = 12, KvHeads = 4, HeadDim = 128,
            FeedForward = 1024, SsmInner = 3072, SsmState = 128, SsmRank = 48, SsmGroups = 1,
        },
        new HybridShape
        {
            Name = "granite-h-2a", Arch = "granitehybrid", Pattern = "SASA", Embedding = 768, Heads = 12, KvHeads = 4, HeadDim = 64,
            FeedForward = 1024, SsmInner = 1536, SsmState = 128, SsmRank = 24, SsmGroups = 2,
        },

        // Jamba's Mamba-1 layers (d_state 16, d_conv 4, dt_rank = hidden / 16) at a quarter of Jamba-mini's width.
        new HybridShape
        {
            Name = "jamba", Arch = "jamba", Pattern = "SSAS", Embedding = 1024, Heads = 8, KvHeads = 2, HeadDim = 128,
            FeedForward = 2048, SsmInner = 2048, SsmState = 16, SsmRank = 64,
        },

        // Nemotron-H-8B's Mamba-2 mixer (d_state 128, 8 groups, heads of 64) at a quarter width: Mamba, MLP, attention, Mamba.
        new HybridShape
        {
            Name = "nemotron-h", Arch = "nemotron_h", Pattern = "SMAS", Embedding = 1024, Heads = 8, KvHeads = 2, HeadDim = 128,
            FeedForward = 2048, SsmInner = 2048, SsmState = 128, SsmRank = 32, SsmGroups = 8,
        },

        // Nemotron-3-Nano-30B-A3B's widths (hidden 2688; 64 Mamba-2 heads of 64, d_state 128, 8 groups; 32 query / 2 KV heads
        // of 128; MoE feed-forward layers, expert width 1856, shared 3712) with 8 experts instead of 128.
        new HybridShape
        {
            Name = "nemotron-h-moe", Arch = "nemotron_h_moe", Pattern = "SMSA", Embedding = 2688, Heads = 32, KvHeads = 2, HeadDim = 128,
            FeedForward = 1856, SsmInner = 4096, SsmState = 128, SsmRank = 64, SsmGroups = 8,
            Experts = 8, ExpertsUsed = 2, ExpertFeedForward = 1856, SharedFeedForward = 3712,
        },

        // Falcon-H1-0.5B's widths (hidden 1024; Mamba-2 d_ssm 1536 = 24 heads of 64, d_state 128, 1 group; 8 query / 2 KV
        // heads of 64): attention and Mamba-2 side by side in every layer.
        new HybridShape
        {
            Name = "falcon-h1", Arch = "falcon-h1", Pattern = "PPP", Embedding = 1024, Heads = 8, KvHeads = 2, HeadDim = 64,
            FeedForward = 2048, SsmInner = 1536, SsmState = 128, SsmRank = 24, SsmGroups = 1,
        },

        // Qwen3-Next-80B-A3B's widths (hidden 2048; 16 query / 2 KV heads of 256; gated delta net with 16 key heads and 32
        // value heads of 128, conv 4), 8 experts instead of 512; full attention every 4th layer.
        new HybridShape
        {
            Name = "qwen3next", Arch = "qwen3next", Pattern = "SSSA", Embedding = 2048, Heads = 16, KvHeads = 2, HeadDim = 256,
            FeedForward = 512, SsmInner = 4096, SsmState = 128, SsmRank = 32, SsmGroups = 16,
            Experts = 8, ExpertsUsed = 2, ExpertFeedForward = 512, SharedFeedForward = 512,
        },
        new HybridShape
        {
            Name = "qwen35", Arch = "qwen35", Pattern = "SSSA", Embedding = 2048, Heads = 16, KvHeads = 4, HeadDim = 256,
            FeedForward = 4096, SsmInner = 4096, SsmState = 128, SsmRank = 32, SsmGroups = 16,
        },
        new HybridShape
        {
            Name = "qwen35-rl", Arch = "qwen35", Pattern = "SASS", Embedding = 1024, Heads = 8, KvHeads = 2, HeadDim = 256,
            FeedForward = 3072, SsmInner = 2048, SsmState = 128, SsmRank = 16, SsmGroups = 16, RecurrentLayersKey = true,
        },
        new HybridShape
        {
            Name = "qwen35moe", Arch = "qwen35moe", Pattern = "SA", Embedding = 2048, Heads = 16, KvHeads = 2, HeadDim = 256,
            FeedForward = 512, SsmInner = 4096, SsmState = 128, SsmRank = 32, SsmGroups = 16,
            Experts = 8, ExpertsUsed = 2, ExpertFeedForward = 512, SharedFeedForward = 512,
        },
    }.ToDictionary(s => s.Name);

    public static readonly TheoryData<string> Names = new(Shapes.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public void HybridGguf_RecurrentStateAndKv_EqualLlamaCppLog(string name)
    {
        var shape = Shapes[name];
        var path = LlamaCppProbe.Write(HybridGguf.Build(shape), "hy-" + name, LlmSizer.Tests.Fixtures.GgufWriter.DataMode.Sparse);
        var spec = Sizer.Load(path).Architecture!;
        foreach (uint seqs in new uint[] { 1, 2, 4 })
        {
            const uint nCtx = 2048;
            var real = LlamaCppProbe.Run(path, nCtx, 512, GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_F16, fa: null, seqMax: seqs, keepLoaded: true);
            var r = RRx().Match(real.Log);
            var s = SRx().Match(real.Log);
            var kv = KvRx().Match(real.Log);
            Assert.True(r.Success && s.Success && kv.Success, "no recurrent or KV memory line in llama.cpp's log:\n" + real.Log);

            // llama.cpp's n_ctx is shared by the sequences (one unified KV cache): context × batch in our terms.
            var est = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = (int)(nCtx / seqs), Batch = (int)seqs });

            // Ours, split as llama.cpp logs it: R = conv states, S = SSM (or delta-rule) states, f32, per layer and sequence.
            var (rBytes, sBytes) = RecurrentBytes(spec, seqs);
            output.WriteLine($"{name} seqs {seqs}: llama.cpp R {r.Groups[1].Value} MiB, S {s.Groups[1].Value} MiB, KV {kv.Groups[1].Value} MiB " +
                $"({kv.Groups[3].Value} layers); ours R {rBytes} B, S {sBytes} B, KV {est["kv_cache"].Bytes} B");
            Assert.Equal(rBytes + sBytes, est["recurrent_state"].Bytes);

            // llama.cpp prints MiB with two decimals (printf rounds a tie such as 0.375 to even: 0.38).
            Assert.Equal(Mib(r), rBytes / 1048576.0, HalfCent);
            Assert.Equal(Mib(s), sBytes / 1048576.0, HalfCent);
            Assert.Equal(Mib(kv), est["kv_cache"].Bytes / 1048576.0, HalfCent);
            Assert.Equal(nCtx, uint.Parse(kv.Groups[2].Value, CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(0, spec.Layers).Count(l => spec.LayerKind(l) != AttentionLayerKind.None && spec.KvHeadsOf(l) > 0),
                int.Parse(kv.Groups[3].Value, CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("granite-h-2a")]
    [InlineData("falcon-h1")]
    [InlineData("qwen3next")]
    public void HybridGguf_Q8KvCache_RecurrentStaysF32_EqualsLlamaCppLog(string name)
    {
        // A q8_0 KV cache (flash attention on, as llama.cpp requires for a quantized V): whole 34-byte blocks per 32
        // elements of each K and V row; the R and S states stay F32 (recurrent_type_k/v are hard-wired).
        var path = LlamaCppProbe.Write(HybridGguf.Build(Shapes[name]), "hy-" + name, LlmSizer.Tests.Fixtures.GgufWriter.DataMode.Sparse);
        var spec = Sizer.Load(path).Architecture!;
        const uint nCtx = 4096, seqs = 2;
        var real = LlamaCppProbe.Run(path, nCtx, 512, GGMLType.GGML_TYPE_Q8_0, GGMLType.GGML_TYPE_Q8_0, fa: true, seqMax: seqs, keepLoaded: true);
        var r = RRx().Match(real.Log);
        var s = SRx().Match(real.Log);
        var kv = KvRx().Match(real.Log);
        Assert.True(r.Success && s.Success && kv.Success && real.Log.Contains("K (q8_0)", StringComparison.Ordinal), "no q8_0 KV or recurrent line in llama.cpp's log:\n" + real.Log);

        var est = Sizer.Memory(path, new Workload
        {
            Engine = InferenceEngine.LlamaCpp, Context = (int)(nCtx / seqs), Batch = (int)seqs, KvType = DataTypes.DataType.Q8_0,
            LlamaCpp = LlamaCppSettings.Default with { FlashAttention = FlashAttention.On },
        });
        var (rBytes, sBytes) = RecurrentBytes(spec, seqs);
        output.WriteLine($"{name} q8_0: llama.cpp R {r.Groups[1].Value} MiB, S {s.Groups[1].Value} MiB, KV {kv.Groups[1].Value} MiB; ours R {rBytes} B, S {sBytes} B, KV {est["kv_cache"].Bytes} B");
        Assert.Equal(rBytes + sBytes, est["recurrent_state"].Bytes);
        Assert.Equal(Mib(r), rBytes / 1048576.0, HalfCent);
        Assert.Equal(Mib(s), sBytes / 1048576.0, HalfCent);
        Assert.Equal(Mib(kv), est["kv_cache"].Bytes / 1048576.0, HalfCent);
    }

    private static (long R, long S) RecurrentBytes(ArchitectureSpec spec, uint seqs)
    {
        long r = 0, s = 0;
        if (spec.Ssm is { } ssm)
        {
            int layers = RecurrentState.SsmLayers(spec);
            r += RecurrentState.ConvStateElements(ssm) * 4 * layers;
            s += RecurrentState.SsmStateElements(ssm) * 4 * layers;
        }

        if (spec.LinearAttention is { } linear)
        {
            int layers = Enumerable.Range(0, spec.Layers).Count(l => spec.MixerOf(l) == LayerMixer.LinearAttention);
            r += RecurrentState.LinearConvStateElements(linear) * 4 * layers;
            s += RecurrentState.LinearStateElements(linear) * 4 * layers;
        }

        return (r * seqs, s * seqs);
    }

    private const double HalfCent = 0.005 + 1e-9;

    private static double Mib(Match m) => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"R \(f32\):\s*([0-9.]+) MiB")]
    private static partial Regex RRx();

    [GeneratedRegex(@"S \(f32\):\s*([0-9.]+) MiB")]
    private static partial Regex SRx();

    [GeneratedRegex(@"llama_kv_cache: size\s*=\s*([0-9.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers")]
    private static partial Regex KvRx();
}
