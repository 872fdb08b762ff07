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

/// <summary>Everything about how a model is run that changes its memory. Every field has a default; the estimate's
/// assumptions list the values it used.</summary>
public sealed record Workload
{
    /// <summary>Inference or training.</summary>
    public WorkloadMode Mode { get; init; } = WorkloadMode.Inference;

    /// <summary>The weight format name (see <see cref="Quantization.WeightFormat.Parse"/>); null picks the checkpoint's own
    /// types for a file, bf16 otherwise.</summary>
    public string? Dtype { get; init; }

    /// <summary>The type of tensors a quantized format leaves unquantized (null: the format's default).</summary>
    public string? UnquantizedDtype { get; init; }

    /// <summary>Tokens per sequence (prompt + generated for inference, sequence length for training); null: 4096 or the
    /// model's maximum, whichever is smaller.</summary>
    public int? Context { get; init; }

    /// <summary>Sequences processed together (concurrent sequences for inference; the micro-batch for training).</summary>
    public int Batch { get; init; } = 1;

    /// <summary>The KV cache type: f16, bf16, f32, fp8, q8_0, q5_1, q5_0, q4_1, q4_0, iq4_nl (null: f16 for llama.cpp,
    /// the weights' 16-bit type elsewhere).</summary>
    public string? KvDtype { get; init; }

    /// <summary>GPUs in total (data parallel = gpus / (tp × pp)).</summary>
    public int Gpus { get; init; } = 1;

    /// <summary>Tensor-parallel size.</summary>
    public int Tp { get; init; } = 1;

    /// <summary>Pipeline-parallel size.</summary>
    public int Pp { get; init; } = 1;

    /// <summary>ZeRO stage 0–3 (3 = FSDP FULL_SHARD, 2 = SHARD_GRAD_OP).</summary>
    public int Zero { get; init; }

    /// <summary>The optimizer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;

    /// <summary>Train in pure 16-bit (no fp32 master weights; 16-bit optimizer states) instead of mixed precision.</summary>
    public bool PureLowPrecision { get; init; }

    /// <summary>LoRA rank; null or 0 for full fine-tuning.</summary>
    public int? LoraRank { get; init; }

    /// <summary>LoRA target modules (q,k,v,o,gate,up,down or "all"/"all-linear"); null means all linear layers.</summary>
    public IReadOnlyList<string>? LoraTargets { get; init; }

    /// <summary>QLoRA: the base model in NF4 with double quantization, LoRA adapters, paged 8-bit-capable optimizer.</summary>
    public bool Qlora { get; init; }

    /// <summary>Activation recomputation.</summary>
    public Recompute Recompute { get; init; } = Recompute.None;

    /// <summary>Whether attention uses FlashAttention/SDPA memory-efficient kernels (training and HF inference).</summary>
    public bool FlashAttentionKernels { get; init; } = true;

    /// <summary>Megatron sequence parallelism (shards the non-tensor-parallel activations over TP).</summary>
    public bool SequenceParallel { get; init; }

    /// <summary>Paged optimizer (bitsandbytes paged AdamW, QLoRA §3): optimizer states live in CUDA unified memory and are
    /// evicted to host memory under pressure; they are then reported as host memory, not device memory.</summary>
    public bool PagedOptimizer { get; init; }

    /// <summary>Optimizer step fused into backward (torchtune <c>optimizer_in_bwd</c>): each gradient is applied and freed
    /// as soon as it is produced, so only the largest tensor's gradient is alive at once.</summary>
    public bool OptimizerInBackward { get; init; }

    /// <summary>Gradient accumulation steps (does not change memory; recorded).</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>The inference engine (null: llamacpp for GGUF formats, vllm otherwise).</summary>
    public InferenceEngine? Engine { get; init; }

    /// <summary>llama.cpp physical batch (n_ubatch).</summary>
    public int Ubatch { get; init; } = 512;

    /// <summary>llama.cpp flash attention.</summary>
    public FlashAttention FlashAttn { get; init; } = FlashAttention.Auto;

    /// <summary>llama.cpp <c>--swa-full</c>: full-size cache for sliding-window layers.</summary>
    public bool SwaFull { get; init; }

    /// <summary>vLLM <c>gpu_memory_utilization</c>.</summary>
    public double GpuUtil { get; init; } = 0.9;

    /// <summary>vLLM <c>max_num_batched_tokens</c> for the profile run (null: max(context, 2048)).</summary>
    public int? MaxBatchedTokens { get; init; }

    /// <summary>vLLM <c>max_num_seqs</c> for the profile run.</summary>
    public int MaxSeqs { get; init; } = 256;

    /// <summary>vLLM: the most multimodal (e.g. image) tokens one prompt can carry (<c>max_mm_tokens</c>); null for a
    /// text-only model. It caps the profile run's sequences and adds the embeddings the multimodal wrapper keeps.</summary>
    public int? MaxMultimodalTokens { get; init; }

    /// <summary>Total memory of one GPU in bytes, when known (null: not given). vLLM's default non-torch memory depends on
    /// the GPU class it implies (see <see cref="MemoryEstimator.VllmConsumerGpuMaxBytes"/>).</summary>
    public long? GpuMemoryBytes { get; init; }

    /// <summary>The per-GPU runtime overhead in bytes (CUDA context, cuBLAS workspaces, NCCL); null: the engine default.</summary>
    public long? OverheadBytes { get; init; }
}
