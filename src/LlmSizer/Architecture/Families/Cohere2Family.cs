namespace LlmSizer.Architecture.Families;

/// <summary>Cohere Command R7B / Command A (<c>Cohere2ForCausalLM</c>): Cohere's parallel block with one bias-free
/// LayerNorm per layer and tied embeddings, no QK-norm, and three sliding-window layers to one global layer.</summary>
/// <remarks>Defaults are those of transformers' <c>Cohere2Config</c>: vocab 256000, hidden 8192, intermediate 22528,
/// 40 layers, 64 heads, KV heads = heads, 8192 positions, tied, <c>attention_bias</c> false, <c>sliding_window</c> 4096,
/// and without <c>layer_types</c> layer i slides unless (i + 1) is a multiple of <c>sliding_window_pattern</c> (4).
/// <c>Cohere2Config.__post_init__</c> sets <c>head_dim = hidden_size // num_attention_heads</c>, ignoring any
/// <c>head_dim</c> key.</remarks>
internal sealed class Cohere2Family() : DecoderFamily("Cohere 2", "cohere2")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 256000, Hidden = 8192, Intermediate = 22528, Layers = 40, Heads = 64, MaxPositions = 8192, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { Norms = NormPlacement.Single };
        var spec = DecoderConfig.Read(config, "cohere2", Defaults, layout) with { Norm = NormKind.LayerNormNoBias };
        if (spec.Hidden % spec.Heads != 0)
        {
            throw config.Error("num_attention_heads", $"expected a positive integer that divides the hidden size ({spec.Hidden}); found {spec.Heads}");
        }

        spec = spec with { HeadDim = spec.Hidden / spec.Heads };
        var pattern = config.IntOr("sliding_window_pattern", 4);
        var window = DecoderConfig.OptionalIntWithDefault(config, "sliding_window", 4096);
        return DecoderConfig.WithLayerKinds(spec, config, window, i => (i + 1) % pattern != 0);
    }
}
