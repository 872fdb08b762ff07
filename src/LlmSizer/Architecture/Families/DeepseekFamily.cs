namespace LlmSizer.Architecture.Families;

/// <summary>DeepSeek-V2, V3 and V3.2 (<c>DeepseekV2ForCausalLM</c>, <c>DeepseekV3ForCausalLM</c>, <c>DeepseekV32ForCausalLM</c>): multi-head latent attention
/// (with a low-rank query path when <c>q_lora_rank</c> is set, a direct <c>q_proj</c> when it is null), the first
/// <c>first_k_dense_replace</c> layers dense, then routed plus shared experts on every <c>moe_layer_freq</c>-th layer.</summary>
/// <remarks>Defaults for deepseek_v2 are those of transformers' <c>DeepseekV2Config</c>: vocab 32000, hidden 4096,
/// intermediate 11008, 32 layers, 32 heads, 2048 positions, untied, <c>first_k_dense_replace</c> 0,
/// <c>kv_lora_rank</c> 512, <c>q_lora_rank</c> 1536, <c>n_routed_experts</c> 64, <c>n_shared_experts</c> 2,
/// <c>moe_intermediate_size</c> 1407, <c>qk_nope_head_dim</c> 128, <c>qk_rope_head_dim</c> 64, <c>v_head_dim</c> 128,
/// <c>topk_method</c> "greedy" (no top-k default: MoE configs must give <c>num_experts_per_tok</c>).
/// For deepseek_v3, <c>DeepseekV3Config</c>: vocab 129280, hidden 7168, intermediate 18432, <c>moe_intermediate_size</c>
/// 2048, 61 layers, 128 heads, 4096 positions, <c>n_shared_experts</c> 1, <c>n_routed_experts</c> 256,
/// <c>num_experts_per_tok</c> 8, <c>first_k_dense_replace</c> 3, the same MLA ranks; its router always holds
/// <c>e_score_correction_bias</c>, which transformers registers as a buffer: it is generated as one, not counted. <c>moe_layer_freq</c> (1) comes from DeepSeek's own modeling code.
/// The multi-token-prediction layers (<c>num_nextn_predict_layers</c>) that V3 checkpoints append after the last layer
/// are not part of <c>DeepseekV3ForCausalLM</c> (transformers skips them on load) and are not counted.
/// deepseek_v32 (<c>DeepseekV32Config</c>) has V3's defaults and adds DeepSeek Sparse Attention's lightning indexer to every
/// attention layer (<c>self_attn.indexer.wq_b</c> [index_n_heads × index_head_dim, q_lora_rank], <c>wk</c>
/// [index_head_dim, hidden], the LayerNorm <c>k_norm</c> [index_head_dim] with bias, <c>weights_proj</c>
/// [index_n_heads, hidden]); defaults <c>index_n_heads</c> 64, <c>index_head_dim</c> 128, <c>index_topk</c> 2048.</remarks>
internal sealed class DeepseekFamily() : DecoderFamily("DeepSeek", "deepseek_v2", "deepseek_v3", "deepseek_v32")
{
    // Ranks and head widths beyond this are not real models; bounding them keeps every sum inside int.
    private const int MaxRank = 1 << 20;

