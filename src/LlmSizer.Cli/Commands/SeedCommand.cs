using System.CommandLine;
using System.Globalization;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Explain;
using LlmSizer.Seed;
using LlmSizer.Tensors;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize seed</c>: the worked example of the post "Sizing an LLM: Parameters", every number it prints,
/// the errata, and the exact figures of a real GPT-style model of the same sizes (DESIGN.md §5).</summary>
internal sealed class SeedCommand : ICliCommand
{
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<bool> _explain = new("--explain") { Description = "The post's derivation line by line: each figure as printed, its formula evaluated, the erratum at that line, the exact method beside it." };

    public Command Create(CliContext context)
    {
        var command = new Command("seed", "Reproduce the worked example of the post \"Sizing an LLM: Parameters\", with errata and exact figures.");
        command.Options.Add(_json);
        command.Options.Add(_explain);
        CommonOptions.AddExamples(command, "llmsize seed", "llmsize seed --explain", "llmsize seed --json");
        command.SetAction(parseResult => parseResult.GetValue(_explain)
            ? Explain(context, parseResult.GetValue(_json))
            : Execute(context, parseResult.GetValue(_json)));
        return command;
    }

    private static int Execute(CliContext context, bool json)
    {
        var r = Sizer.Seed();
        if (json)
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Seed(r)));
        }
        else
        {
            WriteTables(context.Console, r);
        }

        return ExitCodes.Success;
    }

    private static int Explain(CliContext context, bool json)
    {
        var explanation = Sizer.ExplainSeed();
        if (json)
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ExplainContract.Seed(explanation)));
        }
        else
        {
            ExplainRendering.Write(context.Out, ExplainText.Lines(explanation));
        }

        return ExitCodes.Success;
    }

    private static void WriteTables(IAnsiConsole console, SeedPostResult r)
    {
        console.MarkupLine("[bold]\"Sizing an LLM: Parameters\"[/]: embedding size 512, 12 layers, 8 heads, vocabulary 50,000");
        var p = new Table().Border(TableBorder.Rounded).Title("Parameters by the post's formulas");
        p.AddColumn("Part");
        p.AddColumn("Formula");
        p.AddColumn(new TableColumn("Computed").RightAligned());
        p.AddColumn(new TableColumn("Post prints").RightAligned());
        p.AddRow("embedding", "V x d", N(r.Embedding), N(r.Embedding));
        p.AddRow("attention", "L x H x (d x d / H)", N(r.Attention), $"[red]{N(r.PublishedAttention)}[/] (erratum)");
        p.AddRow("feed-forward", "L x 2 x d^2", N(r.FeedForward), N(r.FeedForward));
        p.AddRow("output", "d x V", N(r.Output), N(r.Output));
        p.AddRow("[bold]total[/]", "", $"[bold]{N(r.Total)}[/]", N(r.PublishedTotal));
        console.Write(p);

        var v = new Table().Border(TableBorder.Rounded).Title("VRAM for the post's 61,423,616 parameters");
        v.AddColumn("Precision");
        v.AddColumn(new TableColumn("Bytes").RightAligned());
        v.AddColumn(new TableColumn("MiB (post's \"MB\")").RightAligned());
        v.AddColumn(new TableColumn("MB (SI)").RightAligned());
        foreach (var (name, bytes) in new[] { ("FP32", r.VramBytesFp32), ("FP16", r.VramBytesFp16), ("INT8", r.VramBytesInt8) })
        {
            v.AddRow(name, N(bytes), SeedPostResult.MiB(bytes).ToString("0.0", CultureInfo.InvariantCulture), SeedPostResult.MB(bytes).ToString("0.0", CultureInfo.InvariantCulture));
        }

        console.Write(v);

        var t = new Table().Border(TableBorder.Rounded).Title("Training rule of thumb (FP32)");
        t.AddColumn("Part");
        t.AddColumn(new TableColumn("MB").RightAligned());
        t.AddColumn("Note");
        t.AddRow("parameters", N(r.TrainingParametersMiB), "from above");
        t.AddRow("activations", N(r.TrainingActivationsMiB), "assumed by the post");
        t.AddRow("optimizer states", N(r.TrainingOptimizerMiB), "2 x parameters (Adam)");
        t.AddRow("input data", N(r.TrainingInputMiB), "assumed by the post");
        t.AddRow("[bold]total (post)[/]", $"[bold]{N(r.TrainingTotalMiB)}[/]", "");
        t.AddRow("[red]gradients (left out)[/]", N(r.TrainingGradientsMiB), "same size as FP32 parameters");
        t.AddRow("total with gradients", N(r.TrainingTotalWithGradientsMiB), "");
        console.Write(t);

        var e = new Table().Border(TableBorder.Rounded).Title($"Exact: a GPT-2-style model of these sizes (positions {SeedPostMethod.AssumedPositions}, biases, LayerNorms, 4x MLP)");
        e.AddColumn("Group");
        e.AddColumn(new TableColumn("Tied head").RightAligned());
        e.AddColumn(new TableColumn("Untied head").RightAligned());
        foreach (var group in Enum.GetValues<TensorGroup>())
        {
            var a = r.ExactTied.Groups[group].Value;
            var b = r.ExactUntied.Groups[group].Value;
            if (a != 0 || b != 0)
            {
                e.AddRow(ContractMapper.GroupName(group), N(a), N(b));
            }
        }

        e.AddRow("[bold]total[/]", $"[bold]{N(r.ExactTied.Total.Value)}[/]", $"[bold]{N(r.ExactUntied.Total.Value)}[/]");
        var tr = r.ExactTraining;
        e.AddRow($"model states ({tr.BytesPerParameter} B/param, MiB)", Mib(tr.ModelStatesBytesTied), Mib(tr.ModelStatesBytesUntied));
        e.AddRow($"activations (seq {tr.SequenceLength}, batch {tr.Batch}, MiB)", Mib(tr.ActivationBytes), Mib(tr.ActivationBytes));
        e.AddRow("[bold]training total (MiB)[/]", Mib(tr.TotalBytesTied), Mib(tr.TotalBytesUntied));
        console.Write(e);

        console.WriteLine("Errata:");
        foreach (var erratum in r.Errata)
        {
            console.WriteLine(" - " + erratum);
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Mib(long bytes) => SeedPostResult.MiB(bytes).ToString("N1", CultureInfo.InvariantCulture);
}
