namespace LlmSizer.Architecture.Families;

/// <summary>GLM-4 (<c>Glm4ForCausalLM</c>, the GLM-4-0414 models): biases on q, k and v (<c>attention_bias</c>) but not on
/// o, a fused <c>mlp.gate_up_proj</c>, and four RMSNorms per layer (<c>input_layernorm</c>, <c>post_self_attn_layernorm</c>,
/// <c>post_attention_layernorm</c>, <c>post_mlp_layernorm</c>). Partial rotary embeddings have no parameters.</summary>
/// <remarks>Defaults are those of transformers' <c>Glm4Config</c>: vocab 151552, hidden 4096, intermediate 13696,
/// 40 layers, 32 heads, 2 KV heads, <c>head_dim</c> 128, 131072 positions, untied, <c>attention_bias</c> true.</remarks>
internal sealed class Glm4Family() : DecoderFamily("GLM-4", "glm4")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151552, Hidden = 4096, Intermediate = 13696, Layers = 40, Heads = 32, KvHeads = 2, HeadDim = 128, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = new DecoderDetails { QkvBias = config.Bool("attention_bias", true), FusedGateUp = true, Norms = NormPlacement.Glm4 };
        return DecoderConfig.Read(config, "glm4", Defaults, layout);
    }
}
