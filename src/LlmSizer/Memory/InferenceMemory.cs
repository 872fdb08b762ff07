using System.Collections.Frozen;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using static LlmSizer.Memory.MemoryEstimator;

namespace LlmSizer.Memory;

/// <summary>Inference memory per engine profile. Bytes are computed here from the prepared sums; every formula is a
/// closure, formatted only when read.</summary>
internal static class InferenceMemory
{
    private static readonly DataType[] LlamaCppKvTypes =
        [DataType.F32, DataType.F16, DataType.BF16, DataType.Q8_0, DataType.Q5_1, DataType.Q5_0, DataType.Q4_1, DataType.Q4_0, DataType.IQ4_NL];

    private static readonly DataType[] VllmKvTypes = [DataType.F32, DataType.F16, DataType.BF16, DataType.F8_E4M3, DataType.F8_E5M2];

    private static readonly DataType[] HfKvTypes = [DataType.F32, DataType.F16, DataType.BF16];

    private const string VllmPreallocationWarning =
        "vLLM pre-allocates gpu_memory_utilization × GPU memory and fills what is left with KV cache; nvidia-smi shows that, not this requirement.";

    public static MemoryEstimate Estimate(EstimatePlan p)
    {
        p.KvType = KvType(p);
        switch (p.Engine)
        {
            case InferenceEngine.LlamaCpp:
                LlamaCpp(p);
                return p.Build(LlamaCppAssumptions);
            case InferenceEngine.Hf:
                Hf(p);
                return p.Build(HfAssumptions);
            default:
                Vllm(p);
                return p.Build(VllmAssumptions);
        }
    }

    private static List<Assumption> Common(EstimatePlan p)
    {
        var list = p.CommonAssumptions();
        list.Add(new("engine", WorkloadNames.Name(p.Engine), p.W.Engine is null, p.W.Engine is null ? "llamacpp for GGUF, vllm otherwise" : null));
        list.Add(new("kv_dtype", p.KvType.Name.ToLowerInvariant(), p.W.KvType is null,
            p.W.KvType is null ? (p.Engine == InferenceEngine.LlamaCpp ? "llama.cpp's f16" : "the compute dtype") : null));
        return list;
    }

    private static IReadOnlyList<Assumption> VllmAssumptions(EstimatePlan p)
    {
        var list = Common(p);
        list.Add(new("block_size", (long)VllmBlockSize));
        bool v1 = p.W.Vllm.Profile == VllmProfile.V1;
        string gpuRule = p.W.GpuMemory is null ? "GPU memory not given: the < 70 GiB value" : p.W.GpuMemory.Value.Bytes >= 70L << 30 ? "GPU ≥ 70 GiB" : "GPU < 70 GiB";
        list.Add(new("vllm_profile", v1 ? "v1" : "v0", p.W.Vllm.Profile == VllmSettings.Default.Profile,
            v1 ? "vLLM V1, the only engine since 0.10 (engine vllm-v0 for older deployments)" : "vLLM V0 (engine vllm-v0)"));
        list.Add(new("max_num_batched_tokens", p.MaxBatched, p.W.Vllm.MaxBatchedTokens is null, p.W.Vllm.MaxBatchedTokens is null
            ? v1 ? $"vllm serve default, {gpuRule} (arg_utils.py get_batch_defaults; chunked prefill)" : "max(context, 2048)"
            : null));
        list.Add(new("max_num_seqs", (long)p.MaxSeqs, p.W.Vllm.MaxSeqs is null, p.W.Vllm.MaxSeqs is null ? v1 ? $"vllm serve default, {gpuRule}" : "vLLM V0 default" : null));
        list.Add(new("gpu_util", p.W.Vllm.GpuUtilization, p.W.Vllm.GpuUtilization == VllmSettings.Default.GpuUtilization));
        if (p.Tp > 1)
        {
            list.Add(new("interconnect", WorkloadNames.Name(p.W.Vllm.Interconnect ?? GpuInterconnect.NvLink), p.W.Vllm.Interconnect is null,
                p.W.Vllm.Interconnect is null ? "not given: NVLink, whose NCCL buffers are the larger" : null));
        }

        if (p.W.Vllm.MaxMultimodalTokens is { } mm)
        {
            list.Add(new("profile_seqs", p.ProfileSeqs, false, $"max_num_batched_tokens // max_mm_tokens {N(mm)}"));
        }
        else if (DefaultMultimodalTokens(p.Spec, p.W.Vllm.Profile, p.W.Images) is { } dm)
        {
            list.Add(new("max_mm_tokens", dm, true, v1
                ? $"one image at the vision tower's input size ({N(p.Spec.Vision!.ImageTokens)} tokens): vLLM profiles its largest item"
                : $"limit_mm_per_prompt {Math.Max(1, p.W.Images)} × {N(p.Spec.Vision!.ImageTokens)} tokens per image: vLLM V0 profiles every sequence with its largest prompt"));
            list.Add(v1
                ? new("profile_mm_items", p.ProfileMultimodalItems, false, $"max(max_num_batched_tokens, {N(dm)}) // {N(dm)} images in the encoder's profile batch (MultiModalBudget)")
                : new("profile_seqs", p.ProfileSeqs, false, $"max_num_batched_tokens // max_mm_tokens {N(dm)}"));
        }

        AddOverhead(list, p);
        return list;
    }

