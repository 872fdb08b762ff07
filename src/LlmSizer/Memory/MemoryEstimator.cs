using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Quantization;
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

    /// <summary>Bytes alive per vocabulary entry and sequence in vLLM V0's top-k/top-p sampler during the profile run:
    /// 40 (bf16 logits 2, fp32 logits 4, sorted 4, sort indices 8, masks 1 + 1, probabilities 4, cumulative sum 4,
    /// inverse indices 8, re-gathered logits 4; vllm/model_executor/layers/sampler.py <c>_apply_top_k_top_p</c>).</summary>
    public const int VllmSamplerBytesPerLogit = 40;

    /// <summary>Estimates the memory of <paramref name="model"/> under <paramref name="workload"/>.</summary>
    /// <param name="model">The model (architecture and tensors); prepared once and kept (<see cref="PreparedModel.For"/>).</param>
    /// <param name="workload">The workload.</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="InvalidSettingException">A setting is invalid or conflicts with another or with the model.</exception>
    /// <exception cref="ModelConfigException">The model has no architecture (needed for KV cache and activations).</exception>
    public static MemoryEstimate Estimate(ModelInfo model, Workload workload) => Estimate(PreparedModel.For(model), workload);

    /// <summary>Estimates the memory of a prepared model under <paramref name="workload"/>: only arithmetic on the
    /// prepared sums; formula texts and assumptions are built when first read.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="workload">The workload.</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="InvalidSettingException">A setting is invalid or conflicts with another or with the model.</exception>
    /// <exception cref="ModelConfigException">The model has no architecture (needed for KV cache and activations).</exception>
    public static MemoryEstimate Estimate(PreparedModel model, Workload workload)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workload);
        try
        {
            var plan = EstimatePlan.Create(model, workload);
            return workload.Training is not null ? TrainingMemory.Estimate(plan) : InferenceMemory.Estimate(plan);
        }
        catch (OverflowException)
        {
            throw SettingErrors.Overflow(workload);
        }
    }

    internal static string Gib(long bytes) => (bytes / (double)ByteSize.GiB).ToString("0.###", CultureInfo.InvariantCulture) + " GiB";

    internal static string Mib(long bytes) => (bytes / (double)ByteSize.MiB).ToString("0.##", CultureInfo.InvariantCulture) + " MiB";

    internal static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>The defaults the estimator applies when a workload leaves a setting out: one place, used by the estimator,
/// the solvers and every front end's help text.</summary>
public static class EngineDefaults
{
    /// <summary>The context assumed when none is given: 4096 tokens, or the model's maximum when that is smaller.</summary>
    /// <param name="spec">The architecture.</param>
    /// <returns>The context.</returns>
    public static int Context(ArchitectureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Math.Min(4096, spec.MaxPositions is > 0 ? spec.MaxPositions.Value : 4096);
    }

    /// <summary>The engine assumed when none is given: llama.cpp for GGUF files and formats, vLLM otherwise.</summary>
    /// <param name="format">The weight format.</param>
    /// <param name="source">Where the model came from.</param>
    /// <returns>The engine.</returns>
    public static InferenceEngine Engine(WeightFormat format, ModelSourceKind source)
    {
        ArgumentNullException.ThrowIfNull(format);
        return format.IsGguf || source == ModelSourceKind.Gguf ? InferenceEngine.LlamaCpp : InferenceEngine.Vllm;
    }

    /// <summary>The weight format assumed when none is given: the checkpoint's own types for a file; otherwise the
    /// checkpoint's <c>quantization_config</c> when the config has one (<see cref="ArchitectureSpec.Quantization"/>:
    /// a quantized checkpoint is sized as it ships), else the config's <c>torch_dtype</c> (bf16 when it has none).</summary>
    /// <param name="spec">The architecture.</param>
    /// <param name="source">Where the model came from.</param>
    /// <returns>The format and the reason.</returns>
    /// <exception cref="ModelConfigException">The config's <c>torch_dtype</c> is unknown.</exception>
    public static (WeightFormat Format, string Reason) Format(ArchitectureSpec spec, ModelSourceKind source)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (source is ModelSourceKind.Gguf or ModelSourceKind.Safetensors)
        {
            return (WeightFormat.Native, "the checkpoint's own tensor types");
        }

