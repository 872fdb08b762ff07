using BenchmarkDotNet.Attributes;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Benchmarks;

/// <summary>One memory estimate and one max-context solve, for a 45k-tensor MoE (DeepSeek-V3) and a dense 8B model.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class MemoryBenchmarks
{
    private ModelInfo _deepseek = null!;
    private ModelInfo _llama = null!;
    private readonly Workload _workload = new() { Context = 8192 };

    [GlobalSetup]
    public void Setup()
    {
        _deepseek = ModelResolver.Resolve("deepseek-v3");
        _llama = ModelResolver.Resolve("llama-3.1-8b");
    }

    /// <summary>DeepSeek-V3 (45k tensors), vLLM, bf16, 8k context.</summary>
    [Benchmark]
    public long EstimateDeepseekV3() => MemoryEstimator.Estimate(_deepseek, _workload).PerGpu.Bytes;

    /// <summary>Llama-3.1-8B, vLLM, bf16, 8k context.</summary>
    [Benchmark]
    public long EstimateLlama31_8B() => MemoryEstimator.Estimate(_llama, _workload).PerGpu.Bytes;

    /// <summary>Longest context of DeepSeek-V3 on a 2 TiB budget.</summary>
    [Benchmark]
    public int MaxContextDeepseekV3() => MemorySolver.MaxContext(_deepseek, _workload, ByteSize.FromGiB(2048));

    /// <summary>Longest context of Llama-3.1-8B on 80 GiB.</summary>
    [Benchmark]
    public int MaxContextLlama31_8B() => MemorySolver.MaxContext(_llama, _workload, ByteSize.FromGiB(80));
}

/// <summary>A whole-catalog fit (49 GPU types: TP/PP search, max context, vLLM KV capacity, settings) for one model.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class FitBenchmarks
{
    private ModelInfo _llama = null!;

    [GlobalSetup]
    public void Setup()
    {
        _llama = ModelResolver.Resolve("llama-3.1-8b");
        _ = LlmSizer.Fit.FitPlanner.Plan(new LlmSizer.Fit.FitRequest { Model = new ModelRequest { Loaded = _llama } }); // prepare once
    }

    /// <summary>Llama-3.1-8B, vLLM defaults, every catalog GPU.</summary>
    [Benchmark]
    public int FitWholeCatalogLlama31_8B() =>
        LlmSizer.Fit.FitPlanner.Plan(new LlmSizer.Fit.FitRequest { Model = new ModelRequest { Loaded = _llama }, Workload = new Workload { Context = 8192 } }).Plans.Count;
}
