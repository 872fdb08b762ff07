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
