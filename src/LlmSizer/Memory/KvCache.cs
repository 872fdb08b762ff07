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

    /// <summary>K and V elements per token in one layer on one rank, or (0, 0) for layers without a cache (no attention, or
    /// zero KV heads: a recurrent layer, or a layer that reads another layer's cache, such as Gemma 4's KV-shared
    /// layers). Layers with their own head dimension (<see cref="ArchitectureSpec.LayerHeadDims"/>) use it.</summary>
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
        return (kv * spec.HeadDimOf(layer), kv * spec.VHeadDimOf(layer));
    }

    /// <summary>Bytes of one token's K and V in one layer: whole blocks per row, plus the sparse-attention indexer key
    /// where the model has one (<see cref="IndexerBytesPerToken"/>).</summary>
    public static long BytesPerToken(ArchitectureSpec spec, int layer, int tp, InferenceEngine engine, DataType kvType)
    {
        var (k, v) = ElementsPerToken(spec, layer, tp, engine);
        long indexer = k == 0 ? 0 : IndexerBytesPerToken(spec, engine, kvType);
        return checked((k == 0 ? 0 : kvType.SizeOf(k).Bytes) + (v == 0 ? 0 : kvType.SizeOf(v).Bytes) + indexer);
    }

    /// <summary>The per-token, per-layer bytes of DeepSeek Sparse Attention's indexer key cache (DeepSeek-V3.2): one key of
    /// <c>index_head_dim</c> per token, beside the MLA latent, not split by tensor parallelism (a single head).</summary>
    /// <remarks>vLLM stores it as fp8 with one fp32 scale per 128 elements whatever the KV dtype
    /// (vllm/model_executor/models/deepseek_v2.py <c>DeepseekV32IndexerCache(head_dim = index_head_dim + index_head_dim //
    /// quant_block_size * 4, dtype=torch.uint8)</c>, quant_block_size 128): 132 B for index_head_dim 128. transformers keeps
    /// it in the cache dtype (modeling_deepseek_v32.py <c>past_key_values.update_indexer</c>). llama.cpp has no sparse
    /// attention: it runs the model densely and keeps no indexer key.</remarks>
    public static long IndexerBytesPerToken(ArchitectureSpec spec, InferenceEngine engine, DataType kvType)
    {
        if (spec.Mla?.Indexer is not { } ix)
        {
            return 0;
        }

        return engine switch
        {
            InferenceEngine.Vllm => checked(ix.HeadDim + (ix.HeadDim / 128 * 4L)),
            InferenceEngine.Hf => kvType.SizeOf(ix.HeadDim).Bytes,
            _ => 0,
        };
    }

    /// <summary>GGML_PAD(x, n).</summary>
    public static long Pad(long x, long n) => (x + n - 1) / n * n;

    /// <summary>Ceiling division.</summary>
    public static long CeilDiv(long x, long n) => (x + n - 1) / n;
}
