namespace LlmSizer.Architecture.Families;

/// <summary>Gemma (<c>GemmaForCausalLM</c>): tied embeddings, head_dim 256 independent of hidden / heads.</summary>
/// <remarks>Defaults are those of transformers' <c>GemmaConfig</c>: vocab 256000, hidden 3072, intermediate 24576,
/// 28 layers, 16 heads, 16 KV heads, <c>head_dim</c> 256, 8192 positions, tied, <c>attention_bias</c> false.</remarks>
internal sealed class GemmaFamily() : DecoderFamily("Gemma", "gemma")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 256000, Hidden = 3072, Intermediate = 24576, Layers = 28, Heads = 16, HeadDim = 256, MaxPositions = 8192, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config) =>
        DecoderConfig.Read(config, "gemma", Defaults, Gemma2Family.Layout(config, NormPlacement.PrePost, QkNormKind.None));
}
