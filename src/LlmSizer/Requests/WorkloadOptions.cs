using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Quantization;

namespace LlmSizer.Requests;

/// <summary>A workload as a user types it: every setting as text, null when not given. The CLI fills it from flags, the
/// web API from query strings or a JSON body; <see cref="WorkloadParser.Parse"/> turns it into a <see cref="Workload"/>, so
/// a value means the same everywhere (<c>--context 32k</c> and <c>?context=32k</c>).</summary>
/// <remarks>Boolean settings take <c>true|false|on|off|1|0</c>; a CLI switch that is present is <c>true</c>.</remarks>
public sealed record WorkloadOptions
{
#pragma warning disable CS1591 // Each property is the setting of the same name in SettingNames; docs/contract.md lists them.
    public string? Mode { get; init; }
    public string? Dtype { get; init; }
    public string? UnquantizedDtype { get; init; }
    public string? Context { get; init; }
    public string? Batch { get; init; }

    /// <summary>Images per sequence (<see cref="Workload.Images"/>).</summary>
    public string? Images { get; init; }
    public string? KvDtype { get; init; }
    public string? Gpus { get; init; }
    public string? TensorParallel { get; init; }
    public string? PipelineParallel { get; init; }
    public string? Engine { get; init; }
    public string? Attention { get; init; }
    public string? GpuMemory { get; init; }
    public string? Overhead { get; init; }
    public string? ZeroStage { get; init; }
    public string? Optimizer { get; init; }
    public string? LoraRank { get; init; }
    public string? LoraTargets { get; init; }
    public string? Qlora { get; init; }
    public string? Recompute { get; init; }
    public string? SequenceParallel { get; init; }
    public string? GradientAccumulation { get; init; }
    public string? Ubatch { get; init; }
    public string? FlashAttention { get; init; }
    public string? SwaFull { get; init; }
    public string? GpuUtilization { get; init; }
    public string? MaxBatchedTokens { get; init; }
    public string? MaxSeqs { get; init; }
    public string? MaxMultimodalTokens { get; init; }
    public string? Interconnect { get; init; }
#pragma warning restore CS1591
}

/// <summary>Turns <see cref="WorkloadOptions"/> into a typed <see cref="Workload"/>, checking every value and every
/// combination; errors name the logical setting (<see cref="SettingNames"/>).</summary>
public static class WorkloadParser
{
    /// <summary>The largest context accepted (2^24 tokens, the solver's search bound).</summary>
    public const int MaxContext = 1 << 24;

    /// <summary>The largest batch, sequence count or micro-batch accepted (2^20).</summary>
    public const int MaxBatch = 1 << 20;

    /// <summary>The largest GPU count accepted.</summary>
    public const int MaxGpus = 65_536;

    /// <summary>The largest tensor- or pipeline-parallel size accepted.</summary>
    public const int MaxParallel = 1_024;

