using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>Estimates the GPU memory of a model under a <see cref="Workload"/>: every component with its formula and
/// source, per GPU and in total, with the assumptions and warnings.</summary>
/// <remarks>Formulas and constants: /shared/brief/memory-physics.md, which cites the papers and engine sources; each
/// component's <see cref="MemoryComponent.Source"/> names the one it rests on.</remarks>
public static class MemoryEstimator
{
    /// <summary>vLLM's paged-attention block size in tokens (vllm <c>CacheConfig.block_size</c> default 16).</summary>
    public const int VllmBlockSize = 16;

    /// <summary>llama.cpp pads the KV cache size (n_ctx) to a multiple of this (src/llama-kv-cache.cpp, builds since mid 2025;
    /// verified against LLamaSharp 0.30.0's bundled llama.cpp in tests/LlmSizer.Engine.Tests).</summary>
    public const int LlamaCppCtxPad = 256;

    /// <summary>The default per-GPU runtime overhead (CUDA context with lazy module loading, cuBLAS workspace) for
    /// llama.cpp and Hugging Face: 512 MiB (memory-physics.md §5: 300–600 MiB with CUDA_MODULE_LOADING=LAZY).</summary>
    public const long DefaultOverheadBytes = 512L * ByteSize.MiB;

    /// <summary>The default vLLM non-torch memory at TP=1 when the GPU is not given: 1 GiB (measured 0.35 GiB on RTX 3090 to
    /// 1.79 GiB on H100, vllm #10517 and PR #10511; memory-physics.md §3.2).</summary>
    public const long VllmOverheadBytes = ByteSize.GiB;

    /// <summary>vLLM non-torch memory at TP=1 on a GPU of at most <see cref="VllmConsumerGpuMaxBytes"/> (24–32 GB consumer
    /// cards): 0.35 GiB, as logged on an RTX 3090 (vllm #10517; memory-physics.md §3.2 gives 0.2–0.35 GiB from #10517,
    /// #13061 and #14447).</summary>
    public const long VllmConsumerOverheadBytes = 358L * ByteSize.MiB; // 0.35 GiB = 358.4 MiB

    /// <summary>vLLM non-torch memory at TP=1 on a larger (data-centre) GPU: 1.79 GiB, as logged on an H100 80 GB
    /// (vllm PR #10511).</summary>
    public const long VllmDatacenterOverheadBytes = 1833L * ByteSize.MiB; // 1.79 GiB = 1832.96 MiB

    /// <summary>The largest GPU memory counted as the consumer class for vLLM's non-torch default: 32 GiB.</summary>
    public const long VllmConsumerGpuMaxBytes = 32L * ByteSize.GiB;

    /// <summary>Bytes alive per vocabulary entry and sequence in vLLM V0's top-k/top-p sampler during the profile run:
    /// 40 (bf16 logits 2, fp32 logits 4, sorted 4, sort indices 8, masks 1 + 1, probabilities 4, cumulative sum 4,
    /// inverse indices 8, re-gathered logits 4; vllm/model_executor/layers/sampler.py <c>_apply_top_k_top_p</c>).</summary>
    public const int VllmSamplerBytesPerLogit = 40;

    /// <summary>Extra vLLM non-torch memory when TP &gt; 1 (NCCL and custom all-reduce buffers): 1.79 GiB
    /// (1.79 → 3.58 GiB going from TP1 to TP2 on H100, vllm PR #10511).</summary>
    public const long VllmTpOverheadBytes = 1833 * ByteSize.MiB; // 1.79 GiB = 1832.96 MiB

    /// <summary>Estimates the memory of <paramref name="model"/> under <paramref name="workload"/>.</summary>
    /// <param name="model">The model (architecture and tensors).</param>
    /// <param name="workload">The workload.</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="InvalidSettingException">A setting is invalid or conflicts with another or with the model.</exception>
    /// <exception cref="ModelConfigException">The model has no architecture (needed for KV cache and activations).</exception>
    public static MemoryEstimate Estimate(ModelInfo model, Workload workload)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workload);
        try
        {
            var plan = EstimatePlan.Create(model, workload);
            return workload.Mode == WorkloadMode.Training ? TrainingMemory.Estimate(plan) : InferenceMemory.Estimate(plan);
        }
        catch (OverflowException)
        {
            throw new InvalidSettingException("--context",
                $"--context: expected a workload whose memory fits in 64 bits; found context {workload.Context} × batch {workload.Batch}, which overflows.");
        }
    }

    internal static string Gib(long bytes) => (bytes / (double)ByteSize.GiB).ToString("0.###", CultureInfo.InvariantCulture) + " GiB";

    internal static string Mib(long bytes) => (bytes / (double)ByteSize.MiB).ToString("0.##", CultureInfo.InvariantCulture) + " MiB";

    internal static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>The validated inputs of one estimate, shared by the inference and training paths.</summary>