    private static IReadOnlyList<Assumption> HfAssumptions(EstimatePlan p)
    {
        var list = Common(p);
        list.Add(new("attention", p.W.Attention == AttentionKernel.Eager ? "eager" : "sdpa/flash", p.W.Attention is null));
        AddOverhead(list, p);
        return list;
    }

    private static IReadOnlyList<Assumption> LlamaCppAssumptions(EstimatePlan p)
    {
        var list = Common(p);
        var l = p.W.LlamaCpp;
        list.Add(new("n_ctx", p.NCtx, false, $"context × batch, KV cells padded to {LlamaCppCtxPad}: {N(p.KvCells)}"));
        list.Add(new("n_seq_max", (long)p.W.Batch));
        list.Add(new("ubatch", p.Ubatch, l.Ubatch == LlamaCppSettings.Default.Ubatch));
        list.Add(new("flash_attn", WorkloadNames.Name(l.FlashAttention), l.FlashAttention == FlashAttention.Auto, l.FlashAttention == FlashAttention.Auto ? "on" : null));
        list.Add(new("swa_full", l.SwaFull, !l.SwaFull));
        AddOverhead(list, p);
        return list;
    }

    private static void AddOverhead(List<Assumption> list, EstimatePlan p) =>
        list.Add(new("overhead", Mib(p.OverheadBytes), p.W.Overhead is null));

    private static DataType KvType(EstimatePlan p)
    {
        var allowed = p.Engine switch { InferenceEngine.LlamaCpp => LlamaCppKvTypes, InferenceEngine.Hf => HfKvTypes, _ => VllmKvTypes };
        if (p.W.KvType is not { } t)
        {
            return p.Engine == InferenceEngine.LlamaCpp ? DataType.F16 : p.ComputeType;
        }

        if (Array.IndexOf(allowed, t) < 0)
        {
            throw new InvalidSettingException(SettingNames.KvDtype,
                $"expected one of {string.Join(", ", allowed.Select(a => a.Name.ToLowerInvariant()))} for engine {WorkloadNames.Name(p.Engine)}; found '{t.Name.ToLowerInvariant()}'.");
        }

        return t;
    }

    private static Func<string> WeightFormula(EstimatePlan p, long perGpu) => () =>
        p.Stored.Formula + (p.Tp * p.Pp > 1 ? $", split over tp {p.Tp} × pp {p.Pp} (largest stage {Gib(perGpu)})" : "");

    private static void Overhead(EstimatePlan p, long defaultBytes, Func<string> why, string source = "memory-physics.md §5 (CUDA context, cuBLAS/NCCL workspaces)")
    {
        long o = p.W.Overhead?.Bytes ?? defaultBytes;
        p.OverheadBytes = o;
        p.Add("overhead", o, checked(o * p.Gpus), p.W.Overhead is null ? why : static () => "overridden by the overhead setting", source);
    }

