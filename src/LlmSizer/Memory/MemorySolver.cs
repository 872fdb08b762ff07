using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>Reverse questions on the estimator: the largest context or batch that fits a per-GPU budget, and the
/// highest-precision weight format that fits. Each is a bisection (or a scan) over <see cref="MemoryEstimator.Estimate(PreparedModel, Workload)"/>,
/// so it inherits every rule of the forward estimate (padding, blocks, sliding windows, engine buffers); the prepared
/// model makes each step cost only arithmetic.</summary>
public static class MemorySolver
{
    /// <summary>The upper bound of the context search (2^24 tokens).</summary>
    public const int MaxContextSearched = 1 << 24;

    private static readonly WeightFormat[] LlamaCppLadder = [.. new[] { "f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k" }.Select(n => WeightFormat.Parse(n))];

    private static readonly WeightFormat[] TorchLadder = [.. new[] { "bf16", "fp8", "bnb-int8", "gptq-int4-g128", "nf4" }.Select(n => WeightFormat.Parse(n))];

    /// <summary>The largest context (tokens per sequence) whose per-GPU estimate fits <paramref name="budget"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="workload">The workload; its context is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The context, or 0 when not even one token fits.</returns>
    /// <exception cref="InvalidSettingException">The workload is invalid for the model.</exception>
    public static int MaxContext(ModelInfo model, Workload workload, ByteSize budget) => MaxContext(PreparedModel.For(model), workload, budget);

