using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
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
/// attention the allocator reuses one more hole than these rows assume (we read up to 1 MiB high). Gemma 4 takes its own
/// branch (<see cref="Gemma4"/>: two masks, per-layer inputs, per-layer head sizes).</remarks>
internal static class LlamaCppCompute
{
    public static (long Bytes, Func<string> Formula) Bytes(ArchitectureSpec spec, long nKv, long ub, bool fa, bool quantizedKv = false, long nKvSwa = -1)
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
        if (spec.Details is Gemma4Details g4)
        {
            return Gemma4(spec, g4, nKv, nKvSwa < 0 ? nKv : nKvSwa, ub, fa, ff, output, () => $"output stage: ubatch {ub} × vocab {N(spec.Vocab)} × 4 B + {belowText} = {Mib(output)}");
        }

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

    /// <summary>Gemma 4 (<c>llama_model_gemma4::graph</c> in llama.cpp's <c>src/models/gemma4.cpp</c>, read at ggml-org/llama.cpp
    /// 9af0434d; the bundled c0c7e147 builds the same layer): per-layer head sizes, two KQ masks, the per-layer inputs.</summary>
    /// <remarks>What the graph keeps live, per ubatch token (f32 = 4 B unless said):
    /// <list type="bullet">
    /// <item>two masks for the whole graph: <c>build_attn_inp_kv_iswa()</c> makes one for the full layers (n_kv of the full
    /// cache) and one for the sliding layers (n_kv of the SWA cache, GGML_PAD(min(n_ctx, n_swa·n_seq + n_ubatch), 256) unless
    /// swa_full), f16 with flash attention, f32 without. Exact: the logs grow by these bytes per cell.</item>
    /// <item>the per-layer inputs: <c>project_per_layer_inputs</c> ends in <c>ggml_cont(ggml_permute(inp_per_layer, 0, 2, 1,
    /// 3))</c>, one [n_embd_per_layer, n_tokens, n_layer] tensor that every layer reads a slice of
    /// (<c>ggml_view_2d_slice(ctx0, inp_per_layer, il)</c>), so it lives to the last layer: n_embd_per_layer · n_layer.</item>
    /// <item>attention without flash attention, per layer il (<c>build_attn</c> → <c>build_attn_mha</c> in src/llama-graph.cpp):
    /// the f32 KQ scores n_kv(il) × n_head (n_kv of the cache the layer reads: full or sliding), the residual and one more
    /// n_embd row, and Q, KQV and its contiguous copy: 2·n_embd + 3 · n_head · n_embd_head_k(il), where
    /// <c>hparams.n_embd_head_k(il)</c> is key_length (512) on full layers and key_length_swa (256) on sliding ones. Kcur
    /// and Vcur (only where <c>hparams.has_kv(il)</c>; the KV-shared layers call build_attn with null K and V) are written
    /// into the cache by the copy before KQ is allocated and are not live at this peak; the 31B-width log without flash
    /// attention at n_ctx 4096 equals this count to 0.01 MiB (the dense rule's 4·n_embd + q + k + v would read 4 MiB high
    /// there), the E4B-width one is 5 MiB (one n_embd row) above it.</item>
    /// <item>feed-forward: as the dense layers above (3·n_ff + 4·n_embd, <c>build_ffn(…, LLM_FFN_GELU, LLM_FFN_PAR)</c>),
    /// plus both masks and the per-layer inputs.</item>
    /// </list>
    /// <b>Fitted, not derived:</b> without flash attention, at short contexts where the feed-forward stage is the peak, the
    /// bundled llama.cpp logs it higher than with flash attention by more than the f32 mask (31B widths: 16 MiB at n_ubatch 512,
    /// E4B widths: 12 MiB; Llama-2-7B, which this branch does not touch, shows 8 MiB, one q row): a hole the attention stage
    /// leaves that ggml-alloc cannot reuse for the n_ff rows. We add one Q row of the first layer (n_head · n_embd_head_k(0))
    /// there, read off those logs (after it both read as far under as with flash attention: 31B 5.5 MiB, E4B 12 MiB). With
    /// flash attention our feed-forward stage reads 4–5.5 MiB under the log (allocator holes too), which we leave.</remarks>
    private static (long Bytes, Func<string> Formula) Gemma4(ArchitectureSpec spec, Gemma4Details g4, long nKv, long nKvSwa, long ub, bool fa, long ff,
        long output, Func<string> outText)
    {
        long h = spec.Hidden;
        int layers = spec.Layers;
        bool anyFull = false, anySwa = false;
        for (int il = 0; il < layers; il++)
        {
            if (spec.LayerKind(il) == AttentionLayerKind.Sliding)
            {
                anySwa = true;
            }
            else
            {
                anyFull = true;
            }
        }

        long maskBytes = fa ? 2 : 4;
        long mask = checked(ub * maskBytes * ((anyFull ? nKv : 0) + (anySwa ? nKvSwa : 0)));
        long ple = checked(ub * 4 * g4.PerLayerInput * (long)layers);
        long hole = fa ? 0 : checked(ub * 4 * spec.Heads * (long)spec.HeadDimOf(0));
        long ffn = checked(ub * 4 * (3 * ff + 4 * h) + mask + ple + hole);

        long attn = 0;
        int peakLayer = -1;
        if (!fa)
        {
            for (int il = 0; il < layers; il++)
            {
                bool sliding = spec.LayerKind(il) == AttentionLayerKind.Sliding;
                long rows = checked(2 * h + 3 * spec.Heads * (long)spec.HeadDimOf(il));
                long layer = checked((sliding ? nKvSwa : nKv) * ub * 4 * spec.Heads + ub * 4 * rows + mask + ple);
                if (layer > attn)
                {
                    attn = layer;
                    peakLayer = il;
                }
            }
        }

        string Formula()
        {
            string masks = $"{(fa ? "f16" : "f32")} KQ masks ({(anyFull ? $"full n_kv {N(nKv)}" : "")}{(anyFull && anySwa ? " + " : "")}{(anySwa ? $"sliding n_kv {N(nKvSwa)}" : "")}) × ubatch";
            string pleText = ple > 0 ? $" + per-layer inputs {g4.PerLayerInput} × {layers} layers ({Mib(ple)})" : "";
            string holeText = hole > 0 ? $" + one layer-0 Q row without flash attention (fitted, {Mib(hole)})" : "";
            string ffnText = $"feed-forward stage: ubatch × (3·n_ff {N(ff)} + 4·h) × 4 B + {masks}{pleText}{holeText} = {Mib(ffn)}";
            string attnText = fa ? "" : $"; attention stage (no flash attention, layer {peakLayer}, head dim {spec.HeadDimOf(Math.Max(peakLayer, 0))}): f32 KQ n_kv × ubatch × heads {spec.Heads} × 4 B + (2·h + 3 · heads × head dim) × 4 B + masks = {Mib(attn)}";
            return $"max({outText()}; {ffnText}{attnText}) (Gemma 4 graph, src/models/gemma4.cpp)";
        }

        return (Math.Max(output, Math.Max(ffn, attn)), Formula);
    }

    private static bool LastLayerIsMoe(ArchitectureSpec spec, MoeSpec moe) =>
        moe.MoeLayers.IsDefaultOrEmpty || moe.MoeLayers.Length < spec.Layers || moe.MoeLayers[spec.Layers - 1];
}
