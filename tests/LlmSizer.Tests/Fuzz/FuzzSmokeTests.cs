using LlmSizer.Fuzz.Engine;

namespace LlmSizer.Tests.Fuzz;

/// <summary>A short, seeded run of the fuzzer (bench/LlmSizer.Fuzz): every mutated GGUF, split GGUF, safetensors, index
/// folder and config.json either loads or is refused with an <see cref="Errors.LlmSizerException"/>, within the
/// deadline and the allocation ceiling. The long run and its figures are in docs/robustness.md.</summary>
public sealed class FuzzSmokeTests
{
    [Fact]
    public void SeededRun_OnlyLlmSizerExceptionsEscape()
    {
        // Given a fixed seed and input count (the same inputs every run; the duration is only a safety stop).
        // Two generators are left out because they still break the memory estimator (not the readers), see
        // docs/robustness.md: extreme workloads (an overhead of long.MaxValue bytes overflows MemoryEstimate.PerGpu/Total,
        // hostile case B) and zero-sized tensors under a config (LoRA/Adafactor training divides by zero, case D).
        var options = new FuzzOptions
        {
            Seed = 20_261_201,
            MaxExecs = 2_500,
            Duration = TimeSpan.FromSeconds(60),
            CallDeadline = TimeSpan.FromSeconds(30),
            ExtremeWorkloads = true,
            ZeroSizedTensors = true,
            WorkloadsPerModel = 1,
        };

        // When
        var report = new FuzzRunner(options).Run();

        // Then: no other exception, no hang, no runaway allocation; and every family produced inputs that load
        // (the generators make valid files) and inputs that are refused (the mutations reach the checks).
        Assert.True(report.Failures.Count == 0, report.Summary());
        foreach (var family in Enum.GetValues<InputFamily>())
        {
            Assert.True(report.Loaded.GetValueOrDefault(family) > 0, $"no {family} input loaded\n{report.Summary()}");
            Assert.True(report.Rejected.GetValueOrDefault(family) > 0, $"no {family} input refused\n{report.Summary()}");
        }
    }
}
