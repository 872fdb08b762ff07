namespace LlmSizer.Architecture.Families;

/// <summary>Mixtral (<c>MixtralForCausalLM</c>): Mistral attention with a sparse MoE block of top-k routed experts
/// (<c>block_sparse_moe.experts.{e}.w1/w2/w3</c>) in every layer.</summary>
/// <remarks>Defaults are those of transformers' <c>MixtralConfig</c>: vocab 32000, hidden 4096, intermediate 14336,
/// 32 layers, 32 heads, 8 KV heads, 131072 positions, untied, <c>sliding_window</c> null, <c>num_local_experts</c> 8,
/// <c>num_experts_per_tok</c> 2.</remarks>
internal sealed class MixtralFamily() : DecoderFamily("Mixtral", "mixtral")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 14336, Layers = 32, Heads = 32, KvHeads = 8, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "mixtral", Defaults, new DecoderDetails { Experts = MoeLayout.Mixtral });
        spec = spec with
        {
            Moe = new MoeSpec
            {
                Experts = config.IntOr("num_local_experts", 8),
                ActiveExperts = config.IntOr("num_experts_per_tok", 2),
                ExpertIntermediate = spec.Intermediate,
                MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
            },
        };
        DecoderConfig.CheckTopK(config, spec.Moe, "num_experts_per_tok");
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", null), _ => true);
    }
}