    // ---------------------------------------------------------------- vLLM
    private static void Vllm(EstimatePlan p)
    {
        var spec = p.Spec;
        var kvType = p.KvType;
        var (wGpu, wReplica) = p.WeightShares();
        p.Add("weights", wGpu, checked(wReplica * p.Dp), WeightFormula(p, wGpu), "exact tensor sizes (safetensors/GGUF layouts; DataType table)");

        int ctx = p.Context, b = p.W.Batch;
        var vllm = p.W.Vllm;
        var profile = vllm.Profile;
        long? gpuMemoryBytes = p.W.GpuMemory?.Bytes;
        long maxBatched = vllm.MaxBatchedTokens ?? VllmDefaults.MaxBatchedTokens(profile, ctx, gpuMemoryBytes);
        int maxSeqs = vllm.MaxSeqs ?? VllmDefaults.MaxSeqs(profile, gpuMemoryBytes);
        p.MaxBatched = maxBatched;
        p.MaxSeqs = maxSeqs;

        // Per sequence: cdiv(len, block) blocks per full-attention layer; SWA layers per SlidingWindowSpec.max_memory_usage_bytes:
        // (cdiv(min(window − 1 + max_num_batched_tokens, max_model_len), block) + 1) blocks (vllm/v1/kv_cache_interface.py).
        long fullTokens = KvCache.CeilDiv(ctx, VllmBlockSize) * VllmBlockSize;
        long swaTokens = spec.SlidingWindow is { } sw
            ? Math.Min(fullTokens, (KvCache.CeilDiv(Math.Min(sw - 1 + maxBatched, ctx), VllmBlockSize) + 1) * VllmBlockSize)
            : fullTokens;
        var (kvGpu, kvReplica, perTokenFull) = KvPerStage(p, fullTokens, swaTokens);
        long kvGpuTotal = checked(kvGpu * b);
        p.Add("kv_cache", kvGpuTotal, checked(kvReplica * b * p.Dp),
            () => $"{b} seq × {N(fullTokens)} tokens (context {N(ctx)} rounded up to {VllmBlockSize}-token blocks) × {N(perTokenFull)} B/token/GPU" +
                  $" ({KvText(p, kvType)})" + (spec.SlidingWindow is not null && swaTokens < fullTokens ? $"; sliding-window layers hold {N(swaTokens)} tokens" : ""),
            "vllm/v1/kv_cache_interface.py page_size_bytes; memory-physics.md §1.1, §1.5");
        CrossAttention(p, blockTokens: VllmBlockSize);
        Recurrent(p, llamaCpp: false);

        // Profile-run activation peak (torch.cuda.max_memory_allocated minus weights). The dummy forward over
        // max_num_batched_tokens tokens and the sampler over max_num_seqs sequences run one after the other, so the peak is
        // the larger of the two stages, not their sum.
        //
        // Layer stage, from the tensors alive in vLLM's Llama forward (vllm/model_executor/models/llama.py: the decoder
        // loop keeps the previous layer's output while the layer runs; fused add-RMSNorm works in place; LlamaMLP rebinds
        // x so gate_up is freed after SiluAndMul):
        //   MLP:       previous output h + residual h + attention output (normalized, MLP input) h + gate_up 2i/t + act i/t
        //   attention: previous output h + residual h + qkv (a + 2kv)·d/t + attention output a·d/t + o_proj output h
        // Check: Llama-3.1-8B, MLP stage 3·4096 + 3·14336 = 55,296 elements × 2 B = 110,592 B/token; vllm #10517 logs
        // 2.07 GiB at 20,000 and 2.99 GiB at 29,000 batched tokens: slope 0.92 GiB / 9,000 = 109,760 B/token.
        //
        // Sampler stage: the final hidden states of all tokens (h per token) plus V0's top-k/top-p sampler over
        // max_num_seqs rows of the full vocabulary (profile_run uses SamplingParams(top_p=0.99, top_k=vocab−1); logits are
        // gathered to the driver rank, so TP does not divide it). Bytes alive per vocab entry inside _apply_top_k_top_p
        // (vllm/model_executor/layers/sampler.py, 2024): bf16 logits 2 + fp32 logits 4 + logits_sort 4 + logits_idx
        // (int64) 8 + top_k_mask 1 + probs_sort 4 + probs_sum 4 + top_p_mask 1 + logits_idx_inv (int64) 8 + gathered
        // logits 4 = 40 B. Check: Llama-3-8B, 256 × 128,256 × 40 B = 1.22 GiB (+ 8192 × 4096 × 2 B = 0.06 GiB) vs the
        // 1.26 GiB logged at TP1 and TP2 (vllm PR #10511), where the layer stage (0.84 / 0.52 GiB) is smaller.
        int cb = p.ComputeType.BlockBytes;
        int t = p.Tp;
        long inter = InterOf(spec);
        long h = spec.Hidden;
        long mlpElems = checked(3 * h + 3 * inter / t);
        long attnElems = checked(3 * h + ((long)(spec.Heads + 2 * spec.KvHeads) * spec.HeadDim + (long)spec.Heads * spec.HeadDim) / t);
        // Multimodal models: profile_run caps the dummy sequences at max_num_batched_tokens // max_mm_tokens (at least 1) so
        // each carries a largest image (vLLM V0 worker/model_runner.py profile_run), and the wrapper's forward (llava.py,
        // pixtral.py) keeps inputs_embeds (h per token) and the encoder output (max_mm_tokens × h per sequence) alive
        // while the language model runs.
        // V1's dummy run spreads max_num_batched_tokens over min(max_num_seqs, max_num_batched_tokens) requests, and its
        // sampler run takes one row per request (vllm/v1/worker/gpu_model_runner.py _dummy_run / _dummy_sampler_run).
        long seqs = profile == VllmProfile.V1 ? Math.Min(maxSeqs, maxBatched) : maxSeqs;
        long mmExtra = 0, encoderOut = 0, visionStage = 0, mmItems = 0;
        // A vision-language model is profiled with its largest image whether or not the user's prompts carry one: the
        // tokens per item come from max_mm_tokens when given, else from the vision config (one image at the tower's
        // input size; V0 multiplies by limit_mm_per_prompt, which serving --images N per prompt needs, default 1).
        long? mmTokens = vllm.MaxMultimodalTokens ?? DefaultMultimodalTokens(spec, profile, p.W.Images);
        if (mmTokens is { } mm)
        {
            if (profile == VllmProfile.V0)
            {
                seqs = Math.Max(1, Math.Min(seqs, maxBatched / mm));
                mmExtra = h;
                encoderOut = checked(seqs * mm * h * cb);
                mmItems = vllm.MaxMultimodalTokens is null ? checked(seqs * Math.Max(1, p.W.Images)) : 0;
            }
            else
            {
                // V1 (gpu_model_runner.py profile_run): the encoder runs once on max_items_per_batch dummy items of the
                // modality with the most tokens, MultiModalBudget's max(max_num_batched_tokens, tokens per item) // tokens
                // per item (limit_mm_per_prompt defaults to 999 in V1, so the budget binds), and its outputs stay in the
                // encoder cache while the language model's dummy run and the sampler run.
                mmItems = Math.Max(1, Math.Max(maxBatched, mm) / mm);
                encoderOut = checked(mmItems * mm * h * cb);
            }

            if (spec.Vision is { Patches: > 0 } vision && vllm.MaxMultimodalTokens is null)
            {
                // The tower's forward over its patches (SDPA/flash attention, no s × s scores): per patch the larger of the
                // MLP stage (residual + normed input 2h_v, fc1 output and activation 2i_v) and the attention stage
                // (residual, normed input, q/k/v 3h_v, attention output: 6h_v).
                long perPatch = Math.Max(2L * vision.Hidden + 2L * vision.Intermediate, 6L * vision.Hidden);
                visionStage = checked(mmItems * vision.Patches * perPatch * cb);
            }
        }

        if (mmTokens is null && spec.Vision is { ImageTokens: 0, CrossAttentionLayers: 0 } dynamic)
        {
            p.Warn($"{dynamic.Kind} takes images at their own resolution, so the image batch of vLLM's profile run (up to the processor's max_pixels) is not included: set {SettingNames.MaxMultimodalTokens} to the largest image's tokens.");
        }

        p.ProfileSeqs = seqs;
        p.ProfileMultimodalItems = mmItems;
        long perTok = checked((Math.Max(mlpElems, attnElems) + mmExtra) * cb);
        bool v1Cache = profile == VllmProfile.V1;
        long layer = checked(maxBatched * perTok + (v1Cache ? 0 : encoderOut));
        // An encoder-only model is a pooling model in vLLM: the profile run pools hidden states and never samples.
        bool pooling = spec.IsEncoderOnly;
        long sampler = pooling ? 0 : checked(maxBatched * h * cb + seqs * spec.Vocab * VllmSamplerBytesPerLogit);
        long act = Math.Max(visionStage, checked(Math.Max(layer, sampler) + (v1Cache ? encoderOut : 0)));
        p.Add("activations", act, checked(act * p.Gpus),
            () => $"max({(visionStage > 0 ? $"vision stage: {N(mmItems)} images × {N(spec.Vision!.Patches)} patches × max(2h_v + 2i_v, 6h_v) × {cb} B = {Gib(visionStage)}; " : "")}" +
                  $"layer stage: {N(maxBatched)} batched tokens × (max(MLP 3h + 3i/t, attention 3h + (2a + 2kv)·d/t){(mmExtra > 0 ? " + h inputs_embeds" : "")}) × {cb} B = {N(perTok)} B/token{(encoderOut > 0 && !v1Cache ? $" + encoder output {Gib(encoderOut)}" : "")} = {Gib(layer)}; " +
                  (pooling
                      ? "no sampler stage: an encoder-only model runs as a pooling model"
                      : $"sampler stage: {N(maxBatched)} × h × {cb} B + {seqs} seqs (max_num_seqs) × vocab {N(spec.Vocab)} × {VllmSamplerBytesPerLogit} B (top-k/top-p sort, fp32) = {Gib(sampler)}") +
                  (encoderOut > 0 && v1Cache ? $", each with the encoder cache of {N(mmItems)} × {N(mmTokens!.Value)} tokens × h × {cb} B = {Gib(encoderOut)} held" : "") + ")",
            "vLLM profile run (llama.py forward liveness; sampler.py _apply_top_k_top_p; V1 gpu_model_runner.py profile_run and MultiModalBudget); memory-physics.md §3.2; vllm #10517, PR #10511");
        // Non-torch memory as vLLM counts it (0.7 and later, V0 and V1 alike): the device memory in use minus torch's
        // reserved memory, as the increase over the snapshot taken after CUDA initialisation (VllmRuntimeMemory).
        var link = vllm.Interconnect;
        long runtime = VllmRuntimeMemory.RuntimeBytes;
        long comm = VllmRuntimeMemory.CommunicationBytes(p.Tp, link);
        string linkName = link == GpuInterconnect.Pcie ? "PCIe" : link is null ? "NVLink (assumed; interconnect not given)" : "NVLink";
        Overhead(p, checked(runtime + comm), () => $"non-torch memory vLLM counts (device use − torch reserved, over the post-CUDA-init snapshot): CUDA modules and cuBLAS handles {Gib(runtime)}" +
            (comm > 0 ? $" + NCCL and custom all-reduce buffers at TP {p.Tp} over {linkName} {Gib(comm)}" : ""),
            "vllm/utils memory_profiling (PRs #10511, #11809, #19312); medians and differences of logged non_torch_memory (VllmRuntimeMemory)");
        p.Warn(VllmPreallocationWarning);

        // The CUDA context precedes the baseline snapshot and the CUDA graphs are captured after the KV cache is allocated
        // (V0 model_runner.capture_model, V1 gpu_model_runner.capture_model): both live in the 1 − gpu_memory_utilization
        // headroom.
        int layersHere = (int)KvCache.CeilDiv(spec.CachedLayers, p.Pp);
        int graphs = VllmRuntimeMemory.CapturedGraphs(profile, maxSeqs, maxBatched);
        long graphBytes = VllmRuntimeMemory.CudaGraphBytes(profile, layersHere, maxSeqs, maxBatched);
        long outside = checked(VllmRuntimeMemory.CudaContextBytes + graphBytes);
        p.Warn($"vLLM also needs the CUDA context (about {Gib(VllmRuntimeMemory.CudaContextBytes)}) and its CUDA graphs (about {Gib(graphBytes)}: {graphs} graphs × {layersHere} layers" +
               $"{(p.Tp > 1 ? "; more at TP > 1, where logs show 0.5–2.7 GiB" : "")}; {Fit.EngineCommandLines.Flag("vllm", "enforce_eager")}: none) outside gpu_memory_utilization: keep at least {Gib(outside)} of each GPU free.");
        WarnLlamaCppSettings(p);
    }

