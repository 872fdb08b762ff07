namespace LlmSizer.Memory;

/// <summary>The logical names of every request setting. Errors name settings by these (never by a front end's spelling);
/// each front end maps them to its own vocabulary: the CLI to flags (<c>tensor_parallel</c> → <c>tp</c>), the web API
/// to query and body fields of the same names.</summary>
public static class SettingNames
{
#pragma warning disable CS1591 // The names are their own documentation; each is listed with its meaning in docs/contract.md.
    public const string Model = "model";
    public const string Mode = "mode";
    public const string Dtype = "dtype";
    public const string UnquantizedDtype = "unquantized_dtype";
    public const string Context = "context";
    public const string Batch = "batch";
    public const string Images = "images";
    public const string KvDtype = "kv_dtype";
    public const string Gpus = "gpus";
    public const string TensorParallel = "tensor_parallel";
    public const string PipelineParallel = "pipeline_parallel";
    public const string Engine = "engine";
    public const string Attention = "attention";
    public const string GpuMemory = "gpu_memory";
    public const string Overhead = "overhead";
    public const string ZeroStage = "zero_stage";
    public const string Optimizer = "optimizer";
    public const string LoraRank = "lora_rank";
    public const string LoraTargets = "lora_targets";
    public const string Qlora = "qlora";
    public const string Recompute = "recompute";
    public const string SequenceParallel = "sequence_parallel";
    public const string GradientAccumulation = "gradient_accumulation";
    public const string Ubatch = "ubatch";
    public const string FlashAttention = "flash_attention";
    public const string SwaFull = "swa_full";
    public const string GpuUtilization = "gpu_utilization";
    public const string MaxBatchedTokens = "max_batched_tokens";
    public const string MaxSeqs = "max_seqs";
    public const string MaxMultimodalTokens = "max_multimodal_tokens";
    public const string Interconnect = "interconnect";
    public const string Check = "check";

    // Manual architectures.
    public const string Layers = "layers";
    public const string Hidden = "hidden";
    public const string Heads = "heads";
    public const string Vocab = "vocab";
    public const string KvHeads = "kv_heads";
    public const string Intermediate = "intermediate";
    public const string HeadDim = "head_dim";
    public const string MaxPositions = "max_positions";
    public const string LearnedPositions = "learned_positions";
    public const string Experts = "experts";
    public const string TopK = "top_k";
    public const string ExpertIntermediate = "expert_intermediate";
    public const string Norm = "norm";
#pragma warning restore CS1591
}