        if (spec.Quantization is { } q)
        {
            return (q.Format, "checkpoint quantization_config: " + q.Summary);
        }

        return DtypeFormat(spec);
    }

    /// <summary>The weight format the config's <c>torch_dtype</c> names (bf16 when it has none), ignoring any
    /// <c>quantization_config</c>: what a quantized checkpoint is dequantized to.</summary>
    /// <param name="spec">The architecture.</param>
    /// <returns>The format and the reason.</returns>
    /// <exception cref="ModelConfigException">The config's <c>torch_dtype</c> is unknown.</exception>
    public static (WeightFormat Format, string Reason) DtypeFormat(ArchitectureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.TorchDtype?.ToLowerInvariant() switch
        {
            "float16" or "fp16" or "f16" or "half" => (WeightFormat.F16, "config torch_dtype float16"),
            "float32" or "fp32" or "f32" or "float" => (WeightFormat.F32, "config torch_dtype float32"),
            "bfloat16" or "bf16" => (WeightFormat.BF16, "config torch_dtype bfloat16"),
            null => (WeightFormat.BF16, "no torch_dtype in the config"),
            "auto" => (WeightFormat.BF16, "config torch_dtype auto"),
            // An unknown type is an error, not a silent bf16: the weights' size depends on it.
            _ => throw new ModelConfigException(spec.Source, "torch_dtype",
                $"{(spec.Source.Length > 0 ? spec.Source : spec.Family)}: torch_dtype: expected float16, bfloat16, float32 or auto; found '{Errors.MessageText.Clean(spec.TorchDtype, 64)}'."),
        };
    }

    /// <summary>The default format made usable by <paramref name="engine"/> and the training mode: the checkpoint's own
    /// quantization is the default only where it is used as shipped — llama.cpp loads GGUF types, and full fine-tuning
    /// trains dequantized weights — else the config's <c>torch_dtype</c>, with the reason.</summary>
    internal static (WeightFormat Format, string? Reason) Usable(ArchitectureSpec spec, (WeightFormat Format, string? Reason) chosen,
        InferenceEngine engine, TrainingSettings? training, bool safetensorsFloat32 = false)
    {
        bool float32 = ReferenceEquals(chosen.Format, WeightFormat.F32) || (safetensorsFloat32 && chosen.Format.Kind == WeightFormatKind.Native);
        if (training is null && float32 && Fp32Served(spec, engine) is { } served)
        {
            return served;
        }

        if (spec.Quantization is not { } ckpt || !ReferenceEquals(chosen.Format, ckpt.Format))
        {
            return chosen;
        }

        string? why = training is null
            ? engine == InferenceEngine.LlamaCpp ? "llama.cpp loads GGUF types" : null
            : training.LoraRank is > 0 || training.Qlora ? null : "full fine-tuning trains dequantized weights";
        if (why is null)
        {
            return chosen;
        }

        var (dtype, reason) = DtypeFormat(spec);
        return (dtype, $"{reason}: the checkpoint's quantization_config ({ckpt.Summary}) is not used as {why}");
    }

    /// <summary>How an inference engine serves a float32 checkpoint it is not told a dtype for, with the rule as the reason;
    /// null for an engine without a rule.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>vLLM, <c>dtype="auto"</c>: <c>_resolve_auto_dtype</c> (vllm/config/model.py) downcasts float32 to the
    /// platform's preferred type, the first of <c>supported_dtypes</c> — bfloat16 on CUDA GPUs of compute capability
    /// 8.0 and newer (float16 before Ampere) — and to float16 for pooling (encoder-only embedding) models.</item>
    /// <item>llama.cpp: a GGUF made by <c>convert_hf_to_gguf.py</c> with its default <c>--outtype f16</c> holds F16
    /// matrices (1-D tensors stay F32, a few KiB).</item>
    /// <item>transformers (v5, PR #42805: <c>dtype="auto"</c> is the default): the config's float32, unchanged.</item>
    /// </list>
    /// </remarks>
    private static (WeightFormat Format, string? Reason)? Fp32Served(ArchitectureSpec spec, InferenceEngine engine) => engine switch
    {
        InferenceEngine.Vllm when spec.IsEncoderOnly => (WeightFormat.F16,
            "config torch_dtype float32 served as float16: vLLM dtype auto prefers float16 for pooling models (vllm/config/model.py _resolve_auto_dtype)"),
        InferenceEngine.Vllm => (WeightFormat.BF16,
            "config torch_dtype float32 served as bfloat16: vLLM dtype auto downcasts float32 to the GPU's preferred type (vllm/config/model.py _resolve_auto_dtype; float16 on GPUs before Ampere, same size)"),
        InferenceEngine.LlamaCpp => (WeightFormat.F16,
            $"config torch_dtype float32 converted to f16: convert_hf_to_gguf.py's default {Fit.EngineCommandLines.Flag("convert_hf_to_gguf", "outtype")} is f16"),
        InferenceEngine.Hf => (WeightFormat.F32,
            "config torch_dtype float32, loaded as float32: transformers' dtype auto (the default since v5, PR #42805) keeps the config's type"),
        _ => null,
    };
}