    // The tokens of the largest multimodal item vLLM profiles by default: one image at the vision tower's input size (V0:
    // times limit_mm_per_prompt, which --images N per prompt requires); none for dynamic-resolution towers (Qwen2-VL:
    // give max_mm_tokens) and cross-attention models (Llama 3.2 Vision caches image tokens instead).
    private static long? DefaultMultimodalTokens(ArchitectureSpec spec, VllmProfile profile, int images) =>
        spec.Vision is { ImageTokens: > 0, CrossAttentionLayers: 0 } v
            ? checked((profile == VllmProfile.V0 ? Math.Max(1, images) : 1) * v.ImageTokens)
            : null;

    private static void WarnLlamaCppSettings(EstimatePlan p)
    {
        if (p.W.LlamaCpp != LlamaCppSettings.Default)
        {
            p.Warn("the llama.cpp settings (ubatch, flash_attention, swa_full) do not apply to engine vllm and are ignored.");
        }
    }

    // ---------------------------------------------------------------- Hugging Face generate()
    private static void Hf(EstimatePlan p)
    {
        var spec = p.Spec;
        var kvType = p.KvType;
        var (wGpu, wReplica) = p.WeightShares();
        p.Add("weights", wGpu, checked(wReplica * p.Dp), WeightFormula(p, wGpu), "exact tensor sizes");
        int ctx = p.Context, b = p.W.Batch;
        // Gemma 2/3 and Cohere 2 generate with a HybridCache whose sliding layers hold at most the window
        // (transformers cache_utils.py HybridCache / SlidingWindowLayer); other models' DynamicCache keeps every token.
        bool hybrid = spec.SlidingWindow is not null && HfHybridCacheFamilies.Contains(spec.Family);
        long swaTokens = hybrid ? Math.Min(ctx, spec.SlidingWindow!.Value) : ctx;
        var (kvGpu, kvReplica, perTok) = KvPerStage(p, ctx, swaTokens);
        long kv = checked(kvGpu * b);
        p.Add("kv_cache", kv, checked(kvReplica * b * p.Dp),
            () => $"{(hybrid ? "HybridCache" : "DynamicCache")}: {b} seq × {N(ctx)} tokens × {N(perTok)} B/token ({KvText(p, kvType)})" +
                  (hybrid && swaTokens < ctx ? $"; sliding-window layers hold {N(swaTokens)} tokens" : ""),
            "transformers DynamicCache grows per token, no padding (HybridCache caps sliding layers at the window); memory-physics.md §1.5");
        EncoderDecoderCrossAttention(p, kvType);
        CrossAttention(p, blockTokens: 1);
        Recurrent(p, llamaCpp: false);

        // Prefill transient: one layer's working set over the prompt, plus eager attention scores when not using SDPA/FA.
        int cb = p.ComputeType.BlockBytes;
        long inter = InterOf(spec);
        long perToken = checked((4L * spec.Hidden + (long)(spec.Heads + 2 * spec.KvHeads) * spec.HeadDim + 3 * inter) * cb);
        long act = checked((long)b * ctx * perToken / p.Tp);
        bool eager = p.W.Attention == AttentionKernel.Eager;
        long scores = 0;
        if (eager)
        {
            scores = checked(2L * b * (spec.Heads / p.Tp) * ctx * ctx * cb);
            act = checked(act + scores);
        }

        p.Add("activations", act, checked(act * p.Gpus),
            () => $"prefill of {b} × {N(ctx)} tokens × (4h + (a + 2kv)·d + 3i) × {cb} B" + (eager ? $" + eager attention scores and softmax 2 × b·a·s² × {cb} B = {Gib(scores)}" : ""),
            "memory-physics.md §3.3 (llm_tutorial_optimization.md)");
        long logits = checked(2L * b * spec.Vocab * 4);
        p.Add("logits", logits, checked(logits * p.Gpus), () => $"{b} seq × vocab {N(spec.Vocab)} × 4 B × 2 (fp32 logits of the last position + softmax; logits_to_keep = 1)",
            "transformers generate() with logits_to_keep; memory-physics.md §3.3");
        Overhead(p, DefaultOverheadBytes, static () => "CUDA context and cuBLAS workspace (512 MiB, lazy module loading); not counted by torch.cuda.max_memory_allocated");
    }

