using System.CommandLine;
using System.Globalization;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Gpus;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize gpus</c>: the built-in accelerator catalog (usable memory as the driver reports it, bandwidth,
/// dense TFLOP/s, interconnect).</summary>
internal sealed class GpusCommand : ICliCommand
{
    private readonly Option<bool> _json = CommonOptions.Json();

    public Command Create(CliContext context)
    {
        var command = new Command("gpus", "List the built-in GPU catalog: usable memory, bandwidth, TFLOP/s, interconnect (works offline).");
        command.Options.Add(_json);
        CommonOptions.AddExamples(command, "llmsize gpus", "llmsize gpus --json");
        command.SetAction(parseResult => Execute(context, parseResult.GetValue(_json)));
        return command;
    }

    private static int Execute(CliContext context, bool json)
    {
        var gpus = GpuCatalog.All;
        if (json)
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Gpus(gpus)));
            return ExitCodes.Success;
        }

        var table = new Table().Border(TableBorder.Rounded).Title($"{gpus.Count} accelerators");
        table.AddColumn("Id");
        table.AddColumn("Name");
        table.AddColumn(new TableColumn("Marketed").RightAligned());
        table.AddColumn(new TableColumn("Usable").RightAligned());
        table.AddColumn(new TableColumn("GB/s").RightAligned());
        table.AddColumn(new TableColumn("BF16 TFLOP/s").RightAligned());
        table.AddColumn("Interconnect");
        foreach (var g in gpus)
        {
            table.AddRow(
                Markup.Escape(g.Id),
                Markup.Escape(g.Name),
                g.MarketedMemory.ToString(),
                g.UsableMemory + (g.UsableMemoryVerified ? "" : "*"),
                g.BandwidthGBps.ToString("N0", CultureInfo.InvariantCulture),
                g.Dense16BitTflops?.ToString("N0", CultureInfo.InvariantCulture) ?? "-",
                Markup.Escape(g.Interconnect));
        }

        context.Console.Write(table);
        context.Console.WriteLine("* usable memory from a stated rule, not a logged figure (docs/gpus.md).");
        return ExitCodes.Success;
    }
}
