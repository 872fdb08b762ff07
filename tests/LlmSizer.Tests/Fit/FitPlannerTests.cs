using System.Text.Json;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Quantization;
using LlmSizer.Units;

namespace LlmSizer.Tests.Fit;

/// <summary>Known deployments, each with its source, and vLLM's KV budget against logged runs.</summary>
public class FitPlannerTests
{
    private static readonly VllmSettings V0 = new() { Profile = VllmProfile.V0 };

    private static FitPlan Plan(string model, string gpu, Workload? workload = null, int maxGpus = 8) =>
        Sizer.Fit(new FitRequest { Model = model, Gpu = GpuDevice.FromSpec(GpuCatalog.Find(gpu)), Workload = workload ?? new Workload(), MaxGpus = maxGpus }).Plans.Single();

    [Fact]
    public void Llama31_70B_Bf16_NeedsTwoH100s()
    {
        // Hugging Face's Llama 3.1 launch post (huggingface.co/blog/llama31, "Inference Memory Requirements"): 70B in
        // FP16/BF16 is 140 GB of weights — more than one 80 GB H100 holds; vLLM serves it with tensor parallelism 2
        // (with 256 sequences: at V1's H100 default of 1024 the sampler's profile alone takes 4.9 GiB per GPU, see
        // Llama31_70B_V1Defaults_SamplerProfileNeedsMoreThanTwoH100s).
        var plan = Plan("llama-3.1-70b", "h100-sxm-80gb", new Workload { Vllm = new VllmSettings { MaxSeqs = 256 } });

        Assert.False(plan.FitsOnOne);
        Assert.Equal(FitType.FullGpu, plan.FitType);
        Assert.Equal(2, plan.GpusNeeded);
        Assert.Equal(2, plan.TensorParallel);
        Assert.Contains("--tensor-parallel-size 2", plan.Settings.Vllm);
    }

    [Fact]
    public void Llama31_70B_V1Defaults_SamplerProfileNeedsMoreThanTwoH100s()
    {
        // vLLM V1 on a GPU of ≥ 70 GiB defaults to max_num_seqs 1024 (arg_utils.py get_batch_defaults); the profile's
        // sampler then holds 1,024 × 128,256 vocab × 40 B = 4.89 GiB on every TP rank. At TP 2: 0.9 × 79.2 GiB usable
        // = 71.3 GiB < 65.7 GiB of weights per GPU + 4.9 GiB + non-torch (0.10 + 1.79 at TP > 1 over NVLink). The same rule gives
        // serving-logs case 25 (gpt-oss-120b on one H100: available KV −2.14 GiB logged).
        var plan = Plan("llama-3.1-70b", "h100-sxm-80gb");

        Assert.True(plan.TensorParallel > 2);
    }

    [Fact]
    public void VllmV1_A100_80GB_KeepsTheSmallBatchDefaults_H100_TheLargeOnes()
    {
        // arg_utils.py get_batch_defaults: ≥ 70 GiB gives 8192 tokens / 1024 seqs, except on an A100 (PR #17885), which
        // keeps 2048 / 256. The plan's vLLM command pins what vLLM would pick on the A100.
        var a100 = Plan("llama-3.1-8b", "a100-80gb-sxm", new Workload { Context = 8192 });
        var h100 = Plan("llama-3.1-8b", "h100-sxm-80gb", new Workload { Context = 8192 });

        Assert.Contains("--max-num-batched-tokens 2048", a100.Settings.Vllm);
        Assert.DoesNotContain("--max-num-batched-tokens", h100.Settings.Vllm);
    }

    [Fact]
    public void Llama31_8B_Bf16_8k_FitsA4090_NotA3060()
    {
        // 8.03 B × 2 B = 16.06 GB of bf16 weights: over a 12 GB card's memory, under a 24 GB card's.
        var w = new Workload { Context = 8192 };
        var rtx4090 = Plan("llama-3.1-8b", "rtx-4090", w);
        var rtx3060 = Plan("llama-3.1-8b", "rtx-3060-12gb", w, maxGpus: 1);

        Assert.True(rtx4090.FitsOnOne);
        Assert.Equal(FitType.None, rtx3060.FitType);
        Assert.True(rtx3060.HeadroomBytes < 0);
    }

