using LlmSizer.Cli;
using LlmSizer.Cli.Commands;

namespace LlmSizer.Tests.Cli;

public class HelpTests
{
    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string> { "" };
        using var w = new StringWriter();
        foreach (var c in CommandRegistry.BuildRoot(new CliContext(w, w, 120)).Subcommands)
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void Help_EndsWithTwoToFourRealExamples(string command)
    {
        var r = CliRunner.Run(command.Length == 0 ? ["--help"] : [command, "--help"]);

        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.TrimEnd().Split('\n').Select(l => l.TrimEnd()).ToList();
        int at = lines.FindLastIndex(l => l == "Examples:");
        Assert.True(at > 0, $"{command}: no Examples section at the end of --help");
        var examples = lines.Skip(at + 1).ToList();
        Assert.InRange(examples.Count, 2, 4);
        Assert.All(examples, e => Assert.StartsWith("  llmsize ", e));
    }

    [Fact]
    public void Examples_Run()
    {
        // The examples that need no file or GPU run as written (exit 0).
        foreach (var example in new[] { "fit llama-3.1-8b --gpu rtx-4090 --context 8192", "params meta-llama/Llama-3.1-8B-Instruct", "memory llama-3.1-8b --context 32k --batch 4", "seed --json", "gpus --json" })
        {
            var r = CliRunner.Run(example.Split(' '));
            Assert.True(r.ExitCode == 0, example + ": " + r.Stderr);
        }
    }
}
