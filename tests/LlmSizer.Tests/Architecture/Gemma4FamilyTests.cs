using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Memory;
using LlmSizer.Tensors;
using LlmSizer.Tests.Memory;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Gemma 4 (<c>gemma4</c>, <c>gemma4_text</c>): the layout traps behind the spec-table rows, by hand —
/// per-layer input embeddings, KV-shared layers (stored projections, no cache), full layers with their own head_dim and
/// K = V, the MoE block beside the dense MLP, the audio conformer and the buffers.</summary>
public class Gemma4FamilyTests
{
    private static TensorInfo Tensor(TensorInventory inventory, string name) => inventory.Tensors.Single(t => t.Name == name);

    private static long[] Shape(TensorInventory inventory, string name) => [.. Tensor(inventory, name).Shape];

    private static long Buffers(TensorInventory inventory) => inventory.Tensors.Where(t => t.Kind == TensorKind.Buffer).Sum(t => t.Elements);

    [Fact]
    public void E4B_Components_CountedByHand()
    {
        // Given google/gemma-4-E4B-it (42 layers, hidden 2560, 8 heads, 2 KV heads, head_dim 256 / global 512, PLE 256)
        var (_, inv) = ReadSpecConfig("gemma-4-e4b-it.json");
        var parts = inv.ByComponent();

        // Then the language model. A sliding layer: q 2048 x 2560, k and v 512 x 2560, o 2560 x 2048, q/k norms 2 x 256,
        // MLP 3 x 2560 x 10240, four norms 4 x 2560, PLE gate 256 x 2560 + projection 2560 x 256 + norm 2560 = 93,074,432.
        // A full layer (head_dim 512): q 4096 x 2560, k and v 1024 x 2560, o 2560 x 4096, norms 2 x 512, the rest as
        // above = 106,182,144. 35 sliding + 7 full layers (every sixth is full); the KV-shared layers 24..41 keep their
        // stored k/v projections. Plus embed 262144 x 2560, the PLE table 262144 x (42 x 256), the PLE model projection
        // (42 x 256) x 2560, its norm 256 and the final norm 2560.
        long sliding = (2048L * 2560) + (2 * 512L * 2560) + (2560L * 2048) + 512 + (3L * 2560 * 10240) + (4 * 2560) + (2 * 256L * 2560) + 2560;
        long full = (4096L * 2560) + (2 * 1024L * 2560) + (2560L * 4096) + 1024 + (3L * 2560 * 10240) + (4 * 2560) + (2 * 256L * 2560) + 2560;
        Assert.Equal(93_074_432L, sliding);
        Assert.Equal(106_182_144L, full);
        long lm = (262_144L * 2560) + (262_144L * 42 * 256) + (42L * 256 * 2560) + 256 + 2560 + (35 * sliding) + (7 * full);
        Assert.Equal(7_518_068_992L, lm);
        Assert.Equal(lm, parts[ModelComponent.LanguageModel].Value);

        // And the vision tower: input_proj 768 x (3 x 16 x 16), the 2-D position table 2 x 10240 x 768, and 16 layers of
        // q, k, v, o 768 x 768, MLP 3 x 768 x 3072, four norms 4 x 768 and q/k norms 2 x 64
        long vision = (768L * 768) + (2L * 10240 * 768) + (16 * ((4L * 768 * 768) + (3L * 768 * 3072) + (4 * 768) + (2 * 64)));
        Assert.Equal(167_364_608L, vision);
        Assert.Equal(vision, parts[ModelComponent.VisionTower].Value);

        // And the audio encoder (see Audio_Conformer_ShapesAndCount) and the two projectors: embed_vision 2560 x 768 and
        // embed_audio 2560 x 1536
        Assert.Equal(304_824_608L, parts[ModelComponent.AudioEncoder].Value);
        Assert.Equal((2560L * 768) + (2560L * 1536), parts[ModelComponent.Projector].Value);

        // And the buffers: 42 layer_scalar [1] (BF16, in the Hub's BF16 total 7,996,156,490) and the F32 clipping bounds,
        // 4 per clippable linear: vision 16 x 7, audio 12 x 10 -> 928
        Assert.Equal(42 + 928, Buffers(inv));
        Assert.Equal(7_996_156_490L, inv.TotalParameters.Value + 42);

        // And every stored element, buffers included, is the 7,996,157,418 "stored_parameters" a public release fact-book
        // gives for gemma-4-E4B-it: the BF16 total plus the 928 F32 clipping scalars
        Assert.Equal(7_996_157_418L, inv.Tensors.Sum(t => t.Elements));
        Assert.Equal(DataType.F32, Tensor(inv, "model.vision_tower.encoder.layers.0.self_attn.q_proj.input_min").DataType);
        Assert.Equal(TensorKind.Buffer, Tensor(inv, "model.language_model.layers.0.layer_scalar").Kind);
    }

