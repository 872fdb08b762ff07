namespace LlmSizer.Architecture.Families;

/// <summary>gpt-oss (<c>GptOssForCausalLM</c>): biased attention with a learned sink per head, a biased router and fused
/// expert tensors with biases; alternating sliding-window and full layers.</summary>
/// <remarks>Defaults are those of transformers' <c>GptOssConfig</c>: 36 layers, <c>num_local_experts</c> 128,
/// <c>num_experts_per_tok</c> 4, vocab 201088, hidden 2880, intermediate 2880, <c>head_dim</c> 64, 64 heads, 8 KV heads,
/// <c>sliding_window</c> 128, 131072 positions, untied, <c>attention_bias</c> true; without <c>layer_types</c>, layer i
/// slides when (i + 1) is odd. The checkpoint stores experts as MXFP4 blocks and scales; the parameters counted are
/// the model's logical weights.</remarks>
internal sealed class GptOssFamily() : DecoderFamily("gpt-oss", "gpt_oss")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 201088, Hidden = 2880, Intermediate = 2880, Layers = 36, Heads = 64, KvHeads = 8, HeadDim = 64, MaxPositions = 131072, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config, defaultBias: true) with { AttentionSinks = true, Experts = MoeLayout.GptOss };
        var spec = DecoderConfig.Read(config, "gpt_oss", Defaults, layout);
        var topKKey = config.FirstPresent("num_experts_per_tok", "experts_per_token") ?? "num_experts_per_tok";
        var moe = new MoeSpec
        {
            Experts = config.IntOr("num_local_experts", 128),
            ActiveExperts = config.IntOr(topKKey, 4),
            ExpertIntermediate = spec.Intermediate,
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
        };
        DecoderConfig.CheckTopK(config, moe, topKKey);
        spec = spec with { Moe = moe };
        return DecoderConfig.WithLayerKinds(spec, config, DecoderConfig.OptionalIntWithDefault(config, "sliding_window", 128), i => i % 2 == 0);
    }
}
