using System.CommandLine;
using LlmSizer.Requests;
using static LlmSizer.Cli.Commands.CliSettings;

namespace LlmSizer.Cli.Commands;

/// <summary>The workload flags shared by <c>memory</c> and <c>fit</c>: each flag's text goes to the core as typed
/// (<see cref="WorkloadOptions"/>), so both commands mean the same by the same flag.</summary>
internal sealed class WorkloadFlags
{
    internal readonly Option<string?> _mode = Text("--mode", "inference | training (default inference).", "MODE");
    internal readonly Option<string?> _dtype = Text("--dtype", "Weight format: f16, bf16, f32, fp8, int8, int4, nf4, gptq-int4, awq, q8_0, q4_k_m ... (default: the checkpoint's, the config's torch_dtype otherwise).", "D");
    internal readonly Option<string?> _context = Text("--context", "Tokens per sequence, e.g. 8192 or 32k (default 4096 or the model's maximum).", "N");
    internal readonly Option<string?> _batch = Text("--batch", "Concurrent sequences (inference) or micro-batch (training); default 1.", "N");
    internal readonly Option<string?> _images = Text("--images", "Images per sequence of a vision-language model: each adds its image tokens (from the vision config) to the context, or to the cross-attention cache (Llama 3.2 Vision); default 0.", "N");
    internal readonly Option<string?> _kvDtype = Text("--kv-dtype", "KV cache type: f16, bf16, f32, fp8, q8_0, q4_0 ... (default f16 / the compute dtype).", "D");
    internal readonly Option<string?> _gpus = Text("--gpus", "GPUs in total (default tp × pp).", "N");
    internal readonly Option<string?> _tp = Text("--tp", "Tensor-parallel size (default 1).", "N");
    internal readonly Option<string?> _pp = Text("--pp", "Pipeline-parallel size (default 1).", "N");
    internal readonly Option<string?> _zero = Text("--zero", "Training: ZeRO stage 0..3 (3 = FSDP full shard); default 0.", "0..3");
    internal readonly Option<string?> _optimizer = Text("--optimizer", "Training: adamw | adamw8bit | sgd | sgd-momentum | adafactor | lion (default adamw).", "NAME");
    internal readonly Option<string?> _loraRank = Text("--lora-rank", "Training: LoRA rank; adapters on all linear layers unless --lora-targets.", "R");
    internal readonly Option<string?> _loraTargets = Text("--lora-targets", "Training: comma-separated LoRA targets: q,k,v,o,gate,up,down or all.", "LIST");
    internal readonly Option<bool> _qlora = new("--qlora") { Description = "Training: QLoRA, an NF4 (double-quantized) base + LoRA adapters." };
    internal readonly Option<string?> _recompute = Text("--recompute", "Training: activation recomputation none | selective | full (default none).", "KIND");
    internal readonly Option<string?> _attn = Text("--attn", "Attention kernel of PyTorch runs (training, --engine hf): flash | sdpa | eager (default flash/sdpa: no s×s scores kept).", "KIND");
    internal readonly Option<string?> _engine = Text("--engine", "vllm | vllm-v0 | llamacpp | hf (default: llamacpp for GGUF formats, vllm otherwise; vllm follows vLLM V1, vllm-v0 the older V0 profile).", "NAME");
    internal readonly Option<string?> _ubatch = Text("--ubatch", "llama.cpp physical batch n_ubatch (default 512).", "N");
    internal readonly Option<string?> _flashAttn = Text("--flash-attn", "llama.cpp flash attention: on | off | auto (default auto).", "MODE");
    internal readonly Option<bool> _swaFull = new("--swa-full") { Description = "llama.cpp: full-size cache for sliding-window layers." };
    internal readonly Option<string?> _gpuUtil = Text("--gpu-util", "vLLM gpu_memory_utilization (default 0.9).", "F");
    internal readonly Option<string?> _overhead = Text("--overhead", "Per-GPU runtime overhead, e.g. 512MiB or 1.5GiB (default per engine).", "SIZE");
    internal readonly Option<string?> _gpuMemory = Text("--gpu-memory", "Memory of one GPU with a unit, e.g. 24GiB; vLLM V1: picks the batch defaults (2048 tokens / 256 seqs under 70 GiB, 8192 / 1024 from 70 GiB).", "SIZE");
    internal readonly Option<string?> _maxBatchedTokens = Text("--max-batched-tokens", "vLLM max_num_batched_tokens: tokens in one profile/prefill step (default max(context, 2048), as without chunked prefill; vLLM V1 with chunked prefill uses 2048-16384).", "N");
    internal readonly Option<string?> _maxSeqs = Text("--max-seqs", "vLLM max_num_seqs: sequences in the profile run's sampler and the CUDA graph sizes (default 256; V1 from 70 GiB: 1024).", "N");
    internal readonly Option<string?> _interconnect = Text("--interconnect", "vLLM with --tp > 1: nvlink | pcie, the link between the GPUs, which sets NCCL's memory (default nvlink; fit reads it from the GPU).", "LINK");
    internal readonly Option<string?> _maxMmTokens = Text("--max-mm-tokens", "vLLM: the most image/multimodal tokens one prompt can carry (multimodal profile run).", "N");


