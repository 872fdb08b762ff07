using System.CommandLine;
using LlmSizer.Catalog;
using LlmSizer.Cli.Output;
using LlmSizer.Errors;
using LlmSizer.Units;
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
        command.SetAction(parseResult => Execute(context, parseResult.GetValue(_json)));
        return command;
    }

    private static int Execute(CliContext context, bool json)
    {
        var rows = ModelCatalog.All.Select(Row.Of).ToList();
        if (json)
        {
            JsonOutput.Write(context.Out, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("models");
                foreach (var r in rows)
                {
                    w.WriteStartObject();
                    w.WriteString("id", r.Entry.Id);
                    w.WriteString("repository", r.Entry.Repository);
                    w.WriteString("source", r.Entry.Source);
                    w.WriteStringOrNull("family", r.Family);
                    w.WriteNumberOrNull("parameters", r.Total?.Value);
                    w.WriteNumberOrNull("active", r.Active?.Value);
                    w.WriteStringOrNull("error", r.Error);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
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
                // The id is in the first column already; drop the "catalog:<id>: " prefix of the message.
                var prefix = $"catalog:{r.Entry.Id}: ";
                var error = r.Error ?? "";
                cells.Add(Markup.Escape(error.StartsWith(prefix, StringComparison.Ordinal) ? error[prefix.Length..] : error));
            }

            table.AddRow([.. cells]);
        }

        context.Console.Write(table);
        return ExitCodes.Success;
    }

    private sealed record Row(CatalogEntry Entry, string? Family, ParameterCount? Total, ParameterCount? Active, string? Error)
    {
        public static Row Of(CatalogEntry entry)
        {
            var family = entry.Config.String("model_type");
            try
            {
                var model = ModelResolver.Resolve(entry.Id);
                return new Row(entry, model.Architecture?.Family ?? family, model.Inventory.TotalParameters, model.Inventory.ActiveParameters, null);
            }
            catch (LlmSizerException ex)
            {
                // A family not (yet) supported must not hide the rest of the catalog.
                return new Row(entry, family, null, null, ex.Message);
            }
        }
    }
}
