namespace LlmSizer.Architecture.Families;

/// <summary>GLM-4.5, GLM-4.5-Air and GLM-4.6 (<c>Glm4MoeForCausalLM</c>): grouped-query attention with biases on q, k and v
/// (<c>attention_bias</c>) but not on o, optional per-head QK RMSNorm (<c>use_qk_norm</c>), the first
/// <c>first_k_dense_replace</c> layers dense, then DeepSeek-V3-style MoE: a sigmoid router <c>mlp.gate</c> over
/// <c>n_routed_experts</c> experts plus <c>n_shared_experts</c> shared experts (<c>mlp.shared_experts</c>, one MLP of
/// n_shared_experts × moe_intermediate_size). Partial rotary embeddings (<c>partial_rotary_factor</c>) have no parameters.</summary>
/// <remarks>Defaults are those of transformers' <c>Glm4MoeConfig</c>: vocab 151552, hidden 4096, intermediate 10944,
/// 46 layers, 96 heads, 8 KV heads, <c>head_dim</c> 128, 131072 positions, untied, <c>attention_bias</c> false,
/// <c>use_qk_norm</c> false, <c>n_routed_experts</c> 128, <c>num_experts_per_tok</c> 8, <c>moe_intermediate_size</c> 1408,
/// <c>n_shared_experts</c> 1, <c>first_k_dense_replace</c> 1. The router's <c>e_score_correction_bias</c> is a registered
/// buffer (<c>Glm4MoeTopkRouter</c>), generated as one and not counted. The multi-token-prediction layer
/// (<c>num_nextn_predict_layers</c>, stored as layer <c>num_hidden_layers</c> with its own <c>embed_tokens</c>,
/// <c>shared_head.head</c>, <c>enorm</c>, <c>hnorm</c>, <c>eh_proj</c> and <c>shared_head.norm</c>) is not part of
/// <c>Glm4MoeForCausalLM</c> and is not counted, so a published safetensors total is larger by that layer and the buffers.</remarks>
internal sealed class Glm4MoeFamily() : DecoderFamily("GLM-4.5", "glm4_moe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151552, Hidden = 4096, Intermediate = 10944, Layers = 46, Heads = 96, KvHeads = 8, HeadDim = 128, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = new DecoderDetails
        {
            QkvBias = config.Bool("attention_bias", false),
            QkNorm = config.Bool("use_qk_norm", false) ? QkNormKind.PerHeadDim : QkNormKind.None,
            Experts = MoeLayout.DeepSeek,
            RouterCorrectionBias = true,
            Note = config.NonNegativeIntOr("num_nextn_predict_layers", 0) > 0
                ? "the multi-token-prediction layer(s) (num_nextn_predict_layers) stored after the last layer are not counted"
                : null,
        };
        var spec = DecoderConfig.Read(config, "glm4_moe", Defaults, layout);
        var firstDense = config.NonNegativeIntOr("first_k_dense_replace", 1);
        var expertIntermediate = config.IntOr("moe_intermediate_size", 1408);
        var shared = config.NonNegativeIntOr("n_shared_experts", 1);
        long sharedWidth = (long)shared * expertIntermediate;
        var moe = new MoeSpec
        {
            Experts = config.IntOr("n_routed_experts", 128),
            ActiveExperts = config.IntOr("num_experts_per_tok", 8),
            ExpertIntermediate = expertIntermediate,
            SharedExperts = shared,
            SharedIntermediate = sharedWidth <= int.MaxValue ? (int)sharedWidth
                : throw config.Error("n_shared_experts", $"expected n_shared_experts × moe_intermediate_size to fit in 2^31; found {sharedWidth}"),
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, i => i >= firstDense),
        };
        DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        return spec with { Moe = moe };
    }
}