    /// <summary>Adds every workload flag to <paramref name="command"/>.</summary>
    /// <param name="command">The command.</param>
    /// <param name="includeGpuMemory">False when the command gives --gpu-memory its own meaning.</param>
    public void AddTo(Command command, bool includeGpuMemory = true)
    {
        foreach (var option in new Option[]
        {
            _mode, _dtype, _context, _batch, _images, _kvDtype, _gpus, _tp, _pp, _zero, _optimizer, _loraRank, _loraTargets, _qlora,
            _recompute, _attn, _engine, _ubatch, _flashAttn, _swaFull, _gpuUtil, _overhead, _maxMmTokens, _maxBatchedTokens, _maxSeqs, _interconnect,
        })
        {
            command.Options.Add(option);
        }

        if (includeGpuMemory)
        {
            command.Options.Add(_gpuMemory);
        }
    }

    /// <summary>The flags as the core's text options: each flag's value is passed on as typed.</summary>
    /// <param name="p">The parse result.</param>
    /// <param name="includeGpuMemory">Whether --gpu-memory is a workload flag here.</param>
    /// <returns>The options.</returns>
    public WorkloadOptions Options(ParseResult p, bool includeGpuMemory = true) => new()
    {
        Mode = p.GetValue(_mode),
        Dtype = p.GetValue(_dtype),
        Context = p.GetValue(_context),
        Batch = p.GetValue(_batch),
        Images = p.GetValue(_images),
        KvDtype = p.GetValue(_kvDtype),
        Gpus = p.GetValue(_gpus),
        TensorParallel = p.GetValue(_tp),
        PipelineParallel = p.GetValue(_pp),
        ZeroStage = p.GetValue(_zero),
        Optimizer = p.GetValue(_optimizer),
        LoraRank = p.GetValue(_loraRank),
        LoraTargets = p.GetValue(_loraTargets),
        Qlora = Switch(p, _qlora),
        Recompute = p.GetValue(_recompute),
        Attention = p.GetValue(_attn),
        Engine = p.GetValue(_engine),
        Ubatch = p.GetValue(_ubatch),
        FlashAttention = p.GetValue(_flashAttn),
        SwaFull = Switch(p, _swaFull),
        GpuUtilization = p.GetValue(_gpuUtil),
        Overhead = p.GetValue(_overhead),
        GpuMemory = includeGpuMemory ? p.GetValue(_gpuMemory) : null,
        MaxMultimodalTokens = p.GetValue(_maxMmTokens),
        MaxBatchedTokens = p.GetValue(_maxBatchedTokens),
        MaxSeqs = p.GetValue(_maxSeqs),
        Interconnect = p.GetValue(_interconnect),
    };
}
