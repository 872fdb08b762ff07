using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>How the GPUs of a tensor-parallel group talk to each other, which decides how much memory NCCL and vLLM's
/// custom all-reduce take.</summary>
public enum GpuInterconnect
{
    /// <summary>NVLink/NVSwitch, or an equivalent GPU fabric (AMD Infinity Fabric): NCCL/RCCL opens many channels, and
    /// vLLM's custom all-reduce runs over peer memory.</summary>
    NvLink,

    /// <summary>PCIe only: NCCL uses few channels, and vLLM turns its custom all-reduce off beyond two GPUs.</summary>
    Pcie,
}

/// <summary>The memory a vLLM worker holds outside PyTorch's caching allocator, per term, with where each term comes
/// from: what vLLM counts as <c>non_torch_memory</c> (inside the <c>gpu_memory_utilization</c> budget), and the CUDA
/// context and CUDA graphs it does not count (they must fit in the rest of the GPU).</summary>
/// <remarks>
/// <para>What vLLM measures. Since vLLM 0.7.0 (PR #11809, January 2025) non-torch memory is the device memory in use
/// (<c>cudaMemGetInfo</c>) minus <c>torch.cuda.memory_reserved()</c>, taken as the increase over a snapshot made right
/// after CUDA initialisation (PR #10511; V0 <c>worker.py</c> <c>baseline_snapshot</c>, V1 <c>gpu_worker.py</c>
/// <c>init_snapshot</c>, shared since PR #19312). So the CUDA context is not in it, and neither is the allocator's
/// reserved-but-free memory. Before 0.7.0 the subtraction used <c>allocated_bytes</c>, so allocator slack was counted
/// too: the 1.79 GiB that PR #10511's build logged for Llama-3-8B on one H100 is that, not a property of the GPU (PR
/// #12126's build logs 0.16 GiB on the same GPU a month later).</para>
/// <para>What is in it. One GPU: the CUDA modules loaded lazily as kernels first run (attention, Marlin, Triton),
/// cuBLAS/cuDNN handles and NCCL's bootstrap: <see cref="RuntimeBytes"/>. Tensor parallel: NCCL communicators (vLLM's
/// PyNccl communicator and torch's device groups) with their per-channel, per-protocol buffers, and the custom
/// all-reduce's shared buffers: <see cref="CommunicationBytes"/>, which depends on the link.</para>
/// <para>Checked on logs it was not fitted to: docs/accuracy.md, "vLLM non-torch memory".</para>
/// </remarks>
public static class VllmRuntimeMemory
{
    /// <summary>Non-torch memory of one GPU (no tensor parallelism): 0.10 GiB, the median of six logs from vLLM 0.7 and
    /// later at TP 1: 0.16 (H100, PR #12126), 0.11 (80 GB, Qwen 8B, May 2025), 0.08 (48 GB, August 2025), 0.05 (T4,
    /// February 2025), 0.04 (12 GB, May 2025), 0.01 GiB (T4, v0.7.2, serving-logs case 14).</summary>
    public const long RuntimeBytes = 102L * ByteSize.MiB; // 0.10 GiB = 102.4 MiB

    /// <summary>NCCL and custom all-reduce memory per GPU at TP &gt; 1 over NVLink: 1.79 GiB, the TP 2 − TP 1 difference
    /// in PR #10511's two logs (3.58 − 1.79 GiB, one build, one GPU type, so that build's allocator slack cancels).</summary>
    public const long NvLinkCommunicationBytes = 1833L * ByteSize.MiB; // 1.79 GiB

    /// <summary>NCCL memory per GPU at TP &gt; 1 over PCIe: 0.10 GiB, from vLLM PR #14447's log of RTX 3090s (24 GB,
    /// PCIe) at TP &gt; 1: 0.20 GiB non-torch per GPU, less <see cref="RuntimeBytes"/>. NCCL opens few channels over PCIe
    /// and vLLM disables its custom all-reduce beyond two PCIe GPUs (custom_all_reduce.py).</summary>
    public const long PcieCommunicationBytes = 102L * ByteSize.MiB; // 0.10 GiB

    /// <summary>The CUDA context and module images a vLLM worker holds before its baseline snapshot, outside the budget:
    /// about 0.5 GiB with lazy module loading (memory-physics.md §3.2).</summary>
    public const long CudaContextBytes = 512L * ByteSize.MiB;

    /// <summary>CUDA graph memory per decoder layer per captured graph: 207,083 B, from one log: Phi-4 (40 layers), vLLM
    /// V0 0.6.5 at TP 1, 35 graphs, "Graph capturing finished in 13 secs, took 0.27 GiB" (serving-logs case 18):
    /// 0.27 GiB ÷ (35 × 40).</summary>
    public const long CudaGraphBytesPerLayerGraph = 207_083L; // 0.27 × 2^30 / 1,400

    /// <summary>The non-torch memory vLLM counts inside the budget for one GPU of a tensor-parallel group.</summary>
    /// <param name="tensorParallel">The tensor-parallel size.</param>
    /// <param name="link">The link between the group's GPUs (null: NVLink, the larger).</param>
    /// <returns>Bytes per GPU.</returns>
    public static long NonTorchBytes(int tensorParallel, GpuInterconnect? link) =>
        checked(RuntimeBytes + CommunicationBytes(tensorParallel, link));

