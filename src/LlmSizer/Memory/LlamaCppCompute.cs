using LlmSizer.Architecture;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>llama.cpp's compute buffer: the peak of the worst-case graph (n_ubatch tokens against the full KV cache)
/// that <c>ggml_backend_sched_reserve</c> sizes once at context creation (memory-physics.md §3.1).</summary>
/// <remarks>The peak is the larger of two stages of the graph:
/// <list type="bullet">
/// <item>output: logits <c>n_vocab × n_ubatch × 4 B</c> plus two f32 <c>n_embd × n_ubatch</c> tensors (final norm input and
/// output). Exact (±0.005 MiB) against llama.cpp c0c7e147 for large-vocabulary models with an f16 cache and flash attention
/// (tests/LlmSizer.Engine.Tests); a quantized cache or FA off adds up to ~1.5 %. Older builds kept one n_embd tensor:
/// TriLM-3.9B 50688·512·4 + 3072·512·4 = 105.00 MiB (llamafile PR #552, Aug 2024), Qwen2.5-3B 296.75 + 4 = 300.75 MiB
/// (LLamaSharp #1099), so this formula reads 6 MiB / 4 MiB high for those logs.</item>
/// <item>one layer: with flash attention <c>n_ubatch × (14·n_ff + 4·n_embd) B</c> plus the f16 KQ mask
/// <c>n_kv × n_ubatch × 2 B</c>; without it <c>n_ubatch × max(24·n_embd, 10·n_ff) B</c> plus the f32 KQ scores and mask
/// <c>n_kv × n_ubatch × (4·n_head + 4) B</c>. The n_kv terms are exact (fitted on LLamaSharp 0.30.0 / llama.cpp
/// c0c7e147 logs: the buffer grows by exactly those bytes per cell); the n_ff/n_embd coefficients are fitted and the
/// graph allocator's tensor reuse makes the layer stage non-linear in the sizes (a larger n_ctx can even give a
/// smaller buffer), so this stage is an estimate within about ±35 % for tiny models.</item>
/// </list></remarks>
internal static class LlamaCppCompute
{
    public static (long Bytes, Func<string> Formula) Bytes(ArchitectureSpec spec, long nKv, long ub, bool fa)
    {
        long h = spec.Hidden;
        long ff = InferenceMemory.InterOf(spec);
        long output = checked(ub * 4 * (spec.Vocab + 2 * h));
        long layer = fa
            ? checked(ub * (14 * ff + 4 * h) + nKv * ub * 2)
            : checked(ub * Math.Max(24 * h, 10 * ff) + nKv * ub * (4L * spec.Heads + 4));
        string Formula()
        {
            string outText = $"output stage: ubatch {ub} × (vocab {N(spec.Vocab)} + 2·h {2 * h}) × 4 B = {Mib(output)}";
            string layerText = fa
                ? $"layer stage (flash attention): ubatch × (14·n_ff + 4·h) + f16 KQ mask n_kv {N(nKv)} × ubatch × 2 B = {Mib(layer)}"
                : $"layer stage (no flash attention): ubatch × max(24·h, 10·n_ff) + f32 KQ + mask n_kv {N(nKv)} × ubatch × (4·heads + 4) B = {Mib(layer)}";
            return $"max({outText}; {layerText})";
        }

        return (Math.Max(output, layer), Formula);
    }
}
