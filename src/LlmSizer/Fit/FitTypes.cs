using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Fit;

/// <summary>How a plan runs the model.</summary>
public enum FitType
{
    /// <summary>Everything on GPUs.</summary>
    FullGpu,

    /// <summary>llama.cpp with some layers on the GPU and the rest in host RAM (<c>-ngl</c>).</summary>
    PartialOffload,

    /// <summary>llama.cpp on the CPU only, in host RAM.</summary>
    CpuOnly,

    /// <summary>Does not fit.</summary>
    None,
}

/// <summary>The efficiency factors of the throughput roofline, each an assumption the user can override.</summary>
public sealed record ThroughputAssumptions
{
    /// <summary>The defaults.</summary>
    public static ThroughputAssumptions Default { get; } = new();

    /// <summary>The fraction of peak memory bandwidth a decode step achieves (default 0.7: well-tuned kernels reach
    /// 60–80 % of HBM bandwidth on batch-1 decode; e.g. vLLM and TensorRT-LLM Llama-8B H100 batch-1 runs).</summary>
    public double DecodeBandwidthEfficiency { get; init; } = 0.7;

    /// <summary>Model FLOPs utilization of prefill and training (default 0.4: Megatron-LM and PaLM report 0.4–0.55 MFU
    /// for training at scale; prefill of long prompts is of the same order).</summary>
    public double Mfu { get; init; } = 0.4;

    /// <summary>Tokens to train on, for the time-to-train figure (default 1 billion).</summary>
    public long TrainingTokens { get; init; } = 1_000_000_000;
}

/// <summary>A request for deployment plans.</summary>
public sealed record FitRequest
{
    /// <summary>The model.</summary>
    public required ModelRequest Model { get; init; }

    /// <summary>The workload (context, batch, formats, engine, training ...).</summary>
    public Workload Workload { get; init; } = new();

    /// <summary>The GPU to plan for; null plans for every catalog GPU (or <see cref="Budget"/>).</summary>
    public GpuDevice? Gpu { get; init; }

    /// <summary>A per-GPU memory budget instead of a GPU: one plan for a custom device of that usable memory.</summary>
    public ByteSize? Budget { get; init; }

    /// <summary>Keep only plans that run fully on GPUs.</summary>
    public bool GpuOnly { get; init; }

    /// <summary>The most GPUs a plan may use (default 64: eight nodes of eight).</summary>
    public int MaxGpus { get; init; } = 64;

    /// <summary>GPUs per node (default 8).</summary>
    public int GpusPerNode { get; init; } = 8;

    /// <summary>Host RAM available for llama.cpp's CPU side, when known (local plans); null: not limited.</summary>
    public ByteSize? HostMemory { get; init; }

    /// <summary>Also return the memory at 1k, 2k, 4k … tokens against the budget (one device only).</summary>
    public bool SweepContext { get; init; }

    /// <summary>The throughput efficiency factors.</summary>
    public ThroughputAssumptions Throughput { get; init; } = ThroughputAssumptions.Default;
}

/// <summary>One deployment plan on one GPU type.</summary>
public sealed record FitPlan
{
    /// <summary>The catalog id of the GPU, or "custom".</summary>
    public required string Gpu { get; init; }

    /// <summary>The device planned for.</summary>
    public required GpuDevice Device { get; init; }

    /// <summary>The engine of the plan (null for training).</summary>
    public required InferenceEngine? Engine { get; init; }

    /// <summary>How the model runs.</summary>
    public required FitType FitType { get; init; }

    /// <summary>Whether one GPU holds the whole workload.</summary>
    public bool FitsOnOne => FitType == FitType.FullGpu && GpusNeeded == 1;

    /// <summary>GPUs the plan uses (0 for CPU-only and none).</summary>
    public required int GpusNeeded { get; init; }

    /// <summary>Tensor-parallel size.</summary>
    public required int TensorParallel { get; init; }

    /// <summary>Pipeline-parallel size (stages).</summary>
    public required int PipelineParallel { get; init; }

    /// <summary>Nodes of <see cref="FitRequest.GpusPerNode"/> GPUs.</summary>
    public required int Nodes { get; init; }

    /// <summary>Device bytes per GPU the workload needs.</summary>
    public required ByteSize PerGpu { get; init; }

    /// <summary>Budget per GPU minus <see cref="PerGpu"/> (negative: the shortfall).</summary>
    public required long HeadroomBytes { get; init; }

