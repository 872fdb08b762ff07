using System.CommandLine;
using LlmSizer.Cli;
using LlmSizer.Cli.Commands;

namespace LlmSizer.Tests.Cli;

/// <summary>Every value-taking flag of every command, fed huge, negative, suffixed, non-numeric and hostile values:
/// the answer is always an exit code (0, 1 or 2) with, on failure, exactly one line on stderr that names the flag or
/// the problem — never an unhandled exception or a stack trace.</summary>
public class FlagParserFuzzTests
{
    private static readonly string[] HostileValues =
    [
        "9999999999999999k", "99999999999999999999", "-1", "0", "-0", "1e309", "NaN", "Infinity", "-Infinity", "1.5", "0x10",
        "abc", "", " ", "12abc", "32k", "1m", "1_000", "1,024", "2147483648", "-2147483649", "9223372036854775807",
        "24", "24GiB", "1e3GiB", "999999999999TiB", "−5", "٣", "\u001b[31mred", "a\nb", new string('9', 5000), "%", "100%",
        "on", "true", "auto", "all", "q,k,v", "fp8", "q4_k_m", "training",
    ];

    public static TheoryData<string, string> Flags()
    {
        var data = new TheoryData<string, string>();
        using var stdout = new StringWriter();
        var root = CommandRegistry.BuildRoot(new CliContext(stdout, stdout, 120));
        foreach (var command in root.Subcommands)
        {
            foreach (var option in command.Options)
            {
                if (option.ValueType != typeof(bool) && option.Name.StartsWith("--", StringComparison.Ordinal))
                {
                    data.Add(command.Name, option.Name);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Flags))]
    public void Flag_HostileValues_GiveAnExitCodeAndOneLine(string command, string flag)
    {
        foreach (var value in HostileValues)
        {
            // Given the flag with a hostile value (memory with its mode, so training flags are reached too)
            var args = command switch
            {
                "memory" => new[] { "memory", "gpt2", flag, value },
                "params" => new[] { "params", flag, value },
                _ => new[] { command, flag, value },
            };

            // When llmsize runs (an exception escaping here fails the test)
            var r = CliRunner.Run(args);

            // Then: a known exit code; on failure one line on stderr, no stack trace, no runtime type names
            Assert.True(r.ExitCode is 0 or 1 or 2, $"{string.Join(' ', args)} -> exit {r.ExitCode}");
            if (r.ExitCode != 0)
            {
                var errors = r.StderrLines.Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
                Assert.True(errors.Count == 1, $"{flag} {Show(value)}: expected one error line; got:\n{r.Stderr}");
                Assert.DoesNotContain("   at ", r.Stderr);
                Assert.DoesNotContain("Exception", r.Stderr);
                Assert.True(errors[0].Length < 600, $"{flag} {Show(value)}: error line too long ({errors[0].Length} chars)");
                Assert.DoesNotContain('\u001b', errors[0]);
            }
        }
    }

    [Theory]
    [InlineData("--context", "9999999999999999k", "--context: expected an integer from 1 to 16,777,216")]
    [InlineData("--context", "10000000000", "--context: expected an integer from 1 to 16,777,216")]
    [InlineData("--tp", "-2", "--tp: expected an integer from 1 to 1,024")]
    [InlineData("--gpu-memory", "24", "--gpu-memory: expected a size with a unit, such as 24GiB")]
    [InlineData("--gpu-util", "1.5", "--gpu-util: expected a fraction in (0, 1]")]
    [InlineData("--engine", "tgi", "--engine: expected one of vllm, vllm-v0, llamacpp, hf")]
    [InlineData("--kv-dtype", "fp7", "--kv-dtype: expected one of")]
    [InlineData("--zero", "2", "--zero: applies to mode training; found mode inference.")]
    [InlineData("--ubatch", "abc", "--ubatch: expected an integer from 1 to")]
    public void Memory_BadFlag_NamesTheFlagAndTheRange(string flag, string value, string expected)
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", flag, value);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: " + expected, r.StderrLines.Single());
    }

    [Fact]
    public void Memory_EngineSpecificFlagUnderAnotherEngine_IsRefused()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--engine", "vllm", "--ubatch", "256");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: --ubatch: applies to engine llamacpp; found engine vllm.", r.StderrLines.Single());
    }

    [Fact]
    public void Params_ManualOverflow_IsOneLine()
    {
        // Was an unhandled OverflowException (exit 134) before the limits.
        var r = CliRunner.Run("params", "--layers", "1", "--hidden", "2000000000", "--heads", "1", "--vocab", "2000000000");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: --hidden: expected an integer from 1 to 262,144", r.StderrLines.Single());
    }

    [Fact]
    public void Params_HugeLayerCount_IsRefusedAtOnce()
    {
        // Was minutes of tensor generation.
        var r = CliRunner.Run("params", "--layers", "99999999", "--hidden", "64", "--heads", "1", "--vocab", "10");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: --layers: expected an integer from 1 to 4,096", r.StderrLines.Single());
    }

    private static string Show(string value) => value.Length > 40 ? value[..40] + "…" : value;
}