    /// <summary>Parses the options.</summary>
    /// <param name="o">The options.</param>
    /// <returns>The workload.</returns>
    /// <exception cref="InvalidSettingException">A value is invalid, or a setting does not apply to the mode or the
    /// engine given (a training setting in inference, a llama.cpp setting with engine vllm).</exception>
    public static Workload Parse(WorkloadOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var mode = o.Mode is null ? WorkloadMode.Inference : Name<WorkloadMode>(SettingNames.Mode, o.Mode, WorkloadNames.ModeNames, WorkloadNames.TryParse);
        InferenceEngine? engine = o.Engine is null ? null : Name<InferenceEngine>(SettingNames.Engine, o.Engine, WorkloadNames.EngineNames, WorkloadNames.TryParse);

        if (mode == WorkloadMode.Inference)
        {
            TrainingOnly(SettingNames.ZeroStage, o.ZeroStage);
            TrainingOnly(SettingNames.Optimizer, o.Optimizer);
            TrainingOnly(SettingNames.LoraRank, o.LoraRank);
            TrainingOnly(SettingNames.LoraTargets, o.LoraTargets);
            TrainingOnly(SettingNames.Qlora, o.Qlora);
            TrainingOnly(SettingNames.Recompute, o.Recompute);
            TrainingOnly(SettingNames.SequenceParallel, o.SequenceParallel);
            TrainingOnly(SettingNames.GradientAccumulation, o.GradientAccumulation);
        }
        else
        {
            if (o.Engine is not null)
            {
                throw new InvalidSettingException(SettingNames.Engine, $"applies to mode inference (training is sized for PyTorch); found mode training with engine {WorkloadNames.Name(engine!.Value)}.");
            }

            InferenceOnly(SettingNames.FlashAttention, o.FlashAttention, $"is llama.cpp's setting; training uses {SettingNames.Attention} eager|sdpa|flash");
            InferenceOnly(SettingNames.Ubatch, o.Ubatch, "is llama.cpp's setting");
            InferenceOnly(SettingNames.SwaFull, o.SwaFull, "is llama.cpp's setting");
            InferenceOnly(SettingNames.GpuUtilization, o.GpuUtilization, "is vLLM's setting");
            InferenceOnly(SettingNames.MaxBatchedTokens, o.MaxBatchedTokens, "is vLLM's setting");
            InferenceOnly(SettingNames.MaxSeqs, o.MaxSeqs, "is vLLM's setting");
            InferenceOnly(SettingNames.MaxMultimodalTokens, o.MaxMultimodalTokens, "is vLLM's setting");
            InferenceOnly(SettingNames.Interconnect, o.Interconnect, "sizes vLLM's NCCL buffers");
            InferenceOnly(SettingNames.KvDtype, o.KvDtype, "sizes the inference KV cache");
        }

        if (engine is { } e)
        {
            EngineOnly(e, InferenceEngine.LlamaCpp, SettingNames.Ubatch, o.Ubatch);
            EngineOnly(e, InferenceEngine.LlamaCpp, SettingNames.FlashAttention, o.FlashAttention);
            EngineOnly(e, InferenceEngine.LlamaCpp, SettingNames.SwaFull, o.SwaFull);
            EngineOnly(e, InferenceEngine.Vllm, SettingNames.GpuUtilization, o.GpuUtilization);
            EngineOnly(e, InferenceEngine.Vllm, SettingNames.MaxBatchedTokens, o.MaxBatchedTokens);
            EngineOnly(e, InferenceEngine.Vllm, SettingNames.MaxSeqs, o.MaxSeqs);
            EngineOnly(e, InferenceEngine.Vllm, SettingNames.MaxMultimodalTokens, o.MaxMultimodalTokens);
            EngineOnly(e, InferenceEngine.Vllm, SettingNames.Interconnect, o.Interconnect);
            EngineOnly(e, InferenceEngine.Hf, SettingNames.Attention, o.Attention);
        }

        var format = o.Dtype is null ? null : ParseFormat(SettingNames.Dtype, o.Dtype);
        var training = mode == WorkloadMode.Training ? ParseTraining(o) : null;
        var llama = LlamaCppSettings.Default;
        if (o.Ubatch is not null || o.FlashAttention is not null || o.SwaFull is not null)
        {
            llama = new LlamaCppSettings
            {
                Ubatch = o.Ubatch is null ? llama.Ubatch : SettingParser.ParseInt(SettingNames.Ubatch, o.Ubatch, 1, MaxBatch),
                FlashAttention = o.FlashAttention is null ? llama.FlashAttention
                    : Name<FlashAttention>(SettingNames.FlashAttention, o.FlashAttention, WorkloadNames.FlashAttentionNames, WorkloadNames.TryParse),
                SwaFull = o.SwaFull is not null && ParseBool(SettingNames.SwaFull, o.SwaFull),
            };
        }

        // "vllm-v0" is engine vllm with V0's memory profile (older deployments and their logs).
        bool v0 = o.Engine is { } en && WorkloadNames.IsVllmV0(en);
        var vllm = v0 ? VllmSettings.Default with { Profile = VllmProfile.V0 } : VllmSettings.Default;
        if (o.GpuUtilization is not null || o.MaxBatchedTokens is not null || o.MaxSeqs is not null || o.MaxMultimodalTokens is not null || o.Interconnect is not null)
        {
            vllm = vllm with
            {
                GpuUtilization = o.GpuUtilization is null ? vllm.GpuUtilization : SettingParser.ParseFraction(SettingNames.GpuUtilization, o.GpuUtilization),
                MaxBatchedTokens = o.MaxBatchedTokens is null ? null : SettingParser.ParseInt(SettingNames.MaxBatchedTokens, o.MaxBatchedTokens, 1, MaxContext),
                MaxSeqs = o.MaxSeqs is null ? vllm.MaxSeqs : SettingParser.ParseInt(SettingNames.MaxSeqs, o.MaxSeqs, 1, MaxBatch),
                MaxMultimodalTokens = o.MaxMultimodalTokens is null ? null : SettingParser.ParseInt(SettingNames.MaxMultimodalTokens, o.MaxMultimodalTokens, 1, MaxContext),
                Interconnect = o.Interconnect is null ? null
                    : Name<GpuInterconnect>(SettingNames.Interconnect, o.Interconnect, WorkloadNames.InterconnectNames, WorkloadNames.TryParse),
            };
        }

        return new Workload
        {
            Format = format,
            UnquantizedType = o.UnquantizedDtype is null ? null : ParseDataType(SettingNames.UnquantizedDtype, o.UnquantizedDtype),
            Context = o.Context is null ? null : SettingParser.ParseInt(SettingNames.Context, o.Context, 1, MaxContext),
            Batch = o.Batch is null ? 1 : SettingParser.ParseInt(SettingNames.Batch, o.Batch, 1, MaxBatch),
            Images = o.Images is null ? 0 : SettingParser.ParseInt(SettingNames.Images, o.Images, 0, MaxBatch),
            KvType = o.KvDtype is null || o.KvDtype.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? null : ParseDataType(SettingNames.KvDtype, o.KvDtype),
            Gpus = o.Gpus is null ? null : SettingParser.ParseInt(SettingNames.Gpus, o.Gpus, 1, MaxGpus),
            TensorParallel = o.TensorParallel is null ? 1 : SettingParser.ParseInt(SettingNames.TensorParallel, o.TensorParallel, 1, MaxParallel),
            PipelineParallel = o.PipelineParallel is null ? 1 : SettingParser.ParseInt(SettingNames.PipelineParallel, o.PipelineParallel, 1, MaxParallel),
            Engine = engine,
            Attention = o.Attention is null ? null : Name<AttentionKernel>(SettingNames.Attention, o.Attention, WorkloadNames.AttentionNames, WorkloadNames.TryParse),
            GpuMemory = o.GpuMemory is null ? null : SettingParser.ParseSize(SettingNames.GpuMemory, o.GpuMemory),
            Overhead = o.Overhead is null ? null : SettingParser.ParseSize(SettingNames.Overhead, o.Overhead, allowZero: true),
            Vllm = vllm,
            LlamaCpp = llama,
            Training = training,
        };
    }

