namespace LlmSizer.Architecture.Families;

/// <summary>OLMo 2 (<c>Olmo2ForCausalLM</c>): norms after attention and after the MLP only, and a QK-norm over the
/// whole q and k projections ([heads × head_dim] and [kv_heads × head_dim]).</summary>
/// <remarks>Defaults are those of transformers' <c>Olmo2Config</c>: vocab 50304, hidden 4096, intermediate 11008,
/// 32 layers, 32 heads, KV heads = heads, 2048 positions, untied, <c>attention_bias</c> false.</remarks>
internal sealed class Olmo2Family() : DecoderFamily("OLMo 2", "olmo2")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 50304, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { QkNorm = QkNormKind.FullWidth, Norms = NormPlacement.PostOnly };
        return DecoderConfig.Read(config, "olmo2", Defaults, layout);
    }
}