    /// <summary>The largest context whose per-GPU estimate fits <paramref name="budget"/>, on a prepared model.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="workload">The workload; its context is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The context, or 0 when not even one token fits.</returns>
    /// <exception cref="InvalidSettingException">The workload is invalid for the model.</exception>
    public static int MaxContext(PreparedModel model, Workload workload, ByteSize budget)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return Bisect(n => Fits(model, workload with { Context = n }, budget), MaxContextSearched);
    }

    /// <summary>The largest batch (concurrent sequences or micro-batch) whose per-GPU estimate fits at the workload's context.</summary>
    /// <param name="model">The model.</param>
    /// <param name="workload">The workload; its batch is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The batch, or 0 when not even one sequence fits.</returns>
    /// <exception cref="InvalidSettingException">The workload is invalid for the model.</exception>
    public static int MaxBatch(ModelInfo model, Workload workload, ByteSize budget) => MaxBatch(PreparedModel.For(model), workload, budget);

    /// <summary>The largest batch whose per-GPU estimate fits, on a prepared model.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="workload">The workload; its batch is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The batch, or 0 when not even one sequence fits.</returns>
    /// <exception cref="InvalidSettingException">The workload is invalid for the model.</exception>
    public static int MaxBatch(PreparedModel model, Workload workload, ByteSize budget)
    {
        ArgumentNullException.ThrowIfNull(workload);
        return Bisect(n => Fits(model, workload with { Batch = n }, budget), 1 << 20);
    }

    /// <summary>The formats tried by <see cref="BestFittingFormat(PreparedModel, Workload, ByteSize)"/>, from highest to
    /// lowest precision, per engine.</summary>
    /// <param name="engine">The engine.</param>
    /// <returns>The formats.</returns>
    public static IReadOnlyList<WeightFormat> Ladder(InferenceEngine engine) => engine == InferenceEngine.LlamaCpp ? LlamaCppLadder : TorchLadder;

    /// <summary>The highest-precision format of <see cref="Ladder"/> whose estimate fits, or null when none does.</summary>
    /// <param name="model">The model.</param>
    /// <param name="workload">The workload; its format is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The format and its estimate, or null.</returns>
    public static (WeightFormat Format, MemoryEstimate Estimate)? BestFittingFormat(ModelInfo model, Workload workload, ByteSize budget) =>
        BestFittingFormat(PreparedModel.For(model), workload, budget);

    /// <summary>The highest-precision format of <see cref="Ladder"/> whose estimate fits, on a prepared model.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="workload">The workload; its format is varied.</param>
    /// <param name="budget">The usable memory per GPU.</param>
    /// <returns>The format and its estimate, or null.</returns>
    public static (WeightFormat Format, MemoryEstimate Estimate)? BestFittingFormat(PreparedModel model, Workload workload, ByteSize budget)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var engine = workload.Engine ?? InferenceEngine.Vllm;
        foreach (var format in Ladder(engine))
        {
            var e = MemoryEstimator.Estimate(model, workload with { Format = format, Engine = engine });
            if (e.PerGpu <= budget)
            {
                return (format, e);
            }
        }

        return null;
    }

    /// <summary>The KV-cache tokens vLLM can hold: (gpu_util × GPU memory − weights − profile activations − non-torch overhead) /
    /// KV bytes per token, per GPU (vLLM <c>determine_num_available_blocks</c>; memory-physics.md §3.2), in whole 16-token blocks.
    /// The GPU memory also selects the non-torch default (consumer or data-centre class) unless the workload sets it.</summary>
    /// <param name="model">The model.</param>
    /// <param name="workload">The workload (engine vLLM).</param>
    /// <param name="gpuMemory">Total memory of one GPU.</param>
    /// <returns>The available KV bytes per GPU and the token capacity (blocks × 16).</returns>
    public static (ByteSize AvailableKv, long Tokens) VllmKvCapacity(ModelInfo model, Workload workload, ByteSize gpuMemory) =>
        VllmKvCapacity(PreparedModel.For(model), workload, gpuMemory);

    /// <summary>The KV-cache tokens vLLM can hold, on a prepared model; see <see cref="VllmKvCapacity(ModelInfo, Workload, ByteSize)"/>.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="workload">The workload (engine vLLM).</param>
    /// <param name="gpuMemory">Total memory of one GPU.</param>
    /// <returns>The available KV bytes per GPU and the token capacity (blocks × 16).</returns>
    public static (ByteSize AvailableKv, long Tokens) VllmKvCapacity(PreparedModel model, Workload workload, ByteSize gpuMemory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(workload);
        // A budget beyond any GPU (hostile case C: long.MaxValue bytes) would overflow the arithmetic below.
        if (gpuMemory.Bytes is <= 0 or > MaxGpuMemoryBytes)
        {
            throw new InvalidSettingException(SettingNames.GpuMemory,
                $"expected a GPU memory above 0 and at most 1 PiB; found {gpuMemory.Bytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes.");
        }

        // The profile run uses the engine's max_num_batched_tokens for max_model_len (VllmDefaults); KV is then one 16-token block.
        int maxLen = workload.Context ?? (model.Architecture is { } spec ? EngineDefaults.Context(spec) : 4096);
        var w = workload with
        {
            Engine = InferenceEngine.Vllm,
            Context = MemoryEstimator.VllmBlockSize,
            Batch = 1,
            GpuMemory = workload.GpuMemory ?? gpuMemory,
            Vllm = workload.Vllm with
            {
                MaxBatchedTokens = workload.Vllm.MaxBatchedTokens ?? VllmDefaults.MaxBatchedTokens(workload.Vllm.Profile, maxLen, (workload.GpuMemory ?? gpuMemory).Bytes),
            },
        };
        var e = MemoryEstimator.Estimate(model, w);
        long nonKv = e.PerGpu.Bytes - e["kv_cache"].Bytes;
        long available = (long)(gpuMemory.Bytes * workload.Vllm.GpuUtilization) - nonKv;
        long blockBytes = e["kv_cache"].Bytes; // one 16-token block per layer set
        long blocks = available <= 0 || blockBytes == 0 ? 0 : available / blockBytes;
        return (new ByteSize(Math.Max(0, available)), blocks * MemoryEstimator.VllmBlockSize);
    }

    /// <summary>The largest GPU memory the solvers accept: 1 PiB (far above any device; keeps the sums in 64 bits).</summary>
    public const long MaxGpuMemoryBytes = 1L << 50;

    private static bool Fits(PreparedModel model, Workload w, ByteSize budget) => MemoryEstimator.Estimate(model, w).PerGpu <= budget;

    /// <summary>The largest n in [1, max] with fits(n), assuming monotonicity; 0 when fits(1) is false.</summary>
    private static int Bisect(Func<int, bool> fits, int max)
    {
        if (!fits(1))
        {
            return 0;
        }

        int lo = 1, hi = max;
        if (fits(hi))
        {
            return hi;
        }

        while (hi - lo > 1)
        {
            int mid = lo + (hi - lo) / 2;
            if (fits(mid))
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
