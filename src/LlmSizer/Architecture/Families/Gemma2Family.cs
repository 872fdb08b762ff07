namespace LlmSizer.Architecture.Families;

/// <summary>Gemma 2 (<c>Gemma2ForCausalLM</c>): four norms per layer and sliding-window attention on every other layer
/// (layer 0 slides).</summary>
/// <remarks>Defaults are those of transformers' <c>Gemma2Config</c>: vocab 256000, hidden 2304, intermediate 9216,
/// 26 layers, 8 heads, 4 KV heads, <c>head_dim</c> 256, 8192 positions, tied, <c>sliding_window</c> 4096; layer i slides
/// when (i + 1) is odd unless <c>layer_types</c> says otherwise.</remarks>
internal sealed class Gemma2Family() : DecoderFamily("Gemma 2", "gemma2")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 256000, Hidden = 2304, Intermediate = 9216, Layers = 26, Heads = 8, KvHeads = 4, HeadDim = 256, MaxPositions = 8192, Tied = true,
    };

    /// <summary>The Gemma layout: <c>attention_bias</c> on q, k, v and o, the given norms and QK-norm.</summary>
    internal static DecoderDetails Layout(ConfigObject config, NormPlacement norms, QkNormKind qkNorm) =>
        DecoderConfig.AttentionBias(config) with { Norms = norms, QkNorm = qkNorm };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "gemma2", Defaults, Layout(config, NormPlacement.Sandwich, QkNormKind.None));
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", 4096), i => i % 2 == 0);
    }
}
