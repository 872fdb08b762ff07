namespace LlmSizer.Architecture.Families;

/// <summary>Cohere Command-R (<c>CohereForCausalLM</c>): a parallel block with one bias-free LayerNorm per layer, tied
/// embeddings, and with <c>use_qk_norm</c> a LayerNorm weight per head on queries and keys.</summary>
/// <remarks>Defaults are those of transformers' <c>CohereConfig</c>: vocab 256000, hidden 8192, intermediate 22528,
/// 40 layers, 64 heads, KV heads = heads, 8192 positions, tied, <c>attention_bias</c> false, <c>use_qk_norm</c> false.</remarks>
internal sealed class CohereFamily() : DecoderFamily("Cohere", "cohere")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 256000, Hidden = 8192, Intermediate = 22528, Layers = 40, Heads = 64, MaxPositions = 8192, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with
        {
            Norms = NormPlacement.Single,
            QkNorm = config.Bool("use_qk_norm", false) ? QkNormKind.PerHeadMatrix : QkNormKind.None,
        };
        return DecoderConfig.Read(config, "cohere", Defaults, layout) with { Norm = NormKind.LayerNormNoBias };
    }
}
