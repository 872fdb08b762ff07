using LlmSizer.DataTypes;
using LlmSizer.Quantization;
using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>What the GPU memory is for.</summary>
public enum WorkloadMode
{
    /// <summary>Serving or generating: weights, KV cache, activations/workspace.</summary>
    Inference,

    /// <summary>Training or fine-tuning: adds gradients, optimizer states and stored activations.</summary>
    Training,
}

/// <summary>The runtime whose allocation habits the inference estimate mirrors.</summary>
public enum InferenceEngine
{
    /// <summary>vLLM: paged KV cache in 16-token blocks, profiled activation peak, non-torch memory.</summary>
    Vllm,

    /// <summary>llama.cpp: model buffer, KV buffer (n_ctx padded to 256), output buffer and compute buffer.</summary>
    LlamaCpp,

    /// <summary>Hugging Face transformers <c>generate()</c>: DynamicCache of exactly the tokens, prefill logits transient.</summary>
    Hf,
}

/// <summary>Activation recomputation (gradient checkpointing) in training.</summary>
public enum Recompute
{
    /// <summary>Keep every activation.</summary>
    None,

    /// <summary>Recompute the attention core only (Korthikanti et al. 2022 "selective").</summary>
    Selective,

    /// <summary>Keep only each layer's input; recompute the layer during backward.</summary>
    Full,
}

/// <summary>The optimizer, for the size of its state.</summary>
public enum OptimizerKind
{
    /// <summary>AdamW with fp32 moments: 8 B/param.</summary>
    AdamW,

    /// <summary>bitsandbytes 8-bit AdamW (block-wise, block 2048, fp32 absmax): about 2 B/param.</summary>
    AdamW8Bit,

    /// <summary>SGD with momentum: 4 B/param.</summary>
    SgdMomentum,

    /// <summary>Plain SGD: no state.</summary>
    Sgd,

    /// <summary>Adafactor without first moment: factored second moment, (rows + cols) × 4 B per matrix.</summary>
    Adafactor,

    /// <summary>Lion: one fp32 momentum, 4 B/param.</summary>
    Lion,
}

/// <summary>llama.cpp's flash-attention setting.</summary>
public enum FlashAttention
{
    /// <summary>Let llama.cpp decide (on when the backend supports it; the CPU backend does).</summary>
    Auto,

    /// <summary>On.</summary>
    On,

    /// <summary>Off.</summary>
    Off,
}

/// <summary>The attention kernel of PyTorch-based runs (transformers' <c>attn_implementation</c> names).</summary>
public enum AttentionKernel
{
    /// <summary>FlashAttention-2: no s×s score matrix is kept.</summary>
    Flash,

    /// <summary>PyTorch scaled-dot-product attention with its memory-efficient or flash backend: no s×s scores kept.</summary>
    Sdpa,

    /// <summary>Eager attention: the s×s scores, the softmax (and in training the dropout mask) are materialised.</summary>
    Eager,
}

/// <summary>Everything about how a model is run that changes its memory. Every field has a default; null means "the
/// engine's or the model's own default", resolved once by the estimator and reported among the estimate's
/// <see cref="MemoryEstimate.Assumptions"/> with the reason.</summary>
/// <remarks>Front ends parse user text into this record at their edge (<see cref="Requests.WorkloadParser"/>); no string reaches
/// the estimator. Engine-specific knobs live in <see cref="Vllm"/>, <see cref="LlamaCpp"/> (PyTorch runs take <see cref="Attention"/>);
/// a workload with <see cref="Training"/> set is a training workload.</remarks>
public sealed record Workload
{
    /// <summary>Inference (no <see cref="Training"/>) or training.</summary>
    public WorkloadMode Mode => Training is null ? WorkloadMode.Inference : WorkloadMode.Training;

    /// <summary>The weight format; null picks the checkpoint's own types for a file, the config's dtype otherwise.</summary>
    public WeightFormat? Format { get; init; }

    /// <summary>The type of tensors a quantized format leaves unquantized (null: the format's default).</summary>
    public DataType? UnquantizedType { get; init; }

    /// <summary>Tokens per sequence (prompt + generated for inference, sequence length for training); null: 4096 or the
    /// model's maximum, whichever is smaller (<see cref="EngineDefaults.Context"/>).</summary>
    public int? Context { get; init; }

