using LlmSizer.Architecture;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Hybrid GGUFs whose layer pattern is not "no KV heads = Mamba": Nemotron-H's feed-forward-only layers and the
/// gated delta nets of Qwen3-Next / Qwen3.5, which llama.cpp reads from the <c>{arch}.ssm.*</c> keys.</summary>
public sealed class HybridGgufTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-hybrid-gguf-" + Guid.NewGuid().ToString("N"));

    public HybridGgufTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(GgufWriter w, string name)
    {
        var path = Path.Combine(_dir, name + ".gguf");
        File.WriteAllBytes(path, w.AddTensor("token_embd.weight", GgmlType.F32, 64, 32).AddTensor("output_norm.weight", GgmlType.F32, 64).ToArray());
        return path;
    }

    private static GgufWriter Header(string arch, int layers, int hidden, int heads, int headDim) => new GgufWriter()
        .AddString("general.architecture", arch).AddUInt32(arch + ".block_count", (uint)layers)
        .AddUInt32(arch + ".embedding_length", (uint)hidden).AddUInt32(arch + ".context_length", 1 << 18)
        .AddUInt32(arch + ".attention.head_count", (uint)heads)
        .AddUInt32(arch + ".attention.key_length", (uint)headDim).AddUInt32(arch + ".attention.value_length", (uint)headDim);

    private static GgufWriter Ssm(GgufWriter w, string arch, int conv, int inner, int state, int rank, int groups) => w
        .AddUInt32(arch + ".ssm.conv_kernel", (uint)conv).AddUInt32(arch + ".ssm.inner_size", (uint)inner)
        .AddUInt32(arch + ".ssm.state_size", (uint)state).AddUInt32(arch + ".ssm.time_step_rank", (uint)rank)
        .AddUInt32(arch + ".ssm.group_count", (uint)groups);

    [Theory]
    [InlineData("nemotron_h")]
    [InlineData("nemotron_h_moe")]
    public void NemotronHGguf_FeedForwardOnlyLayers_HoldNoRecurrentState(string arch)
    {
        // Given: Mamba-2, MLP, attention, Mamba-2 (convert_hf_to_gguf.py writes head_count_kv and feed_forward_length per
        // layer: 0 KV heads on the Mamba and MLP layers, a width only on the MLP layer); Mamba-2 d_inner 2048, d_state 128,
        // 8 groups, 32 heads, d_conv 4; 2 KV heads of 128.
        var w = Header(arch, 4, 1024, 8, 128)
            .AddArray(arch + ".attention.head_count_kv", MetaType.UInt32, new uint[] { 0, 0, 2, 0 })
            .AddArray(arch + ".feed_forward_length", MetaType.UInt32, new uint[] { 0, 2048, 0, 0 });
        var path = Write(Ssm(w, arch, 4, 2048, 128, 32, 8), arch);

        // When
        var spec = Sizer.Load(path).Architecture!;
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 2048 });

        // Then: llama.cpp marks a layer recurrent only when n_head_kv(il) and n_ff(il) are both 0: layers 0 and 3.
        // Per Mamba-2 layer: R = (4 − 1) × (2048 + 2 × 8 × 128) = 12,288 elements, S = 128 × 2048 = 262,144 elements;
        // 2 layers × (12,288 + 262,144) × 4 B = 2,195,456 B (the bundled llama.cpp logs R 0.09 MiB, S 2.00 MiB).
        Assert.Equal(new[] { LayerMixer.Ssm, LayerMixer.Attention, LayerMixer.Attention, LayerMixer.Ssm }, spec.LayerMixers.ToArray());
        Assert.Equal(2_195_456L, e["recurrent_state"].Bytes);

        // KV on layer 2 only: 2,048 cells × 2 heads × 128 × 2 (K and V) × 2 B = 2,097,152 B.
        Assert.Equal(2_097_152L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Qwen3NextGguf_DeltaNetLayers_SizedFromSsmKeys_KvOnEveryFourthLayer()
    {
        // Given: Qwen3-Next-80B-A3B's widths: 16 key heads and 32 value heads of 128 (ssm.state_size 128, group_count 16,
        // time_step_rank 32, inner_size 32 × 128 = 4096), conv 4; 2 KV heads of 256; full attention every 4th layer.
        var w = Header("qwen3next", 4, 2048, 16, 256).AddUInt32("qwen3next.attention.head_count_kv", 2)
            .AddUInt32("qwen3next.full_attention_interval", 4);
        var path = Write(Ssm(w, "qwen3next", 4, 4096, 128, 32, 16), "qwen3next");

        // When
        var spec = Sizer.Load(path).Architecture!;
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 2048 });

        // Then: layers 0–2 are delta nets, layer 3 attends.
        Assert.Equal(new[] { LayerMixer.LinearAttention, LayerMixer.LinearAttention, LayerMixer.LinearAttention, LayerMixer.Attention }, spec.LayerMixers.ToArray());
        var linear = spec.LinearAttention!;
        Assert.Equal((16, 32, 128, 128, 4), (linear.KeyHeads, linear.ValueHeads, linear.KeyHeadDim, linear.ValueHeadDim, linear.ConvKernel));
        Assert.Null(spec.Ssm);

        // Conv state (4 − 1) × (2 × 16 × 128 + 32 × 128) = 24,576 elements; delta state 32 × 128 × 128 = 524,288 elements;
        // 3 layers × (24,576 + 524,288) × 4 B = 6,586,368 B (the bundled llama.cpp logs R 0.28 MiB, S 6.00 MiB).
        Assert.Equal(6_586_368L, e["recurrent_state"].Bytes);

        // KV: 2,048 cells × 2 heads × 256 × 2 × 2 B = 4,194,304 B.
        Assert.Equal(4_194_304L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Qwen35Gguf_RecurrentLayersArray_OverridesTheInterval()
    {
        // Given: attention.recurrent_layers [true, false, true, true] (llama.cpp reads it before full_attention_interval),
        // 16 key heads and 16 value heads of 128, conv 4; 2 KV heads of 256.
        var w = Header("qwen35", 4, 1024, 8, 256).AddUInt32("qwen35.attention.head_count_kv", 2)
            .AddUInt32("qwen35.full_attention_interval", 4)
            .AddArray("qwen35.attention.recurrent_layers", MetaType.Bool, new[] { true, false, true, true });
        var path = Write(Ssm(w, "qwen35", 4, 2048, 128, 16, 16), "qwen35");

        // When
        var spec = Sizer.Load(path).Architecture!;
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 1024, Batch = 2 });

        // Then: conv (4 − 1) × (2 × 16 × 128 + 2048) = 18,432 elements, delta state 16 × 128 × 128 = 262,144 elements:
        // 3 layers × (18,432 + 262,144) × 4 B × 2 sequences = 6,733,824 B (llama.cpp logs R 0.42 MiB, S 6.00 MiB).
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(1));
        Assert.Equal([AttentionLayerKind.None, AttentionLayerKind.None, AttentionLayerKind.None], new[] { 0, 2, 3 }.Select(spec.LayerKind));
        Assert.Equal(6_733_824L, e["recurrent_state"].Bytes);

        // KV on layer 1: 1,024 × 2 sequences = 2,048 cells × 2 heads × 256 × 2 × 2 B = 4,194,304 B.
        Assert.Equal(4_194_304L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Qwen35MoeGguf_WithoutIntervalKey_AttendsEveryFourthLayer()
    {
        // Given: 8 layers and no full_attention_interval (llama.cpp's default is 4: layers 3 and 7 attend).
        var w = Header("qwen35moe", 8, 2048, 16, 256).AddUInt32("qwen35moe.attention.head_count_kv", 2)
            .AddUInt32("qwen35moe.expert_count", 8).AddUInt32("qwen35moe.expert_used_count", 2)
            .AddUInt32("qwen35moe.expert_feed_forward_length", 512);
        var path = Write(Ssm(w, "qwen35moe", 4, 4096, 128, 32, 16), "qwen35moe");

        // When
        var spec = Sizer.Load(path).Architecture!;
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 4096 });

        // Then: 6 delta-net layers × (24,576 + 524,288) × 4 B = 13,172,736 B; KV 2 layers × 4,096 × 2 × 256 × 2 × 2 B = 16,777,216 B.
        Assert.Equal([3, 7], Enumerable.Range(0, 8).Where(l => spec.MixerOf(l) == LayerMixer.Attention));
        Assert.Equal(13_172_736L, e["recurrent_state"].Bytes);
        Assert.Equal(16_777_216L, e["kv_cache"].Bytes);
    }
}