    private static readonly DecoderDefaults V2 = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, HeadDim = 192, MaxPositions = 2048, Tied = false,
    };

    private static readonly DecoderDefaults V3 = new()
    {
        Vocab = 129280, Hidden = 7168, Intermediate = 18432, Layers = 61, Heads = 128, HeadDim = 192, MaxPositions = 4096, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var modelType = config.String("model_type");
        var v32 = string.Equals(modelType, "deepseek_v32", StringComparison.OrdinalIgnoreCase);
        var v3 = v32 || string.Equals(modelType, "deepseek_v3", StringComparison.OrdinalIgnoreCase);
        var layout = DecoderConfig.AttentionBias(config) with
        {
            Experts = MoeLayout.DeepSeek,
            RouterCorrectionBias = v3 || string.Equals(config.String("topk_method"), "noaux_tc", StringComparison.Ordinal),
            Note = v3 && config.NonNegativeIntOr("num_nextn_predict_layers", 0) > 0
                ? "the multi-token-prediction layer(s) (num_nextn_predict_layers) stored after the last layer are not counted"
                : null,
        };
        var spec = DecoderConfig.Read(config, v32 ? "deepseek_v32" : v3 ? "deepseek_v3" : "deepseek_v2", v3 ? V3 : V2, layout);
        var mla = new MlaSpec
        {
            QLoraRank = DecoderConfig.OptionalIntWithDefault(config, "q_lora_rank", 1536),
            KvLoraRank = DecoderConfig.IntAtMost(config, "kv_lora_rank", 512, MaxRank),
            QkNopeHeadDim = DecoderConfig.IntAtMost(config, "qk_nope_head_dim", 128, MaxRank),
            QkRopeHeadDim = DecoderConfig.IntAtMost(config, "qk_rope_head_dim", 64, MaxRank),
            VHeadDim = DecoderConfig.IntAtMost(config, "v_head_dim", 128, MaxRank),
            Indexer = v32 ? Indexer(config) : null,
        };
        spec = spec with { Mla = mla, HeadDim = mla.QkNopeHeadDim + mla.QkRopeHeadDim, ValueHeadDim = mla.VHeadDim };
        var experts = DecoderConfig.OptionalIntWithDefault(config, "n_routed_experts", v3 ? 256 : 64);
        if (experts is not int e)
        {
            return spec;
        }

        var firstDense = config.NonNegativeIntOr("first_k_dense_replace", v3 ? 3 : 0);
        var freq = config.IntOr("moe_layer_freq", 1);
        var expertIntermediate = config.IntOr("moe_intermediate_size", v3 ? 2048 : 1407);
        // DeepseekV2Moe / DeepseekV3MoE: `if config.n_shared_experts is not None` builds shared_experts, so an explicit null
        // means none (not the class default).
        var shared = config.Element.TryGetProperty("n_shared_experts", out var sharedValue) && sharedValue.ValueKind == System.Text.Json.JsonValueKind.Null
            ? 0 : config.NonNegativeIntOr("n_shared_experts", v3 ? 1 : 2);
        var moe = new MoeSpec
        {
            Experts = e,
            ActiveExperts = v3 ? config.IntOr("num_experts_per_tok", 8) : config.Int("num_experts_per_tok"),
            ExpertIntermediate = expertIntermediate,
            SharedExperts = shared,
            SharedIntermediate = SharedWidth(config, shared, expertIntermediate),
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, i => i >= firstDense && i % freq == 0),
        };
        DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        return spec with { Moe = moe };
    }

    // DeepseekV32Config: index_n_heads 64, index_head_dim 128, index_topk 2048. The indexer's query reads the MLA query
    // latent, so a V3.2 config without q_lora_rank has no indexer input.
    private static SparseIndexerSpec Indexer(ConfigObject config)
    {
        if (DecoderConfig.OptionalIntWithDefault(config, "q_lora_rank", 1536) is null)
        {
            throw config.Error("q_lora_rank", "expected a positive integer: the DeepSeek-V3.2 indexer's wq_b reads the query latent; found null");
        }

        return new SparseIndexerSpec
        {
            Heads = DecoderConfig.IntAtMost(config, "index_n_heads", 64, MaxRank),
            HeadDim = DecoderConfig.IntAtMost(config, "index_head_dim", 128, MaxRank),
            TopK = config.IntOr("index_topk", 2048),
        };
    }

    // The shared experts run as one MLP of n_shared_experts × moe_intermediate_size.
    private static int SharedWidth(ConfigObject config, int shared, int expertIntermediate)
    {
        long width = (long)shared * expertIntermediate;
        return width <= int.MaxValue ? (int)width
            : throw config.Error("n_shared_experts", $"expected n_shared_experts × moe_intermediate_size to fit in 2^31; found {width}");
    }
}