    /// <summary>Sequences processed together (concurrent sequences for inference; the micro-batch for training).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>Images per sequence (inference on a vision-language model): each adds the model's image tokens
    /// (<see cref="Architecture.VisionTowerSpec.ImageTokens"/>) to the sequence, or to the cross-attention cache of a
    /// cross-attention model (Llama 3.2 Vision); 0 for text only.</summary>
    public int Images { get; init; }

    /// <summary>The KV cache type (null: f16 for llama.cpp, the compute type elsewhere).</summary>
    public DataType? KvType { get; init; }

    /// <summary>GPUs in total (null: tensor parallel × pipeline parallel); data parallel = gpus / (tp × pp).</summary>
    public int? Gpus { get; init; }

    /// <summary>Tensor-parallel size.</summary>
    public int TensorParallel { get; init; } = 1;

    /// <summary>Pipeline-parallel size.</summary>
    public int PipelineParallel { get; init; } = 1;

    /// <summary>The inference engine (null: llamacpp for GGUF formats, vllm otherwise).</summary>
    public InferenceEngine? Engine { get; init; }

    /// <summary>The attention kernel of PyTorch runs (training and <see cref="InferenceEngine.Hf"/>); null: sdpa/flash.</summary>
    public AttentionKernel? Attention { get; init; }

    /// <summary>Usable memory of one GPU, when known. vLLM's default non-torch memory depends on the GPU class it implies.</summary>
    public ByteSize? GpuMemory { get; init; }

    /// <summary>The per-GPU runtime overhead (CUDA context, cuBLAS workspaces, NCCL); null: the engine default.</summary>
    public ByteSize? Overhead { get; init; }

    /// <summary>vLLM settings.</summary>
    public VllmSettings Vllm { get; init; } = VllmSettings.Default;

    /// <summary>llama.cpp settings.</summary>
    public LlamaCppSettings LlamaCpp { get; init; } = LlamaCppSettings.Default;

    /// <summary>Training settings; null for inference.</summary>
    public TrainingSettings? Training { get; init; }

    /// <summary>The GPU count this workload uses: <see cref="Gpus"/>, or tp × pp when not given.</summary>
    public int GpuCount => Gpus ?? checked(TensorParallel * PipelineParallel);
}

/// <summary>vLLM's knobs that change memory.</summary>
public sealed record VllmSettings
{
    /// <summary>The defaults (vLLM's own).</summary>
    public static VllmSettings Default { get; } = new();

    /// <summary><c>gpu_memory_utilization</c> (vLLM default 0.9).</summary>
    public double GpuUtilization { get; init; } = 0.9;

    /// <summary>Which vLLM engine's memory profile to follow: V1 (the default engine since vLLM 0.8, the only one
    /// since 0.10) or V0 (older deployments and their logs).</summary>
    public VllmProfile Profile { get; init; } = VllmProfile.V1;

    /// <summary><c>max_num_batched_tokens</c> for the profile run (null: the engine's default,
    /// <see cref="VllmDefaults.MaxBatchedTokens"/>).</summary>
    public int? MaxBatchedTokens { get; init; }

    /// <summary><c>max_num_seqs</c> for the profile run's sampler (null: the engine's default,
    /// <see cref="VllmDefaults.MaxSeqs"/>).</summary>
    public int? MaxSeqs { get; init; }

    /// <summary>The most multimodal (e.g. image) tokens one prompt can carry; null for a text-only model.</summary>
    public int? MaxMultimodalTokens { get; init; }

    /// <summary>The link between the GPUs of a tensor-parallel group, which sets NCCL's and the custom all-reduce's
    /// memory (<see cref="VllmRuntimeMemory.CommunicationBytes"/>); null: NVLink, the larger.</summary>
    public GpuInterconnect? Interconnect { get; init; }
}

/// <summary>The vLLM engine generation whose memory profile an estimate follows.</summary>
public enum VllmProfile
{
    /// <summary>vLLM V1 (<c>vllm/v1/worker/gpu_worker.py</c>): chunked prefill always on, batch defaults by usage
    /// context and GPU memory, the CUDA context outside the profiled budget.</summary>
    V1,

    /// <summary>vLLM V0 (<c>vllm/worker/worker.py</c>, before 0.10): <c>max_num_batched_tokens</c> = max(max_model_len,
    /// 2048) without chunked prefill, 256 sequences.</summary>
    V0,
}

/// <summary>vLLM's scheduler defaults, per engine generation.</summary>
public static class VllmDefaults
{
    private const long SeventyGiB = 70L << 30;