/// <summary>The messages of workload errors, in one place (house style C.4).</summary>
internal static class SettingErrors
{
    public static InvalidSettingException Positive(string setting, long value) =>
        new(setting, $"expected a positive number; found {value.ToString(CultureInfo.InvariantCulture)}.");

    public static InvalidSettingException Overflow(Workload w) => w.Overhead is { Bytes: > 1L << 50 } o
        ? new(SettingNames.Overhead, $"expected a per-GPU overhead below 1 PiB; found {o.Bytes.ToString("N0", CultureInfo.InvariantCulture)} bytes, which overflows the totals.")
        : new(SettingNames.Context, $"expected a workload whose memory fits in 64 bits (8 EiB); found context {w.Context?.ToString(CultureInfo.InvariantCulture) ?? "(default)"} × batch {w.Batch.ToString(CultureInfo.InvariantCulture)}, which overflows.");
}

/// <summary>The validated inputs of one estimate, shared by the inference and training paths, and the values each
/// path derived (kept so the assumptions can be listed after the fact).</summary>
internal sealed class EstimatePlan
{
    public required PreparedModel Prepared { get; init; }

    public required ArchitectureSpec Spec { get; init; }

    public required Workload W { get; init; }

    public required WeightFormat Format { get; init; }

    public required string? FormatDefaultReason { get; init; }

    public required StoredWeights Stored { get; init; }

    public required InferenceEngine Engine { get; init; }

    public required int Context { get; init; }

    /// <summary>Image tokens per sequence (<see cref="Workload.Images"/> × tokens per image): in <see cref="Context"/>
    /// unless the model attends to images through cross-attention, where they size <c>cross_attention_kv</c>.</summary>
    public long ImageTokens { get; init; }

    public required int Gpus { get; init; }

    public required int Dp { get; init; }

    public required int Tp { get; init; }

    public required int Pp { get; init; }

    public DataType ComputeType => Stored.ComputeType;

    public TrainingSettings T => W.Training ?? TrainingSettings.Default;

    public List<string>? Warnings { get; private set; }

    public List<MemoryComponent> Components { get; } = new(8);

    // Values the engine paths derive; read back by the assumption lists.
    public DataType KvType { get; set; } = DataType.F16;

    public long MaxBatched { get; set; }

    public long ProfileSeqs { get; set; }

