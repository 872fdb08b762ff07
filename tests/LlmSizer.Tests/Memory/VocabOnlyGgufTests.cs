using LlmSizer.Tests.Memory;
using LlmSizer.Memory;

namespace LlmSizer.Tests.Memory;

public class VocabOnlyGgufTests
{
    [Fact]
    public void Estimate_VocabOnlyLlamaGguf_WeightsFromArchitectureAtF16()
    {
        // Given llama.cpp's vocab-only ggml-vocab-llama-spm.gguf (Llama 7B hyper-parameters, no tensors)
        if (TestPaths.SharedSamples is not { } samples)
        {
            return; // the shared samples are not beside this checkout
        }

        var model = ModelResolver.Resolve(Path.Combine(samples, "gguf", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(0, model.Inventory.TotalParameters.Value);

        // When
        var estimate = MemoryEstimator.Estimate(model, new FlatWorkload { Context = 4096 });

        // Then: device weights + host token_embd = Llama-2-7B's 6,738,415,616 parameters x 2 bytes (F16), and a warning says so.
        long weights = estimate.Components.Where(c => c.Name is "weights" or "host_weights").Sum(c => c.Total.Bytes);
        Assert.Equal(6_738_415_616L * 2, weights);
        Assert.Contains(estimate.Warnings, w => w.Contains("no weight tensors", StringComparison.Ordinal));
    }
}