    [Fact]
    public void Llama31_8B_Q4KM_8k_FitsA3060()
    {
        // A Q4_K_M Llama-3.1-8B GGUF is 4.92 GB (bartowski/Meta-Llama-3.1-8B-Instruct-GGUF file list); with an 8k f16 KV
        // cache (1 GiB) it runs fully offloaded on a 12 GB RTX 3060 under llama.cpp.
        var plan = Plan("llama-3.1-8b", "rtx-3060-12gb", new Workload { Context = 8192, Format = WeightFormat.Parse("q4_k_m") });

        Assert.Equal(InferenceEngine.LlamaCpp, plan.Engine);
        Assert.True(plan.FitsOnOne);
        Assert.Equal(33, plan.GpuLayers); // 32 layers + the output layer: -ngl 33, as llama.cpp logs "offloaded 33/33 layers"
        Assert.Contains("-ngl 33", plan.Settings.LlamaCpp);
    }

    [Fact]
    public void Llama31_405B_Fp8_FitsOneNodeOf8H100s()
    {
        // Meta released Llama-3.1-405B-Instruct-FP8 for one 8×H100 node (huggingface.co/blog/llama31: "405B FP8 ... fits
        // on a single node of 8 H100s").
        var plan = Plan("llama-3.1-405b", "h100-sxm-80gb", new Workload { Format = WeightFormat.Parse("fp8") });

        Assert.Equal(FitType.FullGpu, plan.FitType);
        Assert.Equal(1, plan.Nodes);
        Assert.Equal(8, plan.GpusNeeded);
    }

    [Fact]
    public void Mixtral8x7B_Q4KM_FitsA32GBGpu()
    {
        // TheBloke/Mixtral-8x7B-v0.1-GGUF lists mixtral-8x7b-v0.1.Q4_K_M.gguf at 26.44 GB, "max RAM required 28.94 GB".
        var plan = Sizer.Fit(new FitRequest { Model = "mixtral-8x7b", Budget = ByteSize.FromGiB(32), Workload = new Workload { Format = WeightFormat.Parse("q4_k_m") } }).Plans.Single();

        Assert.True(plan.FitsOnOne);
        Assert.Equal("custom", plan.Gpu);
    }

    [Fact]
    public void DeepseekV3_Fp8_LongContext_FitsEightH200s_NotEightH100s()
    {
        // DeepSeek-V3's FP8 checkpoint is 671 B parameters at ~1 B each (~690 GB with scales): SGLang and vLLM serve it on
        // one 8×H200 node (141 GB each); one 8×H100 node (8 × 80 GB = 640 GB) cannot hold the weights.
        var w = new Workload { Format = WeightFormat.Parse("fp8-block"), Context = 32768 };
        var h200 = Plan("deepseek-v3", "h200", w);
        var h100 = Plan("deepseek-v3", "h100-sxm-80gb", w);

        Assert.Equal(FitType.FullGpu, h200.FitType);
        Assert.Equal(8, h200.GpusNeeded);
        Assert.Equal(FitType.None, h100.FitType);
    }

    [Fact]
    public void NothingFits_IsANoAnswerWithShortfall()
    {
        var result = Sizer.Fit(new FitRequest { Model = "llama-3.1-405b", Gpu = GpuDevice.FromSpec(GpuCatalog.Find("rtx-3060-12gb")), MaxGpus = 8, GpuOnly = true });

        Assert.False(result.AnyFits);
        var plan = result.Plans.Single();
        Assert.True(plan.HeadroomBytes < 0);
        Assert.NotNull(plan.Reason);
    }