    [Fact]
    public void E2B_KvSharedLayers_StoreProjectionsButHoldNoCache()
    {
        // Given google/gemma-4-E2B-it: 35 layers, the last 20 (15..34) KV-shared, use_double_wide_mlp
        var (spec, inv) = ReadSpecConfig("gemma-4-e2b-it.json");

        // Then the KV-shared layers still carry k_proj/v_proj/k_norm (the checkpoint stores them; the Hub total counts
        // them), and their MLP is twice intermediate_size: 12288 against 6144
        Assert.Equal([256L, 1536L], Shape(inv, "model.language_model.layers.15.self_attn.k_proj.weight"));
        Assert.True(Has(inv, "model.language_model.layers.34.self_attn.v_proj.weight"));
        Assert.Equal([12_288L, 1536L], Shape(inv, "model.language_model.layers.15.mlp.gate_proj.weight"));
        Assert.Equal([6144L, 1536L], Shape(inv, "model.language_model.layers.14.mlp.gate_proj.weight"));

        // And no KV cache of their own: kv heads 1 for layers 0..14, 0 for 15..34
        Assert.Equal([.. Enumerable.Repeat(1, 15), .. Enumerable.Repeat(0, 20)], spec.LayerKvHeads.ToArray());

        // And bf16 K+V per token over the 15 caching layers: full layers 4, 9, 14 (every fifth) at head_dim 512,
        // 2 x 1 x 512 x 2 B = 2,048 B; the 12 sliding ones 2 x 1 x 256 x 2 B = 1,024 B -> 12 x 1,024 + 3 x 2,048 = 18,432 B
        long perToken = Enumerable.Range(0, spec.Layers).Sum(l => KvCache.BytesPerToken(spec, l, 1, InferenceEngine.Vllm, DataType.BF16));
        Assert.Equal(18_432L, perToken);

        // And the count: a sliding non-shared layer q 2048 x 1536, k and v 256 x 1536, o 1536 x 2048, norms 2 x 256, MLP
        // 3 x 1536 x 6144, four norms, PLE 2 x 256 x 1536 + 1536 = 36,184,064; the Hub BF16 total less 35 layer_scalar
        Assert.Equal(36_184_064L, inv.Tensors.Where(t => t.Layer == 0 && t.Kind == TensorKind.Parameter).Sum(t => t.Elements));
        Assert.Equal(5_123_178_051L - 35, inv.TotalParameters.Value);
    }

    [Fact]
    public void MoE26B_ExpertBlockBesideDenseMlp_ShapesAndActiveCount()
    {
        // Given google/gemma-4-26B-A4B-it: 30 layers, hidden 2816, 128 experts of 704, top-8, a dense MLP of 2112 in
        // every layer, attention_k_eq_v with 2 global KV heads of 512 on the full layers
        var (spec, inv) = ReadSpecConfig("gemma-4-26b-a4b-it.json");
        const string L0 = "model.language_model.layers.0.";

        // Then the MoE block: router.proj [128, 2816], router.scale [2816], router.per_expert_scale [128], fused
        // experts.gate_up_proj [128, 2 x 704, 2816] and experts.down_proj [128, 2816, 704]; the dense MLP stays
        Assert.Equal([128L, 2816L], Shape(inv, L0 + "router.proj.weight"));
        Assert.Equal([2816L], Shape(inv, L0 + "router.scale"));
        Assert.Equal([128L], Shape(inv, L0 + "router.per_expert_scale"));
        Assert.Equal([128L, 1408L, 2816L], Shape(inv, L0 + "experts.gate_up_proj"));
        Assert.Equal([128L, 2816L, 704L], Shape(inv, L0 + "experts.down_proj"));
        Assert.Equal([2112L, 2816L], Shape(inv, L0 + "mlp.gate_proj.weight"));
        Assert.True(Has(inv, L0 + "pre_feedforward_layernorm_2.weight"));

        // And K = V on full layer 5: k_proj [2 x 512, 2816], q_proj [16 x 512, 2816], no v_proj; sliding layer 0 has
        // k and v of 8 x 256
        Assert.Equal([1024L, 2816L], Shape(inv, "model.language_model.layers.5.self_attn.k_proj.weight"));
        Assert.Equal([8192L, 2816L], Shape(inv, "model.language_model.layers.5.self_attn.q_proj.weight"));
        Assert.False(Has(inv, "model.language_model.layers.5.self_attn.v_proj.weight"));
        Assert.Equal([2048L, 2816L], Shape(inv, L0 + "self_attn.v_proj.weight"));
        Assert.Equal(2, spec.KvHeadsOf(5));
        Assert.Equal(512, spec.HeadDimOf(5));

        // And 8 of 128 experts are active: 30 x 120/128 x 128 x (2 x 704 x 2816 + 2816 x 704) = 21,410,611,200 fewer
        long inactive = 30L * 120 * ((2L * 704 * 2816) + (2816L * 704));
        Assert.Equal(21_410_611_200L, inactive);
        Assert.Equal(inv.TotalParameters.Value - inactive, inv.ActiveParameters.Value);

        // which for the language model alone, with its 30 layer_scalar buffers, is the 3,822,530,590 active parameters a
        // public serving-cost test gives for this checkpoint
        var lm = inv.ByComponent()[ModelComponent.LanguageModel].Value;
        Assert.Equal(3_822_530_590L, lm - inactive + 30);
    }

