using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>Engine rules behind the default numbers (issue "right by default"), each with its source.</summary>
public sealed class EngineRuleTests
{
    [Fact]
    public void LlamaCpp_PipelineStages_KvTotalIsEveryStage()
    {
        // llama.cpp's layer split (--split-mode layer) gives each GPU the KV of its own layers (llama-kv-cache.cpp
        // allocates each layer's K/V on the layer's device). Llama-3.1-8B, 8,192 cells, f16:
        // 8,192 × 32 layers × 2 (K, V) × 8 kv heads × 128 × 2 B = 1,073,741,824 B = 1 GiB in all; 16 layers per stage = 512 MiB.
        var m = MemoryTestModels.Llama3_8B();
        var one = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 8192 });
        var two = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 8192, Pp = 2 });

        Assert.Equal(1_073_741_824L, one.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(1_073_741_824L, two.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(536_870_912L, two.Component("kv_cache")!.PerGpu.Bytes);
    }

    [Fact]
    public void Vllm_PipelineStagesOfUnequalSize_KvTotalIsTheSumNotLargestTimesStages()
    {
        // 32 layers over 3 stages: vLLM get_pp_indices gives 10/11/11 (stage = ⌊layer × 3 / 32⌋ here: 11/11/10);
        // the total is still every layer once: 8,192 tokens × 32 × 2 × 8 × 128 × 2 B = 1 GiB.
        var m = MemoryTestModels.Llama3_8B();
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Hf, Context = 8192, Pp = 3 });
        Assert.Equal(1_073_741_824L, e.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(11L * 8192 * 2 * 8 * 128 * 2, e.Component("kv_cache")!.PerGpu.Bytes);
    }
}