    [Theory]
    // serving-logs.json case 4 (vLLM ~0.6.4 V0, RTX 3090 reporting 23.58 GiB, Llama-3.1-8B-Instruct, max_model_len 20000):
    // 1952 GPU blocks × 16 = 31,232 tokens, "Maximum concurrency for 20000 tokens per request: 1.56x".
    [InlineData("llama-3.1-8b", 23.58, 20000, 31_232, 1.56, 0.35)]
    // case 1 (vLLM V0, Dec 2024, 79.22 GiB H100-class, Meta-Llama-3-8B, max_model_len 8192): 53.29 GiB of KV cache at
    // 128 KiB per token = 436,551 tokens; 436,551 / 8192 = 53.3.
    [InlineData("llama-3-8b", 79.22, 8192, 436_551, 53.29, 1.79)]
    public void VllmKvBudgetAndConcurrency_WithinFivePercentOfLogs(string model, double gpuGiB, int context, long loggedTokens, double loggedConcurrency, double loggedNonTorchGiB)
    {
        // V0 logs from builds before vLLM 0.7 (PR #11809), which counted allocator slack as non-torch memory: the V0
        // profile with the logged non-torch figure as the overhead (our default follows 0.7 and later).
        var workload = new Workload { Context = context, Vllm = V0, Overhead = ByteSize.FromGiB(loggedNonTorchGiB) };
        var result = Sizer.Fit(new FitRequest { Model = model, Gpu = GpuDevice.Custom(ByteSize.FromGiB(gpuGiB)), Workload = workload, MaxGpus = 1 });
        var plan = result.Plans.Single();

        Assert.Equal(FitType.FullGpu, plan.FitType);
        Assert.InRange(plan.KvCacheTokens!.Value, loggedTokens * 0.95, loggedTokens * 1.05);
        Assert.InRange(plan.MaxConcurrency!.Value, loggedConcurrency * 0.95, loggedConcurrency * 1.05);
    }

    [Fact]
    public void VllmLog_Case5_ContextOverKvCapacity_DoesNotFitOneGpu()
    {
        // serving-logs.json case 5: the same RTX 3090 with max_model_len 29000 failed to start: "max seq len 29000 > 23648
        // KV tokens" (1478 blocks × 16). vLLM ~0.6.4 logged 0.35 GiB non-torch (allocator slack included, before PR #11809).
        var workload = new Workload { Context = 29000, Vllm = V0, Overhead = ByteSize.FromMiB(358) };
        var result = Sizer.Fit(new FitRequest { Model = "llama-3.1-8b", Gpu = GpuDevice.Custom(ByteSize.FromGiB(23.58)), Workload = workload, MaxGpus = 1 });
        var (_, tokens) = MemorySolver.VllmKvCapacity(Sizer.Load("llama-3.1-8b"), workload, ByteSize.FromGiB(23.58));

        Assert.Equal(FitType.None, result.Plans.Single().FitType);
        Assert.InRange(tokens, 23_648 * 0.95, 23_648 * 1.05);
    }

    [Fact]
    public void Decode_Llama31_8B_OneH100_IsInTheRooflineBand()
    {
        // Roofline: a batch-1 decode step reads every weight once: 3,350 GB/s (H100 SXM) / 16.06 GB ≈ 208.6 steps/s at
        // full bandwidth; at the stated 0.7 efficiency 146 tokens/s, a little less with the KV cache read too.
        var plan = Plan("llama-3.1-8b", "h100-sxm-80gb", new Workload { Context = 4096 });
        double eff = plan.Assumptions.Single(a => a.Name == "decode_efficiency").Value is double d ? d : 0;
        double upper = 3350e9 / 16_060_522_496 * eff;

        Assert.Equal(0.7, eff);
        Assert.InRange(plan.DecodeTokensPerSecond!.Value, upper * 0.9, upper);
    }

    [Fact]
    public void Catalog_Plans_AreRankedFewestGpusFirst()
    {
        var result = Sizer.Fit(new FitRequest { Model = "llama-3.1-8b", Workload = new Workload { Context = 8192 } });

        Assert.Equal(GpuCatalog.All.Count, result.Plans.Count);
        var fitting = result.Plans.TakeWhile(p => p.FitType == FitType.FullGpu).ToList();
        Assert.NotEmpty(fitting);
        Assert.True(fitting.Zip(fitting.Skip(1)).All(x => x.First.GpusNeeded <= x.Second.GpusNeeded));
    }

