using LlmSizer.Memory;
using LlmSizer.Quantization;
using LlmSizer.Tests.Memory;

namespace LlmSizer.Tests.Memory;

/// <summary>State-space models get a fixed recurrent state per sequence in the estimate, not a KV cache that grows.</summary>
public class RecurrentStateMemoryTests
{
    [Fact]
    public void Mamba28B_LlamaCpp_RecurrentStateIsF32PerSequence()
    {
        // Mamba-2.8B (state-spaces/mamba-2.8b-hf: d_model 2560, expand 2 → d_inner 5120, d_state 16, d_conv 4, 64 layers).
        // llama.cpp n_embd_r = (4 − 1) × 5120 = 15,360 and n_embd_s = 16 × 5120 = 81,920 F32 values per layer and sequence:
        // (15,360 + 81,920) × 4 B = 389,120 B × 64 layers = 24,903,680 B (23.75 MiB) per sequence.
        var model = Sizer.Load("mamba-2.8b");
        var one = MemoryEstimator.Estimate(model, new Workload { Engine = InferenceEngine.LlamaCpp, Format = WeightFormat.Parse("f16"), Context = 4096 });
        var four = MemoryEstimator.Estimate(model, new Workload { Engine = InferenceEngine.LlamaCpp, Format = WeightFormat.Parse("f16"), Context = 4096, Batch = 4 });

        Assert.Equal(24_903_680, one["recurrent_state"].Bytes);
        Assert.Equal(4 * 24_903_680L, four["recurrent_state"].Bytes);
        Assert.Equal(0, one["kv_cache"].Bytes); // no attention layer: nothing grows with the context
    }

    [Fact]
    public void Mamba28B_RecurrentState_DoesNotGrowWithContext()
    {
        var model = Sizer.Load("mamba-2.8b");
        var shortCtx = MemoryEstimator.Estimate(model, new Workload { Context = 1024 });
        var longCtx = MemoryEstimator.Estimate(model, new Workload { Context = 65536 });

        Assert.Equal(shortCtx["recurrent_state"], longCtx["recurrent_state"]);
        Assert.True(shortCtx["recurrent_state"].Bytes > 0);
    }

    [Fact]
    public void DenseModel_HasNoRecurrentState()
    {
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new Workload());

        Assert.Null(e.Component("recurrent_state"));
    }
}
