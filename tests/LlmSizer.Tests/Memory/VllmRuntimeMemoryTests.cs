using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>vLLM's memory outside torch (non-torch memory, the CUDA context, CUDA graphs), term by term, checked on logs
/// the terms were not taken from. Each log is cited where it is used; the fitted logs are named in
/// <see cref="VllmRuntimeMemory"/>.</summary>
public class VllmRuntimeMemoryTests
{
    private const double GiB = ByteSize.GiB;

    [Fact]
    public void NonTorch_Tp8OverNvLink_IsWithinFifteenPercentOfTheA100Log()
    {
        // Not fitted: serving-logs case 21, vLLM 0.7.1 V0, DeepSeek-Coder-V2-Lite at TP 8 on 8 × A100 40 GB (NVSwitch):
        // "non_torch_memory takes 2.10GiB" per GPU. Ours: 0.10 runtime + 1.79 NVLink communication = 1.89 GiB (−10 %).
        long ours = VllmRuntimeMemory.NonTorchBytes(8, GpuInterconnect.NvLink);
        Assert.InRange(ours / GiB, 2.10 * 0.85, 2.10 * 1.15);
    }

    [Fact]
    public void NonTorch_Tp8OverInfinityFabric_IsWithinTenPercentOfTheRocmLog()
    {
        // Not fitted: a vLLM V0 log of a 32B model at TP 8 on 64 GB ROCm GPUs (total_gpu_memory 63.98 GiB, Infinity Fabric):
        // "non_torch_memory takes 1.78GiB". Ours: 1.89 GiB (+6 %).
        var link = VllmRuntimeMemory.LinkOf("Infinity Fabric 896 GB/s (7 x 128 GB/s); PCIe 5.0 x16", 8);
        long ours = VllmRuntimeMemory.NonTorchBytes(8, link);
        Assert.Equal(GpuInterconnect.NvLink, link);
        Assert.InRange(ours / GiB, 1.78 * 0.9, 1.78 * 1.1);
    }

    [Fact]
    public void NonTorch_OneGpu_LeavesOutTheCudaContextAndIsTheSameOnEveryGpuSize()
    {
        // vLLM ≥ 0.7 measures from the snapshot after CUDA initialisation, so one GPU logs 0.01–0.16 GiB whatever its size
        // (T4 0.01 and 0.05, 12 GB 0.04, 48 GB 0.08, 80 GB 0.11, H100 0.16 in PR #12126); the context is warned apart.
        long ours = VllmRuntimeMemory.NonTorchBytes(1, null);
        Assert.InRange(ours / GiB, 0.01, 0.16);
        Assert.True(VllmRuntimeMemory.CudaContextBytes > ours);
    }

    [Theory]
    [InlineData(VllmProfile.V0, 256, 8192, 35)] // "Capturing CUDA graph shapes: 35/35" (V0 log, max_num_seqs 256)
    [InlineData(VllmProfile.V0, 2, 8192, 2)] // serving-logs case 21: "cudagraph_capture_sizes": [2, 1]
    [InlineData(VllmProfile.V0, 16, 8192, 5)] // 1, 2, 4, 8, 16
    [InlineData(VllmProfile.V1, 256, 8192, 51)] // 1, 2, 4 + 8 … 248 (31) + 256 … 512 step 16 (17); case 23's max_capture_size 512
    [InlineData(VllmProfile.V1, 1024, 8192, 51)] // min(2 × 1024, 512) = 512 again
    [InlineData(VllmProfile.V1, 4, 8192, 4)] // 1, 2, 4, 8 (min(2 × 4, 512) = 8)
    [InlineData(VllmProfile.V1, 256, 100, 15)] // none above max_num_batched_tokens: 1, 2, 4, 8 … 96
    public void CaptureSizes_FollowTheEnginesLists(VllmProfile profile, int maxSeqs, long maxBatched, int expected)
    {
        Assert.Equal(expected, VllmRuntimeMemory.CaptureSizes(profile, maxSeqs, maxBatched).Count);
    }