    /// <summary>The communication part of <see cref="NonTorchBytes"/>: none at TP 1.</summary>
    /// <param name="tensorParallel">The tensor-parallel size.</param>
    /// <param name="link">The link between the group's GPUs (null: NVLink).</param>
    /// <returns>Bytes per GPU.</returns>
    public static long CommunicationBytes(int tensorParallel, GpuInterconnect? link) => tensorParallel <= 1 ? 0
        : link == GpuInterconnect.Pcie ? PcieCommunicationBytes : NvLinkCommunicationBytes;

    /// <summary>The batch sizes vLLM captures CUDA graphs for by default.</summary>
    /// <param name="profile">The engine generation.</param>
    /// <param name="maxSeqs">max_num_seqs.</param>
    /// <param name="maxBatchedTokens">max_num_batched_tokens (V1 captures no size above it).</param>
    /// <returns>The sizes, ascending.</returns>
    /// <remarks>V0 (0.7 <c>config.py</c> <c>_set_cudagraph_sizes</c>): 1, 2, 4, then multiples of 8, up to the first
    /// of them that is at least max_num_seqs (35 sizes for 256). V1 (0.11 <c>config/vllm.py</c>): 1, 2, 4, 8 … 248 in steps of 8, then
    /// 256 … min(2 × max_num_seqs, 512) in steps of 16, none above max_num_batched_tokens.</remarks>
    public static IReadOnlyList<int> CaptureSizes(VllmProfile profile, int maxSeqs, long maxBatchedTokens)
    {
        var sizes = new List<int> { 1, 2, 4 };
        if (profile == VllmProfile.V0)
        {
            // Up to the smallest size in 1, 2, 4, 8, 16 … that is at least max_num_seqs (config.py _set_cudagraph_sizes).
            int top = maxSeqs <= 4 ? (maxSeqs <= 1 ? 1 : maxSeqs <= 2 ? 2 : 4) : (int)KvCache.CeilDiv(maxSeqs, 8) * 8;
            for (int s = 8; s <= top; s += 8)
            {
                sizes.Add(s);
            }

            return sizes.Where(s => s <= top).ToArray();
        }

        int max = (int)Math.Min(512L, 2L * maxSeqs);
        for (int s = 8; s < 256 && s <= max; s += 8)
        {
            sizes.Add(s);
        }

        for (int s = 256; s <= max; s += 16)
        {
            sizes.Add(s);
        }

        return sizes.Where(s => s <= maxBatchedTokens).ToArray();
    }

    /// <summary>The CUDA graphs vLLM captures by default: V0 one per capture size (decode only); V1 0.11's
    /// FULL_AND_PIECEWISE mode one piecewise graph per capture size plus one full graph per size up to max_num_seqs
    /// (uniform decode batches).</summary>
    /// <param name="profile">The engine generation.</param>
    /// <param name="maxSeqs">max_num_seqs.</param>
    /// <param name="maxBatchedTokens">max_num_batched_tokens.</param>
    /// <returns>The number of graphs.</returns>
    public static int CapturedGraphs(VllmProfile profile, int maxSeqs, long maxBatchedTokens)
    {
        var sizes = CaptureSizes(profile, maxSeqs, maxBatchedTokens);
        return profile == VllmProfile.V0 ? sizes.Count : sizes.Count + sizes.Count(s => s <= maxSeqs);
    }

    /// <summary>The memory of vLLM's CUDA graphs on one GPU: graphs × decoder layers × <see cref="CudaGraphBytesPerLayerGraph"/>.
    /// Captured after the KV cache is allocated, so outside the budget.</summary>
    /// <param name="profile">The engine generation.</param>
    /// <param name="layers">Decoder layers on the GPU.</param>
    /// <param name="maxSeqs">max_num_seqs.</param>
    /// <param name="maxBatchedTokens">max_num_batched_tokens.</param>
    /// <returns>Bytes.</returns>
    /// <remarks>Checked (docs/accuracy.md) on dense models at TP 1: V0 Qwen2.5-1.5B and V1 granite-4.0-micro. Logs at
    /// TP &gt; 1 show much more (custom all-reduce registers every graph's buffers; LoRA adds kernels), so there the figure
    /// is a floor.</remarks>
    public static long CudaGraphBytes(VllmProfile profile, int layers, int maxSeqs, long maxBatchedTokens) =>
        checked(CapturedGraphs(profile, maxSeqs, maxBatchedTokens) * (long)layers * CudaGraphBytesPerLayerGraph);

    /// <summary>The link class of a GPU from the catalog's interconnect text: NVLink or Infinity Fabric (not a two-GPU
    /// bridge) is <see cref="GpuInterconnect.NvLink"/>; a bridge counts as NVLink for a pair; anything else is PCIe.</summary>
    /// <param name="interconnect">The catalog's interconnect text, e.g. "NVLink 4 900 GB/s" or "PCIe 4.0 x16".</param>
    /// <param name="tensorParallel">The tensor-parallel size.</param>
    /// <returns>The link class, or null when the text is empty.</returns>
    public static GpuInterconnect? LinkOf(string? interconnect, int tensorParallel)
    {
        if (string.IsNullOrWhiteSpace(interconnect))
        {
            return null;
        }

        bool fabric = interconnect.Contains("NVLink", StringComparison.OrdinalIgnoreCase) ||
                      interconnect.Contains("Infinity Fabric", StringComparison.OrdinalIgnoreCase);
        bool bridge = interconnect.Contains("bridge", StringComparison.OrdinalIgnoreCase) &&
                      !interconnect.Contains("NVLink 4", StringComparison.OrdinalIgnoreCase);
        return fabric && (!bridge || tensorParallel <= 2) ? GpuInterconnect.NvLink : GpuInterconnect.Pcie;
    }
}
