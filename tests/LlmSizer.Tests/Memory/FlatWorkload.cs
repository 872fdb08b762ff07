using LlmSizer.DataTypes;
using LlmSizer.Memory;
using LlmSizer.Requests;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>A workload written the short way, one flat list of settings, for tests: converts to the typed
/// <see cref="Workload"/> (training settings only when the mode is training) through the core's own parsers.</summary>
internal sealed record FlatWorkload
{
    public WorkloadMode Mode { get; init; } = WorkloadMode.Inference;
    public string? Dtype { get; init; }
    public string? UnquantizedDtype { get; init; }
    public int? Context { get; init; }
    public int Batch { get; init; } = 1;
    public string? KvDtype { get; init; }
    public int? Gpus { get; init; }
    public int Tp { get; init; } = 1;
    public int Pp { get; init; } = 1;
    public int Zero { get; init; }
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    public bool PureLowPrecision { get; init; }
    public int? LoraRank { get; init; }
    public IReadOnlyList<string>? LoraTargets { get; init; }
    public bool Qlora { get; init; }
    public Recompute Recompute { get; init; } = Recompute.None;
    public bool FlashAttentionKernels { get; init; } = true;
    public bool SequenceParallel { get; init; }
    public bool PagedOptimizer { get; init; }
    public bool OptimizerInBackward { get; init; }
    public InferenceEngine? Engine { get; init; }
    public int Ubatch { get; init; } = 512;
    public FlashAttention FlashAttn { get; init; } = FlashAttention.Auto;
    public bool SwaFull { get; init; }
    public double GpuUtil { get; init; } = 0.9;
    public int? MaxBatchedTokens { get; init; }
    public int? MaxSeqs { get; init; }
    public VllmProfile VllmProfile { get; init; } = VllmProfile.V1;
    public int? MaxMultimodalTokens { get; init; }
    public long? GpuMemoryBytes { get; init; }
    public long? OverheadBytes { get; init; }

    public Workload W => new()
    {
        Format = Dtype is null ? null : WorkloadParser.ParseFormat(SettingNames.Dtype, Dtype),
        UnquantizedType = UnquantizedDtype is null ? null : WorkloadParser.ParseDataType(SettingNames.UnquantizedDtype, UnquantizedDtype),
        Context = Context,
        Batch = Batch,
        KvType = KvDtype is null || KvDtype == "auto" ? null : WorkloadParser.ParseDataType(SettingNames.KvDtype, KvDtype),
        Gpus = Gpus,
        TensorParallel = Tp,
        PipelineParallel = Pp,
        Engine = Engine,
        Attention = FlashAttentionKernels ? null : AttentionKernel.Eager,
        GpuMemory = GpuMemoryBytes is { } g ? new ByteSize(g) : null,
        Overhead = OverheadBytes is { } o ? new ByteSize(o) : null,
        Vllm = new VllmSettings { Profile = VllmProfile, GpuUtilization = GpuUtil, MaxBatchedTokens = MaxBatchedTokens, MaxSeqs = MaxSeqs, MaxMultimodalTokens = MaxMultimodalTokens },
        LlamaCpp = new LlamaCppSettings { Ubatch = Ubatch, FlashAttention = FlashAttn, SwaFull = SwaFull },
        Training = Mode == WorkloadMode.Training
            ? new TrainingSettings
            {
                ZeroStage = Zero,
                Optimizer = Optimizer,
                PureLowPrecision = PureLowPrecision,
                LoraRank = LoraRank,
                LoraTargets = LoraTargets is null ? null : LlmSizer.Memory.LoraTargets.TryParse(string.Join(",", LoraTargets), out var t, out _) ? t : throw new ArgumentException("bad targets"),
                Qlora = Qlora,
                Recompute = Recompute,
                SequenceParallel = SequenceParallel,
                PagedOptimizer = PagedOptimizer,
                OptimizerInBackward = OptimizerInBackward,
            }
            : null,
    };

    public static implicit operator Workload(FlatWorkload f) => f.W;
}
