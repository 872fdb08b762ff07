using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Hostile cases B, C and D of ../shared/samples/hostile/README.md: estimator overflows and divisions by zero
/// end as an <see cref="LlmSizerException"/> naming the setting, or as a number — never as a runtime exception.</summary>
public sealed class HostileEstimatorTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-hostile-est-" + Guid.NewGuid().ToString("N"));

    public HostileEstimatorTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string? Hostile(string file) =>
        TestPaths.SharedSamples is { } s && File.Exists(Path.Combine(s, "hostile", file)) ? Path.Combine(s, "hostile", file) : null;

    [Fact]
    public void B_OverheadOfLongMaxValue_IsRefusedNamingOverhead()
    {
        var path = Hostile("B-C-config-phi-defaults.json");
        var model = path is null ? Sizer.Load("phi-2") : Sizer.Load(path);

        var ex = Assert.ThrowsAny<LlmSizerException>(() =>
        {
            var e = MemoryEstimator.Estimate(model, new Workload { Overhead = new ByteSize(long.MaxValue) });
            _ = e.PerGpu;
            _ = e.Total;
        });
        Assert.Contains("overhead", ex.Message);
    }

    [Fact]
    public void C_VllmKvCapacity_WithAnEnormousBudget_NamesGpuMemory()
    {
        var path = Hostile("B-C-config-phi-defaults.json");
        var model = path is null ? Sizer.Load("phi-2") : Sizer.Load(path);

        var ex = Assert.Throws<InvalidSettingException>(() => MemorySolver.VllmKvCapacity(model,
            new Workload { Engine = InferenceEngine.Vllm, Vllm = new VllmSettings { GpuUtilization = 1 } }, new ByteSize(long.MaxValue)));

        Assert.Equal(SettingNames.GpuMemory, ex.Setting);
        Assert.Contains("1 PiB", ex.Message);
    }

    [Theory]
    [InlineData(OptimizerKind.AdamW)]
    [InlineData(OptimizerKind.Adafactor)]
    public void D_ZeroSizedTensor_LoraAndAdafactorTraining_DoNotDivideByZero(OptimizerKind optimizer)
    {
        var file = Hostile("D-safetensors-zero-inner-dim.safetensors");
        if (file is null)
        {
            return; // the shared corpus is absent on this machine; the fuzz smoke test covers zero-sized tensors too
        }

        // The README's recipe: the [4, 0] q_proj with a llama config.json beside it.
        File.Copy(file, Path.Combine(_dir, "model.safetensors"));
        File.WriteAllText(Path.Combine(_dir, "config.json"), """
            { "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
              "num_key_value_heads": 4, "intermediate_size": 128, "vocab_size": 32, "max_position_embeddings": 128 }
            """);
        var model = Sizer.Load(_dir);

        var ex = Record.Exception(() =>
        {
            var e = MemoryEstimator.Estimate(model, new Workload
            {
                Context = 64,
                Training = new TrainingSettings { LoraRank = 8, Optimizer = optimizer },
            });
            _ = e.Total;
        });

        Assert.True(ex is null or LlmSizerException, ex?.ToString());
    }
}