    /// <summary>An encoder–decoder model (T5, BART, Whisper) in transformers keeps an <c>EncoderDecoderCache</c>: beside
    /// the decoder's self-attention cache, each decoder layer's cross-attention K and V of the encoder output, computed
    /// once at the first step and kept for the whole generation (modeling_t5.py T5Attention with
    /// <c>is_cross_attention</c>; cache_utils.py EncoderDecoderCache). The encoder reads the prompt — the context — or,
    /// for Whisper, its fixed 30-second window of <c>max_source_positions</c> (1,500) frames.</summary>
    private static void EncoderDecoderCrossAttention(EstimatePlan p, DataType kvType)
    {
        var spec = p.Spec;
        if (spec.DecoderLayers is null || spec.IsEncoderOnly)
        {
            return;
        }

        long encoderTokens = spec.Details is WhisperDetails whisper ? whisper.SourcePositions : p.Context;
        int b = p.W.Batch;
        // Cross-attention projects to the decoder's heads and head size, so a token costs what a self-attention token does.
        var (gpu, replica, perTok) = KvPerStage(p, encoderTokens, encoderTokens);
        long cross = checked(gpu * b);
        p.Add("cross_attention_kv", cross, checked(replica * b * p.Dp),
            () => $"EncoderDecoderCache cross-attention: {b} seq × {N(encoderTokens)} encoder tokens" +
                  (spec.Details is WhisperDetails ? " (max_source_positions: Whisper's 30 s window)" : " (the prompt: context)") +
                  $" × {N(perTok)} B/token ({KvText(p, kvType)})",
            "transformers cache_utils.py EncoderDecoderCache (cross_attention_cache); modeling_t5.py / modeling_whisper.py cross-attention");
    }