    [Fact]
    public void Dense31B_KeqV_GlobalLayersCacheFewerHeadsOfTheirOwnWidth()
    {
        // Given google/gemma-4-31B-it: 50 sliding layers (16 KV heads of 256) and 10 full layers (K = V, 4 global KV
        // heads of 512)
        var (spec, inv) = ReadSpecConfig("gemma-4-31b-it.json");

        // Then bf16 K+V per token: 50 x 2 x 16 x 256 x 2 B = 819,200 and 10 x 2 x 4 x 512 x 2 B = 81,920 -> 901,120 B
        // (a uniform 60 x 2 x 16 x 256 x 2 would give 983,040)
        long perToken = Enumerable.Range(0, spec.Layers).Sum(l => KvCache.BytesPerToken(spec, l, 1, InferenceEngine.Hf, DataType.BF16));
        Assert.Equal(901_120L, perToken);

        // And the 1,188 tensors of the public safetensors listing are generated (no clipping buffers in the 31B: use_clipped_linears is false)
        Assert.Equal(1188, inv.Tensors.Length);
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(59));
        Assert.Equal(1024, spec.SlidingWindow);
        Assert.Equal(280, spec.Vision!.ImageTokens);
    }

    [Fact]
    public void Audio_Conformer_ShapesAndCount()
    {
        // Given the E4B audio tower (hidden 1024, 12 layers, 8 heads of 128, subsampling channels [128, 32], kernel 5)
        var (_, inv) = ReadSpecConfig("gemma-4-e4b-it.json");
        const string A = "model.audio_tower.";

        // Then subsampling: Conv2d [128, 1, 3, 3] and [32, 128, 3, 3] without bias, LayerNorms without bias, and
        // input_proj_linear [1024, (128 / 4) x 32]
        Assert.Equal([128L, 1L, 3L, 3L], Shape(inv, A + "subsample_conv_projection.layer0.conv.weight"));
        Assert.Equal([32L, 128L, 3L, 3L], Shape(inv, A + "subsample_conv_projection.layer1.conv.weight"));
        Assert.Equal([1024L, 1024L], Shape(inv, A + "subsample_conv_projection.input_proj_linear.weight"));

        // And per layer: two macaron feed-forwards 1024 -> 4096 -> 1024, q/k/v/post 1024 x 1024, relative_k_proj, the
        // per_dim_scale [128], light conv linear_start [2048, 1024], linear_end, depthwise conv [1024, 1, 5], norms
        Assert.Equal([4096L, 1024L], Shape(inv, A + "layers.0.feed_forward1.ffw_layer_1.linear.weight"));
        Assert.Equal([128L], Shape(inv, A + "layers.0.self_attn.per_dim_scale"));
        Assert.Equal([2048L, 1024L], Shape(inv, A + "layers.0.lconv1d.linear_start.linear.weight"));
        Assert.Equal([1024L, 1L, 5L], Shape(inv, A + "layers.0.lconv1d.depthwise_conv1d.weight"));
        Assert.Equal([1536L], Shape(inv, A + "output_proj.bias"));

        // And the count: subsampling 128 x 9 + 128 + 32 x 128 x 9 + 32 + 1024 x 1024; per layer
        // 2 x (2 x 1024 x 4096 + 2 x 1024) + 4 x 1024^2 + 1024^2 + 128 + 2 x 1024^2 + 1024^2 + 1024 x 5 + 2 x 1024 + 3 x 1024;
        // output_proj 1536 x 1024 + 1536
        long sub = (128 * 9) + 128 + (32 * 128 * 9) + 32 + (1024L * 1024);
        long layer = (2 * ((2L * 1024 * 4096) + (2 * 1024))) + (4L * 1024 * 1024) + (1024L * 1024) + 128 + (2L * 1024 * 1024)
            + (1024L * 1024) + (1024 * 5) + (2 * 1024) + (3 * 1024);
        long audio = sub + (12 * layer) + (1536L * 1024) + 1536;
        Assert.Equal(304_824_608L, audio);
        Assert.Equal(audio, inv.ByComponent()[ModelComponent.AudioEncoder].Value);
        Assert.All(inv.Tensors.Where(t => t.Name.StartsWith(A, StringComparison.Ordinal)), t => Assert.Equal(ModelComponent.AudioEncoder, t.Component));
    }

    [Fact]
    public void TextConfig_Defaults_PleAndLastLayerForcedFull()
    {
        // Given a Gemma4ForCausalLM text config with 4 layers and no layer_types: the default 5:1 pattern would make all
        // four sliding, and __post_init__ forces the last to full
        var (spec, inv) = Read("""
            {"architectures":["Gemma4ForCausalLM"],"model_type":"gemma4_text","hidden_size":32,"num_hidden_layers":4,
             "num_attention_heads":2,"num_key_value_heads":1,"head_dim":16,"global_head_dim":32,"intermediate_size":64,
             "vocab_size":100,"hidden_size_per_layer_input":8,"vocab_size_per_layer_input":50}
            """);

        // Then
        Assert.Equal([AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Full], spec.LayerKinds.ToArray());
        Assert.Equal(512, spec.SlidingWindow);
        Assert.Equal([50L, 4L * 8], Shape(inv, "model.embed_tokens_per_layer.weight"));
        Assert.Equal([4L * 8, 32L], Shape(inv, "model.per_layer_model_projection.weight"));
        Assert.Equal([2L * 32, 32L], Shape(inv, "model.layers.3.self_attn.q_proj.weight"));
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.Null(spec.Vision);
        Assert.Equal(0, inv.ByComponent().GetValueOrDefault(ModelComponent.AudioEncoder).Value);
    }

    [Fact]
    public void TextOnly_E4B_CountsTheLanguageModelAlone()
    {
        // Given the whole E4B model
        var (spec, inv) = ReadSpecConfig("gemma-4-e4b-it.json");
        var model = new ModelInfo { Name = "gemma-4-e4b-it", Source = ModelSourceKind.Manual, Architecture = spec, Inventory = inv };

        // When the language model alone is kept
        var text = model.LanguageModelOnly();

        // Then the vision tower, audio encoder and both projectors are left out
        Assert.Equal(7_518_068_992L, text.Inventory.TotalParameters.Value);
        Assert.Null(text.Architecture!.Vision);
        Assert.Equal(280, spec.Vision!.ImageTokens);
    }

    [Fact]
    public void E4B_HfKvCache_SlidingLayersCappedSharedLayersEmpty()
    {
        // Given E4B in transformers at 4,096 tokens, batch 1, bf16 cache
        var (spec, inv) = ReadSpecConfig("gemma-4-e4b-it.json");
        var model = new ModelInfo { Name = "gemma-4-e4b-it", Source = ModelSourceKind.Manual, Architecture = spec, Inventory = inv };

        // When the memory is estimated
        var e = MemoryEstimator.Estimate(model, new FlatWorkload { Engine = InferenceEngine.Hf, Context = 4096 });

        // Then only layers 0..23 cache (18 KV-shared layers hold none): 20 sliding layers of 2 x 2 x 256 x 2 B = 2,048 B
        // per token, capped at the 512-token window, and 4 full layers (5, 11, 17, 23) of 2 x 2 x 512 x 2 B = 4,096 B over
        // all 4,096 tokens: 20 x 2,048 x 512 + 4 x 4,096 x 4,096 = 20,971,520 + 67,108,864 = 88,080,384 B
        Assert.Equal(88_080_384L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void E4B_VllmKvCache_TwoImages_SlidingLayersPerSlidingWindowSpec()
    {
        // Given E4B in vLLM (block 16, max_num_batched_tokens 2,048) at 32,768 text tokens plus 2 images of 280 soft
        // tokens (vision_soft_tokens_per_image)
        var e = Sizer.Memory("gemma-4-e4b", new Workload { Engine = InferenceEngine.Vllm, Context = 32_768, Images = 2 });

        // Then the context is 33,328 tokens (2,083 whole blocks); the 4 full caching layers hold all of them at 4,096 B
        // per token, the 20 sliding caching layers (cdiv(512 - 1 + 2,048, 16) + 1) x 16 = 2,576 tokens at 2,048 B
        // (SlidingWindowSpec.max_memory_usage_bytes), and the 18 KV-shared layers none (kv_sharing_target_layer_name):
        // 4 x 4,096 x 33,328 + 20 x 2,048 x 2,576 = 546,045,952 + 105,512,960 = 651,558,912 B
        Assert.Contains(e.Assumptions, a => a.Name == "image_tokens" && a.ValueText.StartsWith("560", StringComparison.Ordinal));
        Assert.Equal(651_558_912L, e["kv_cache"].Bytes);
    }
}
