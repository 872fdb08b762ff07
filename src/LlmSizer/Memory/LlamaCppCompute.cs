using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>llama.cpp's compute buffer: the peak of the worst-case graph (n_ubatch tokens against the full KV cache)
/// that <c>ggml_backend_sched_reserve</c> sizes once at context creation (memory-physics.md §3.1).</summary>
internal static class LlamaCppCompute
{
    public static (long Bytes, string Formula) Bytes(ArchitectureSpec spec, long nKv, long ub, bool fa, DataType kvType, TensorInventory stored)
    {
        // Logits: n_vocab × n_ubatch f32 (result_output) — the dominant term for small models
        // (Qwen2.5-3B: 296.75 of 300.75 MiB, LLamaSharp #1099).
        long logits = checked(spec.Vocab * ub * 4);
        long h = spec.Hidden;
        long inter = InferenceMemory.InterOf(spec);
        long norm = checked(h * ub * 4);
        long total = logits + norm;
        string formula = $"logits vocab {N(spec.Vocab)} × ubatch {ub} × 4 B + final norm h × ubatch × 4 B";
        if (!fa)
        {
            long kq = checked(nKv * ub * spec.Heads * 4);
            total = Math.Max(total, checked(2 * kq + h * ub * 4 * 3));
            formula += $"; without flash attention max with 2 × KQ (n_kv {N(nKv)} × ubatch × heads × 4 B)";
        }

        _ = inter;
        _ = kvType;
        _ = stored;
        return (total, formula);
    }
}