    /// <summary>Parses a weight-format name (see <see cref="WeightFormat.TryParse"/>).</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The name.</param>
    /// <returns>The format.</returns>
    /// <exception cref="InvalidSettingException">The name is unknown; the message lists the known names.</exception>
    public static WeightFormat ParseFormat(string setting, string text) =>
        WeightFormat.TryParse(text, out var f)
            ? f
            : throw new InvalidSettingException(setting, $"expected one of {string.Join(", ", WeightFormat.KnownNames)}; found {SettingParser.Quote(text)}.");

    /// <summary>Parses a data-type name (see <see cref="DataType.TryParse"/>).</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The name.</param>
    /// <returns>The type.</returns>
    /// <exception cref="InvalidSettingException">The name is unknown; the message lists the known names.</exception>
    public static DataType ParseDataType(string setting, string text) =>
        DataType.TryParse(text, out var t)
            ? t
            : throw new InvalidSettingException(setting, $"expected one of {string.Join(", ", DataType.All.Select(a => a.Name.ToLowerInvariant()))}; found {SettingParser.Quote(text)}.");

    /// <summary>Parses a boolean: true|false|on|off|yes|no|1|0.</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The text.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidSettingException">The text is none of those.</exception>
    public static bool ParseBool(string setting, string text) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "on" or "yes" or "1" => true,
        "false" or "off" or "no" or "0" => false,
        _ => throw new InvalidSettingException(setting, $"expected true or false; found {SettingParser.Quote(text)}."),
    };

    private delegate bool TryParser<T>(string? text, out T value);

    private static T Name<T>(string setting, string text, IReadOnlyList<string> known, TryParser<T> parse) =>
        parse(text, out var v) ? v : throw new InvalidSettingException(setting, $"expected one of {string.Join(", ", known)}; found {SettingParser.Quote(text)}.");

    private static TrainingSettings ParseTraining(WorkloadOptions o)
    {
        LoraTargets? targets = null;
        if (o.LoraTargets is not null && !LoraTargets.TryParse(o.LoraTargets, out targets, out var unknown))
        {
            throw new InvalidSettingException(SettingNames.LoraTargets, $"expected a comma-separated list of {string.Join(", ", LoraTargets.KnownNames)}; found {SettingParser.Quote(unknown)}.");
        }

        bool qlora = o.Qlora is not null && ParseBool(SettingNames.Qlora, o.Qlora);
        int? rank = o.LoraRank is null ? null : SettingParser.ParseInt(SettingNames.LoraRank, o.LoraRank, 1, 65_536);
        if (targets is not null && rank is null && !qlora)
        {
            throw new InvalidSettingException(SettingNames.LoraTargets, "applies to LoRA; expected lora_rank or qlora with it; found neither.");
        }

        return new TrainingSettings
        {
            ZeroStage = o.ZeroStage is null ? 0 : SettingParser.ParseInt(SettingNames.ZeroStage, o.ZeroStage, 0, 3),
            Optimizer = o.Optimizer is null ? OptimizerKind.AdamW : Name<OptimizerKind>(SettingNames.Optimizer, o.Optimizer, WorkloadNames.OptimizerNames, WorkloadNames.TryParse),
            LoraRank = rank,
            LoraTargets = targets,
            Qlora = qlora,
            Recompute = o.Recompute is null ? Recompute.None : Name<Recompute>(SettingNames.Recompute, o.Recompute, WorkloadNames.RecomputeNames, WorkloadNames.TryParse),
            SequenceParallel = o.SequenceParallel is not null && ParseBool(SettingNames.SequenceParallel, o.SequenceParallel),
            GradientAccumulation = o.GradientAccumulation is null ? 1 : SettingParser.ParseInt(SettingNames.GradientAccumulation, o.GradientAccumulation, 1, MaxBatch),
        };
    }

    private static void TrainingOnly(string setting, string? value)
    {
        if (value is not null)
        {
            throw new InvalidSettingException(setting, "applies to mode training; found mode inference.");
        }
    }

    private static void InferenceOnly(string setting, string? value, string why)
    {
        if (value is not null)
        {
            throw new InvalidSettingException(setting, $"applies to mode inference ({why}); found mode training.");
        }
    }

    private static void EngineOnly(InferenceEngine given, InferenceEngine required, string setting, string? value)
    {
        if (value is not null && given != required)
        {
            throw new InvalidSettingException(setting, $"applies to engine {WorkloadNames.Name(required)}; found engine {WorkloadNames.Name(given)}.");
        }
    }
}
