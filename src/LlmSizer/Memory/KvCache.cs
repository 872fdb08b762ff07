using LlmSizer.Architecture;
using LlmSizer.DataTypes;

namespace LlmSizer.Memory;

/// <summary>KV-cache sizes per token and per layer.</summary>
/// <remarks>Formula (memory-physics.md §1.1): <c>bytes = tokens × Σ_layers kv_l × (d_k + d_v) × bytes_per_elem</c>.
/// llama.cpp stores one K row (<c>n_embd_k_gqa = n_head_kv × head_dim_k</c>) and one V row per cell and layer, each
/// <c>ggml_row_size(type, n)</c> bytes (src/llama-kv-cache.cpp), so quantized caches are exact whole blocks per row.
/// vLLM V1 <c>AttentionSpec.page_size_bytes = coef × block × kv_heads × head_size × dtype</c>, coef 1 for MLA
/// (vllm/v1/kv_cache_interface.py). MLA caches <c>kv_lora_rank + qk_rope_head_dim</c> as one head (DeepSeek-V2 §2.1.3);
/// Hugging Face transformers' DeepSeek code caches the decompressed per-head K and V instead.</remarks>
internal static class KvCache
{
    /// <summary>Heads per rank: <c>max(1, kv / tp)</c>; replicated when tp &gt; kv (vLLM <c>get_num_kv_heads</c>).</summary>
    public static int KvHeadsPerRank(int kvHeads, int tp) => Math.Max(1, kvHeads / tp);

    /// <summary>K and V elements per token in one layer on one rank, or (0, 0) for layers without a cache.</summary>
    public static (long K, long V) ElementsPerToken(ArchitectureSpec spec, int layer, int tp, InferenceEngine engine)
    {
        if (spec.IsEncoderOnly || spec.LayerKind(layer) == AttentionLayerKind.None)
        {
            return (0, 0);
        }

        if (spec.Mla is { } mla)
        {
            if (engine == InferenceEngine.Hf)
            {
                long heads = spec.Heads / tp;
                return (heads * (mla.QkNopeHeadDim + mla.QkRopeHeadDim), heads * mla.VHeadDim);
            }

            return (mla.KvLoraRank + mla.QkRopeHeadDim, 0);
        }

        int layerKv = spec.KvHeadsOf(layer);
        if (layerKv == 0)
        {
            return (0, 0);
        }

        long kv = KvHeadsPerRank(layerKv, tp);
        return (kv * spec.HeadDim, kv * spec.VHeadDim);
    }

    /// <summary>Bytes of one token's K and V in one layer: whole blocks per row.</summary>
    public static long BytesPerToken(ArchitectureSpec spec, int layer, int tp, InferenceEngine engine, DataType kvType)
    {
        var (k, v) = ElementsPerToken(spec, layer, tp, engine);
        return checked((k == 0 ? 0 : kvType.SizeOf(k).Bytes) + (v == 0 ? 0 : kvType.SizeOf(v).Bytes));
    }

    /// <summary>GGML_PAD(x, n).</summary>
    public static long Pad(long x, long n) => (x + n - 1) / n * n;

    /// <summary>Ceiling division.</summary>
    public static long CeilDiv(long x, long n) => (x + n - 1) / n;
}