    // ---------------------------------------------------------------- llama.cpp
    private static void LlamaCpp(EstimatePlan p)
    {
        var spec = p.Spec;
        var kvType = p.KvType;
        var settings = p.W.LlamaCpp;
        int b = p.W.Batch;
        long nCtx = checked((long)p.Context * b);
        long kvSize = KvCache.Pad(nCtx, LlamaCppCtxPad);
        long ub = Math.Min(settings.Ubatch, nCtx); // n_ubatch ≤ n_batch ≤ n_ctx (llama-context.cpp)
        p.NCtx = nCtx;
        p.KvCells = kvSize;
        p.Ubatch = ub;
        bool quantV = kvType.BlockElements > 1;
        bool fa = settings.FlashAttention != FlashAttention.Off;
        if (quantV && settings.FlashAttention == FlashAttention.Off)
        {
            throw new InvalidSettingException(SettingNames.KvDtype,
                $"llama.cpp refuses a quantized V cache without flash attention (\"V cache quantization requires flash_attn\"); expected f16, bf16 or f32 with flash_attention off; found {kvType.Name.ToLowerInvariant()}.");
        }

        if (quantV)
        {
            p.Warn($"a {kvType.Name.ToLowerInvariant()} V cache needs flash attention: llama.cpp refuses to create the context without it (older builds silently used f16).");
        }

        if (settings.FlashAttention == FlashAttention.Auto)
        {
            p.Warn("flash attention auto is assumed to resolve to on (CPU, CUDA and Metal support it); a device without it uses the larger non-FA compute buffer.");
        }

        if (p.W.Vllm != VllmSettings.Default)
        {
            p.Warn("the vLLM settings (gpu_utilization, max_batched_tokens, max_seqs, max_multimodal_tokens) do not apply to engine llamacpp and are ignored.");
        }

        // Weights: the model buffer on the GPUs holds everything but token_embd, which llama.cpp keeps in host memory
        // (the input layer is always on the CPU; e.g. 1640.62 MiB CPU buffer for Command-R, llama.cpp PR #6122).
        var (embd, stageMax, device) = p.Stored.LlamaCppShares(p.Pp);
        p.Add("weights", stageMax, checked(device * p.Dp), () => WeightFormula(p, stageMax)() + $"; token_embd ({Mib(embd)}) stays in host memory",
            "llama.cpp model buffer = Σ ggml_nbytes of the tensors on the device (src/llama-model.cpp)");
        p.Add("host_weights", embd, checked(embd * p.Dp), static () => "token_embd in the CPU model buffer (llama.cpp keeps the input embedding on the host)",
            "llama.cpp src/llama-model.cpp (dev_input = CPU); memory-physics.md §7 item 11", onDevice: false);

        // KV: one K and one V tensor per layer, kv_size cells; SWA layers get
        // size_swa = GGML_PAD(min(n_ctx, n_swa × n_seq_max + n_ubatch), 256) unless --swa-full (src/llama-kv-cache-iswa.cpp).
        // Only architectures llama.cpp builds with a sliding-window cache get one: Mistral-7B-v0.1 converts to plain
        // "llama" (convert_hf_to_gguf.py maps MistralForCausalLM to LlamaModel) and caches every cell.
        bool llamaSwa = spec.SlidingWindow is not null && LlamaCppSlidingFamilies.Contains(spec.Family);
        long swaSize = spec.SlidingWindow is { } sw && llamaSwa && !settings.SwaFull
            ? KvCache.Pad(Math.Min(kvSize, checked((long)sw * b + ub)), LlamaCppCtxPad)
            : kvSize;
        if (spec.SlidingWindow is not null && !llamaSwa)
        {
            p.Warn($"llama.cpp has no sliding-window cache for {spec.Family} (the GGUF is a plain decoder): every layer caches the full context.");
        }

        // llama.cpp's pipeline stages hold disjoint layers: the total is the sum of the stages (kvReplica), not one stage.
        var (kvGpu, kvReplica, perTok) = KvPerStage(p, kvSize, swaSize);
        p.Add("kv_cache", kvGpu, checked(kvReplica * p.Dp),
            () => $"{N(kvSize)} cells × {N(perTok)} B/cell ({KvText(p, kvType)})" + (llamaSwa ? $"; sliding-window layers {N(swaSize)} cells" : ""),
            "llama.cpp src/llama-kv-cache.cpp (ggml_row_size(type, n_embd_k_gqa) per cell and layer); memory-physics.md §1.1, §1.5");
        Recurrent(p, llamaCpp: true);

        // Output buffer: n_outputs_max (= n_seq_max) × n_vocab × 4 B of logits, in host memory (llama-context.cpp output_reserve).
        long output = checked((long)b * spec.Vocab * 4);
        p.Add("output_buffer", output, checked(output * p.Dp), () => $"{b} seq × vocab {N(spec.Vocab)} × 4 B (f32 logits), host memory",
            "llama.cpp src/llama-context.cpp output_reserve", onDevice: false);

        var (compute, cformula) = LlamaCppCompute.Bytes(spec, kvSize, ub, fa, quantV, swaSize);
        bool copies = p.Pp > 1; // GGML_SCHED_MAX_COPIES = 4 with pipeline parallelism (llama.cpp PR #6122)
        p.Add("compute_buffer", compute, checked(compute * p.Pp * p.Dp), () => cformula() + (copies ? " (pipeline parallel: n_copies = 4 on the inputs)" : ""),
            "llama.cpp ggml_backend_sched_reserve worst-case graph; memory-physics.md §3.1");
        Overhead(p, DefaultOverheadBytes, static () => "CUDA context (512 MiB, lazy module loading); llama.cpp's own buffers are exact");
    }