    /// <summary>The default <c>max_num_batched_tokens</c>. V1, for <c>vllm serve</c> (usage context OPENAI_API_SERVER):
    /// 8192 on a GPU of at least 70 GiB that is not an A100, else 2048 (<c>EngineArgs.get_batch_defaults</c>,
    /// vllm/engine/arg_utils.py, v0.10–v0.11; the offline <c>LLM</c> class uses 16384 / 8192 — pass it as
    /// max_batched_tokens). V0: max(max_model_len, 2048), prefill unchunked (SchedulerConfig, ≤ 0.9).</summary>
    /// <param name="profile">The engine generation.</param>
    /// <param name="context">max_model_len.</param>
    /// <param name="gpuMemoryBytes">The GPU's total memory, when known (unknown: the smaller GPUs' value).</param>
    /// <param name="gpuName">The GPU's name, when known (an A100 keeps the smaller values, vLLM PR #17885).</param>
    /// <returns>The token budget of one scheduler step.</returns>
    public static int MaxBatchedTokens(VllmProfile profile, int context, long? gpuMemoryBytes, string? gpuName = null) => profile switch
    {
        VllmProfile.V0 => Math.Max(context, 2048),
        _ => IsLarge(gpuMemoryBytes, gpuName) ? 8192 : 2048,
    };

    /// <summary>The default <c>max_num_seqs</c>: V1 1024 on a GPU of at least 70 GiB that is not an A100, else 256
    /// (same source); V0 256.</summary>
    /// <param name="profile">The engine generation.</param>
    /// <param name="gpuMemoryBytes">The GPU's total memory, when known.</param>
    /// <param name="gpuName">The GPU's name, when known.</param>
    /// <returns>The sequence limit.</returns>
    public static int MaxSeqs(VllmProfile profile, long? gpuMemoryBytes, string? gpuName = null) =>
        profile == VllmProfile.V1 && IsLarge(gpuMemoryBytes, gpuName) ? 1024 : 256;

    private static bool IsLarge(long? gpuMemoryBytes, string? gpuName) =>
        gpuMemoryBytes >= SeventyGiB && !(gpuName ?? "").Contains("a100", StringComparison.OrdinalIgnoreCase);
}

/// <summary>llama.cpp's knobs that change memory.</summary>
public sealed record LlamaCppSettings
{
    /// <summary>The defaults (llama-server's own).</summary>
    public static LlamaCppSettings Default { get; } = new();

    /// <summary>Physical batch <c>n_ubatch</c> (default 512).</summary>
    public int Ubatch { get; init; } = 512;

    /// <summary>Flash attention (default auto).</summary>
    public FlashAttention FlashAttention { get; init; } = FlashAttention.Auto;

    /// <summary><c>swa_full</c>: full-size cache for sliding-window layers (default off).</summary>
    public bool SwaFull { get; init; }
}

/// <summary>The training side of a workload.</summary>
public sealed record TrainingSettings
{
    /// <summary>Full fine-tuning with mixed-precision AdamW, no ZeRO, no recompute.</summary>
    public static TrainingSettings Default { get; } = new();

    /// <summary>ZeRO stage 0–3 (3 = FSDP FULL_SHARD, 2 = SHARD_GRAD_OP).</summary>
    public int ZeroStage { get; init; }

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Train in pure 16-bit (no fp32 master weights; 16-bit optimizer states) instead of mixed precision.</summary>
    public bool PureLowPrecision { get; init; }

    /// <summary>LoRA rank; null for full fine-tuning (QLoRA defaults to 16).</summary>
    public int? LoraRank { get; init; }

    /// <summary>LoRA target modules; null means all linear layers.</summary>
    public LoraTargets? LoraTargets { get; init; }

    /// <summary>QLoRA: the base model in NF4 with double quantization, LoRA adapters.</summary>
    public bool Qlora { get; init; }

    /// <summary>Activation recomputation.</summary>
    public Recompute Recompute { get; init; } = Recompute.None;

    /// <summary>Megatron sequence parallelism (shards the non-tensor-parallel activations over TP).</summary>
    public bool SequenceParallel { get; init; }

    /// <summary>Paged optimizer (bitsandbytes paged AdamW, QLoRA §3): states reported as host memory.</summary>
    public bool PagedOptimizer { get; init; }

    /// <summary>Optimizer step fused into backward (torchtune <c>optimizer_in_bwd</c>).</summary>
    public bool OptimizerInBackward { get; init; }

    /// <summary>Gradient accumulation steps (does not change memory; recorded).</summary>
    public int GradientAccumulation { get; init; } = 1;
}