    /// <summary>Images the vLLM profile run pushes through the vision tower (0 when none).</summary>
    public long ProfileMultimodalItems { get; set; }

    /// <summary>The vLLM <c>max_num_seqs</c> in effect (given or the engine's default).</summary>
    public int MaxSeqs { get; set; }

    public long NCtx { get; set; }

    public long KvCells { get; set; }

    public long Ubatch { get; set; }

    public long OverheadBytes { get; set; }

    public long LoraTrainable { get; set; }

    public int LoraRank { get; set; }

    public void Warn(string warning) => (Warnings ??= []).Add(warning);

    public void Add(string name, long perGpu, long total, Func<string> formula, string source, bool onDevice = true) =>
        Components.Add(new MemoryComponent(name, perGpu, total, formula, source, onDevice));

    public MemoryEstimate Build(Func<EstimatePlan, IReadOnlyList<Assumption>> assumptions) =>
        new(Prepared.Model.Name, W.Mode, Gpus, Components, (IReadOnlyList<string>?)Warnings ?? [], () => assumptions(this), Stored.Materialize);

    /// <summary>The assumptions every estimate shares, first in the list.</summary>
    public List<Assumption> CommonAssumptions()
    {
        var list = new List<Assumption>(24)
        {
            new("mode", WorkloadNames.Name(W.Mode)),
            new("dtype", Format.Name, W.Format is null && !T.Qlora, FormatDefaultReason),
            new("weight_format", Format.Description),
            new("context", (long)Context, W.Context is null, W.Context is null ? "4096 or the model's maximum, whichever is smaller" : null),
            new("batch", (long)W.Batch),
            new("gpus", (long)Gpus, W.Gpus is null, W.Gpus is null ? "tensor_parallel × pipeline_parallel" : null),
            new("tp", (long)Tp),
            new("pp", (long)Pp),
            new("dp", (long)Dp),
        };
        if (ImageTokens > 0)
        {
            bool cross = Spec.Vision is { CrossAttentionLayers: > 0 };
            list.Insert(4, new("images", (long)W.Images));
            list.Insert(5, new("image_tokens", ImageTokens, false, $"{W.Images} × {Spec.Vision!.ImageTokens} tokens per image"
                + (cross ? ", cached by the cross-attention layers" : ", included in context")));
        }

        return list;
    }

    // Workload.Images × the tower's tokens per image; errors name the images setting.
    private static long ImageTokensOf(ArchitectureSpec spec, Workload w)
    {
        if (w.Images == 0)
        {
            return 0;
        }

        if (w.Images < 0)
        {
            throw new InvalidSettingException(SettingNames.Images, $"expected a non-negative number of images per sequence; found {w.Images}.");
        }

        if (w.Training is not null)
        {
            throw new InvalidSettingException(SettingNames.Images, "applies to inference; training sequences give their tokens in context.");
        }

        var vision = spec.Vision ?? throw new InvalidSettingException(SettingNames.Images,
            $"expected a vision-language model; {spec.Family} has no vision tower (or only its language model is sized).");
        return vision.ImageTokens > 0 ? checked(w.Images * vision.ImageTokens)
            : throw new InvalidSettingException(SettingNames.Images,
                $"expected a vision tower with a fixed image size; {vision.Kind} takes images at their own resolution, so give their tokens in context.");
    }