    /// <summary>Cross-attention layers (Llama 3.2 Vision) cache K and V of every image token of a sequence, not of its text:
    /// images × tokens per image × cross layers × 2 × kv heads × head_dim per sequence (vLLM: in 16-token blocks, as
    /// its cross-attention KV spec; transformers: the cross-attention layers' cache entries).</summary>
    private static void CrossAttention(EstimatePlan p, int blockTokens)
    {
        var spec = p.Spec;
        if (spec.Vision is not { CrossAttentionLayers: > 0 } vision || p.ImageTokens == 0)
        {
            return;
        }

        long tokens = KvCache.CeilDiv(p.ImageTokens, blockTokens) * blockTokens;
        long kv = KvCache.KvHeadsPerRank(spec.KvHeads, p.Tp);
        long perToken = checked(vision.CrossAttentionLayers * (p.KvType.SizeOf(kv * spec.HeadDim).Bytes + p.KvType.SizeOf(kv * spec.VHeadDim).Bytes));
        long perSeq = checked(tokens * perToken);
        long perGpu = checked((p.Pp == 1 ? perSeq : KvCache.CeilDiv(perSeq, p.Pp)) * p.W.Batch);
        int b = p.W.Batch;
        p.Add("cross_attention_kv", perGpu, checked(perGpu * p.Gpus),
            () => $"{b} seq × {N(tokens)} image tokens ({p.W.Images} × {N(vision.ImageTokens)}{(blockTokens > 1 ? $", rounded up to {blockTokens}-token blocks" : "")}) × " +
                  $"{vision.CrossAttentionLayers} cross-attention layers × 2 × {kv} kv heads × head_dim {spec.HeadDim} × {p.KvType.Name} = {N(perToken)} B/token",
            "transformers MllamaTextCrossAttention (K, V from the vision tokens); vllm/v1/kv_cache_interface.py CrossAttentionSpec");
    }

    /// <summary>State-space and linear-attention layers keep a fixed recurrent state per sequence (conv + SSM state),
    /// whatever the context: llama.cpp in F32 (llama-model.cpp hard-wires recurrent_type_k/v = GGML_TYPE_F32; one cell per
    /// sequence, llama-memory-recurrent.cpp), vLLM and transformers in the model dtype (mamba_cache_dtype and
    /// mamba_ssm_cache_dtype "auto"). See <see cref="RecurrentState"/> for the shapes and sources.</summary>
    private static void Recurrent(EstimatePlan p, bool llamaCpp)
    {
        var spec = p.Spec;
        if (spec.Ssm is null && spec.LinearAttention is null)
        {
            return;
        }

        var type = llamaCpp ? DataType.F32 : p.ComputeType;
        long perSeq = RecurrentState.BytesPerSequence(spec, type, type, p.Tp).Bytes;
        long total = checked(perSeq * p.W.Batch);
        // Pipeline stages hold their own layers' states: the largest stage holds at most ⌈layers / pp⌉ of them.
        long perGpu = p.Pp == 1 ? total : KvCache.CeilDiv(total, p.Pp);
        int b = p.W.Batch;
        // The total is every stage's states on every rank of every replica (stages hold disjoint layers).
        p.Add("recurrent_state", perGpu, checked(total * p.Tp * p.Dp),
            () => $"{b} seq × {N(perSeq)} B/seq: SSM/linear-attention layers × ((d_conv − 1) × (d_inner + 2·G·N) conv + N × d_inner state) × {type.Name}" +
                  (p.Tp > 1 ? $", split over tp {p.Tp}" : "") + (p.Pp > 1 ? $", stages of ⌈1/{p.Pp}⌉" : ""),
            llamaCpp ? "llama.cpp src/llama-hparams.cpp n_embd_r/n_embd_s, llama-memory-recurrent.cpp (F32 R/S per sequence)"
                     : "vLLM MambaStateShapeCalculator (mamba_utils.py), cache dtype auto = model dtype");
    }

