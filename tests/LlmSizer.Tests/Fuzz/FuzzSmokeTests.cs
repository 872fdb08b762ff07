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
        // Given a fixed seed and input count (the same inputs every run; the duration is only a safety stop), with the
        // extreme workloads (overheads of long.MaxValue bytes, hostile case B) and zero-sized tensors (case D) on.
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