    public static EstimatePlan Create(PreparedModel prepared, Workload w)
    {
        var model = prepared.Model;
        var spec = prepared.Architecture ?? throw new ModelConfigException(model.Name, null,
            $"{model.Name}: architecture: expected layers, heads and head_dim to estimate memory; found none.");
        var t = w.Training;
        Positive(w.Batch, SettingNames.Batch);
        Positive(w.TensorParallel, SettingNames.TensorParallel);
        Positive(w.PipelineParallel, SettingNames.PipelineParallel);
        if (w.Gpus is { } g)
        {
            Positive(g, SettingNames.Gpus);
        }

        Positive(w.LlamaCpp.Ubatch, SettingNames.Ubatch);
        if (w.Vllm.MaxSeqs is { } maxSeqs)
        {
            Positive(maxSeqs, SettingNames.MaxSeqs);
        }
        if (w.Context is { } c && c <= 0)
        {
            throw new InvalidSettingException(SettingNames.Context, $"expected a positive number of tokens; found {c}.");
        }

        if (w.Vllm.MaxMultimodalTokens is <= 0)
        {
            throw new InvalidSettingException(SettingNames.MaxMultimodalTokens, $"expected a positive token count; found {w.Vllm.MaxMultimodalTokens}.");
        }

        if (w.Vllm.MaxBatchedTokens is <= 0)
        {
            throw new InvalidSettingException(SettingNames.MaxBatchedTokens, $"expected a positive token count; found {w.Vllm.MaxBatchedTokens}.");
        }

        if (w.GpuMemory is { Bytes: <= 0 })
        {
            throw new InvalidSettingException(SettingNames.GpuMemory, $"expected a positive size; found {w.GpuMemory.Value.Bytes} bytes.");
        }

        double util = w.Vllm.GpuUtilization;
        if (double.IsNaN(util) || util <= 0 || util > 1)
        {
            throw new InvalidSettingException(SettingNames.GpuUtilization, $"expected a fraction in (0, 1]; found {util.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (w.Overhead is { Bytes: < 0 })
        {
            throw new InvalidSettingException(SettingNames.Overhead, $"expected a non-negative size; found {w.Overhead.Value.Bytes} bytes.");
        }

        if (t is not null)
        {
            Positive(t.GradientAccumulation, SettingNames.GradientAccumulation);
            if (t.ZeroStage is < 0 or > 3)
            {
                throw new InvalidSettingException(SettingNames.ZeroStage, $"expected 0, 1, 2 or 3; found {t.ZeroStage}.");
            }

            if (t.LoraRank is <= 0)
            {
                throw new InvalidSettingException(SettingNames.LoraRank, $"expected a positive rank (omit it for full fine-tuning); found {t.LoraRank}.");
            }
        }

        // Weight format.
        WeightFormat format;
        string? formatReason = null;
        if (t is { Qlora: true })
        {
            if (w.Format is { } d && d is not { Kind: WeightFormatKind.Bnb4 } && !(d.UniformType is { } u && (u == DataType.BF16 || u == DataType.F16)))
            {
                throw new InvalidSettingException(SettingNames.Qlora, $"expected dtype bf16, f16 or nf4 (the compute dtype of the NF4 base); found dtype {d.Name}.");
            }

            format = WeightFormat.Parse("nf4-dq");
        }
        else if (w.Format is { } given)
        {
            format = given;
        }
        else
        {
            (format, formatReason) = prepared.DefaultFormat(spec);
        }

        if (prepared.WeightsGenerated && format.Kind == WeightFormatKind.Native)
        {
            format = WeightFormat.F16;
            formatReason = "f16: the file holds no weight tensors";
        }

        var engine = w.Engine ?? EngineDefaults.Engine(format, model.Source);
        if (w.Format is null && t is not { Qlora: true })
        {
            (format, formatReason) = EngineDefaults.Usable(spec, (format, formatReason), engine, t, prepared.SafetensorsFloat32);
        }

        if (t is null && engine == InferenceEngine.LlamaCpp &&
            format.Kind is not (WeightFormatKind.LlamaCpp or WeightFormatKind.Native or WeightFormatKind.Uniform))
        {
            throw new InvalidSettingException(SettingNames.Dtype, $"engine llamacpp expects a GGUF type (f16, bf16, f32, q8_0, q4_k_m ...); found {format.Name}.");
        }

        if (t is not null)
        {
            bool lora = t.LoraRank is > 0 || t.Qlora;
            if (format.IsGguf)
            {
                throw new InvalidSettingException(SettingNames.Dtype, $"training expects f32, f16 or bf16 weights (or qlora); found {format.Name}.");
            }

            if (format.IsQuantized && !lora)
            {
                throw new InvalidSettingException(SettingNames.LoraRank, $"quantized weights ({format.Name}) train only through LoRA adapters; expected a rank; found none.");
            }
        }

        // Parallelism.
        int tp = w.TensorParallel, pp = w.PipelineParallel;
        int gpus = w.GpuCount;
        if (engine == InferenceEngine.LlamaCpp && t is null)
        {
            if (tp > 1)
            {
                throw new InvalidSettingException(SettingNames.TensorParallel, $"llama.cpp splits layers across GPUs (use gpus or pipeline_parallel); expected 1; found {tp}.");
            }

            pp = Math.Max(pp, gpus);
        }

        if (gpus % checked(tp * pp) != 0)
        {
            throw new InvalidSettingException(SettingNames.Gpus, $"expected a multiple of tensor_parallel × pipeline_parallel = {tp * pp}; found {gpus}.");
        }

        if (spec.Heads % tp != 0)
        {
            throw new InvalidSettingException(SettingNames.TensorParallel, $"expected a divisor of the {spec.Heads} attention heads; found {tp}.");
        }

        if (spec.KvHeads > 0 && spec.KvHeads % tp != 0 && tp % spec.KvHeads != 0)
        {
            throw new InvalidSettingException(SettingNames.TensorParallel, $"expected a divisor or a multiple of the {spec.KvHeads} KV heads; found {tp}.");
        }

        if (pp > spec.Layers)
        {
            throw new InvalidSettingException(engine == InferenceEngine.LlamaCpp && w.PipelineParallel < pp ? SettingNames.Gpus : SettingNames.PipelineParallel,
                $"expected at most {spec.Layers} pipeline stages (one per layer); found {pp}.");
        }

        int context = w.Context ?? EngineDefaults.Context(spec);
        long imageTokens = ImageTokensOf(spec, w);
        if (imageTokens > 0 && spec.Vision is { CrossAttentionLayers: 0 })
        {
            // The image tokens take places in the sequence, so in every layer's KV cache.
            long withImages = context + imageTokens;
            context = withImages <= int.MaxValue ? (int)withImages
                : throw new InvalidSettingException(SettingNames.Images, $"expected context plus image tokens to fit in 2^31 tokens; found {withImages}.");
        }
        var plan = new EstimatePlan
        {
            Prepared = prepared,
            Spec = spec,
            W = w,
            Format = format,
            FormatDefaultReason = formatReason,
            Stored = prepared.Stored(format, w.UnquantizedType),
            Engine = engine,
            Context = context,
            ImageTokens = imageTokens,
            Gpus = gpus,
            Tp = tp,
            Pp = pp,
            Dp = gpus / (tp * pp),
        };
        foreach (var warning in model.Warnings)
        {
            plan.Warn(warning);
        }

        if (spec.MaxPositions is { } mp && context > mp)
        {
            plan.Warn($"context {context} exceeds the model's trained maximum of {mp} tokens (max_position_embeddings); quality may degrade without RoPE scaling.");
        }

        if (prepared.WeightsGenerated)
        {
            plan.Warn($"{model.Name} holds no weight tensors; weights are generated from its architecture ({spec.Family}) and stored as {format.Name} unless dtype says otherwise.");
        }
        else if (prepared.TotalParameters == 0)
        {
            plan.Warn($"{model.Name} holds no weight tensors and family '{spec.Family}' has no tensor generator here; the weights are not counted (KV cache and buffers are).");
        }

        return plan;
    }

    private static void Positive(int value, string setting)
    {
        if (value <= 0)
        {
            throw SettingErrors.Positive(setting, value);
        }
    }

    /// <summary>Weight bytes per GPU (the largest stage's TP shard) and over one model replica.</summary>
    public (long PerGpu, long Replica) WeightShares() => Stored.Shares(Tp, Pp);
}
