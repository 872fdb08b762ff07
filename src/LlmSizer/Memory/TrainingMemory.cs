using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Tensors;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>Training memory: model states (ZeRO paper §3.1), LoRA/QLoRA adapters, activations (Korthikanti et al. 2022
/// §4 and the Llama-style derivation of memory-physics.md §4.3) and the fp32 logits/cross-entropy peak.</summary>
internal static class TrainingMemory
{
    private static readonly string[] AllLinear = ["q", "k", "v", "o", "gate", "up", "down"];

    public static MemoryEstimate Estimate(EstimatePlan p)
    {
        var spec = p.Spec;
        var w = p.W;
        bool lora = (w.LoraRank ?? 0) > 0 || w.Qlora;
        int rank = w.LoraRank is > 0 ? w.LoraRank.Value : (w.Qlora ? 16 : 0);
        int nd = p.Dp;
        int zero = w.Zero;
        var compute = p.ComputeType;
        bool fp32 = compute == DataType.F32;
        bool mixed = !fp32 && !w.PureLowPrecision;
        p.Assume("precision", fp32 ? "fp32" : mixed ? $"mixed {compute.Name.ToLowerInvariant()} with fp32 master weights" : $"pure {compute.Name.ToLowerInvariant()}");
        p.Assume("optimizer", w.Optimizer.ToString().ToLowerInvariant());
        p.Assume("zero", zero + (zero == 3 ? " (= FSDP FULL_SHARD)" : zero == 2 ? " (= FSDP SHARD_GRAD_OP)" : ""));
        p.Assume("recompute", w.Recompute.ToString().ToLowerInvariant());
        p.Assume("flash_attention", w.FlashAttentionKernels);
        p.Assume("sequence_parallel", w.SequenceParallel);
        p.Assume("micro_batch", w.Batch);
        p.Assume("gradient_accumulation", w.GradientAccumulation + " (does not change memory)");

        var (wGpu, wReplica) = p.WeightShares(p.Stored);
        long psiTotal = p.Model.Inventory.TotalParameters.Value;
        // Parameters per GPU under TP/PP: the GPU's share of the weight bytes.
        double share = wReplica == 0 ? 0 : (double)wGpu / wReplica;
        long psi = (long)Math.Ceiling(psiTotal * share);
        const string zeroSrc = "ZeRO (Rajbhandari et al. 2020) §3.1, Fig. 1: P_os /Nd at stage ≥ 1, P_g at ≥ 2, P_p at 3";

        if (!lora)
        {
            int wb = fp32 ? 4 : 2;
            long weights = Shard(checked(psi * wb), zero >= 3, nd);
            p.Add("weights", weights, weights * w.Gpus, $"{N(psi)} params/GPU × {wb} B ({compute.Name})" + Div(zero >= 3, nd), zeroSrc);
            long grads = Shard(checked(psi * wb), zero >= 2, nd);
            if (w.OptimizerInBackward)
            {
                long largest = p.Model.Inventory.Parameters.Select(x => x.Elements).DefaultIfEmpty(0).Max();
                grads = checked(largest * wb);
                p.Add("gradients", grads, grads * w.Gpus, $"optimizer in backward: one gradient alive at a time, the largest tensor ({N(largest)} × {wb} B)",
                    "torchtune optimizer_in_bwd (optimizer step hooked per parameter)");
            }
            else
            {
                p.Add("gradients", grads, grads * w.Gpus, $"{N(psi)} × {wb} B" + Div(zero >= 2, nd), zeroSrc);
            }
            if (mixed)
            {
                long master = Shard(checked(psi * 4), zero >= 1, nd);
                p.Add("master_weights", master, master * w.Gpus, $"{N(psi)} × 4 B fp32 master copy" + Div(zero >= 1, nd), zeroSrc);
            }

            var (opt, optText) = OptimizerBytes(p.Model.Inventory, share, w.Optimizer, mixed || fp32 ? 4 : 2);
            opt = Shard(opt, zero >= 1, nd);
            p.Add("optimizer_states", opt, opt * w.Gpus, optText + Div(zero >= 1, nd) + (w.PagedOptimizer ? "; paged: evicted to host memory under pressure" : ""),
                OptimizerSource(w.Optimizer), onDevice: !w.PagedOptimizer);
        }
        else
        {
            var (trainable, adapted) = LoraParameters(p.Model.Inventory, rank, w.LoraTargets);
            long loraGpu = (long)Math.Ceiling(trainable * share);
            p.Assume("lora_rank", rank);
            p.Assume("lora_targets", w.LoraTargets is null ? "all linear (default)" : string.Join(",", w.LoraTargets));
            p.Assume("trainable_params", N(trainable));
            if (w.Qlora)
            {
                p.Assume("qlora", "nf4 + double quantization base, paged optimizer (spills to host under pressure; same size)");
            }

            long baseW = Shard(wGpu, zero >= 3, nd);
            p.Add("weights", baseW, baseW * w.Gpus, $"frozen base: {InferenceFormula(p)}" + Div(zero >= 3, nd),
                w.Qlora ? "QLoRA (Dettmers et al. 2023) §3: NF4 + double quantization" : "exact tensor sizes");
            int ab = mixed || fp32 ? 4 : 2;
            long adapters = Shard(checked(loraGpu * ab), zero >= 3, nd);
            p.Add("adapter_weights", adapters, adapters * w.Gpus,
                $"LoRA r = {rank} on {adapted} matrices: Σ r × (d_in + d_out) = {N(trainable)} params × {ab} B", "Hu et al. 2021 (LoRA) §4");
            long grads = Shard(checked(loraGpu * ab), zero >= 2, nd);
            p.Add("gradients", grads, grads * w.Gpus, $"{N(loraGpu)} trainable × {ab} B" + Div(zero >= 2, nd), zeroSrc);
            var (opt, optText) = OptimizerBytesFlat(loraGpu, w.Optimizer, ab);
            opt = Shard(opt, zero >= 1, nd);
            p.Add("optimizer_states", opt, opt * w.Gpus, optText + Div(zero >= 1, nd) + (w.PagedOptimizer ? "; paged: evicted to host memory under pressure" : ""),
                OptimizerSource(w.Optimizer), onDevice: !w.PagedOptimizer);
        }

        p.Assume("paged_optimizer", w.PagedOptimizer);
        p.Assume("optimizer_in_backward", w.OptimizerInBackward);
        Activations(p, lora);
        long o = w.OverheadBytes ?? DefaultOverheadBytes;
        p.Assume("overhead", Mib(o) + (w.OverheadBytes is null ? " (default)" : ""));
        p.Add("overhead", o, o * w.Gpus, w.OverheadBytes is null ? "CUDA context and cuBLAS workspace (512 MiB); not in torch.cuda.max_memory_allocated/reserved" : "overridden by --overhead",
            "memory-physics.md §5");
        p.Warnings.Add("PyTorch's caching allocator reserves 5–20 % above the allocated peak (fragmentation); nvidia-smi also shows the CUDA context.");
        return p.Build();
    }

    private static string InferenceFormula(EstimatePlan p) =>
        string.Join(" + ", p.Stored.Tensors.GroupBy(t => t.DataType).OrderByDescending(g => g.Sum(t => t.Bytes.Bytes))
            .Select(g => $"{N(g.Sum(t => t.Elements))} × {g.Key.Name}"));

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

    /// <summary>Optimizer state bytes for the full model (share of it on this GPU); stateBytes = 4 for fp32 states, 2 for pure 16-bit.</summary>
    private static (long Bytes, string Text) OptimizerBytes(TensorInventory inv, double share, OptimizerKind o, int stateBytes)
    {
        long psi = (long)Math.Ceiling(inv.TotalParameters.Value * share);
        if (o != OptimizerKind.Adafactor)
        {
            return OptimizerBytesFlat(psi, o, stateBytes);
        }

        // Adafactor (β1 = None, HF default): per matrix [r, c] a row vector r and a column vector c; vectors keep a full second moment.
        long elems = 0;
        foreach (var t in inv.Parameters)
        {
            elems = checked(elems + (t.Shape.Length >= 2 ? t.StoredElements / t.Shape[^1] + t.Shape[^1] : t.Elements));
        }

        long bytes = (long)Math.Ceiling(elems * share) * stateBytes;
        return (bytes, $"Adafactor factored second moments: Σ (rows + cols) per matrix = {N(elems)} values × {stateBytes} B (no first moment)");
    }

    private static (long Bytes, string Text) OptimizerBytesFlat(long psi, OptimizerKind o, int stateBytes) => o switch
    {
        OptimizerKind.AdamW => (checked(psi * 2 * stateBytes), $"{N(psi)} × 2 moments × {stateBytes} B"),
        OptimizerKind.AdamW8Bit => (checked(psi * 2 + KvCache.CeilDiv(psi, 2048) * 2 * 4), $"{N(psi)} × 2 moments × 1 B + fp32 absmax per 2048"),
        OptimizerKind.SgdMomentum or OptimizerKind.Lion => (checked(psi * stateBytes), $"{N(psi)} × 1 momentum × {stateBytes} B"),
        OptimizerKind.Sgd => (0, "plain SGD: no state"),
        _ => (checked(psi * stateBytes), $"{N(psi)} × {stateBytes} B"),
    };

    /// <summary>LoRA trainable parameters: r × (d_in + d_out) per adapted matrix (Hu et al. 2021 §4), from the inventory's shapes.</summary>
    internal static (long Trainable, int Matrices) LoraParameters(TensorInventory inv, int rank, IReadOnlyList<string>? targets)
    {
        var set = new HashSet<TensorRole>();
        foreach (var raw in targets is null || targets.Count == 0 ? AllLinear : targets)
        {
            var tname = raw.Trim().ToLowerInvariant().Replace("_proj", "", StringComparison.Ordinal);
            switch (tname)
            {
                case "all" or "all-linear" or "all_linear":
                    set.UnionWith([TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnQkv, TensorRole.AttnOutput, TensorRole.FfnGate, TensorRole.FfnUp, TensorRole.FfnDown]);
                    break;
                case "q" or "query":
                    set.Add(TensorRole.AttnQ);
                    break;
                case "k" or "key":
                    set.Add(TensorRole.AttnK);
                    break;
                case "v" or "value":
                    set.Add(TensorRole.AttnV);
                    break;
                case "qkv" or "c_attn" or "query_key_value":
                    set.Add(TensorRole.AttnQkv);
                    break;
                case "o" or "out" or "output" or "dense":
                    set.Add(TensorRole.AttnOutput);
                    break;
                case "gate" or "w1":
                    set.Add(TensorRole.FfnGate);
                    break;
                case "up" or "w3" or "fc1" or "c_fc":
                    set.Add(TensorRole.FfnUp);
                    break;
                case "down" or "w2" or "fc2":
                    set.Add(TensorRole.FfnDown);
                    break;
                default:
                    throw new InvalidSettingException("--lora-targets", $"--lora-targets: expected q, k, v, o, gate, up, down, qkv or all; found '{raw}'.");
            }
        }

        if (set.Contains(TensorRole.AttnQ) || set.Contains(TensorRole.AttnK) || set.Contains(TensorRole.AttnV))
        {
            set.Add(TensorRole.AttnQkv);
        }

        long total = 0;
        int count = 0;
        foreach (var t in inv.Parameters)
        {
            if (t.Shape.Length < 2 || t.Layer is null || !set.Contains(TensorRoles.Of(t)) || !t.Name.EndsWith("weight", StringComparison.Ordinal))
            {
                continue;
            }

            long dIn = t.Shape[^1];
            long dOut = t.Elements / dIn; // stacked expert tensors count each expert's output rows
            total = checked(total + rank * (dIn + dOut));
            count++;
        }

        return (total, count);
    }

    private static void Activations(EstimatePlan p, bool lora)
    {
        var spec = p.Spec;
        var w = p.W;
        long s = p.Context, b = w.Batch, h = spec.Hidden, a = spec.Heads, t = p.Tp;
        long sb = checked(s * b);
        bool fp32 = p.ComputeType == DataType.F32;
        int scale = fp32 ? 2 : 1; // the formulas count 16-bit activations
        long inter = InferenceMemory.InterOf(spec);
        long attnDim = (long)spec.Heads * spec.HeadDim;
        long kvDim = (long)spec.KvHeads * spec.HeadDim;
        long rep, shard, scores;
        string kind;
        if (spec.Mlp == MlpKind.Gated)
        {
            // Llama-style (RMSNorm, SwiGLU, no dropout), memory-physics.md §4.3:
            // replicated: norm inputs 4h + qkv input 2h + mlp input 2h; sharded over TP: Q 2·a·d, K,V 4·kv·d, O 2·a·d, gate/up/act/down-in 8i;
            // eager attention: scores + softmax 2·a·s each (bf16).
            rep = 8 * h;
            shard = 2 * attnDim + 4 * kvDim + 2 * attnDim + 8 * inter;
            scores = 4 * a * s;
            kind = "Llama-style s·b·(8h + [4·a·d + 4·kv·d + 8i]/t)";
        }
        else
        {
            // GPT-style with dropout (Korthikanti et al. 2022 §4.1, Table 2): 10sbh replicated, (8h + 4i)·sb sharded (24sbh at i = 4h),
            // 5·a·s²·b attention scores, softmax and dropout.
            rep = 10 * h;
            shard = 8 * h + 4 * inter;
            scores = 5 * a * s;
            kind = "Korthikanti s·b·(10h + [8h + 4i]/t)";
        }

        bool dropScores = w.FlashAttentionKernels || w.Recompute != Recompute.None;
        if (!dropScores)
        {
            kind += spec.Mlp == MlpKind.Gated ? " + eager scores/softmax 4·a·s²·b/t" : " + scores/softmax/dropout 5·a·s²·b/t";
        }

        long perLayerPerToken = (w.SequenceParallel ? rep / t : rep) + shard / t + (dropScores ? 0 : scores / t);
        long full = checked(sb * perLayerPerToken * scale);
        int layers = spec.Layers + (spec.DecoderLayers ?? 0);
        long act;
        string formula;
        if (w.Recompute == Recompute.Full)
        {
            // Only each layer's input (2sbh) is kept; one layer is rematerialized at a time during backward.
            long ckpt = checked(layers * sb * 2 * h * scale / (w.SequenceParallel ? t : 1));
            act = checked(ckpt + full);
            formula = $"full recompute: {layers} layers × 2·s·b·h (layer inputs) + one layer's activations ({kind})";
        }
        else
        {
            act = checked(layers * full);
            formula = $"{layers} layers × {kind}" + (dropScores ? (w.Recompute == Recompute.Selective ? ", selective recompute drops the scores" : ", FlashAttention keeps no s×s scores") : "");
        }

        // Embedding output kept for backward.
        act = checked(act + sb * h * 2 * scale);
        formula += $"; s = {s}, b = {b}, h = {h}, i = {inter}" + (fp32 ? ", fp32 activations ×2" : "");
        if (w.Qlora || p.Format.Kind == WeightFormatKind.Bnb4)
        {
            long largest = p.Stored.Parameters.Where(x => x.Shape.Length >= 2 && x.Layer is not null).Select(x => x.Elements).DefaultIfEmpty(0).Max();
            act = checked(act + largest * 2);
            formula += $"; + one dequantized bf16 weight ({N(largest)} × 2 B)";
        }

        if (lora)
        {
            formula += "; frozen base layers still store activations for the input gradient";
        }

        p.Add("activations", act, act * w.Gpus, formula, "Korthikanti et al. 2022 §4 Table 2; memory-physics.md §4.3");

        if (!spec.IsEncoderOnly)
        {
            // bf16 logits + fp32 upcast + fp32 gradient of the cross-entropy input, vocab-parallel over TP.
            long logits = checked(sb * spec.Vocab * 10 / t);
            p.Add("logits", logits, logits * w.Gpus, $"s·b·V·(2 + 4 + 4) B / t = {N(sb)} tokens × vocab {N(spec.Vocab)} × 10 B (bf16 logits, fp32 upcast, fp32 grad)",
                "memory-physics.md §4.3 (cross-entropy peak)");
        }
    }
}
