// The README's library example, compiled and run by tests/LlmSizer.Tests/Library/LibraryExampleTests.cs.
using LlmSizer;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;

namespace LlmSizerExamples;

public static class LibraryExample
{
    public static void Run(TextWriter output)
    {
        // Count a model exactly (catalog id, config.json, folder, .safetensors, index or .gguf).
        var parameters = Sizer.Parameters("llama-3.1-8b").Report;
        output.WriteLine($"parameters: {parameters.Total.ToExactString()}");

        // Estimate serving memory: 32k tokens, 4 concurrent sequences, vLLM defaults.
        var estimate = Sizer.Memory("llama-3.1-8b", new Workload { Context = 32_768, Batch = 4 });
        output.WriteLine($"per GPU: {estimate.PerGpu} ({estimate.Component("kv_cache")!.PerGpu} of KV cache)");

        // Plan a deployment on one GPU type and take the engine command line.
        var plan = Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-8b",
            Gpu = GpuDevice.FromSpec(GpuCatalog.Find("h100")),
            Workload = new Workload { Context = 8192 },
        }).Plans[0];
        output.WriteLine($"fits on one H100: {plan.FitsOnOne}; {plan.Settings.Vllm}");
    }
}