    /// <summary>The per-GPU budget the plan was checked against (vLLM: gpu_memory_utilization × usable memory).</summary>
    public required ByteSize Budget { get; init; }

    /// <summary>The longest context that fits at the workload's batch on this plan's GPUs (0 when none).</summary>
    public required int MaxContext { get; init; }

    /// <summary>vLLM: KV-cache bytes per GPU after weights, activations and non-torch memory.</summary>
    public long? KvCacheBytesPerGpu { get; init; }

    /// <summary>vLLM: tokens the KV cache holds (whole 16-token blocks).</summary>
    public long? KvCacheTokens { get; init; }

    /// <summary>vLLM: KV tokens / context — the "Maximum concurrency" vLLM logs.</summary>
    public double? MaxConcurrency { get; init; }

    /// <summary>llama.cpp: layers on the GPU (<c>-ngl</c>); n_layer + 1 puts the output layer there too.</summary>
    public int? GpuLayers { get; init; }

    /// <summary>llama.cpp partial offload: bytes in host RAM.</summary>
    public long? HostBytes { get; init; }

    /// <summary>Decode tokens/s of one sequence (inference).</summary>
    public double? DecodeTokensPerSecond { get; init; }

    /// <summary>Decode tokens/s over the whole batch (inference).</summary>
    public double? AggregateDecodeTokensPerSecond { get; init; }

    /// <summary>Prefill tokens/s (inference).</summary>
    public double? PrefillTokensPerSecond { get; init; }

    /// <summary>Seconds to the first token of a full-context prompt (inference).</summary>
    public double? TimeToFirstTokenSeconds { get; init; }

    /// <summary>Seconds per optimizer step (training).</summary>
    public double? StepSeconds { get; init; }

    /// <summary>Hours to train on <see cref="ThroughputAssumptions.TrainingTokens"/> tokens (training).</summary>
    public double? TrainingHours { get; init; }

    /// <summary>The estimate of the plan's configuration (null for none).</summary>
    public MemoryEstimate? Estimate { get; init; }

    /// <summary>What the plan assumes beyond the estimate's own assumptions.</summary>
    public required IReadOnlyList<Assumption> Assumptions { get; init; }

    /// <summary>Ready-to-paste engine settings (empty when nothing fits).</summary>
    public required EngineSettings Settings { get; init; }

    /// <summary>Why it does not fit, when it does not.</summary>
    public string? Reason { get; init; }
}

/// <summary>The plans for one model, best first (fits on fewest GPUs, then most headroom).</summary>
/// <param name="Model">The model's name.</param>
/// <param name="Plans">The plans.</param>
public sealed record FitResult(string Model, IReadOnlyList<FitPlan> Plans)
{
    /// <summary>Whether any plan fits.</summary>
    public bool AnyFits => Plans.Any(p => p.FitType != FitType.None);

    /// <summary>For one device: each weight format and KV type of the engines' quality ladders, best first, with whether
    /// it fits one GPU at the workload's context and its longest context (empty for a catalog-wide plan).</summary>
    public IReadOnlyList<FormatOption> Formats { get; init; } = [];

    /// <summary>For one device: the memory of the best plan's configuration at 1k, 2k, 4k … tokens up to the model's
    /// maximum, against the budget (empty unless asked for).</summary>
    public IReadOnlyList<ContextPoint> Sweep { get; init; } = [];
}

/// <summary>One weight format and KV type on one GPU.</summary>
/// <param name="Engine">The engine.</param>
/// <param name="Format">The weight format.</param>
/// <param name="KvType">The KV cache type.</param>
/// <param name="PerGpu">Device bytes at the workload's context on one GPU.</param>
/// <param name="Budget">The budget it is checked against.</param>
/// <param name="Fits">Whether it fits one GPU at the workload's context.</param>
/// <param name="MaxContext">The longest context that fits one GPU (0 when none).</param>
public sealed record FormatOption(InferenceEngine Engine, Quantization.WeightFormat Format, DataTypes.DataType KvType, ByteSize PerGpu, ByteSize Budget, bool Fits, int MaxContext);

/// <summary>The memory at one context.</summary>
/// <param name="Context">Tokens per sequence.</param>
/// <param name="PerGpu">Device bytes per GPU.</param>
/// <param name="Fits">Whether it fits the budget.</param>
public sealed record ContextPoint(int Context, ByteSize PerGpu, bool Fits);
