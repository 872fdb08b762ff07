namespace LlmSizer.Architecture.Families;

/// <summary>Qwen1.5-MoE / Qwen2-MoE (<c>Qwen2MoeForCausalLM</c>): Qwen2 attention, routed experts plus one shared expert
/// scaled by a sigmoid <c>shared_expert_gate</c> [1, hidden].</summary>
/// <remarks>Defaults are those of transformers' <c>Qwen2MoeConfig</c>: vocab 151936, hidden 2048, intermediate 5632,
/// 24 layers, 16 heads, 16 KV heads, 32768 positions, untied, <c>num_experts</c> 60, <c>num_experts_per_tok</c> 4,
/// <c>moe_intermediate_size</c> 1408, <c>shared_expert_intermediate_size</c> 5632, <c>decoder_sparse_step</c> 1,
/// <c>mlp_only_layers</c> empty, <c>qkv_bias</c> true (the key Qwen2MoeConfig gained for q/k/v biases; o_proj has none).</remarks>
internal sealed class Qwen2MoeFamily() : DecoderFamily("Qwen2-MoE", "qwen2_moe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151936, Hidden = 2048, Intermediate = 5632, Layers = 24, Heads = 16, MaxPositions = 32768, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "qwen2_moe", Defaults, new DecoderDetails { QkvBias = config.Bool("qkv_bias", true), Experts = MoeLayout.Qwen });
        spec = DecoderConfig.WithQwenMoe(spec, config, experts: 60, topK: 4, expertIntermediate: 1408, sharedIntermediate: 5632);
        return DecoderConfig.WithQwenWindow(spec, config, 4096);
    }
}
