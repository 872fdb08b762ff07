using LlmSizer.Architecture;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>llama.cpp's compute buffer: the peak of the worst-case graph (n_ubatch tokens against the full KV cache)
/// that <c>ggml_backend_sched_reserve</c> sizes once at context creation (memory-physics.md §3.1).</summary>
/// <remarks>ggml-alloc (<c>ggml/src/ggml-alloc.c</c>) places every intermediate f32 tensor of the graph in one buffer, frees
/// a tensor after its last consumer and reuses a parent's memory for in-place ops (add, mul, scale, softmax, rope), so the
/// buffer is the high-water mark of the live set, over three stages (all sizes per token of the ubatch, f32 = 4 B):
/// <list type="bullet">
/// <item>output (<c>build_inp_out_ids</c> … <c>output_norm</c>, <c>lm_head</c> in <c>src/llama-model.cpp</c>): the logits
/// n_vocab × 4 B sit above what is still live below them: for a dense last layer two n_embd rows (residual and norm
/// output), exact against llama.cpp c0c7e147. For an MoE last layer (<c>build_moe_ffn</c> in <c>src/llama-graph.cpp</c>)
/// the logits land either above three n_embd rows or above the routed experts' output [n_embd, n_expert_used] plus four
/// n_embd rows, the router logits and probabilities (2·n_expert) and the selected weights (n_expert_used), depending on the
/// holes the attention stage left. We do not simulate the holes: the layout is chosen by the rule the logs show (low with
/// flash attention while the f16 mask row, 2·n_kv B, is shorter than one n_embd f32 row; high otherwise; the midpoint
/// for a quantized cache there, where the two checked models differ). The threshold was read off two models with
/// n_embd 2048 (switch between n_kv 2048 and 4096), so it is a fitted guess for other widths; a wrong pick costs the
/// experts' output, n_embd·(n_expert_used + 1)·4 B per token.</item>
/// <item>feed-forward: gate, up and their product (3·n_ff) plus four n_embd rows (residual, norm, down projection, the
/// attention output still held), and the KQ mask (f16 with flash attention, f32 without) that lives for the whole graph.
/// n_ff is the widest FFN of a layer (routed experts × top-k + shared, or the dense one).</item>
/// <item>attention without flash attention (<c>build_attn_mha</c>): the f32 KQ scores n_kv × n_head (softmax in place) and
/// the f32 mask n_kv, plus the residual, the norm output, Q, K, V, KQV and its contiguous copy (4·n_embd + q + k + v). With
/// MLA (<c>build_deepseek2</c>, the absorbed form llama.cpp builds when the GGUF has attn_k_b/attn_v_b) the KQ scores are the
/// same n_kv × n_head and the rest is the residual pair, the absorbed Q n_head·(kv_lora_rank + rope) and the absorbed
/// q_nope and KQV (2·n_head·kv_lora_rank).</item>
/// </list>
/// Checked against LLamaSharp 0.30.0's llama.cpp (CPU backend) on Llama-3-8B, Llama-2-7B, Qwen1.5-MoE-A2.7B,
/// DeepSeek-V2-Lite and Gemma-2-2B shapes at 512–8192 cells (tests/LlmSizer.Engine.Tests, table in docs/memory.md): the
/// attention and feed-forward coefficients are read off those logs' differences between contexts, so they are checked
/// in-sample; quantized caches add a little conversion scratch we leave out, and at tiny widths (n_embd ≤ 256) with flash
/// attention the allocator reuses one more hole than these rows assume (we read up to 1 MiB high).</remarks>
internal static class LlamaCppCompute
{
    public static (long Bytes, Func<string> Formula) Bytes(ArchitectureSpec spec, long nKv, long ub, bool fa, bool quantizedKv = false)
    {
        long h = spec.Hidden;
        long ff = InferenceMemory.InterOf(spec);
        long logits = checked(ub * 4 * spec.Vocab);
        long below;
        string belowText;
        if (spec.Moe is { } moe && LastLayerIsMoe(spec, moe))
        {
            long low = 3 * h;
            long high = checked(4 * h + h * moe.ActiveExperts + 2L * moe.Experts + moe.ActiveExperts + 1);
            // Observed: with flash attention and a short cache (the f16 mask row 2·n_kv B under one n_embd f32 row) the
            // output lands low; without flash attention or with a long cache, high. A quantized cache at short n_kv went
            // either way (Qwen1.5-MoE high, DeepSeek-V2-Lite low): midpoint there.
            bool shortMask = fa && checked(2 * nKv) < checked(4 * h);
            long rows = !shortMask ? high : quantizedKv ? (low + high) / 2 : low;
            below = checked(ub * 4 * rows);
            string which = !shortMask ? "experts' output live: 4·h + h·top-k + 2·experts + top-k + 1"
                : quantizedKv ? "short cache, quantized: midpoint of 3·h and the experts' layout" : "short cache with flash attention: 3·h";
            belowText = $"MoE last layer ({which}; top-k {moe.ActiveExperts}, experts {moe.Experts}) f32 rows ({Mib(below)})";
        }
        else
        {
            below = checked(ub * 4 * 2 * h);
            belowText = $"2·h {2 * h} f32 rows ({Mib(below)})";
        }

        long output = checked(logits + below);
        long mask = checked(nKv * ub * (fa ? 2 : 4));
        long ffn = checked(ub * 4 * (3 * ff + 4 * h) + mask);
        long attn = 0;
        if (!fa)
        {
            long rest = spec.Mla is { } mla
                ? checked(2 * h + (long)spec.Heads * (mla.KvLoraRank + mla.QkRopeHeadDim) + 2L * spec.Heads * mla.KvLoraRank)
                : checked(4 * h + ((long)spec.Heads + 2L * spec.KvHeads) * spec.HeadDim);
            attn = checked(nKv * ub * 4 * spec.Heads + mask + ub * 4 * rest);
        }

        string Formula()
        {
            string outText = $"output stage: ubatch {ub} × vocab {N(spec.Vocab)} × 4 B + {belowText} = {Mib(output)}";
            string ffnText = $"feed-forward stage: ubatch × (3·n_ff {N(ff)} + 4·h) × 4 B + {(fa ? "f16" : "f32")} KQ mask n_kv {N(nKv)} × ubatch = {Mib(ffn)}";
            string attnText = fa ? "" : $"; attention stage (no flash attention): f32 KQ n_kv × ubatch × heads {spec.Heads} × 4 B + mask + Q, K, V rows = {Mib(attn)}";
            return $"max({outText}; {ffnText}{attnText})";
        }

        return (Math.Max(output, Math.Max(ffn, attn)), Formula);
    }

    private static bool LastLayerIsMoe(ArchitectureSpec spec, MoeSpec moe) =>
        moe.MoeLayers.IsDefaultOrEmpty || moe.MoeLayers.Length < spec.Layers || moe.MoeLayers[spec.Layers - 1];
}
