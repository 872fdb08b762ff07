namespace LlmSizer.Architecture.Families;

/// <summary>OLMoE (<c>OlmoeForCausalLM</c>): OLMo-2's full-width QK-norm (<c>q_norm</c> [hidden], <c>k_norm</c>
/// [kv_heads × head_dim]), pre-norms, and on every layer a router <c>mlp.gate</c> over routed experts
/// <c>mlp.experts.{e}.gate_proj/up_proj/down_proj</c> of width <c>intermediate_size</c>, with no shared expert.</summary>
/// <remarks>Defaults are those of transformers' <c>OlmoeConfig</c>: vocab 50304, hidden 2048, intermediate 2048,
/// 16 layers, 16 heads, KV heads = heads, 4096 positions, untied, <c>attention_bias</c> false, <c>num_experts</c> 64,
/// <c>num_experts_per_tok</c> 8.</remarks>
internal sealed class OlmoeFamily() : DecoderFamily("OLMoE", "olmoe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 50304, Hidden = 2048, Intermediate = 2048, Layers = 16, Heads = 16, MaxPositions = 4096, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { QkNorm = QkNormKind.FullWidth, Experts = MoeLayout.Qwen };
        var spec = DecoderConfig.Read(config, "olmoe", Defaults, layout);
        var moe = new MoeSpec
        {
            Experts = config.IntOr("num_experts", 64),
            ActiveExperts = config.IntOr("num_experts_per_tok", 8),
            // OlmoeSparseMoeBlock builds its experts as OlmoeMLP(config): each expert is intermediate_size wide.
            ExpertIntermediate = spec.Intermediate,
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
        };
        DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        return spec with { Moe = moe };
    }
}