    [Fact]
    public void CudaGraphs_FittedLog_IsReproduced()
    {
        // Fitted: serving-logs case 18, Phi-4 (40 layers), vLLM 0.6.5 V0, 35 graphs, "took 0.27 GiB".
        long ours = VllmRuntimeMemory.CudaGraphBytes(VllmProfile.V0, 40, 256, 2048);
        Assert.InRange(ours / GiB, 0.2699, 0.2701);
    }

    [Fact]
    public void CudaGraphs_V0Qwen25_1_5B_IsWithinFifteenPercentOfItsLog()
    {
        // Not fitted: serving-logs case 14, Qwen2.5-1.5B (28 layers), vLLM 0.7.2 V0 on a T4, capture sizes 1..256 (35):
        // "Graph capturing finished in 49 secs, took 0.17 GiB". Ours: 35 × 28 × 207,083 B = 0.189 GiB (+11 %).
        long ours = VllmRuntimeMemory.CudaGraphBytes(VllmProfile.V0, 28, 256, 32768);
        Assert.InRange(ours / GiB, 0.17 * 0.85, 0.17 * 1.15);
    }

    [Fact]
    public void CudaGraphs_V1FullAndPiecewise_IsWithinTenPercentOfItsLog()
    {
        // Not fitted: serving-logs case 23, granite-4.0-micro (40 layers), vLLM 0.11.0 V1 on an L40S (max_num_seqs 256),
        // cudagraph_mode FULL_AND_PIECEWISE: 51 piecewise + 35 full decode graphs; "took 0.72 GiB". Ours: 86 × 40 × 207,083 B
        // = 0.663 GiB (−8 %).
        Assert.Equal(86, VllmRuntimeMemory.CapturedGraphs(VllmProfile.V1, 256, 8192));
        long ours = VllmRuntimeMemory.CudaGraphBytes(VllmProfile.V1, 40, 256, 8192);
        Assert.InRange(ours / GiB, 0.72 * 0.9, 0.72 * 1.1);
    }

    [Theory]
    [InlineData("NVLink 4 900 GB/s", 8, GpuInterconnect.NvLink)]
    [InlineData("NVLink-C2C 900 GB/s to the Grace CPU; NVLink 4 900 GB/s", 4, GpuInterconnect.NvLink)]
    [InlineData("PCIe 4.0 x16", 2, GpuInterconnect.Pcie)]
    [InlineData("NVLink bridge (2 GPUs) 600 GB/s; PCIe 4.0 x16", 2, GpuInterconnect.NvLink)]
    [InlineData("NVLink bridge (2 GPUs) 600 GB/s; PCIe 4.0 x16", 4, GpuInterconnect.Pcie)]
    [InlineData("Infinity Fabric bridge up to 300 GB/s; PCIe 4.0 x16", 4, GpuInterconnect.Pcie)]
    public void LinkOf_ReadsTheCatalogsInterconnect(string text, int tp, GpuInterconnect expected)
    {
        Assert.Equal(expected, VllmRuntimeMemory.LinkOf(text, tp));
    }

    [Theory]
    [InlineData("h100-sxm-80gb", 102 + 1833)] // "NVLink 4 900 GB/s": NCCL over NVLink, custom all-reduce on
    [InlineData("l40s", 102 + 102)] // "PCIe 4.0 x16": NCCL over PCIe
    public void Fit_TensorParallel_ChargesTheGpusLinkForNcclMemory(string gpu, long expectedMiB)
    {
        // Llama-3.1-70B needs TP > 1 on both (141 GB of bf16 weights); the plan's overhead is the runtime 0.10 GiB plus
        // the link's communication term.
        var result = Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-70b", Gpu = GpuDevice.FromSpec(GpuCatalog.Find(gpu)),
            Workload = new Workload { Context = 8192, Vllm = new VllmSettings { MaxSeqs = 64, MaxBatchedTokens = 2048 } },
        });
        var plan = result.Plans.Single();

        Assert.True(plan.TensorParallel > 1);
        Assert.Equal(expectedMiB * ByteSize.MiB, plan.Estimate!["overhead"].Bytes);
    }
}

