using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Gemma 4 GGUFs (llama.cpp arch <c>gemma4</c>): the per-layer KV cache from the keys llama.cpp reads
/// (src/models/gemma4.cpp load_arch_hparams): full layers cache key_length (global_head_dim), sliding layers
/// key_length_swa (head_dim), head_count_kv per layer, and the last shared_kv_layers layers cache nothing.</summary>
public sealed class Gemma4GgufTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-gemma4-gguf-" + Guid.NewGuid().ToString("N"));

    public Gemma4GgufTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The header convert_hf_to_gguf.py's Gemma 4 text model writes for a config's text_config (Gemma3Model's
    /// keys plus Gemma4's set_gguf_parameters: shared_kv_layers, embedding_length_per_layer_input, sliding_window_pattern
    /// from layer_types, key/value_length = global_head_dim, key/value_length_swa = head_dim, and head_count_kv per layer
    /// [num_key_value_heads if sliding else num_global_key_value_heads] only when num_global_key_value_heads is set).</summary>
    private static GgufWriter Convert(string config)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.SpecsDir, "configs", config)));
        var t = doc.RootElement.GetProperty("text_config");
        uint U(string key) => t.GetProperty(key).GetUInt32();
        const string a = "gemma4";
        var sliding = t.GetProperty("layer_types").EnumerateArray().Select(x => x.GetString() == "sliding_attention").ToArray();
        var w = new GgufWriter().AddString("general.architecture", a)
            .AddUInt32(a + ".context_length", U("max_position_embeddings")).AddUInt32(a + ".embedding_length", U("hidden_size"))
            .AddUInt32(a + ".block_count", U("num_hidden_layers")).AddUInt32(a + ".feed_forward_length", U("intermediate_size"))
            .AddUInt32(a + ".attention.head_count", U("num_attention_heads")).AddUInt32(a + ".vocab_size", U("vocab_size"))
            .AddUInt32(a + ".attention.sliding_window", U("sliding_window"))
            .AddArray(a + ".attention.sliding_window_pattern", MetaType.Bool, sliding)
            .AddUInt32(a + ".attention.shared_kv_layers", U("num_kv_shared_layers"))
            .AddUInt32(a + ".embedding_length_per_layer_input", U("hidden_size_per_layer_input"))
            .AddUInt32(a + ".attention.key_length", U("global_head_dim")).AddUInt32(a + ".attention.value_length", U("global_head_dim"))
            .AddUInt32(a + ".attention.key_length_swa", U("head_dim")).AddUInt32(a + ".attention.value_length_swa", U("head_dim"));
        if (t.TryGetProperty("num_global_key_value_heads", out var g) && g.ValueKind == JsonValueKind.Number)
        {
            w.AddArray(a + ".attention.head_count_kv", MetaType.UInt32, sliding.Select(s => s ? U("num_key_value_heads") : g.GetUInt32()).ToArray());
        }
        else
        {
            w.AddUInt32(a + ".attention.head_count_kv", U("num_key_value_heads"));
        }

        if (t.TryGetProperty("enable_moe_block", out var moe) && moe.GetBoolean())
        {
            w.AddUInt32(a + ".expert_count", U("num_experts")).AddUInt32(a + ".expert_used_count", U("top_k_experts"))
                .AddUInt32(a + ".expert_feed_forward_length", U("moe_intermediate_size"));
        }

        return w;
    }

    private string Write(GgufWriter w, string name)
    {
        var path = Path.Combine(_dir, name + ".gguf");
        File.WriteAllBytes(path, w.ToArray());
        return path;
    }

    [Theory]
    [InlineData("gemma-4-e2b-it.json")]
    [InlineData("gemma-4-e4b-it.json")]
    [InlineData("gemma-4-26b-a4b-it.json")]
    [InlineData("gemma-4-31b-it.json")]
    public void Gemma4Gguf_PerLayerKv_EqualsTheConfigsFamily(string config)
    {
        // Given the GGUF header convert_hf_to_gguf.py writes for a released config, and the config itself
        var model = Sizer.Load(Write(Convert(config), config));
        var gguf = model.Architecture!;
        var (hf, _) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", config));

        // Then every layer caches the same K and V widths (or none) as Gemma4Family reads from the config
        Assert.Equal("gemma4_text", gguf.Family);
        Assert.Empty(model.Warnings);
        Assert.Equal(hf.Layers, gguf.Layers);
        for (int l = 0; l < hf.Layers; l++)
        {
            Assert.Equal((hf.LayerKind(l), hf.KvHeadsOf(l), hf.HeadDimOf(l), hf.VHeadDimOf(l)), (gguf.LayerKind(l), gguf.KvHeadsOf(l), gguf.HeadDimOf(l), gguf.VHeadDimOf(l)));
        }

        Assert.Equal(hf.SlidingWindow, gguf.SlidingWindow);
        Assert.Equal(((Gemma4Details)hf.Details!).KvSharedLayers, ((Gemma4Details)gguf.Details!).KvSharedLayers);
    }

    [Fact]
    public void E4BGguf_LlamaCppKv_FullLayersAtGlobalHeadDim_SlidingLayersAtTheWindow_SharedLayersNone()
    {
        // Given Gemma-4-E4B's GGUF header: 42 layers, full attention every 6th (5, 11, ..., 41), the last 18 KV-shared;
        // 2 KV heads, key_length 512, key_length_swa 256, window 512
        var path = Write(Convert("gemma-4-e4b-it.json"), "e4b");
        var spec = Sizer.Load(path).Architecture!;

        // When llama.cpp at n_ctx 8,192, one sequence, f16 cache, n_ubatch 512 is estimated
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 8192 });

        // Then only layers 0..23 cache (has_kv: il < 42 - 18): 4 full layers (5, 11, 17, 23) of 2 heads x 512 x 2 (K, V)
        // x 2 B = 4,096 B per cell over 8,192 cells = 134,217,728 B, and 20 sliding layers of 2 x 256 x 2 x 2 B = 2,048 B
        // per cell over GGML_PAD(min(8,192, 512 + 512), 256) = 1,024 cells = 41,943,040 B: 176,160,768 B in all.
        Assert.Equal(24, Enumerable.Range(0, 42).Count(l => spec.KvHeadsOf(l) > 0));
        Assert.Equal(176_160_768L, e["kv_cache"].Bytes);

        // (Read before with one head size, 512, for every layer and no shared layers: 35 sliding layers x 4,096 B x 1,024
        // cells + 7 full layers x 4,096 B x 8,192 cells = 146,800,640 + 234,881,024 = 381,681,664 B.)
    }

    [Fact]
    public void E4BGguf_HfKv_SameAsFromTheConfig()
    {
        // Given the same header sized for transformers at 4,096 tokens (bf16): 20 sliding layers x 2,048 B x 512 tokens
        // + 4 full layers x 4,096 B x 4,096 tokens = 20,971,520 + 67,108,864 = 88,080,384 B, as Gemma4FamilyTests has
        // for the config
        var path = Write(Convert("gemma-4-e4b-it.json"), "e4b-hf");

        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.Hf, Context = 4096 });

        Assert.Equal(88_080_384L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Gemma4_31BGguf_LlamaCppKv_PerLayerKvHeadsAndHeadDims()
    {
        // Given Gemma-4-31B's GGUF header: 60 layers (10 full), head_count_kv [16 sliding, 4 full], key_length 512,
        // key_length_swa 256, window 1,024, no shared layers
        var path = Write(Convert("gemma-4-31b-it.json"), "31b");

        // When llama.cpp at n_ctx 8,192, one sequence, f16
        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 8192 });

        // Then full: 10 layers x 4 x 512 x 2 x 2 B = 8,192 B per cell x 8,192 cells = 671,088,640 B; sliding: 50 layers x
        // 16 x 256 x 2 x 2 B = 16,384 B per cell x GGML_PAD(min(8,192, 1,024 + 512), 256) = 1,536 cells = 1,258,291,200 B;
        // 1,929,379,840 B in all
        Assert.Equal(1_929_379_840L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Gemma4Gguf_TensorsShowKEqV_DetailsCarryTheGeometryForTheGenerator()
    {
        // Given a 2-layer header (sliding, full) with per-layer inputs of 64 whose full layer has attn_k but no attn_v
        const string a = "gemma4";
        var w = new GgufWriter().AddString("general.architecture", a).AddUInt32(a + ".block_count", 2)
            .AddUInt32(a + ".embedding_length", 128).AddUInt32(a + ".feed_forward_length", 256)
            .AddUInt32(a + ".attention.head_count", 4).AddUInt32(a + ".attention.head_count_kv", 1)
            .AddUInt32(a + ".attention.key_length", 64).AddUInt32(a + ".attention.key_length_swa", 32)
            .AddUInt32(a + ".attention.sliding_window", 16).AddArray(a + ".attention.sliding_window_pattern", MetaType.Bool, new[] { true, false })
            .AddUInt32(a + ".embedding_length_per_layer_input", 64)
            .AddTensor("token_embd.weight", GgmlType.F32, 128, 32)
            .AddTensor("blk.0.attn_k.weight", GgmlType.F32, 128, 32).AddTensor("blk.0.attn_v.weight", GgmlType.F32, 128, 32)
            .AddTensor("blk.1.attn_k.weight", GgmlType.F32, 128, 64);
        var spec = Sizer.Load(Write(w, "keqv")).Architecture!;

        // Then the details carry what Gemma4Family's generator needs
        var d = (Gemma4Details)spec.Details!;
        Assert.True(d.AttentionKEqV);
        Assert.Equal((64, 1, 0, 64, 32), (d.GlobalHeadDim, d.GlobalKvHeads, d.KvSharedLayers, d.PerLayerInput, d.PerLayerVocab));
        Assert.Equal(32, spec.HeadDim);
        Assert.Equal(new[] { 32, 64 }, spec.LayerHeadDims.ToArray());
    }

    [Fact]
    public void Gemma4Gguf_SharedKvLayersNotFewerThanLayers_IsRefused()
    {
        const string a = "gemma4";
        var w = new GgufWriter().AddString("general.architecture", a).AddUInt32(a + ".block_count", 4)
            .AddUInt32(a + ".embedding_length", 128).AddUInt32(a + ".attention.head_count", 4)
            .AddUInt32(a + ".attention.shared_kv_layers", 4);
        var path = Write(w, "shared");

        var ex = Assert.Throws<ModelFileFormatException>(() => Sizer.Load(path));

        Assert.Contains("gemma4.attention.shared_kv_layers: expected fewer than block_count (4) layers; found 4", ex.Message);
    }
}
