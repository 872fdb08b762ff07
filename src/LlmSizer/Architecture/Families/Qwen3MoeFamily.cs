namespace LlmSizer.Architecture.Families;

/// <summary>Qwen3-MoE (<c>Qwen3MoeForCausalLM</c>): Qwen3 attention (QK-norm) and routed experts without a shared expert.</summary>
/// <remarks>Defaults are those of transformers' <c>Qwen3MoeConfig</c>: vocab 151936, hidden 2048, intermediate 6144,
/// 24 layers, 32 heads, 4 KV heads, no <c>head_dim</c> default (hidden / heads), 32768 positions, untied,
/// <c>num_experts</c> 128, <c>num_experts_per_tok</c> 8, <c>moe_intermediate_size</c> 768, <c>decoder_sparse_step</c> 1.</remarks>
internal sealed class Qwen3MoeFamily() : DecoderFamily("Qwen3-MoE", "qwen3_moe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151936, Hidden = 2048, Intermediate = 6144, Layers = 24, Heads = 32, KvHeads = 4, MaxPositions = 32768, Tied = false,
    };

    /// <summary>The Qwen3 attention layout: QK-norm per head_dim, <c>attention_bias</c> on q, k, v and o.</summary>
    internal static DecoderDetails Layout(ConfigObject config, MoeLayout experts) =>
        DecoderConfig.AttentionBias(config) with { QkNorm = QkNormKind.PerHeadDim, Experts = experts };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "qwen3_moe", Defaults, Layout(config, MoeLayout.Qwen));
        spec = DecoderConfig.WithQwenMoe(spec, config, experts: 128, topK: 8, expertIntermediate: 768, sharedIntermediate: 0);
        return DecoderConfig.WithQwenWindow(spec, config, 4096, defaultMaxWindowLayers: 0);
    }
}