    /// <summary>Families llama.cpp runs with a sliding-window KV cache (src/llama-model.cpp sets <c>swa_type</c> for
    /// LLM_ARCH_GEMMA2, GEMMA3, GEMMA3N, GEMMA4, COHERE2, OPENAI_MOE (gpt-oss), EXAONE4 and LLAMA4's chunked attention).</summary>
    internal static readonly FrozenSet<string> LlamaCppSlidingFamilies =
        new[] { "gemma2", "gemma3", "gemma3_text", "gemma3n", "gemma4", "gemma4_text", "cohere2", "gpt_oss", "exaone4", "llama4" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Families whose transformers generation cache caps sliding layers at the window (HybridCache; for Gemma 4
    /// the <c>DynamicCache(config=...)</c> that Gemma4TextModel.forward builds, with a sliding-window layer per
    /// <c>sliding_attention</c> entry of <c>layer_types</c>).</summary>
    internal static readonly FrozenSet<string> HfHybridCacheFamilies =
        new[] { "gemma2", "gemma3", "gemma3_text", "gemma4", "gemma4_text", "cohere2" }.ToFrozenSet(StringComparer.Ordinal);

    // ---------------------------------------------------------------- shared
    internal static long InterOf(ArchitectureSpec spec) =>
        spec.Moe is { } moe ? Math.Max(spec.Intermediate, moe.ExpertIntermediate * moe.ActiveExperts + moe.SharedIntermediate) : spec.Intermediate;

    /// <summary>KV bytes per sequence on the GPU holding the most (largest pipeline stage), over one model replica (every
    /// stage, every tensor-parallel rank: the stages hold disjoint layers, so the replica is their sum, not the largest ×
    /// stages), and the per-token bytes of a full-attention layer set (for the formula text). Sliding-window layers hold
    /// <paramref name="swaTokens"/> tokens, the others <paramref name="fullTokens"/>.</summary>
    internal static (long PerGpu, long PerReplica, long PerTokenFull) KvPerStage(EstimatePlan p, long fullTokens, long swaTokens)
    {
        var layout = p.Prepared.KvBytesPerLayer(p.Spec, p.Tp, p.Engine, p.KvType);
        long perToken = checked(layout.FullSum + layout.SlidingSum);
        long all = checked(layout.FullSum * fullTokens + layout.SlidingSum * swaTokens);
        if (p.Pp == 1)
        {
            return (all, checked(all * p.Tp), perToken);
        }

        var perLayer = layout.PerLayer;
        int layers = perLayer.Length;
        Span<long> stage = p.Pp <= 64 ? stackalloc long[p.Pp] : new long[p.Pp];
        for (int l = 0; l < layers; l++)
        {
            int s = PipelineStages.StageOf(l, layers, p.Pp);
            stage[s] = checked(stage[s] + perLayer[l] * (layout.Sliding[l] ? swaTokens : fullTokens));
        }

        long max = 0;
        foreach (var v in stage)
        {
            max = Math.Max(max, v);
        }

        return (max, checked(all * p.Tp), perToken);
    }

    internal static string KvText(EstimatePlan p, DataType kvType)
    {
        var spec = p.Spec;
        int cached = Enumerable.Range(0, spec.CachedLayers).Count(l => KvCache.ElementsPerToken(spec, l, p.Tp, p.Engine) != (0, 0));
        if (spec.Mla is { } mla && p.Engine != InferenceEngine.Hf)
        {
            long ix = KvCache.IndexerBytesPerToken(spec, p.Engine, kvType);
            return $"MLA: {cached} layers × (kv_lora_rank {mla.KvLoraRank} + rope {mla.QkRopeHeadDim}) × {kvType.Name}"
                + (ix > 0 ? $" + sparse-attention indexer key {ix} B (index_head_dim {mla.Indexer!.HeadDim}, fp8 + fp32 scale per 128)" : "");
        }

        if (!spec.LayerKvHeads.IsDefaultOrEmpty)
        {
            long sum = Enumerable.Range(0, spec.CachedLayers).Sum(l => (long)(spec.KvHeadsOf(l) == 0 ? 0 : KvCache.KvHeadsPerRank(spec.KvHeadsOf(l), p.Tp)));
            string dims = spec.LayerHeadDims.IsDefaultOrEmpty ? $"head_dim {spec.HeadDim}" : $"per-layer head_dim ({string.Join(" or ", spec.LayerHeadDims.Distinct())})";
            return $"{cached} layers × 2 × per-layer kv heads (Σ {sum} per rank) × {dims} × {kvType.Name} ({kvType.BitsPerElement / 8:0.####} B)";
        }

        int kvh = KvCache.KvHeadsPerRank(spec.KvHeads, p.Tp);
        string rep = p.Tp > spec.KvHeads ? " (replicated: tp > kv heads)" : "";
        return $"{cached} layers × 2 × {kvh} kv heads{rep} × head_dim {spec.HeadDim} × {kvType.Name} ({kvType.BitsPerElement / 8:0.####} B)";
    }
}
