namespace LlmSizer.Architecture.Families;

/// <summary>Mistral (<c>MistralForCausalLM</c>): the Llama layout without biases; v0.1 slides a window on every layer.</summary>
/// <remarks>Defaults are those of transformers' <c>MistralConfig</c>: vocab 32000, hidden 4096, intermediate 14336,
/// 32 layers, 32 heads, 8 KV heads, <c>head_dim</c> = hidden / heads, 131072 positions, untied, <c>sliding_window</c>
/// 4096 (an explicit null, as in v0.2+, turns it off).</remarks>
internal sealed class MistralFamily() : DecoderFamily("Mistral", "mistral")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 14336, Layers = 32, Heads = 32, KvHeads = 8, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "mistral", Defaults, new DecoderDetails());
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", 4096), _ => true);
    }
}