    [Fact]
    public void PartialOffload_70B_Q4_OnOne4090_SplitsLayers()
    {
        // 70B at Q4_K_M is ~42 GB: one 24 GB card takes part of the 80 layers, the rest stays in host RAM.
        var result = Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-70b",
            Gpu = GpuDevice.FromSpec(GpuCatalog.Find("rtx-4090")),
            Workload = new Workload { Format = WeightFormat.Parse("q4_k_m"), Context = 8192 },
            MaxGpus = 1,
            GpusPerNode = 1,
        });
        var plan = result.Plans.Single();

        Assert.Equal(FitType.PartialOffload, plan.FitType);
        Assert.InRange(plan.GpuLayers!.Value, 20, 60);
        Assert.True(plan.PerGpu <= GpuCatalog.Find("rtx-4090").UsableMemory);
        Assert.True(plan.HostBytes > 15L * ByteSize.GiB);
    }

    [Fact]
    public void Training_Plan_HasDeepSpeedAndFsdpSettings()
    {
        var plan = Plan("llama-3.1-8b", "h100-sxm-80gb", new Workload { Training = new TrainingSettings { ZeroStage = 3 }, Context = 2048 });

        Assert.Equal(FitType.FullGpu, plan.FitType);
        Assert.True(plan.GpusNeeded >= 2); // 16 B/param × 8 B params = 128 GB of model states before ZeRO shards them
        using var ds = JsonDocument.Parse(plan.Settings.DeepSpeed!);
        Assert.Equal(3, ds.RootElement.GetProperty("zero_optimization").GetProperty("stage").GetInt32());
        Assert.Contains("fsdp_sharding_strategy: FULL_SHARD", plan.Settings.Fsdp);
        Assert.NotNull(plan.StepSeconds);
    }

    [Fact]
    public void GpuAndBudget_Together_AreRefused()
    {
        var ex = Assert.Throws<LlmSizer.Errors.InvalidSettingException>(() => Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-8b", Gpu = GpuDevice.FromSpec(GpuCatalog.Find("rtx-4090")), Budget = ByteSize.FromGiB(24),
        }));
        Assert.Equal("budget", ex.Setting);
    }
}

public class FitBudgetTests
{
    [Fact]
    public void Budget12GiB_Llama31_8B_WalksTheLadderBestQualityFirst()
    {
        // bf16 weights alone are 16.06 GB (14.96 GiB): over a 12 GiB budget. Q4_K_M is ~4.9 GB: well under it.
        var result = Sizer.Fit(new FitRequest { Model = "llama-3.1-8b", Budget = ByteSize.FromGiB(12), Workload = new Workload { Context = 8192 } });
        var formats = result.Formats;

        Assert.Equal("bf16", formats[0].Format.Name);
        Assert.False(formats[0].Fits);
        Assert.True(formats.Single(f => f.Engine == InferenceEngine.LlamaCpp && f.Format.Name == "q4_k_m" && f.KvType == LlmSizer.DataTypes.DataType.F16).Fits);
        Assert.Contains(formats, f => f.Fits);
        // llama.cpp's ladder goes down in bits per weight (f16 16, q8_0 8.5, q6_k 6.56, q5_k_m ~5.7, q4_k_m ~4.9, q3_k_m
        // ~3.9, q2_k ~3.4): with the same cache type, each step needs no more memory. (vLLM's ladder orders by quality:
        // NF4 keeps embeddings in bf16 and can be larger than GPTQ int4.)
        foreach (var group in formats.Where(f => f.Engine == InferenceEngine.LlamaCpp).GroupBy(f => f.KvType))
        {
            var list = group.ToList();
            Assert.True(list.Zip(list.Skip(1)).All(x => x.Second.PerGpu <= x.First.PerGpu), $"{group.Key}");
        }

        Assert.All(formats, f => Assert.True(f.MaxContext <= 131_072)); // capped at max_position_embeddings
    }

    [Fact]
    public void SweepContext_GrowsWithContext_UpToTheModelsMaximum()
    {
        var result = Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-8b",
            Gpu = GpuDevice.FromSpec(GpuCatalog.Find("h100")),
            Workload = new Workload { Format = WeightFormat.Parse("bf16") },
            SweepContext = true,
        });
        var sweep = result.Sweep;

        Assert.Equal(1024, sweep[0].Context);
        Assert.Equal(131_072, sweep[^1].Context);
        Assert.True(sweep.Zip(sweep.Skip(1)).All(x => x.Second.PerGpu >= x.First.PerGpu));
        Assert.Empty(result.Formats); // the user chose the format: no ladder
    }
}
