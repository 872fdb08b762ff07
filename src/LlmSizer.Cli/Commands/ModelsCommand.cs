using System.CommandLine;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize models</c>: the built-in catalog with each model's family and exact size.</summary>
internal sealed class ModelsCommand : ICliCommand
{
    private readonly Option<bool> _json = CommonOptions.Json();

    public Command Create(CliContext context)
    {
        var command = new Command("models", "List the built-in model catalog (works offline).");
        command.Options.Add(_json);
        CommonOptions.AddExamples(command, "llmsize models", "llmsize models --json");
        command.SetAction(parseResult => Execute(context, parseResult.GetValue(_json)));
        return command;
    }

    private static int Execute(CliContext context, bool json)
    {
        var rows = Sizer.Models();
        if (json)
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Models(rows)));
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"{rows.Count} built-in models");
        table.AddColumn("Id");
        table.AddColumn("Family");
        table.AddColumn(new TableColumn("Parameters").RightAligned());
        table.AddColumn(new TableColumn("Active").RightAligned());
        table.AddColumn("Repository");
        var anyError = rows.Any(r => r.Error is not null);
        if (anyError)
        {
            table.AddColumn("Error");
        }

        foreach (var r in rows)
        {
            var cells = new List<string>
            {
                Markup.Escape(r.Entry.Id),
                Markup.Escape(r.Family ?? "?"),
                r.Total?.ToShortString() ?? "-",
                r.Active is { } a && a != r.Total ? a.ToShortString() : "",
                Markup.Escape(r.Entry.Repository),
            };
            if (anyError)
            {
                cells.Add(Markup.Escape(r.ErrorDetail ?? ""));
            }

            table.AddRow([.. cells]);
        }

        context.Console.Write(table);
        return ExitCodes.Success;
    }
}
