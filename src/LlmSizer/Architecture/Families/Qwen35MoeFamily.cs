using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Qwen3.5 MoE (<c>Qwen3_5MoeForConditionalGeneration</c>, <c>qwen3_5_moe</c>; <c>qwen3_5_moe_text</c> for the
/// language model alone): Qwen3.5's hybrid decoder (gated delta nets with split input projections on three layers in four,
/// gated full attention with QK-norm on every fourth) with Qwen3-Next's sparse MoE block in every layer (router, routed
/// experts, a shared expert and its sigmoid gate), and Qwen3.5's vision tower and patch merger.</summary>
/// <remarks>Text defaults (<c>Qwen3_5MoeTextConfig</c>): vocab 248320, hidden 2048, 40 layers, 16 heads, 2 KV heads,
/// head_dim 256, 32768 positions, untied, <c>attention_bias</c> false, <c>num_experts</c> 256, <c>num_experts_per_tok</c> 8,
/// <c>moe_intermediate_size</c> 512, <c>shared_expert_intermediate_size</c> 512, the delta-net defaults of Qwen3.5
/// (<c>linear_num_key_heads</c> 16, <c>linear_num_value_heads</c> 32, head dims 128, kernel 4) and
/// <c>full_attention_interval</c> 4 unless <c>layer_types</c> is given. The class deletes <c>intermediate_size</c>,
/// <c>decoder_sparse_step</c> and <c>mlp_only_layers</c>: every layer is sparse, whatever those keys say. The routed
/// experts are fused as <c>Qwen3NextExperts</c> holds them and as the Hub checkpoints store them:
/// <c>mlp.experts.gate_up_proj</c> [experts, 2 × moe_intermediate, hidden] and <c>mlp.experts.down_proj</c> [experts,
/// hidden, moe_intermediate], without a <c>.weight</c> suffix. The <c>mtp.*</c> weights the checkpoints carry are not part of
/// the transformers model (<c>_keys_to_ignore_on_load_unexpected</c>) and are not counted. Vision defaults
/// (<c>Qwen3_5MoeVisionConfig</c>) are Qwen3.5's: depth 27, hidden 1152, intermediate 4304, 16 heads, patch 16, temporal
/// patch 2, merge 2, <c>out_hidden_size</c> 3584, <c>num_position_embeddings</c> 2304.</remarks>
internal sealed class Qwen35MoeFamily : IArchitectureFamily
{
    private static readonly DecoderDefaults TextDefaults = new()
    {
        // Intermediate is not a field of the class; the dense MLP it would size exists in no layer.
        Vocab = 248320, Hidden = 2048, Intermediate = 512, Layers = 40, Heads = 16, KvHeads = 2, HeadDim = 256, MaxPositions = 32768, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["qwen3_5_moe", "qwen3_5_moe_text"];

    public ArchitectureSpec Read(ConfigObject config) =>
        Qwen35Family.Read(config, "qwen3_5_moe", "qwen3_5_moe_text", "Qwen3.5-MoE", TextDefaults, MoeLayout.QwenFused, WithExperts);

    public TensorInventory Generate(ArchitectureSpec spec) => Qwen35Family.GenerateQwen35(spec);

    private static ArchitectureSpec WithExperts(ArchitectureSpec spec, ConfigObject text)
    {
        spec = DecoderConfig.WithQwenMoe(spec, text, experts: 256, topK: 8, expertIntermediate: 512, sharedIntermediate: 512);

        // Qwen3_5MoeDecoderLayer builds Qwen3_5MoeSparseMoeBlock in every layer; decoder_sparse_step and mlp_only_layers
        // are not read.
        return spec with { Moe = spec.Moe! with { MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true) } };
    }
}
