namespace LlmSizer.Architecture.Families;

/// <summary>OLMo (<c>OlmoForCausalLM</c>, the "-hf" checkpoints): Llama's projections and gated MLP with
/// non-parametric LayerNorms (<c>OlmoLayerNorm</c> has no weight and no bias), so a layer holds only its seven matrices.</summary>
/// <remarks>Defaults are those of transformers' <c>OlmoConfig</c>: vocab 50304, hidden 4096, intermediate 11008,
/// 32 layers, 32 heads, KV heads = heads, 2048 positions, untied, <c>attention_bias</c> false. <c>clip_qkv</c> clamps
/// activations and has no parameters.</remarks>
internal sealed class OlmoFamily() : DecoderFamily("OLMo", "olmo")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 50304, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { Norms = NormPlacement.NonParametric };
        return DecoderConfig.Read(config, "olmo", Defaults, layout) with { Norm = NormKind.LayerNormNoBias };
    }
}