internal sealed class EstimatePlan
{
    public required ModelInfo Model { get; init; }

    public required ArchitectureSpec Spec { get; init; }

    public required Workload W { get; init; }

    public required WeightFormat Format { get; init; }

    public required TensorInventory Stored { get; init; }

    public required InferenceEngine Engine { get; init; }

    public required int Context { get; init; }

    public required int Dp { get; init; }

    public required int Tp { get; init; }

    public required int Pp { get; init; }

    public required DataType ComputeType { get; init; }

    public List<KeyValuePair<string, string>> Assumptions { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<MemoryComponent> Components { get; } = [];

    public void Assume(string name, object value) =>
        Assumptions.Add(new(name, value is Enum or bool
            ? value.ToString()!.ToLowerInvariant()
            : Convert.ToString(value, CultureInfo.InvariantCulture) ?? ""));

    public void Add(string name, long perGpu, long total, string formula, string source, bool onDevice = true) =>
        Components.Add(new MemoryComponent(name, new ByteSize(perGpu), new ByteSize(total), formula, source, onDevice));

    public MemoryEstimate Build() => new()
    {
        Model = Model.Name,
        Mode = W.Mode,
        Gpus = W.Gpus,
        Components = Components,
        Assumptions = Assumptions,
        Warnings = Warnings,
    };

    private static TensorInventory? GeneratedFromArchitecture(ArchitectureSpec spec)
    {
        if (!ArchitectureRegistry.Default.TryGet(spec.Family, out var family))
        {
            return null;
        }

        try
        {
            return family.Generate(spec);
        }
        catch (LlmSizerException)
        {
            return null;
        }
    }

    public static EstimatePlan Create(ModelInfo model, Workload w)
    {
        var spec = model.Architecture ?? throw new ModelConfigException(model.Name, null,
            $"{model.Name}: architecture: expected layers, heads and head_dim to estimate memory; found none.");
        Positive(w.Batch, "--batch");
        Positive(w.Gpus, "--gpus");
        Positive(w.Tp, "--tp");
        Positive(w.Pp, "--pp");
        Positive(w.Ubatch, "--ubatch");
        Positive(w.MaxSeqs, "--max-seqs");
        Positive(w.GradientAccumulation, "--grad-accum");
        if (w.Context is { } c && c <= 0)
        {
            throw new InvalidSettingException("--context", $"--context: expected a positive number of tokens; found {c}.");
        }

        if (w.Zero is < 0 or > 3)
        {
            throw new InvalidSettingException("--zero", $"--zero: expected 0, 1, 2 or 3; found {w.Zero}.");
        }

        if (w.MaxMultimodalTokens is <= 0)
        {
            throw new InvalidSettingException("--max-mm-tokens", $"--max-mm-tokens: expected a positive token count; found {w.MaxMultimodalTokens}.");
        }

        if (w.GpuMemoryBytes is <= 0)
        {
            throw new InvalidSettingException("--gpu-memory", $"--gpu-memory: expected a positive size; found {w.GpuMemoryBytes} bytes.");
        }

        if (double.IsNaN(w.GpuUtil) || w.GpuUtil <= 0 || w.GpuUtil > 1)
        {
            throw new InvalidSettingException("--gpu-util", $"--gpu-util: expected a fraction in (0, 1]; found {w.GpuUtil.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (w.LoraRank is < 0)
        {
            throw new InvalidSettingException("--lora-rank", $"--lora-rank: expected a positive rank; found {w.LoraRank}.");
        }

        if (w.OverheadBytes is < 0)
        {
            throw new InvalidSettingException("--overhead", $"--overhead: expected a non-negative size; found {w.OverheadBytes}.");
        }

        // Weight format.
        bool fromFile = model.Source is ModelSourceKind.Gguf or ModelSourceKind.Safetensors;
        WeightFormat format;
        if (w.Qlora)
        {
            if (w.Mode != WorkloadMode.Training)
            {
                throw new InvalidSettingException("--qlora", "--qlora: expected --mode training; found --mode inference.");
            }

            if (w.Dtype is { } d && WeightFormat.Parse(d) is var f0 && f0 is not { Kind: WeightFormatKind.Bnb4 } && !(f0.UniformType is { } u && (u == DataType.BF16 || u == DataType.F16)))
            {
                throw new InvalidSettingException("--qlora", $"--qlora: expected --dtype bf16, f16 or nf4 (the compute dtype of the NF4 base); found {d}.");
            }

            format = WeightFormat.Parse("nf4-dq");
        }
        else
        {
            format = w.Dtype is null ? (fromFile ? WeightFormat.Native : SpecDefault(spec)) : WeightFormat.Parse(w.Dtype);
        }

        var engine = w.Engine ?? (format.IsGguf || model.Source == ModelSourceKind.Gguf ? InferenceEngine.LlamaCpp : InferenceEngine.Vllm);
        if (w.Mode == WorkloadMode.Inference && engine == InferenceEngine.LlamaCpp &&
            format.Kind is not (WeightFormatKind.LlamaCpp or WeightFormatKind.Native or WeightFormatKind.Uniform))
        {
            throw new InvalidSettingException("--dtype", $"--dtype: --engine llamacpp expects a GGUF type (f16, bf16, f32, q8_0, q4_k_m ...); found {format.Name}.");
        }

        if (w.Mode == WorkloadMode.Training)
        {
            bool lora = (w.LoraRank ?? 0) > 0 || w.Qlora;
            if (format.IsGguf)
            {
                throw new InvalidSettingException("--dtype", $"--dtype: training expects f32, f16 or bf16 weights (or --qlora); found {format.Name}.");
            }

            if (format.IsQuantized && !lora)
            {
                throw new InvalidSettingException("--lora-rank", $"--lora-rank: quantized weights ({format.Name}) train only through LoRA adapters; expected a rank; found none.");
            }
        }

        // Parallelism.
        int tp = w.Tp, pp = w.Pp;
        if (engine == InferenceEngine.LlamaCpp && w.Mode == WorkloadMode.Inference)
        {
            if (tp > 1)
            {
                throw new InvalidSettingException("--tp", $"--tp: llama.cpp splits layers across GPUs (use --gpus N or --pp N); expected 1; found {tp}.");
            }

            pp = Math.Max(pp, w.Gpus);
        }

        if (w.Gpus % (tp * pp) != 0)
        {
            throw new InvalidSettingException("--gpus", $"--gpus: expected a multiple of tp × pp = {tp * pp}; found {w.Gpus}.");
        }

        if (spec.Heads % tp != 0)
        {
            throw new InvalidSettingException("--tp", $"--tp: expected a divisor of the {spec.Heads} attention heads; found {tp}.");
        }

        if (spec.KvHeads > 0 && spec.KvHeads % tp != 0 && tp % spec.KvHeads != 0)
        {
            throw new InvalidSettingException("--tp", $"--tp: expected a divisor or a multiple of the {spec.KvHeads} KV heads; found {tp}.");
        }

        if (pp > spec.Layers)
        {
            throw new InvalidSettingException(engine == InferenceEngine.LlamaCpp ? "--gpus" : "--pp", $"--pp: expected at most {spec.Layers} stages (one per layer); found {pp}.");
        }

        int maxPos = spec.MaxPositions ?? 4096;
        int context = w.Context ?? Math.Min(4096, maxPos);
        var warnings = new List<string>();
        if (spec.MaxPositions is { } mp && context > mp)
        {
            warnings.Add($"context {context} exceeds the model's trained maximum of {mp} tokens (max_position_embeddings); quality may degrade without RoPE scaling.");
        }

        var unq = w.UnquantizedDtype is null ? (DataType?)null : DataType.Parse(w.UnquantizedDtype, "--unquantized-dtype");
        var inventory = model.Inventory;
        if (inventory.TotalParameters.Value == 0 && GeneratedFromArchitecture(spec) is { } generated)
        {
            // A vocab-only GGUF (llama.cpp's test files) has the hyper-parameters but no tensors: size the weights
            // from the architecture instead of reporting zero, and say so.
            inventory = generated;
            if (format.Kind == WeightFormatKind.Native)
            {
                format = WeightFormat.Parse("f16");
            }

            warnings.Add($"{model.Name} holds no weight tensors; weights are generated from its architecture ({spec.Family}) and stored as {format.Name} unless --dtype says otherwise.");
        }
        else if (inventory.TotalParameters.Value == 0)
        {
            warnings.Add($"{model.Name} holds no weight tensors and family '{spec.Family}' has no tensor generator here; the weights are not counted (KV cache and buffers are).");
        }

        var stored = format.Apply(inventory, spec, unq);
        var compute = ComputeTypeOf(format, stored);
        var plan = new EstimatePlan
        {
            Model = model,
            Spec = spec,
            W = w,
            Format = format,
            Stored = stored,
            Engine = engine,
            Context = context,
            Tp = tp,
            Pp = pp,
            Dp = w.Gpus / (tp * pp),
            ComputeType = compute,
        };
        plan.Warnings.AddRange(warnings);
        plan.Assume("mode", w.Mode);
        plan.Assume("dtype", format.Name + (w.Dtype is null && !w.Qlora ? " (default)" : ""));
        plan.Assume("weight_format", format.Description);
        plan.Assume("context", context + (w.Context is null ? " (default)" : ""));
        plan.Assume("batch", w.Batch);
        plan.Assume("gpus", w.Gpus);
        plan.Assume("tp", tp);
        plan.Assume("pp", pp);
        plan.Assume("dp", plan.Dp);
        return plan;
    }

    private static WeightFormat SpecDefault(ArchitectureSpec spec) =>
        spec.TorchDtype?.ToLowerInvariant() switch
        {
            "float16" or "fp16" or "f16" => WeightFormat.F16,
            "float32" or "fp32" or "f32" => WeightFormat.F32,
            _ => WeightFormat.BF16,
        };

    private static DataType ComputeTypeOf(WeightFormat format, TensorInventory stored)
    {
        if (format.UniformType is { } u && (u == DataType.F32 || u == DataType.F16 || u == DataType.BF16))
        {
            return u;
        }

        if (format.Kind == WeightFormatKind.Native)
        {
            var main = stored.ByDataType().OrderByDescending(p => p.Value.Value).FirstOrDefault().Key;
            if (main == DataType.F32 || main == DataType.F16)
            {
                return main;
            }
        }

        return format.UnquantizedType == DataType.F16 ? DataType.F16 : DataType.BF16;
    }

    private static void Positive(int value, string flag)
    {
        if (value <= 0)
        {
            throw new InvalidSettingException(flag, $"{flag}: expected a positive number; found {value}.");
        }
    }

    /// <summary>Stage of a layer under a contiguous pipeline split.</summary>
    public int StageOf(int layer) => (int)((long)layer * Pp / Spec.Layers);

    /// <summary>Weight bytes per GPU (the largest stage's TP shard) and over one model replica (tp × pp GPUs).</summary>
    /// <remarks>TP shards every matrix (column/row-parallel linears, vocab-parallel embedding and head; Megatron-LM §3)
    /// and replicates vectors; PP puts the input embedding on the first stage, the final norm and head on the last.</remarks>
    public (long PerGpu, long Replica) WeightShares(TensorInventory inv)
    {
        var stage = new long[Pp];
        long replica = 0;
        foreach (var t in inv.Tensors)
        {
            long bytes = t.Bytes.Bytes;
            int s = t.Layer is { } l ? StageOf(Math.Min(l, Spec.Layers - 1))
                : TensorRoles.Of(t) is TensorRole.TokenEmbedding or TensorRole.PositionEmbedding ? 0 : Pp - 1;
            long shard = t.Shape.Length >= 2 ? KvCache.CeilDiv(bytes, Tp) : bytes;
            stage[s] = checked(stage[s] + shard);
            replica = checked(replica + shard * Tp);
        }

        return (stage.Max(), replica);
    }

    /// <summary>The largest number of layers one pipeline stage holds.</summary>
    public int LayersPerStage => Enumerable.Range(0, Pp).Max(s => Enumerable.Range(0, Spec.Layers).Count(l => StageOf(l) == s));
}
