namespace LlmSizer.Architecture.Families;

/// <summary>Phi-3 / Phi-3.5-mini / Phi-4-mini (<c>Phi3ForCausalLM</c>): fused <c>qkv_proj</c> and <c>gate_up_proj</c>;
/// partial rotary embeddings add no parameters.</summary>
/// <remarks>Defaults are those of transformers' <c>Phi3Config</c>: vocab 32064, hidden 3072, intermediate 8192, 32 layers,
/// 32 heads, KV heads = heads, 4096 positions, untied, <c>sliding_window</c> null (when set, every layer slides).</remarks>
internal sealed class Phi3Family() : DecoderFamily("Phi-3", "phi3")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32064, Hidden = 3072, Intermediate = 8192, Layers = 32, Heads = 32, MaxPositions = 4096, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "phi3", Defaults, new DecoderDetails { FusedProjections = true });
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", null), _ => true);
    }
}
