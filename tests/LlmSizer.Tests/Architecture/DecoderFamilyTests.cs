using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Errors;
using LlmSizer.Tensors;
using LlmSizer.Units;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>The traps of the modern decoder families, each checked against a published count or a hand calculation
/// written out beside it. Configs are written here (real architecture values, only the keys that matter).</summary>
public class DecoderFamilyTests
{
    private const string File = "fixture/config.json";

    private static (ArchitectureSpec Spec, TensorInventory Inventory) Read(string json)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, File));
        return (spec, family.Generate(spec));
    }

    private static TensorInfo Tensor(TensorInventory inventory, string name) =>
        inventory.Tensors.Single(t => t.Name == name);

    /// <summary>A one-layer model: hidden 16, 4 heads of 4, 2 KV heads, vocab 10.</summary>
    private static string Tiny(string modelType, int intermediate, string extra) =>
        $$"""{"model_type":"{{modelType}}","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":1,"vocab_size":10,"intermediate_size":{{intermediate}}{{extra}}}""";

    private static long[] Shape(TensorInventory inventory, string name) => [.. Tensor(inventory, name).Shape];

    [Fact]
    public void Qwen2_TiedEmbeddings_CountedOnceAndNoHead()
    {
        // Given Qwen/Qwen2.5-0.5B (tie_word_embeddings true)
        var (_, inv) = Read("""
            {"architectures":["Qwen2ForCausalLM"],"model_type":"qwen2","hidden_size":896,"intermediate_size":4864,
             "num_attention_heads":14,"num_hidden_layers":24,"num_key_value_heads":2,"max_window_layers":24,
             "sliding_window":32768,"use_sliding_window":false,"tie_word_embeddings":true,"vocab_size":151936}
            """);

        // Then 494,032,768 (keras-hub qwen_presets.py qwen2.5_0.5b_en). By hand: embed 151936*896 = 136,134,656 once;
        // per layer q 896*896+896, k and v 128*896+128 each, o 896*896 = 1,836,160; mlp 3*4864*896 = 13,074,432;
        // norms 1,792 -> 14,912,384 x 24 = 357,897,216; final norm 896.
        Assert.Equal(136_134_656L + 357_897_216L + 896, inv.TotalParameters.Value);
        Assert.Equal(494_032_768L, inv.TotalParameters.Value);
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.Equal([896L], Shape(inv, "model.layers.0.self_attn.q_proj.bias"));
        Assert.False(Has(inv, "model.layers.0.self_attn.o_proj.bias"));
    }

    [Fact]
    public void Qwen3_QkNorm_PresentPerHeadDim()
    {
        // Given Qwen/Qwen3-0.6B: head_dim 128 with hidden 1024 and 16 heads (16*128 = 2048 != 1024), tied
        var (spec, inv) = Read("""
            {"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","head_dim":128,"hidden_size":1024,
             "intermediate_size":3072,"num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":8,
             "tie_word_embeddings":true,"vocab_size":151936}
            """);

        // Then q_norm/k_norm are [128] and the total is 596,049,920 (keras-hub qwen3_presets.py qwen3_0.6b_en). By hand:
        // embed 155,582,464; per layer q 2048*1024 + k,v 1024*1024 each + o 1024*2048 = 6,291,456, qk-norms 256,
        // mlp 9,437,184, norms 2,048 -> 15,730,944 x 28 = 440,466,432; final norm 1,024.
        Assert.Equal(128, spec.HeadDim);
        Assert.Equal([128L], Shape(inv, "model.layers.27.self_attn.q_norm.weight"));
        Assert.Equal([128L], Shape(inv, "model.layers.0.self_attn.k_norm.weight"));
        Assert.Equal([2048L, 1024L], Shape(inv, "model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(155_582_464L + 440_466_432L + 1024, inv.TotalParameters.Value);
        Assert.Equal(596_049_920L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Qwen2Moe_SharedExpertGateAndMlpOnlyLayers_CountedByHand()
    {
        // Given a tiny Qwen2-MoE: layer 0 sparse (4 experts, top-2, shared expert 12), layer 1 dense (mlp_only_layers)
        var (spec, inv) = Read("""
            {"architectures":["Qwen2MoeForCausalLM"],"model_type":"qwen2_moe","hidden_size":16,"num_attention_heads":4,
             "num_key_value_heads":2,"num_hidden_layers":2,"vocab_size":10,"intermediate_size":32,"num_experts":4,
             "num_experts_per_tok":2,"moe_intermediate_size":8,"shared_expert_intermediate_size":12,"mlp_only_layers":[1]}
            """);

        // Then: attention per layer q 256+16, k 128+8, v 128+8, o 256 = 800; norms 32.
        // Layer 0: router 4*16 = 64, experts 4*3*8*16 = 1,536, shared expert 3*12*16 = 576, shared_expert_gate 16 -> 3,024.
        // Layer 1: dense mlp 3*32*16 = 1,536 -> 2,368. Embed 160 + lm_head 160 + norm 16. Total 5,728.
        Assert.Equal([1L, 16L], Shape(inv, "model.layers.0.mlp.shared_expert_gate.weight"));
        Assert.Equal([12L, 16L], Shape(inv, "model.layers.0.mlp.shared_expert.gate_proj.weight"));
        Assert.Equal([32L, 16L], Shape(inv, "model.layers.1.mlp.gate_proj.weight"));
        Assert.False(Has(inv, "model.layers.1.mlp.gate.weight"));
        Assert.Equal(5_728L, inv.TotalParameters.Value);

        // Active: half of the routed 1,536 -> 5,728 - 768.
        Assert.Equal(4_960L, inv.ActiveParameters.Value);
        Assert.Equal([true, false], spec.Moe!.MoeLayers.ToArray());
    }

    private const string DeepseekV3Tiny = """
        {"architectures":["DeepseekV3ForCausalLM"],"model_type":"deepseek_v3","hidden_size":32,"num_hidden_layers":4,
         "num_attention_heads":2,"num_key_value_heads":2,"vocab_size":10,"intermediate_size":64,"moe_intermediate_size":8,
         "n_routed_experts":4,"n_shared_experts":1,"num_experts_per_tok":2,"first_k_dense_replace":2,"q_lora_rank":16,
         "kv_lora_rank":8,"qk_nope_head_dim":4,"qk_rope_head_dim":2,"v_head_dim":4,"num_nextn_predict_layers":1}
        """;

    [Fact]
    public void DeepseekV3_FirstKDenseAndLowRankQuery_CountedByHand()
    {
        // Given a tiny DeepSeek-V3 with 2 dense layers then 2 MoE layers and q_lora_rank 16
        var (spec, inv) = Read(DeepseekV3Tiny);

        // Then MLA per layer: q_a_proj 16*32 = 512, q_a_layernorm 16, q_b_proj 2*(4+2)*16 = 192,
        // kv_a_proj_with_mqa (8+2)*32 = 320, kv_a_layernorm 8, kv_b_proj 2*(4+4)*8 = 128, o_proj 32*8 = 256 -> 1,432.
        // Dense layers: mlp 3*64*32 = 6,144 + norms 64 -> 7,640 each. MoE layers: router 128 + experts 4*3*8*32 = 3,072
        // + shared 3*8*32 = 768 + norms 64 -> 5,464 each (e_score_correction_bias [4] is a buffer: DeepseekV3TopkRouter
        // calls register_buffer for it, so num_parameters() leaves it out).
        // Total 2*7,640 + 2*5,464 + embed 320 + lm_head 320 + norm 32 = 26,880 (the MTP layer is not counted).
        Assert.Equal(26_880L, inv.TotalParameters.Value);
        Assert.Equal(TensorKind.Buffer, Tensor(inv, "model.layers.2.mlp.gate.e_score_correction_bias").Kind);
        Assert.True(Has(inv, "model.layers.1.mlp.gate_proj.weight"));
        Assert.True(Has(inv, "model.layers.2.mlp.experts.3.down_proj.weight"));
        Assert.Equal([4L], Shape(inv, "model.layers.2.mlp.gate.e_score_correction_bias"));
        Assert.Equal([16L, 32L], Shape(inv, "model.layers.0.self_attn.q_a_proj.weight"));
        Assert.Equal([10L, 32L], Shape(inv, "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"));
        Assert.False(Has(inv, "model.layers.4.embed_tokens.weight"));
        Assert.Equal([false, false, true, true], spec.Moe!.MoeLayers.ToArray());
        Assert.Equal(16, spec.Mla!.QLoraRank);
        Assert.Equal(6, spec.HeadDim);
        Assert.Equal(4, spec.VHeadDim);
        Assert.Contains("multi-token", ((DecoderDetails)spec.Details!).Note);
    }

    [Fact]
    public void DeepseekV3_QLoraRankNull_UsesDirectQueryProjection()
    {
        // Given the same model with "q_lora_rank": null
        var (spec, inv) = Read(DeepseekV3Tiny.Replace("\"q_lora_rank\":16", "\"q_lora_rank\":null", StringComparison.Ordinal));

        // Then q_proj [2*(4+2), 32] = 384 replaces q_a_proj + q_a_layernorm + q_b_proj (720): 26,880 - 4*336 = 25,536
        Assert.Null(spec.Mla!.QLoraRank);
        Assert.Equal([12L, 32L], Shape(inv, "model.layers.0.self_attn.q_proj.weight"));
        Assert.False(Has(inv, "model.layers.0.self_attn.q_a_proj.weight"));
        Assert.Equal(25_536L, inv.TotalParameters.Value);
    }

    [Fact]
    public void DeepseekV2_QLoraRankAbsent_AppliesClassDefault1536()
    {
        // Given a DeepSeek-V2 config that omits q_lora_rank (DeepseekV2Config default 1536) and is dense
        var (spec, inv) = Read("""
            {"model_type":"deepseek_v2","hidden_size":64,"num_hidden_layers":1,"num_attention_heads":2,"vocab_size":10,
             "intermediate_size":8,"n_routed_experts":null}
            """);

        // Then the low-rank path is used with rank 1536
        Assert.Equal(1536, spec.Mla!.QLoraRank);
        Assert.Equal([1536L, 64L], Shape(inv, "model.layers.0.self_attn.q_a_proj.weight"));
        Assert.Null(spec.Moe);
    }

    [Fact]
    public void Gemma_HeadDimDefault256_NotHiddenOverHeads()
    {
        // Given google/gemma-7b without its head_dim key (GemmaConfig default 256; hidden 3072 / 16 heads would give 192)
        var (spec, inv) = Read("""
            {"architectures":["GemmaForCausalLM"],"model_type":"gemma","hidden_size":3072,"intermediate_size":24576,
             "num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":16,"vocab_size":256000}
            """);

        // Then q_proj is [16*256, 3072] and the total is 8,537,680,896 (keras-hub gemma_presets.py gemma_7b_en;
        // huggingface.js parse-safetensors-metadata.spec.ts ALAI-gemma-7b). By hand: embed 786,432,000 (tied, once);
        // per layer q,k,v 4096*3072 each + o 3072*4096 = 50,331,648, mlp 226,492,416, norms 6,144 -> 276,830,208 x 28.
        Assert.Equal(256, spec.HeadDim);
        Assert.Equal([4096L, 3072L], Shape(inv, "model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal(786_432_000L + (276_830_208L * 28) + 3072, inv.TotalParameters.Value);
        Assert.Equal(8_537_680_896L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Gemma_2B_HeadDim256With8HeadsOfHidden2048()
    {
        // Given the shared sample of google/gemma-2b (hidden 2048, 8 heads, 1 KV head, head_dim 256)
        var (spec, inv) = Read(System.IO.File.ReadAllText(Path.Combine(TestPaths.SpecsDir, "configs", "gemma-2b.json")));

        // Then k_proj is [1*256, 2048] and there is no lm_head (tied)
        Assert.Equal([256L, 2048L], Shape(inv, "model.layers.0.self_attn.k_proj.weight"));
        Assert.Equal([2048L, 2048L], Shape(inv, "model.layers.0.self_attn.q_proj.weight"));
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.Equal(1, spec.KvHeads);
    }

    [Fact]
    public void Gemma2_2B_SandwichNormsAndAlternatingWindows()
    {
        // Given google/gemma-2-2b
        var (spec, inv) = Read("""
            {"architectures":["Gemma2ForCausalLM"],"model_type":"gemma2","head_dim":256,"hidden_size":2304,
             "intermediate_size":9216,"num_attention_heads":8,"num_hidden_layers":26,"num_key_value_heads":4,
             "sliding_window":4096,"vocab_size":256000}
            """);

        // Then 2,614,341,888 (keras-hub gemma_presets.py gemma2_2b_en). By hand: embed 589,824,000; per layer
        // q 2048*2304, k,v 1024*2304, o 2304*2048 = 14,155,776, mlp 63,700,992, four norms 9,216 -> 77,865,984 x 26.
        Assert.Equal(589_824_000L + (77_865_984L * 26) + 2304, inv.TotalParameters.Value);
        Assert.Equal(2_614_341_888L, inv.TotalParameters.Value);
        Assert.True(Has(inv, "model.layers.25.pre_feedforward_layernorm.weight"));
        Assert.Equal(AttentionLayerKind.Sliding, spec.LayerKind(0));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(1));
        Assert.Equal(4096, spec.SlidingWindow);
    }

    [Fact]
    public void Gemma3Text_1B_FiveLocalToOneGlobal()
    {
        // Given google/gemma-3-1b-pt (gemma3_text)
        var (spec, inv) = Read("""
            {"architectures":["Gemma3ForCausalLM"],"model_type":"gemma3_text","head_dim":256,"hidden_size":1152,
             "intermediate_size":6912,"num_attention_heads":4,"num_hidden_layers":26,"num_key_value_heads":1,
             "sliding_window":512,"sliding_window_pattern":6,"vocab_size":262144}
            """);

        // Then 999,885,952 (keras-hub gemma3_presets.py gemma3_1b). By hand: embed 262144*1152 = 301,989,888; per layer
        // q 1024*1152, k,v 256*1152, o 1152*1024 = 2,949,120, q/k norms 512, mlp 23,887,872, norms 4,608 -> 26,842,112 x 26.
        Assert.Equal(301_989_888L + (26_842_112L * 26) + 1152, inv.TotalParameters.Value);
        Assert.Equal(999_885_952L, inv.TotalParameters.Value);
        Assert.Equal([5, 11, 17, 23], Enumerable.Range(0, 26).Where(i => spec.LayerKind(i) == AttentionLayerKind.Full));
        Assert.Equal(512, spec.SlidingWindow);
    }

    [Fact]
    public void Gemma3_Multimodal_CountsWholeModelByComponent()
    {
        // Given google/gemma-3-4b-it's config: text_config gives only what differs from Gemma3TextConfig's defaults
        var (spec, inv) = Read("""
            {"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","mm_tokens_per_image":256,
             "text_config":{"hidden_size":2560,"intermediate_size":10240,"model_type":"gemma3_text","num_hidden_layers":34,
                            "rope_scaling":{"factor":8.0,"rope_type":"linear"},"sliding_window":1024},
             "torch_dtype":"bfloat16","vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,
             "model_type":"siglip_vision_model","num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,"vision_use_head":false}}
            """);
        var components = inv.ByComponent();

        // Then the language model: heads 8, KV 4, head_dim 256 and vocab 262,208 come from the defaults. By hand: embed
        // 262208*2560 = 671,252,480; per layer q 2048*2560, k,v 1024*2560, o 2560*2048 = 15,728,640, q/k norms 512, mlp
        // 78,643,200, norms 10,240 -> 94,382,592 x 34 = 3,209,008,128; final norm 2,560 -> 3,880,263,168. Cross-check:
        // keras-hub's gemma3_4b_text preset (3,880,099,328) stores 262,144 embedding rows: + 64*2560 = 3,880,263,168.
        Assert.Equal(3_880_099_328L + (64L * 2560), components[ModelComponent.LanguageModel].Value);
        Assert.Equal(671_252_480L + 3_209_008_128L + 2560, components[ModelComponent.LanguageModel].Value);

        // And the SigLIP tower by hand: patch conv 1152*3*14*14 + 1152 = 678,528; positions (896/14)^2 = 4096 rows x 1152 =
        // 4,718,592; per layer q,k,v,o 4*(1152^2 + 1152) = 5,313,024, fc1+fc2 2*1152*4304 + 4304 + 1152 = 9,921,872,
        // two LayerNorms 4,608 -> 15,239,504 x 27 = 411,466,608; post_layernorm 2,304 -> 416,866,032.
        Assert.Equal(678_528L + 4_718_592L + 411_466_608L + 2304L, components[ModelComponent.VisionTower].Value);

        // And the projector: mm_input_projection_weight 1152 x 2560 = 2,949,120 plus mm_soft_emb_norm 1152.
        Assert.Equal(2_949_120L + 1152L, components[ModelComponent.Projector].Value);
        Assert.Equal(0L, components[ModelComponent.AudioEncoder].Value);

        // And the whole model is keras-hub's medgemma_4b "params": 4300079472 (Gemma 3 4B shapes, 262,208 rows)
        Assert.Equal(4_300_079_472L, inv.TotalParameters.Value);
        Assert.Equal(inv.TotalParameters, ParameterReport.From(inv).Components.Values.Aggregate(ParameterCount.Zero, (x, y) => x + y));
        Assert.Equal("gemma3", spec.Family);
        Assert.Equal("bfloat16", spec.TorchDtype);
        Assert.Equal(4096L, spec.Vision!.Patches);
        Assert.Equal(256, spec.Vision.TokensPerImage);
        Assert.True(Has(inv, "language_model.model.layers.33.self_attn.q_norm.weight"));
        Assert.Equal([1152L, 3L, 14L, 14L], Shape(inv, "vision_tower.vision_model.embeddings.patch_embedding.weight"));
        Assert.Equal([1152L, 2560L], Shape(inv, "multi_modal_projector.mm_input_projection_weight"));
        Assert.Equal(1024, spec.SlidingWindow);
    }

    [Fact]
    public void Gemma3_VisionUseHead_ThrowsNamingField()
    {
        // Given a SigLIP tower with its attention-pooling head, which Gemma 3 never has
        var json = """{"model_type":"gemma3","vision_config":{"vision_use_head":true}}""";

        // When it is read, then the error names the field
        var e = Assert.Throws<ModelConfigException>(() => Read(json));
        Assert.Contains("vision_config.vision_use_head", e.Message);
    }

    [Fact]
    public void ComponentOf_CheckpointNames_FollowsModulePaths()
    {
        // Given the submodule names of transformers' multimodal classes, when classified, then each lands in its component
        Assert.Equal(ModelComponent.VisionTower, ModelComponents.FromTensorName("vision_tower.vision_model.post_layernorm.weight"));
        Assert.Equal(ModelComponent.VisionTower, ModelComponents.FromTensorName("model.vision_tower.vision_model.post_layernorm.weight"));
        Assert.Equal(ModelComponent.VisionTower, ModelComponents.FromTensorName("visual.blocks.0.attn.qkv.weight"));
        Assert.Equal(ModelComponent.Projector, ModelComponents.FromTensorName("visual.merger.mlp.0.weight"));
        Assert.Equal(ModelComponent.Projector, ModelComponents.FromTensorName("multi_modal_projector.linear_1.weight"));
        Assert.Equal(ModelComponent.LanguageModel, ModelComponents.FromTensorName("language_model.model.embed_tokens.weight"));
        Assert.Equal(ModelComponent.LanguageModel, ModelComponents.FromTensorName("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal("vision_tower", ModelComponents.Name(ModelComponent.VisionTower));
    }

    [Fact]
    public void Mixtral_ActiveParameters_TwoOfEightExperts()
    {
        // Given mistralai/Mixtral-8x7B-v0.1 (46,702,792,704 total)
        var (_, inv) = ReadSpecConfig("mixtral-8x7b.json");

        // Then active = total - 6/8 of the routed experts: 32 layers x 8 experts x 3 x 14336 x 4096 = 45,097,156,608
        // routed, 33,822,867,456 of them idle -> 12,879,925,248 (the "12.9B active" of the model card).
        Assert.Equal(46_702_792_704L - 33_822_867_456L, inv.ActiveParameters.Value);
        Assert.Equal([14336L, 4096L], Shape(inv, "model.layers.31.block_sparse_moe.experts.7.w3.weight"));
    }

    [Fact]
    public void GptOss_SinksRouterBiasAndLayerTypes()
    {
        var (spec, inv) = ReadSpecConfig("gpt-oss-20b.json");

        // Then each layer has 64 sinks, a biased router and fused expert tensors [E, in, out]
        Assert.Equal([64L], Shape(inv, "model.layers.0.self_attn.sinks"));
        Assert.Equal([32L], Shape(inv, "model.layers.0.mlp.router.bias"));
        Assert.Equal([32L, 2880L, 5760L], Shape(inv, "model.layers.0.mlp.experts.gate_up_proj"));
        Assert.Equal(AttentionLayerKind.Sliding, spec.LayerKind(22));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(23));
        Assert.Equal(128, spec.SlidingWindow);
        Assert.Equal(4, spec.Moe!.ActiveExperts);
    }

    [Fact]
    public void Olmo2_FullWidthQkNormAndPostNormsOnly()
    {
        // Given a tiny OLMo-2: hidden 16, 4 heads, 2 KV heads, 1 layer, vocab 10, intermediate 8
        var (_, inv) = Read(Tiny("olmo2", 8, ""));

        // Then q 256 + k 128 + v 128 + o 256 = 768, q_norm [16] + k_norm [8], mlp 3*8*16 = 384,
        // post-attention and post-feed-forward norms 32, embed 160, lm_head 160, final norm 16 -> 1,544.
        Assert.Equal([16L], Shape(inv, "model.layers.0.self_attn.q_norm.weight"));
        Assert.Equal([8L], Shape(inv, "model.layers.0.self_attn.k_norm.weight"));
        Assert.False(Has(inv, "model.layers.0.input_layernorm.weight"));
        Assert.Equal(1_544L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Cohere_PerHeadQkNormTiedSingleNorm()
    {
        var (spec, inv) = Read(Tiny("cohere", 8, ",\"use_qk_norm\":true"));

        // Then attention 768, q_norm [4,4] 16 + k_norm [2,4] 8, mlp 384, one bias-free LayerNorm 16, embed 160 (tied by
        // CohereConfig default), final norm 16 -> 1,368.
        Assert.Equal([4L, 4L], Shape(inv, "model.layers.0.self_attn.q_norm.weight"));
        Assert.Equal([2L, 4L], Shape(inv, "model.layers.0.self_attn.k_norm.weight"));
        Assert.True(spec.TiedEmbeddings);
        Assert.False(Has(inv, "model.norm.bias"));
        Assert.Equal(1_368L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Starcoder2_BiasesEverywhereByDefault()
    {
        var (_, inv) = Read(Tiny("starcoder2", 32, ""));

        // Then q 256+16, k 128+8, v 128+8, o 256+16 = 816; c_fc 32*16+32 = 544; c_proj 16*32+16 = 528;
        // two LayerNorms with bias 64; embed 160 (tied by default); final LayerNorm 32 -> 2,144.
        Assert.Equal([32L], Shape(inv, "model.layers.0.mlp.c_fc.bias"));
        Assert.True(Has(inv, "model.norm.bias"));
        Assert.Equal(2_144L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Phi3_PartialRotary_AddsNoParameters()
    {
        const string Json = """
            {"model_type":"phi3","hidden_size":16,"num_attention_heads":4,"num_hidden_layers":1,"vocab_size":10,
             "intermediate_size":8 PARTIAL}
            """;
        var (_, full) = Read(Json.Replace(" PARTIAL", "", StringComparison.Ordinal));
        var (_, partial) = Read(Json.Replace(" PARTIAL", ",\"partial_rotary_factor\":0.75", StringComparison.Ordinal));

        // Then fused qkv_proj [48, 16] = 768, o 256, gate_up [16, 16] = 256, down 128, norms 32, embed 160,
        // lm_head 160, final norm 16 -> 1,776 either way.
        Assert.Equal([48L, 16L], Shape(full, "model.layers.0.self_attn.qkv_proj.weight"));
        Assert.Equal(1_776L, full.TotalParameters.Value);
        Assert.Equal(full.TotalParameters, partial.TotalParameters);
    }

    [Fact]
    public void Llama_HeadFollowsArchitectures()
    {
        const string Json = """
            {"architectures":["CLASS"],"model_type":"llama","hidden_size":16,"num_attention_heads":4,"num_hidden_layers":1,
             "vocab_size":10,"intermediate_size":8,"id2label":{"0":"a","1":"b","2":"c"}}
            """;

        // A bare LlamaModel is saved without the "model." prefix and has no head
        var (_, bare) = Read(Json.Replace("CLASS", "LlamaModel", StringComparison.Ordinal));
        Assert.True(Has(bare, "layers.0.self_attn.q_proj.weight"));
        Assert.False(bare.Tensors.Any(t => t.Group == TensorGroup.LmHead));

        // A sequence classifier has score [labels, hidden] without bias
        var (_, cls) = Read(Json.Replace("CLASS", "LlamaForSequenceClassification", StringComparison.Ordinal));
        Assert.Equal([3L, 16L], Shape(cls, "score.weight"));
        Assert.False(Has(cls, "lm_head.weight"));

        // An unknown head is an error naming architectures[0]
        var ex = Assert.Throws<ModelConfigException>(() => Read(Json.Replace("CLASS", "LlamaForPony", StringComparison.Ordinal)));
        Assert.Contains("architectures[0]", ex.Message);
    }

    [Fact]
    public void Qwen2_UseSlidingWindow_SlidesFromMaxWindowLayers()
    {
        var (spec, _) = Read("""
            {"model_type":"qwen2","hidden_size":16,"num_attention_heads":4,"num_hidden_layers":3,"vocab_size":10,
             "intermediate_size":8,"use_sliding_window":true,"sliding_window":64,"max_window_layers":1}
            """);
        Assert.Equal([AttentionLayerKind.Full, AttentionLayerKind.Sliding, AttentionLayerKind.Sliding], spec.LayerKinds.ToArray());
        Assert.Equal(64, spec.SlidingWindow);
    }

    [Fact]
    public void Mistral_SlidingWindowNull_AllLayersFull()
    {
        var (spec, _) = Read("""
            {"model_type":"mistral","hidden_size":16,"num_attention_heads":4,"num_hidden_layers":2,"vocab_size":10,
             "intermediate_size":8,"num_key_value_heads":2,"sliding_window":null}
            """);
        Assert.Null(spec.SlidingWindow);
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(1));
    }

    [Theory]
    [InlineData("""{"model_type":"mistral","hidden_size":100,"num_attention_heads":7}""", "num_attention_heads")]
    [InlineData("""{"model_type":"qwen3_moe","num_attention_heads":32,"num_key_value_heads":5}""", "num_key_value_heads")]
    [InlineData("""{"model_type":"mixtral","num_local_experts":2,"num_experts_per_tok":3}""", "num_experts_per_tok")]
    [InlineData("""{"model_type":"gpt_oss","num_hidden_layers":2,"layer_types":["full_attention"]}""", "layer_types")]
    [InlineData("""{"model_type":"gemma2","num_hidden_layers":1,"layer_types":["local"]}""", "layer_types[0]")]
    [InlineData("""{"model_type":"deepseek_v2","n_routed_experts":4}""", "num_experts_per_tok")]
    [InlineData("""{"model_type":"gemma3","text_config":{"hidden_size":-1}}""", "text_config.hidden_size")]
    [InlineData("""{"model_type":"qwen2","hidden_size":"big"}""", "hidden_size")]
    public void Read_InvalidField_ThrowsOneLineNamingFileAndField(string json, string field)
    {
        var ex = Assert.Throws<ModelConfigException>(() => Read(json));
        Assert.StartsWith($"{File}: {field}: ", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Read_UnknownModelType_ListsSupportedFamilies()
    {
        var ex = Assert.Throws<UnsupportedArchitectureException>(() => Read("""{"model_type":"pony"}"""));
        Assert.Contains(File, ex.Message);
        foreach (var type in new[] { "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
                     "gemma3", "gemma3_text", "phi3", "phimoe", "olmo2", "starcoder2", "cohere", "cohere2", "deepseek_v2", "deepseek_v3", "gpt_oss" })
        {
            Assert.Contains(type, ex.Message);
        }
    }

    [Fact]
    public void CommonFields_RealConfigs_FeedTheMemoryEstimatorTruthfully()
    {
        // Mistral-7B-v0.1: sliding_window 4096 on every layer
        var (mistral, _) = ReadSpecConfig("mistral-7b-v0.1.json");
        Assert.All(Enumerable.Range(0, 32), i => Assert.Equal(AttentionLayerKind.Sliding, mistral.LayerKind(i)));
        Assert.Equal((4096, 8, 128), (mistral.SlidingWindow!.Value, mistral.KvHeads, mistral.HeadDim));

        // Qwen1.5-MoE: sliding_window is set but use_sliding_window is false, so every layer is full
        var (qwenMoe, _) = ReadSpecConfig("qwen1.5-moe-a2.7b.json");
        Assert.Null(qwenMoe.SlidingWindow);
        Assert.Equal(AttentionLayerKind.Full, qwenMoe.LayerKind(0));
        Assert.Equal((60, 4, 1408, 5632, true), (qwenMoe.Moe!.Experts, qwenMoe.Moe.ActiveExperts, qwenMoe.Moe.ExpertIntermediate,
            qwenMoe.Moe.SharedIntermediate, qwenMoe.Moe.SharedExpertGate));

        // DeepSeek-V2-Lite: MLA caches kv_lora_rank 512 + qk_rope_head_dim 64; q_lora_rank null; layer 0 dense
        var (lite, _) = ReadSpecConfig("deepseek-v2-lite.json");
        Assert.Equal((512, 64, (int?)null), (lite.Mla!.KvLoraRank, lite.Mla.QkRopeHeadDim, lite.Mla.QLoraRank));
        Assert.Equal((192, 128, 163840), (lite.HeadDim, lite.VHeadDim, lite.MaxPositions!.Value));
        Assert.False(lite.Moe!.MoeLayers[0]);
        Assert.True(lite.Moe.MoeLayers[26]);
        Assert.Equal((2, 2816), (lite.Moe.SharedExperts, lite.Moe.SharedIntermediate));

        // gpt-oss-20b: layer_types gives 12 sliding (window 128) and 12 full layers
        var (oss, _) = ReadSpecConfig("gpt-oss-20b.json");
        Assert.Equal(12, oss.LayerKinds.Count(k => k == AttentionLayerKind.Sliding));
        Assert.Equal("bfloat16", ReadSpecConfig("llama-3.1-8b.json").Spec.TorchDtype);
    }

}

/// <summary>Hostile sizes: every integer field of every spec-table config pushed to extremes gives either a count or a
/// one-line <see cref="LlmSizerException"/>, never a raw .NET exception or an unbounded allocation.</summary>
public class DecoderFamilyHostileTests
{
    public static TheoryData<string> Configs()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.SpecsDir, "configs"), "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void Read_EachIntegerFieldAtExtremes_CountOrOneLineError(string name)
    {
        var path = Path.Combine(TestPaths.SpecsDir, "configs", name);
        var root = System.Text.Json.Nodes.JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        var keys = root.Where(p => p.Value is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<long>(out _)).Select(p => p.Key).ToList();
        foreach (var key in keys)
        {
            foreach (var value in new long[] { 0, 1, int.MaxValue, long.MaxValue })
            {
                var copy = System.Text.Json.Nodes.JsonNode.Parse(root.ToJsonString())!.AsObject();

                // Four layers keep each generation small (DeepSeek's first three stay dense).
                if (copy.ContainsKey("num_hidden_layers"))
                {
                    copy["num_hidden_layers"] = 4;
                    copy.Remove("layer_types");
                }

                copy[key] = value;
                try
                {
                    var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(copy.ToJsonString(), "x/config.json"));
                    var inventory = family.Generate(spec);
                    Assert.True(inventory.TotalParameters.Value > 0);
                    Assert.True(inventory.ActiveParameters.Value > 0);
                }
                catch (LlmSizerException ex)
                {
                    Assert.StartsWith("x/config.json: ", ex.Message);
                    Assert.DoesNotContain('\n', ex.Message);
                }
            }
        }
    }
}
