using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

public class MemoryEstimatorTests
{
    [Fact]
    public void Bf16Weights_Llama3_8B_Are14_96GiB()
    {
        // measured.json case 1: "model_weights 14.96 GiB" = 8,030,261,248 × 2 B.
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Engine = InferenceEngine.Vllm, Context = 8192 });
        Assert.Equal(8_030_261_248L * 2, e["weights"].Bytes);
        Assert.Equal(14.96, Math.Round(e["weights"].Bytes / (double)ByteSize.GiB, 2));
    }

    [Fact]
    public void Tp2_HalvesWeightsPerGpu()
    {
        // measured.json case 2: 7.48 GiB per GPU at TP 2.
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Engine = InferenceEngine.Vllm, Context = 8192, Tp = 2, Gpus = 2 });
        Assert.Equal(7.48, Math.Round(e["weights"].Bytes / (double)ByteSize.GiB, 2));
    }

    [Fact]
    public void Estimate_ListsEveryAssumption_AndSumsComponents()
    {
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload());
        var names = e.Assumptions.Select(a => a.Key).ToList();
        foreach (var key in new[] { "mode", "dtype", "context", "batch", "engine", "kv_dtype", "overhead", "tp", "gpus" })
        {
            Assert.Contains(key, names);
        }

        Assert.Equal(e.Components.Where(c => c.OnDevice).Sum(c => c.PerGpu.Bytes), e.PerGpu.Bytes);
        Assert.All(e.Components, c => Assert.False(string.IsNullOrWhiteSpace(c.Formula)));
        Assert.All(e.Components, c => Assert.False(string.IsNullOrWhiteSpace(c.Source)));
    }

    [Fact]
    public void ContextBeyondMaxPositions_IsAWarningNotAnError()
    {
        var m = MemoryTestModels.Llama2_7B();
        var e = MemoryEstimator.Estimate(m, new Workload { Context = 8192 });
        Assert.Contains(e.Warnings, w => w.Contains("4096"));
    }

    [Theory]
    [InlineData(-5, "--context")]
    [InlineData(0, "--context")]
    public void NegativeContext_IsAnError(int ctx, string flag)
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Context = ctx }));
        Assert.Equal(flag, ex.Setting);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void GpuUtil_OutsideUnitInterval_IsAnError(double util)
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { GpuUtil = util }));
        Assert.Equal("--gpu-util", ex.Setting);
    }

    [Fact]
    public void Training_GgufMix_IsAnError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Mode = WorkloadMode.Training, Dtype = "q4_k_m" }));
        Assert.Equal("--dtype", ex.Setting);
    }

    [Fact]
    public void GpusNotMultipleOfTpTimesPp_IsAnError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Tp = 2, Gpus = 3 }));
        Assert.Equal("--gpus", ex.Setting);
    }

    [Fact]
    public void AbsurdWorkload_OverflowIsASettingError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(),
            new Workload { Engine = InferenceEngine.Hf, Context = int.MaxValue, Batch = int.MaxValue }));
        Assert.Equal("--context", ex.Setting);
    }

    [Fact]
    public void UnknownDtype_IsAnError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Dtype = "fp12" }));
        Assert.Equal("--dtype", ex.Setting);
    }

    [Fact]
    public void UnknownKvDtype_ForEngine_IsAnError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload { Engine = InferenceEngine.Vllm, KvDtype = "q4_0" }));
        Assert.Equal("--kv-dtype", ex.Setting);
    }

    [Fact]
    public void LlamaCpp_QuantizedVWithoutFlashAttention_IsRefused()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(),
            new Workload { Engine = InferenceEngine.LlamaCpp, Dtype = "q4_k_m", KvDtype = "q4_0", FlashAttn = FlashAttention.Off }));
        Assert.Contains("flash attention", ex.Message);
    }

    [Fact]
    public void LlamaCpp_ComputeBuffer_TriLM_IsLogitsDominated()
    {
        // measured.json case 15: compute buffer 105.00 MiB (llamafile PR #552, Aug 2024) ≈ logits 50688 × 512 × 4 = 99 MiB + n_embd terms.
        // Current llama.cpp keeps two n_embd × n_ubatch f32 tensors: 99 + 12 = 111 MiB (LlamaCppCompute remarks).
        var m = MemoryTestModels.Llama("trilm-3.9b", 30, 3072, 24, 24, 128, 9216, 50688, 2048);
        var e = MemoryEstimator.Estimate(m, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 512, Dtype = "f16", FlashAttn = FlashAttention.Off });
        Assert.Equal(111L * ByteSize.MiB, e["compute_buffer"].Bytes);
    }

    [Fact]
    public void Solver_MaxContext_IsLargestThatFits()
    {
        var m = MemoryTestModels.Llama3_8B();
        var w = new Workload { Engine = InferenceEngine.Hf };
        var budget = ByteSize.FromGiB(24);
        int ctx = MemorySolver.MaxContext(m, w, budget);
        Assert.True(ctx > 0);
        Assert.True(MemoryEstimator.Estimate(m, w with { Context = ctx }).PerGpu <= budget);
        Assert.True(MemoryEstimator.Estimate(m, w with { Context = ctx + 1 }).PerGpu > budget);
    }

    [Fact]
    public void Solver_BestFittingFormat_PicksHighestPrecisionThatFits()
    {
        var m = MemoryTestModels.Llama3_8B();
        var r = MemorySolver.BestFittingFormat(m, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 4096 }, ByteSize.FromGiB(8));
        Assert.NotNull(r);
        Assert.Equal("q6_k", r.Value.Format.Name);
    }

    [Fact]
    public void Solver_VllmKvCapacity_Llama3_8B_H100_MatchesLoggedAvailableKv()
    {
        // measured.json case 1: total 79.22 GiB × 0.9 − weights 14.96 − activation 1.26 − non-torch 1.79 = 53.29 GiB available KV.
        // With the logged non-torch 1.79 GiB as --overhead, ours must land within 2 % of 53.29 GiB.
        var m = MemoryTestModels.Llama3_8B();
        var (kv, _) = MemorySolver.VllmKvCapacity(m, new Workload { Context = 8192, OverheadBytes = (long)(1.79 * ByteSize.GiB) }, ByteSize.FromGiB(79.22));
        Assert.InRange(kv.Bytes / (double)ByteSize.GiB, 53.29 * 0.98, 53.29 * 1.02);
    }
}
