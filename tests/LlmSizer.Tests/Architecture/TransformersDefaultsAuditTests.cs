using LlmSizer.Architecture;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Checks of the decoder families against the transformers config classes and modeling files, each naming the
/// source line it follows; expected values are hand calculations written out beside them.</summary>
public class TransformersDefaultsAuditTests
{
    private const string File = "fixture/config.json";

    private static (ArchitectureSpec Spec, TensorInventory Inventory) Read(string json)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, File));
        return (spec, family.Generate(spec));
    }

    [Fact]
    public void Mistral_NullKvHeads_TakesQueryHeadsNotClassDefault()
    {
        // MistralConfig.__init__: `if num_key_value_heads is None: num_key_value_heads = num_attention_heads` — an explicit
        // null gives the query heads (4), not the keyword default 8.
        var (spec, inv) = Read("""
            {"model_type":"mistral","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":null,"num_hidden_layers":1,
             "vocab_size":10,"intermediate_size":32,"sliding_window":null}
            """);

        // By hand: embed 10*16 = 160; q, k, v, o 16*16 = 256 each -> 1,024; mlp 3*32*16 = 1,536; norms 2*16 = 32;
        // final norm 16; lm_head 160 -> 2,928.
        Assert.Equal(4, spec.KvHeads);
        Assert.Equal([16L, 16L], Shape(inv, "model.layers.0.self_attn.k_proj.weight"));
        Assert.Equal(2_928L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Mistral_KvHeadsAbsent_TakesClassDefaultEight()
    {
        // MistralConfig.__init__ keyword default num_key_value_heads=8; head_dim None -> hidden_size // num_attention_heads.
        var (spec, _) = Read("""{"model_type":"mistral","hidden_size":256,"num_attention_heads":32,"num_hidden_layers":1,"vocab_size":10,"intermediate_size":32}""");
        Assert.Equal((8, 8), (spec.KvHeads, spec.HeadDim));
    }

    [Fact]
    public void GptOss_NullHeadDim_DerivesFromHiddenAndHeads()
    {
        // GptOssConfig.__post_init__: `head_dim if head_dim is not None else hidden_size // num_attention_heads`; the
        // field default 64 applies only when the key is absent.
        var (nullDim, _) = Read("""{"model_type":"gpt_oss","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":null,"num_hidden_layers":2,"vocab_size":10,"intermediate_size":8,"num_local_experts":4,"num_experts_per_tok":2}""");
        var (absent, _) = Read("""{"model_type":"gpt_oss","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":2,"vocab_size":10,"intermediate_size":8,"num_local_experts":4,"num_experts_per_tok":2}""");
        Assert.Equal(16 / 4, nullDim.HeadDim);
        Assert.Equal(64, absent.HeadDim);
    }

    [Fact]
    public void Qwen2Moe_QkvBiasFalse_DropsQkvBiases()
    {
        // Qwen2MoeConfig field `qkv_bias: bool = True`; Qwen2MoeAttention builds q/k/v with bias=config.qkv_bias and o_proj
        // without a bias.
        var json = """{"model_type":"qwen2_moe","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":1,"vocab_size":10,"intermediate_size":32,"num_experts":4,"num_experts_per_tok":2,"moe_intermediate_size":8,"shared_expert_intermediate_size":12QKV}""";
        var (_, withBias) = Read(json.Replace("QKV", "", StringComparison.Ordinal));
        var (_, noBias) = Read(json.Replace("QKV", ",\"qkv_bias\":false", StringComparison.Ordinal));

        // By hand: q bias 16 + k bias 8 + v bias 8 = 32 parameters apart.
        Assert.True(Has(withBias, "model.layers.0.self_attn.q_proj.bias"));
        Assert.False(Has(noBias, "model.layers.0.self_attn.k_proj.bias"));
        Assert.Equal(32L, withBias.TotalParameters.Value - noBias.TotalParameters.Value);
    }

    [Fact]
    public void Cohere2_Tiny_ParallelBlockTiedSlidingThreeToOne()
    {
        // Cohere2Config: tie_word_embeddings True, head_dim = hidden_size // num_attention_heads (the head_dim key is
        // overwritten in __post_init__), layer i slides when (i + 1) % sliding_window_pattern (4); Cohere2DecoderLayer
        // holds one input_layernorm (Cohere2LayerNorm, weight only); no QK-norm.
        var (spec, inv) = Read("""
            {"architectures":["Cohere2ForCausalLM"],"model_type":"cohere2","hidden_size":16,"num_attention_heads":4,
             "num_key_value_heads":2,"head_dim":8,"num_hidden_layers":4,"vocab_size":10,"intermediate_size":32}
            """);

        // By hand: embed 160 (tied, no lm_head); per layer q 16*16 = 256, k and v 8*16 = 128 each, o 256 -> 768;
        // mlp 3*32*16 = 1,536; one norm 16 -> 2,320 x 4 = 9,280; final norm 16 -> 9,456.
        Assert.Equal(4, spec.HeadDim);
        Assert.Equal(
            [AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Full],
            Enumerable.Range(0, 4).Select(spec.LayerKind));
        Assert.Equal(4096, spec.SlidingWindow);
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.False(Has(inv, "model.layers.0.post_attention_layernorm.weight"));
        Assert.False(Has(inv, "model.layers.0.self_attn.q_norm.weight"));
        Assert.False(Has(inv, "model.norm.bias"));
        Assert.Equal(9_456L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Phimoe_Phi35MoeInstruct_LayerNormBiasesAndLmHeadBias()
    {
        // Given microsoft/Phi-3.5-MoE-instruct's config (the keys that matter)
        var (spec, inv) = Read("""
            {"architectures":["PhimoeForCausalLM"],"model_type":"phimoe","hidden_size":4096,"intermediate_size":6400,
             "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":32064,
             "num_local_experts":16,"num_experts_per_tok":2,"attention_bias":true,"lm_head_bias":true,
             "tie_word_embeddings":false,"sliding_window":131072,"max_position_embeddings":131072}
            """);

        // modeling_phimoe.py: norms are nn.LayerNorm(hidden, elementwise_affine=True) (weight and bias), q/k/v/o take
        // bias=config.attention_bias, lm_head bias=config.lm_head_bias, experts are Mixtral's block_sparse_moe w1/w2/w3.
        // By hand: embed 32064*4096 = 131,334,144; per layer q 4096*4096 + 4096 = 16,781,312, k and v 1024*4096 + 1024
        // = 4,195,328 each, o 16,781,312 -> 41,953,280; router 16*4096 = 65,536; experts 16*3*6400*4096 = 1,258,291,200;
        // norms 2*(4096 + 4096) = 16,384 -> 1,300,326,400 x 32 = 41,610,444,800; final norm 8,192; lm_head 131,334,144
        // + 32,064 = 131,366,208. Total 41,873,153,344 (model card: 41.9B). Active: 14 of 16 experts idle ->
        // 14*3*6400*4096*32 = 35,232,153,600 fewer -> 6,640,999,744 (model card: 6.6B active).
        Assert.Equal(8, spec.KvHeads);
        Assert.Equal([32064L], Shape(inv, "lm_head.bias"));
        Assert.Equal([4096L], Shape(inv, "model.layers.0.input_layernorm.bias"));
        Assert.Equal([6400L, 4096L], Shape(inv, "model.layers.31.block_sparse_moe.experts.15.w1.weight"));
        Assert.Equal(41_873_153_344L, inv.TotalParameters.Value);
        Assert.Equal(6_640_999_744L, inv.ActiveParameters.Value);
    }

    [Fact]
    public void Phimoe_Defaults_FollowPhimoeConfig()
    {
        // PhimoeConfig.__init__: num_key_value_heads=8, num_local_experts=16, num_experts_per_tok=2, lm_head_bias=False,
        // attention_bias=False, tie_word_embeddings=False.
        var (spec, inv) = Read("""{"model_type":"phimoe","num_hidden_layers":1}""");
        Assert.Equal((8, 16, 2, 6400, 32064), (spec.KvHeads, spec.Moe!.Experts, spec.Moe.ActiveExperts, spec.Moe.ExpertIntermediate, spec.Vocab));
        Assert.False(Has(inv, "lm_head.bias"));
        Assert.False(Has(inv, "model.layers.0.self_attn.q_proj.bias"));
        Assert.True(Has(inv, "lm_head.weight"));
    }

    [Fact]
    public void DeepseekV3_NullSharedExperts_BuildsNoSharedExperts()
    {
        // DeepseekV3MoE (modeling_deepseek.py and transformers): shared_experts exists only
        // `if config.n_shared_experts is not None`; an explicit null is not the class default 1.
        var json = """
            {"architectures":["DeepseekV3ForCausalLM"],"model_type":"deepseek_v3","hidden_size":32,"num_hidden_layers":4,
             "num_attention_heads":2,"num_key_value_heads":2,"vocab_size":10,"intermediate_size":64,"moe_intermediate_size":8,
             "n_routed_experts":4,"n_shared_experts":SHARED,"num_experts_per_tok":2,"first_k_dense_replace":2,"q_lora_rank":16,
             "kv_lora_rank":8,"qk_nope_head_dim":4,"qk_rope_head_dim":2,"v_head_dim":4}
            """;
        var (_, one) = Read(json.Replace("SHARED", "1", StringComparison.Ordinal));
        var (_, none) = Read(json.Replace("SHARED", "null", StringComparison.Ordinal));

        // By hand: a shared expert of 1*8 is gate, up 8*32 and down 32*8 = 768 in each of the 2 MoE layers -> 1,536 apart.
        Assert.True(Has(one, "model.layers.2.mlp.shared_experts.up_proj.weight"));
        Assert.False(Has(none, "model.layers.2.mlp.shared_experts.up_proj.weight"));
        Assert.Equal(1_536L, one.TotalParameters.Value - none.TotalParameters.Value);
    }

    [Fact]
    public void Qwen3Moe_30BA3B_CountedByHand()
    {
        // Given Qwen/Qwen3-30B-A3B's config (head_dim 128 is explicit: hidden 2048 / 32 heads would give 64)
        var (spec, inv) = Read("""
            {"architectures":["Qwen3MoeForCausalLM"],"model_type":"qwen3_moe","hidden_size":2048,"intermediate_size":6144,
             "num_hidden_layers":48,"num_attention_heads":32,"num_key_value_heads":4,"head_dim":128,"vocab_size":151936,
             "num_experts":128,"num_experts_per_tok":8,"moe_intermediate_size":768,"decoder_sparse_step":1,"mlp_only_layers":[],
             "tie_word_embeddings":false,"sliding_window":null,"use_sliding_window":false,"rope_scaling":null,"dtype":"bfloat16"}
            """);

        // Qwen3MoeSparseMoeBlock: gate [128, 2048] without bias, no shared expert; Qwen3MoeAttention: q_norm/k_norm [head_dim].
        // By hand: embed and lm_head 151936*2048 = 311,164,928 each; per layer q 4096*2048 = 8,388,608, k and v 512*2048
        // = 1,048,576 each, o 8,388,608 -> 18,874,368; qk-norms 256; router 262,144; experts 128*3*768*2048 = 603,979,776;
        // norms 4,096 -> 623,120,640 x 48 = 29,909,790,720; final norm 2,048. Total 30,532,122,624 (model card: 30.5B).
        // Active: 120 idle experts x 4,718,592 x 48 = 27,179,089,920 fewer -> 3,353,032,704 (model card: 3.3B activated).
        Assert.Equal(30_532_122_624L, inv.TotalParameters.Value);
        Assert.Equal(3_353_032_704L, inv.ActiveParameters.Value);
        Assert.Equal("bfloat16", spec.TorchDtype);
        Assert.False(Has(inv, "model.layers.0.mlp.shared_expert_gate.weight"));
    }

    [Fact]
    public void Qwen2Moe_DecoderSparseStep_EverySecondLayerSparse()
    {
        // Qwen2MoeDecoderLayer: sparse when `layer_idx not in mlp_only_layers and num_experts > 0 and
        // (layer_idx + 1) % decoder_sparse_step == 0` -> with step 2, layers 1 and 3 of 4.
        var (spec, inv) = Read("""{"model_type":"qwen2_moe","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":4,"vocab_size":10,"intermediate_size":32,"num_experts":4,"num_experts_per_tok":2,"moe_intermediate_size":8,"shared_expert_intermediate_size":12,"decoder_sparse_step":2}""");
        Assert.Equal([false, true, false, true], spec.Moe!.MoeLayers.ToArray());
        Assert.True(Has(inv, "model.layers.0.mlp.gate_proj.weight"));
        Assert.Equal([1L, 16L], Shape(inv, "model.layers.3.mlp.shared_expert_gate.weight"));
    }

    [Fact]
    public void Phi3_Phi4Mini_PartialRotaryAddsNothingAndTied()
    {
        // Given microsoft/Phi-4-mini-instruct's config: partial_rotary_factor 0.75 only shortens the rotary buffer
        var (spec, inv) = Read("""
            {"architectures":["Phi3ForCausalLM"],"model_type":"phi3","hidden_size":3072,"intermediate_size":8192,
             "num_hidden_layers":32,"num_attention_heads":24,"num_key_value_heads":8,"vocab_size":200064,
             "partial_rotary_factor":0.75,"tie_word_embeddings":true,"sliding_window":262144,"max_position_embeddings":131072,
             "rope_scaling":{"type":"longrope","short_factor":[1.0],"long_factor":[1.0]},"torch_dtype":"bfloat16"}
            """);

        // Phi3Attention: qkv_proj [(24 + 2*8) * 128, 3072] and o_proj without biases; Phi3MLP gate_up_proj [2*8192, 3072].
        // By hand: embed 200064*3072 = 614,596,608 (tied); per layer qkv 5120*3072 = 15,728,640, o 9,437,184,
        // gate_up 50,331,648, down 25,165,824, norms 6,144 -> 100,669,440 x 32 = 3,221,422,080; final norm 3,072.
        // Total 3,836,021,760 (model card: 3.8B).
        Assert.Equal(128, spec.HeadDim);
        Assert.Equal([5120L, 3072L], Shape(inv, "model.layers.0.self_attn.qkv_proj.weight"));
        Assert.Equal(3_836_021_760L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Olmo2_7B_QkNormFullWidthAndPostNorms()
    {
        // Given allenai/OLMo-2-1124-7B's config (num_key_value_heads 32)
        var (_, inv) = Read("""
            {"architectures":["Olmo2ForCausalLM"],"model_type":"olmo2","hidden_size":4096,"intermediate_size":11008,
             "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":32,"vocab_size":100352,
             "tie_word_embeddings":false,"attention_bias":false,"max_position_embeddings":4096}
            """);

        // Olmo2Attention: q_norm = Olmo2RMSNorm(num_heads * head_dim), k_norm = Olmo2RMSNorm(num_key_value_heads * head_dim);
        // Olmo2DecoderLayer holds post_attention_layernorm and post_feedforward_layernorm only.
        // By hand: embed and lm_head 100352*4096 = 411,041,792 each; per layer q, k, v, o 4*4096*4096 = 67,108,864,
        // qk-norms 8,192, mlp 3*11008*4096 = 135,266,304, norms 8,192 -> 202,391,552 x 32 = 6,476,529,664; final norm
        // 4,096. Total 7,298,617,344 (model card: 7.30B).
        Assert.False(Has(inv, "model.layers.0.input_layernorm.weight"));
        Assert.Equal([4096L], Shape(inv, "model.layers.0.self_attn.k_norm.weight"));
        Assert.Equal(7_298_617_344L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Starcoder2_7B_TiedByClassDefaultWithBiases()
    {
        // Given bigcode/starcoder2-7b's sizes, tie_word_embeddings omitted (Starcoder2Config field default True)
        var (_, inv) = Read("""
            {"architectures":["Starcoder2ForCausalLM"],"model_type":"starcoder2","hidden_size":4608,"intermediate_size":18432,
             "num_hidden_layers":32,"num_attention_heads":36,"num_key_value_heads":4,"vocab_size":49152,"use_bias":true,
             "sliding_window":4096,"max_position_embeddings":16384}
            """);

        // Starcoder2Attention/MLP: every Linear has bias=config.use_bias; norms are nn.LayerNorm (weight and bias).
        // By hand: q 4608*4608 + 4608 = 21,238,272, k and v 512*4608 + 512 = 2,359,808 each, o 21,238,272 -> 47,196,160;
        // c_fc 18432*4608 + 18432 = 84,953,088, c_proj 4608*18432 + 4608 = 84,939,264; norms 2*2*4608 = 18,432 ->
        // 217,106,944 x 32 = 6,947,422,208; embed 49152*4608 = 226,492,416 (tied); final norm 9,216.
        // Total 7,173,923,840 (model card: 7.17B).
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.Equal(7_173_923_840L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Cohere_CommandRV01_TiedSingleNormNoQkNorm()
    {
        // Given CohereForAI/c4ai-command-r-v01's sizes, tie_word_embeddings and use_qk_norm omitted
        // (CohereConfig defaults True and False)
        var (_, inv) = Read("""
            {"architectures":["CohereForCausalLM"],"model_type":"cohere","hidden_size":8192,"intermediate_size":22528,
             "num_hidden_layers":40,"num_attention_heads":64,"num_key_value_heads":64,"vocab_size":256000}
            """);

        // By hand: embed 256000*8192 = 2,097,152,000 (tied); per layer q, k, v, o 4*8192*8192 = 268,435,456, mlp
        // 3*22528*8192 = 553,648,128, one LayerNorm weight 8,192 -> 822,091,776 x 40 = 32,883,671,040; final norm 8,192.
        // Total 34,980,831,232 (model card: 35B).
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.Equal(34_980_831_232L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Cohere2_CommandR7B_CountedByHand()
    {
        // Given CohereForAI/c4ai-command-r7b-12-2024's sizes (tie_word_embeddings omitted: Cohere2Config default True)
        var (spec, inv) = Read("""
            {"architectures":["Cohere2ForCausalLM"],"model_type":"cohere2","hidden_size":4096,"intermediate_size":14336,
             "num_hidden_layers":32,"num_attention_heads":32,"num_key_value_heads":8,"vocab_size":256000,
             "sliding_window":4096,"sliding_window_pattern":4}
            """);

        // By hand: embed 256000*4096 = 1,048,576,000 (tied); per layer q 4096*4096 = 16,777,216, k and v 1024*4096
        // = 4,194,304 each, o 16,777,216 -> 41,943,040; mlp 3*14336*4096 = 176,160,768; one norm 4,096 -> 218,107,904
        // x 32 = 6,979,452,928; final norm 4,096. Total 8,028,033,024 (model card: 8.03B). Layer 3 is global.
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(3));
        Assert.Equal(AttentionLayerKind.Sliding, spec.LayerKind(4));
        Assert.Equal(8_028_033_024L, inv.TotalParameters.Value);
    }
}
