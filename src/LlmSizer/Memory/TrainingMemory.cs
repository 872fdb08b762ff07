using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Quantization;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>Training memory: model states (ZeRO paper §3.1), LoRA/QLoRA adapters, activations (Korthikanti et al. 2022
/// §4 and the Llama-style derivation of memory-physics.md §4.3) and the fp32 logits/cross-entropy peak.</summary>
internal static class TrainingMemory
{
    private const string ZeroSource = "ZeRO (Rajbhandari et al. 2020) §3.1, Fig. 1: P_os /Nd at stage ≥ 1, P_g at ≥ 2, P_p at 3";

    private const string AllocatorWarning =
        "PyTorch's caching allocator reserves 5–20 % above the allocated peak (fragmentation); nvidia-smi also shows the CUDA context.";

    public static MemoryEstimate Estimate(EstimatePlan p)
    {
        var w = p.W;
        var ts = p.T;
        bool lora = ts.LoraRank is > 0 || ts.Qlora;
        int rank = ts.LoraRank is > 0 ? ts.LoraRank.Value : (ts.Qlora ? 16 : 0);
        int nd = p.Dp;
        int zero = ts.ZeroStage;
        var compute = p.ComputeType;
        bool fp32 = compute == DataType.F32;
        bool mixed = !fp32 && !ts.PureLowPrecision;

        var (wGpu, wReplica) = p.WeightShares();
        long psiTotal = p.Prepared.TotalParameters;
        // Parameters per GPU under TP/PP: the GPU's share of the weight bytes.
        double share = wReplica == 0 ? 0 : (double)wGpu / wReplica;
        long psi = (long)Math.Ceiling(psiTotal * share);

        if (!lora)
        {
            int wb = fp32 ? 4 : 2;
            long weights = Shard(checked(psi * wb), zero >= 3, nd);
            p.Add("weights", weights, checked(weights * p.Gpus), () => $"{N(psi)} params/GPU × {wb} B ({compute.Name})" + Div(zero >= 3, nd), ZeroSource);
            if (ts.OptimizerInBackward)
            {
                long largest = p.Prepared.LargestParameterElements;
                long grads = checked(largest * wb);
                p.Add("gradients", grads, checked(grads * p.Gpus), () => $"optimizer in backward: one gradient alive at a time, the largest tensor ({N(largest)} × {wb} B)",
                    "torchtune optimizer_in_bwd (optimizer step hooked per parameter)");
            }
            else
            {
                long grads = Shard(checked(psi * wb), zero >= 2, nd);
                p.Add("gradients", grads, checked(grads * p.Gpus), () => $"{N(psi)} × {wb} B" + Div(zero >= 2, nd), ZeroSource);
            }

            if (mixed)
            {
                long master = Shard(checked(psi * 4), zero >= 1, nd);
                p.Add("master_weights", master, checked(master * p.Gpus), () => $"{N(psi)} × 4 B fp32 master copy" + Div(zero >= 1, nd), ZeroSource);
            }

            int stateBytes = mixed || fp32 ? 4 : 2;
            long opt = ts.Optimizer == OptimizerKind.Adafactor
                ? checked((long)Math.Ceiling(p.Prepared.AdafactorElements * share) * stateBytes)
                : OptimizerBytesFlat(psi, ts.Optimizer, stateBytes);
            opt = Shard(opt, zero >= 1, nd);
            p.Add("optimizer_states", opt, checked(opt * p.Gpus),
                () => (ts.Optimizer == OptimizerKind.Adafactor
                    ? $"Adafactor factored second moments: Σ (rows + cols) per matrix = {N(p.Prepared.AdafactorElements)} values × {stateBytes} B (no first moment)"
                    : OptimizerText(psi, ts.Optimizer, stateBytes)) + Div(zero >= 1, nd) + (ts.PagedOptimizer ? "; paged: evicted to host memory under pressure" : ""),
                OptimizerSource(ts.Optimizer), onDevice: !ts.PagedOptimizer);
        }
        else
        {
            var targets = ts.LoraTargets ?? LoraTargets.AllLinear;
            var (dims, adapted) = p.Prepared.Lora(targets);
            long trainable = checked(rank * dims);
            p.LoraTrainable = trainable;
            p.LoraRank = rank;
            long loraGpu = (long)Math.Ceiling(trainable * share);
            long baseW = Shard(wGpu, zero >= 3, nd);
            p.Add("weights", baseW, checked(baseW * p.Gpus), () => "frozen base: " + ShortFormula(p) + Div(zero >= 3, nd),
                ts.Qlora ? "QLoRA (Dettmers et al. 2023) §3: NF4 + double quantization" : "exact tensor sizes");
            int ab = mixed || fp32 ? 4 : 2;
            long adapters = Shard(checked(loraGpu * ab), zero >= 3, nd);
            p.Add("adapter_weights", adapters, checked(adapters * p.Gpus),
                () => $"LoRA r = {rank} on {adapted} matrices: Σ r × (d_in + d_out) = {N(trainable)} params × {ab} B", "Hu et al. 2021 (LoRA) §4");
            long grads = Shard(checked(loraGpu * ab), zero >= 2, nd);
            p.Add("gradients", grads, checked(grads * p.Gpus), () => $"{N(loraGpu)} trainable × {ab} B" + Div(zero >= 2, nd), ZeroSource);
            long opt = Shard(OptimizerBytesFlat(loraGpu, ts.Optimizer, ab), zero >= 1, nd);
            p.Add("optimizer_states", opt, checked(opt * p.Gpus),
                () => OptimizerText(loraGpu, ts.Optimizer, ab) + Div(zero >= 1, nd) + (ts.PagedOptimizer ? "; paged: evicted to host memory under pressure" : ""),
                OptimizerSource(ts.Optimizer), onDevice: !ts.PagedOptimizer);
        }

        Activations(p, lora);
        long o = w.Overhead?.Bytes ?? DefaultOverheadBytes;
        p.OverheadBytes = o;
        p.Add("overhead", o, checked(o * p.Gpus),
            w.Overhead is null ? static () => "CUDA context and cuBLAS workspace (512 MiB); not in torch.cuda.max_memory_allocated/reserved" : static () => "overridden by the overhead setting",
            "memory-physics.md §5");
        p.Warn(AllocatorWarning);
        return p.Build(Assumptions);
    }

    private static IReadOnlyList<Assumption> Assumptions(EstimatePlan p)
    {
        var ts = p.T;
        var compute = p.ComputeType;
        bool fp32 = compute == DataType.F32;
        bool mixed = !fp32 && !ts.PureLowPrecision;
        var list = p.CommonAssumptions();
        list.Add(new("precision", fp32 ? "fp32" : mixed ? $"mixed {compute.Name.ToLowerInvariant()} with fp32 master weights" : $"pure {compute.Name.ToLowerInvariant()}"));
        list.Add(new("optimizer", WorkloadNames.Name(ts.Optimizer), ts.Optimizer == OptimizerKind.AdamW));
        list.Add(new("zero", (long)ts.ZeroStage, ts.ZeroStage == 0, ts.ZeroStage == 3 ? "= FSDP FULL_SHARD" : ts.ZeroStage == 2 ? "= FSDP SHARD_GRAD_OP" : null));
        list.Add(new("recompute", WorkloadNames.Name(ts.Recompute), ts.Recompute == Recompute.None));
        list.Add(new("attention", WorkloadNames.Name(p.W.Attention ?? AttentionKernel.Flash), p.W.Attention is null,
            p.W.Attention is null ? "FlashAttention/SDPA keep no s×s scores" : null));
        list.Add(new("flash_attention", p.W.Attention != AttentionKernel.Eager));
        list.Add(new("sequence_parallel", ts.SequenceParallel));
        list.Add(new("micro_batch", (long)p.W.Batch));
        list.Add(new("gradient_accumulation", (long)ts.GradientAccumulation, ts.GradientAccumulation == 1, "does not change memory"));
        if (ts.LoraRank is > 0 || ts.Qlora)
        {
            list.Add(new("lora_rank", (long)p.LoraRank, ts.LoraRank is null));
            list.Add(new("lora_targets", ts.LoraTargets?.Name ?? "all linear", ts.LoraTargets is null));
            list.Add(new("trainable_params", p.LoraTrainable));
            if (ts.Qlora)
            {
                list.Add(new("qlora", "nf4 + double quantization base, paged optimizer (spills to host under pressure; same size)"));
            }
        }

        list.Add(new("paged_optimizer", ts.PagedOptimizer));
        list.Add(new("optimizer_in_backward", ts.OptimizerInBackward));
        list.Add(new("overhead", Mib(p.OverheadBytes), p.W.Overhead is null));
        return list;
    }

    private static string ShortFormula(EstimatePlan p) =>
        string.Join(" + ", p.Stored.DataTypeTotals.Select(g => $"{N(g.Elements)} × {g.Type.Name}"));

    private static long Shard(long bytes, bool sharded, int nd) => sharded ? KvCache.CeilDiv(bytes, nd) : bytes;

    private static string Div(bool sharded, int nd) => sharded && nd > 1 ? $" / Nd {nd}" : "";

    private static string OptimizerSource(OptimizerKind o) => o switch
    {
        OptimizerKind.AdamW => "Loshchilov & Hutter 2019 (AdamW): two fp32 moments; ZeRO §3.1 K = 12 with the master copy",
        OptimizerKind.AdamW8Bit => "Dettmers et al. 2021 (8-bit Optimizers via Block-wise Quantization): 2 × int8 + fp32 absmax per 2048",
        OptimizerKind.SgdMomentum => "SGD momentum buffer (torch.optim.SGD)",
        OptimizerKind.Sgd => "plain SGD keeps no state",
        OptimizerKind.Adafactor => "Shazeer & Stern 2018 (Adafactor) §3: factored second moment, row + column statistics",
        OptimizerKind.Lion => "Chen et al. 2023 (Lion): one momentum buffer",
        _ => "",
    };

    private static long OptimizerBytesFlat(long psi, OptimizerKind o, int stateBytes) => o switch
    {
        OptimizerKind.AdamW => checked(psi * 2 * stateBytes),
        OptimizerKind.AdamW8Bit => checked(psi * 2 + KvCache.CeilDiv(psi, 2048) * 2 * 4),
        OptimizerKind.SgdMomentum or OptimizerKind.Lion => checked(psi * stateBytes),
        OptimizerKind.Sgd => 0,
        _ => checked(psi * stateBytes),
    };

    private static string OptimizerText(long psi, OptimizerKind o, int stateBytes) => o switch
    {
        OptimizerKind.AdamW => $"{N(psi)} × 2 moments × {stateBytes} B",
        OptimizerKind.AdamW8Bit => $"{N(psi)} × 2 moments × 1 B + fp32 absmax per 2048",
        OptimizerKind.SgdMomentum or OptimizerKind.Lion => $"{N(psi)} × 1 momentum × {stateBytes} B",
        OptimizerKind.Sgd => "plain SGD: no state",
        _ => $"{N(psi)} × {stateBytes} B",
    };

    private static void Activations(EstimatePlan p, bool lora)
    {
        var spec = p.Spec;
        var ts = p.T;
        long s = p.Context, b = p.W.Batch, h = spec.Hidden, a = spec.Heads, t = p.Tp;
        long sb = checked(s * b);
        bool fp32 = p.ComputeType == DataType.F32;
        int scale = fp32 ? 2 : 1; // the formulas count 16-bit activations
        long inter = InferenceMemory.InterOf(spec);
        long attnDim = (long)spec.Heads * spec.HeadDim;
        long kvDim = (long)spec.KvHeads * spec.HeadDim;
        long rep, shard, scores;
        bool gated = spec.Mlp == MlpKind.Gated;
        if (gated)
        {
            // Llama-style (RMSNorm, SwiGLU, no dropout), memory-physics.md §4.3:
            // replicated: norm inputs 4h + qkv input 2h + mlp input 2h; sharded over TP: Q 2·a·d, K,V 4·kv·d, O 2·a·d, gate/up/act/down-in 8i;
            // eager attention: scores + softmax 2·a·s each (bf16).
            rep = 8 * h;
            shard = checked(2 * attnDim + 4 * kvDim + 2 * attnDim + 8 * inter);
            scores = checked(4 * a * s);
        }
        else
        {
            // GPT-style with dropout (Korthikanti et al. 2022 §4.1, Table 2): 10sbh replicated, (8h + 4i)·sb sharded (24sbh at i = 4h),
            // 5·a·s²·b attention scores, softmax and dropout.
            rep = 10 * h;
            shard = checked(8 * h + 4 * inter);
            scores = checked(5 * a * s);
        }

        bool dropScores = p.W.Attention != AttentionKernel.Eager || ts.Recompute != Recompute.None;
        long perLayerPerToken = (ts.SequenceParallel ? rep / t : rep) + shard / t + (dropScores ? 0 : scores / t);
        long full = checked(sb * perLayerPerToken * scale);
        int layers = spec.Layers + (spec.DecoderLayers ?? 0);
        long act = ts.Recompute == Recompute.Full
            // Only each layer's input (2sbh) is kept; one layer is rematerialized at a time during backward.
            ? checked((layers * sb * 2 * h * scale / (ts.SequenceParallel ? t : 1)) + full)
            : checked(layers * full);

        // Embedding output kept for backward.
        act = checked(act + sb * h * 2 * scale);
        bool qloraDequant = ts.Qlora || p.Format.Kind == WeightFormatKind.Bnb4;
        long largest = qloraDequant ? p.Stored.LargestLayerMatrix : 0;
        act = checked(act + largest * 2);

        string Formula()
        {
            string kind = gated ? "Llama-style s·b·(8h + [4·a·d + 4·kv·d + 8i]/t)" : "Korthikanti s·b·(10h + [8h + 4i]/t)";
            if (!dropScores)
            {
                kind += gated ? " + eager scores/softmax 4·a·s²·b/t" : " + scores/softmax/dropout 5·a·s²·b/t";
            }

            string f = ts.Recompute == Recompute.Full
                ? $"full recompute: {layers} layers × 2·s·b·h (layer inputs) + one layer's activations ({kind})"
                : $"{layers} layers × {kind}" + (dropScores ? (ts.Recompute == Recompute.Selective ? ", selective recompute drops the scores" : ", FlashAttention keeps no s×s scores") : "");
            f += $"; s = {s}, b = {b}, h = {h}, i = {inter}" + (fp32 ? ", fp32 activations ×2" : "");
            if (qloraDequant)
            {
                f += $"; + one dequantized bf16 weight ({N(largest)} × 2 B)";
            }

            if (lora)
            {
                f += "; frozen base layers still store activations for the input gradient";
            }

            return f;
        }

        p.Add("activations", act, checked(act * p.Gpus), Formula, "Korthikanti et al. 2022 §4 Table 2; memory-physics.md §4.3");

        if (!spec.IsEncoderOnly)
        {
            // bf16 logits + fp32 upcast + fp32 gradient of the cross-entropy input, vocab-parallel over TP.
            long logits = checked(sb * spec.Vocab * 10 / t);
            p.Add("logits", logits, checked(logits * p.Gpus), () => $"s·b·V·(2 + 4 + 4) B / t = {N(sb)} tokens × vocab {N(spec.Vocab)} × 10 B (bf16 logits, fp32 upcast, fp32 grad)",
                "memory-physics.md §4.3 (cross-entropy peak)");
        }
    }
}
