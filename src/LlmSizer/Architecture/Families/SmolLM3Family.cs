namespace LlmSizer.Architecture.Families;

/// <summary>SmolLM3 (<c>SmolLM3ForCausalLM</c>): Llama's tensors; <c>no_rope_layers</c> only switches rotary positions
/// off in some layers (rotary tables are buffers), so it changes no tensor.</summary>
/// <remarks>Defaults are those of transformers' <c>SmolLM3Config</c>: vocab 128256, hidden 2048, intermediate 11008,
/// 36 layers, 16 heads, 4 KV heads, 32768 positions, tied, <c>attention_bias</c> and <c>mlp_bias</c> false.
/// <c>use_sliding_window</c> is off in the released checkpoints and is not modelled.</remarks>
internal sealed class SmolLM3Family() : DecoderFamily("SmolLM3", "smollm3")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 128256, Hidden = 2048, Intermediate = 11008, Layers = 36, Heads = 16, KvHeads = 4, MaxPositions = 32768, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { MlpBias = config.Bool("mlp_bias", false) };
        return DecoderConfig.Read(config, "smollm3", Defaults, layout);
    }
}
