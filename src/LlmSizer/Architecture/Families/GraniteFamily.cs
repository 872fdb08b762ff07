namespace LlmSizer.Architecture.Families;

/// <summary>IBM Granite 3.x (<c>GraniteForCausalLM</c>): Llama's tensors; its <c>embedding_multiplier</c>,
/// <c>residual_multiplier</c>, <c>attention_multiplier</c> and <c>logits_scaling</c> are scalars of the config, not parameters.</summary>
/// <remarks>Defaults are those of transformers' <c>GraniteConfig</c>: vocab 32000, hidden 4096, intermediate 11008,
/// 32 layers, 32 heads, KV heads = heads, 2048 positions, untied, <c>attention_bias</c> and <c>mlp_bias</c> false.</remarks>
internal sealed class GraniteFamily() : DecoderFamily("Granite", "granite")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { MlpBias = config.Bool("mlp_bias", false) };
        return DecoderConfig.Read(config, "granite", Defaults, layout);
    }
}

/// <summary>IBM Granite 3.x MoE (<c>GraniteMoeForCausalLM</c>, granite-3.0/3.1 1b-a400m and 3b-a800m): Granite's attention
/// and multipliers, and on every layer a top-k router over <c>num_local_experts</c> experts of <c>intermediate_size</c>,
/// stored fused (<see cref="MoeLayout.GraniteMoe"/>), with no dense MLP and no shared expert.</summary>
/// <remarks>Defaults are those of transformers' <c>GraniteMoeConfig</c>: vocab 32000, hidden 4096, intermediate 11008,
/// 32 layers, 32 heads, KV heads = heads, 2048 positions, untied, <c>attention_bias</c> false, <c>num_local_experts</c> 8,
/// <c>num_experts_per_tok</c> 2.</remarks>
internal sealed class GraniteMoeFamily() : DecoderFamily("Granite MoE", "granitemoe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { Experts = MoeLayout.GraniteMoe };
        var spec = DecoderConfig.Read(config, "granitemoe", Defaults, layout);
        var moe = new MoeSpec
        {
            Experts = config.IntOr("num_local_experts", 8),
            ActiveExperts = config.IntOr("num_experts_per_tok", 2),
            ExpertIntermediate = spec.Intermediate,
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
        };
        DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        return spec with { Moe = moe };
    }
}