/// <summary>vLLM's profile run of a vision-language model without max_mm_tokens: the largest image from the vision config,
/// the encoder's profile batch (V1) or one image set per sequence (V0), the tower's own activations.</summary>
public class VllmMultimodalProfileTests
{
    [Fact]
    public void V1_Gemma3_4B_EncoderBatchIsTheBudgetOverTokensPerImage_AndTheSamplerStillDominates()
    {
        // Gemma 3: 256 tokens per image (mm_tokens_per_image). V1 MultiModalBudget: max(2048, 256) // 256 = 8 images in the
        // encoder's profile batch. SigLIP 896 px / 14 px = 4,096 patches, h_v 1152, i_v 4304: vision stage
        // 8 × 4,096 × max(2·1152 + 2·4304, 6·1152) × 2 B = 8 × 4,096 × 10,912 × 2 = 715,128,832 B.
        // Sampler: 2048 × 2560 × 2 + 256 × 262,208 × 40 = 10,485,760 + 2,685,009,920 = 2,695,495,680 B, with the encoder cache
        // 8 × 256 × 2560 × 2 = 10,485,760 B held: 2,705,981,440 B, the larger.
        var e = Sizer.Memory("gemma-3-4b", new Workload { Context = 4096 });

        Assert.Equal(2_705_981_440L, e["activations"].Bytes);
        Assert.Equal(8L, e.Assumptions.Single(a => a.Name == "profile_mm_items").Value);
        Assert.Equal(256L, e.Assumptions.Single(a => a.Name == "max_mm_tokens").Value);
    }

    [Fact]
    public void V1_SmolVlm_WithFewSequences_TheVisionTowerSetsThePeak()
    {
        // SmolVLM-256M: 512 px / 16 px = 1,024 patches, pixel shuffle 4 → 64 tokens per image; encoder batch
        // max(2048, 64) // 64 = 32 images. Vision stage: 32 × 1,024 × max(2·768 + 2·3072, 6·768) × 2 B = 32 × 1,024 × 7,680 × 2
        // = 503,316,480 B. With max_num_seqs 16 the sampler is 2048 × 576 × 2 + 16 × 49,280 × 40 = 33,898,496 B (+ encoder
        // cache 32 × 64 × 576 × 2 = 2,359,296), and the layer stage 2048 × (3·576 + 3·1536) × 2 = 25,952,256 B: both smaller.
        var e = Sizer.Memory("smolvlm-256m", new Workload { Context = 4096, Vllm = new VllmSettings { MaxSeqs = 16 } });

        Assert.Equal(503_316_480L, e["activations"].Bytes);
    }

    [Fact]
    public void V0_ImagesPerPrompt_RaiseTheProfiledTokensPerSequence()
    {
        // V0 profiles every sequence with limit_mm_per_prompt × the largest image: --images 2 on LLaVA-1.5 (576 tokens per
        // image) gives 1,152; the context grows by the same 1,152, so max_num_batched_tokens = max(4096 + 1152, 2048) = 5,248
        // and the profile holds 5,248 // 1,152 = 4 sequences.
        var e = Sizer.Memory("llava-1.5-7b", new Workload { Context = 4096, Images = 2, Vllm = new VllmSettings { Profile = VllmProfile.V0 } });

        Assert.Equal(1152L, e.Assumptions.Single(a => a.Name == "max_mm_tokens").Value);
        Assert.Equal(4L, e.Assumptions.Single(a => a.Name == "profile_seqs").Value);
    }

    [Fact]
    public void TextOnly_Or_DynamicResolution_HasNoDefaultImageProfile()
    {
        // --text-only drops the tower; Qwen2-VL takes images at their own resolution, so its largest item is the user's
        // max_mm_tokens, not a config value.
        var text = Sizer.Memory(new MemoryRequest { Model = "gemma-3-4b", TextOnly = true, Workload = new Workload { Context = 4096 } });
        var qwen = Sizer.Memory("qwen2-vl-7b", new Workload { Context = 4096 });

        Assert.DoesNotContain(text.Assumptions, a => a.Name == "max_mm_tokens");
        Assert.DoesNotContain(qwen.Assumptions, a => a.Name == "max_mm_tokens");
        Assert.Contains(qwen.Warnings, w => w.Contains("own resolution", StringComparison.Ordinal) && w.Contains(SettingNames.MaxMultimodalTokens, StringComparison.Ordinal));
        Assert.DoesNotContain(text.Warnings, w => w.Contains("own resolution", StringComparison.Ordinal));
    }
}
