namespace LlmSizer.Architecture.Families;

/// <summary>Phi-3.5-MoE (<c>PhimoeForCausalLM</c>): Mixtral's sparse block (<c>block_sparse_moe.gate</c>,
/// <c>experts.{e}.w1/w2/w3</c>) with LayerNorms that carry a bias, <c>attention_bias</c> on q, k, v and o, and a bias on
/// <c>lm_head</c> when <c>lm_head_bias</c>.</summary>
/// <remarks>Defaults are those of transformers' <c>PhimoeConfig</c>: vocab 32064, hidden 4096, intermediate 6400,
/// 32 layers, 32 heads, 8 KV heads (an explicit null gives the query heads), 131072 positions, untied,
/// <c>sliding_window</c> null, <c>num_local_experts</c> 16, <c>num_experts_per_tok</c> 2, <c>attention_bias</c> false,
/// <c>lm_head_bias</c> false. The norms are <c>nn.LayerNorm(hidden, elementwise_affine=True)</c> (modeling_phimoe.py).</remarks>
internal sealed class PhimoeFamily() : DecoderFamily("PhiMoE", "phimoe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32064, Hidden = 4096, Intermediate = 6400, Layers = 32, Heads = 32, KvHeads = 8, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { Experts = MoeLayout.Mixtral, HeadBias = config.Bool("lm_head_bias", false) };
        var spec = DecoderConfig.Read(config, "phimoe", Defaults, layout) with { Norm = NormKind.LayerNorm };
        spec = spec with
        {
            Moe = new MoeSpec
            {
                Experts = config.IntOr("num_local_experts", 16),
                ActiveExperts = config.IntOr("num_experts_per_tok", 2),
                ExpertIntermediate = spec.Intermediate,
                MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
            },
        };
        DecoderConfig.CheckTopK(config, spec.Moe, "num_experts_per_tok");
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", null), _ => true);
    }
}
