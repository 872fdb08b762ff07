namespace LlmSizer;

/// <summary>The one set of sanity limits on untrusted model descriptions (config.json, GGUF metadata, checkpoint
/// headers). Each is far above every published model, so no real model is refused, yet low enough that the work and
/// memory a description can ask for (generated tensors, per-layer tables, estimates) stay bounded.</summary>
/// <remarks>Largest published values when these were set (2025): layers 126 (Llama 3.1 405B), 96 (GPT-3), 61
/// (DeepSeek-V3, Kimi K2); routed experts 512 (Qwen3-Next), 384 (Kimi K2), 256 (DeepSeek-V3); hidden size 18,432
/// (Nemotron-4 340B, DeepSeek-V3 MoE intermediate), 16,384 (Llama 3.1 405B); vocabulary 262,144 (Gemma 3), 256,000
/// (Gemma 2); tensors in a checkpoint about 91,000 (DeepSeek-V3 with FP8 scales). The limits leave an order of magnitude
/// (experts: 4×, layers: 32×) above these.</remarks>
public static class ModelLimits
{
    /// <summary>The most layers (decoder or encoder blocks) a model may declare: 4,096.</summary>
    public const int MaxLayers = 4_096;

    /// <summary>The most routed experts per MoE layer: 2,048.</summary>
    public const int MaxExperts = 2_048;

    /// <summary>The largest hidden (embedding) size: 262,144.</summary>
    public const int MaxHidden = 262_144;

    /// <summary>The largest MLP intermediate size (dense or per expert): 1,048,576.</summary>
    public const int MaxIntermediate = 1_048_576;

    /// <summary>The most attention heads: 65,536.</summary>
    public const int MaxHeads = 65_536;

    /// <summary>The largest vocabulary: 16,777,216 (2^24).</summary>
    public const int MaxVocab = 16_777_216;

    /// <summary>The most tensors a description may generate (layers × tensors per layer, experts included): 131,072,
    /// about 1.9 × the largest published MoE layout (Kimi K2: 61 layers × 384 routed experts × 3 ≈ 70,000 expert
    /// tensors; DeepSeek-V3 ~45,000). Bounds the memory and time of generating an inventory and of every estimate made
    /// from it: the G hostile samples asked for 438,000 tensors and 1.1 GB for one estimate, and the long fuzz run found
    /// a GGUF within the earlier 262,144 bound that allocated 328 MB in one call (over the 200 MB the hardening issue allows).</summary>
    public const int MaxGeneratedTensors = 131_072;

    /// <summary>The most bytes read from a source that cannot seek or reports no length (a pipe, <c>/dev/stdin</c>,
    /// a device): 64 MiB, room for any config.json, index or GGUF header; <c>/dev/zero</c> stops here with an error.</summary>
    public const long MaxStreamBytes = 64L * 1024 * 1024;

    /// <summary>The largest config.json or index.json read: 16 MiB (real ones are a few KB; indexes under 1 MB).</summary>
    public const long MaxJsonBytes = 16L * 1024 * 1024;

    /// <summary>A bound on the tensors a spec of this shape generates: a generous per-layer count (attention, norms,
    /// biases, MLP: 32) plus three matrices per routed and shared expert, plus 16 outside the layers.</summary>
    /// <param name="layers">Layers.</param>
    /// <param name="expertsPerLayer">Routed plus shared experts per layer (0 for a dense model).</param>
    /// <returns>The bound.</returns>
    public static long GeneratedTensorBound(long layers, long expertsPerLayer) => 16 + layers * (32 + 3 * expertsPerLayer);

    /// <summary>The first limit a spec breaks: the spec property, the config.json keys that usually set it, the value
    /// and the limit; null when it keeps them all.</summary>
    internal static (string Property, string[] Keys, long Value, long Max)? FirstViolation(Architecture.ArchitectureSpec spec)
    {
        long layers = Math.Max(spec.Layers, 0) + Math.Max(spec.DecoderLayers ?? 0, 0);
        if (layers > MaxLayers)
        {
            return ("layers", ["num_hidden_layers", "n_layer", "num_layers", "n_layers"], layers, MaxLayers);
        }

        if (spec.Hidden > MaxHidden)
        {
            return ("hidden", ["hidden_size", "n_embd", "d_model"], spec.Hidden, MaxHidden);
        }

        if (spec.Heads > MaxHeads || spec.KvHeads > MaxHeads)
        {
            return ("heads", ["num_attention_heads", "n_head", "num_heads", "num_key_value_heads"], Math.Max(spec.Heads, spec.KvHeads), MaxHeads);
        }

        if (spec.Intermediate > MaxIntermediate)
        {
            return ("intermediate", ["intermediate_size", "n_inner", "ffn_dim", "d_ff"], spec.Intermediate, MaxIntermediate);
        }

        if (spec.Vocab > MaxVocab)
        {
            return ("vocab", ["vocab_size", "padded_vocab_size"], spec.Vocab, MaxVocab);
        }

        if (spec.Moe is { } moe)
        {
            if (moe.Experts > MaxExperts || moe.SharedExperts > MaxExperts)
            {
                return ("experts", ["num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts", "n_shared_experts"], Math.Max(moe.Experts, moe.SharedExperts), MaxExperts);
            }

            if (moe.ExpertIntermediate > MaxIntermediate)
            {
                return ("expert intermediate", ["moe_intermediate_size", "intermediate_size"], moe.ExpertIntermediate, MaxIntermediate);
            }
        }

        long bound = GeneratedTensorBound(layers, spec.Moe is { } m ? (long)Math.Max(m.Experts, 0) + Math.Max(m.SharedExperts, 0) : 0);
        if (bound > MaxGeneratedTensors)
        {
            return ("generated tensors", ["num_local_experts", "num_experts", "n_routed_experts", "num_hidden_layers"], bound, MaxGeneratedTensors);
        }

        return null;
    }
}
