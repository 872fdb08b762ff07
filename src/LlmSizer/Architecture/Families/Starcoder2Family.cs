namespace LlmSizer.Architecture.Families;

/// <summary>StarCoder2 (<c>Starcoder2ForCausalLM</c>): LayerNorm with bias, a two-matrix MLP (<c>c_fc</c>, <c>c_proj</c>)
/// and biases on every linear layer when <c>use_bias</c>.</summary>
/// <remarks>Defaults are those of transformers' <c>Starcoder2Config</c>: vocab 49152, hidden 3072, intermediate 12288,
/// 30 layers, 24 heads, 2 KV heads, 4096 positions, <c>use_bias</c> true, <c>tie_word_embeddings</c> true,
/// <c>sliding_window</c> null (when set, every layer slides).</remarks>
internal sealed class Starcoder2Family() : DecoderFamily("StarCoder2", "starcoder2")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 49152, Hidden = 3072, Intermediate = 12288, Layers = 30, Heads = 24, KvHeads = 2, MaxPositions = 4096, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var bias = config.Bool("use_bias", true);
        var spec = DecoderConfig.Read(config, "starcoder2", Defaults, new DecoderDetails { QkvBias = bias, OutputBias = bias, MlpBias = bias })
            with { Mlp = MlpKind.Dense, Norm = NormKind.LayerNorm };
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", null), _ => true);
    }
}
