using System.CommandLine;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Explain;
using LlmSizer.Memory;
using LlmSizer.Requests;
using LlmSizer.Units;
using Spectre.Console;
using static LlmSizer.Cli.Commands.CliSettings;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize memory &lt;MODEL&gt; [workload flags] [--json]</c>: the GPU memory estimate, component by component,
/// with each component's formula, the assumptions and the warnings. Flags become <see cref="WorkloadOptions"/> (text),
/// the core parses them (<see cref="WorkloadParser"/>) and estimates (<see cref="Sizer.Memory(MemoryRequest)"/>); this
/// class only maps flags and renders.</summary>
internal sealed class MemoryCommand : ICliCommand
{
    private readonly Func<string, ModelInfo>? _resolve;
    private readonly Option<bool> _refresh = CommonOptions.Refresh();
    private readonly Argument<string?> _model = CommonOptions.ModelArgument();
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<bool> _textOnly = new("--text-only") { Description = "Size the language model alone (a multimodal model without its vision tower, projector and audio encoder)." };
    private readonly Option<bool> _explain = new("--explain") { Description = "Derive every component: its formula with this workload's numbers, where each constant comes from, the KV cache per token, the sum." };
    private readonly Option<bool> _si = new("--si") { Description = "Show GB (10^9) instead of GiB (2^30)." };
    private readonly WorkloadFlags _flags = new();

    /// <summary>Creates the command.</summary>
    /// <param name="resolve">Turns MODEL into a model; <see cref="Sizer.Load(string)"/> by default.</param>
    public MemoryCommand(Func<string, ModelInfo>? resolve = null)
    {
        _resolve = resolve;
    }

    public Command Create(CliContext context)
    {
        var command = new Command("memory", "Estimate GPU memory for inference or training: every component, its formula and assumptions.");
        command.Arguments.Add(_model);
        command.Options.Add(_json);
        command.Options.Add(_textOnly);
        command.Options.Add(_refresh);
        command.Options.Add(_si);
        command.Options.Add(_explain);
        _flags.AddTo(command);

        CommonOptions.AddExamples(command,
            "llmsize memory llama-3.1-8b --context 32k --batch 4",
            "llmsize memory qwen3-8b --engine llamacpp --dtype q4_k_m --kv-dtype q8_0 --flash-attn on",
            "llmsize memory gemma-2-9b --context 8192 --explain",
            "llmsize memory llama-3.1-8b --mode training --qlora --lora-rank 16 --context 2048");
        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult p)
    {
        var modelArg = p.GetValue(_model) ?? throw new UsageException("memory: expected a MODEL (see 'llmsize memory --help').");
        // Flags are checked before the model is loaded: a bad flag costs nothing.
        var workload = WorkloadParser.Parse(_flags.Options(p));
        var request = new MemoryRequest { Model = new ModelRequest { Loaded = _resolve?.Invoke(modelArg) ?? CliModels.Load(context, modelArg, p.GetValue(_refresh), p.GetValue(_json)) }, Workload = workload, TextOnly = p.GetValue(_textOnly) };
        if (p.GetValue(_explain))
        {
            var explanation = Sizer.ExplainMemory(request);
            if (p.GetValue(_json))
            {
                JsonOutput.Write(context.Out, ContractJson.Serialize(ExplainContract.Memory(explanation)));
            }
            else
            {
                ExplainRendering.Write(context.Out, ExplainText.Lines(explanation));
            }

            foreach (var warning in explanation.Warnings)
            {
                context.Error.WriteLine("warning: " + warning);
            }

            return ExitCodes.Success;
        }

        var estimate = Sizer.Memory(request);
        if (p.GetValue(_json))
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Memory(estimate)));
        }
        else
        {
            WriteTables(context.Console, estimate, p.GetValue(_si));
        }

        // Warnings go to stderr in both modes (and into the JSON), so a script reading stdout is never confused.
        foreach (var warning in estimate.Warnings)
        {
            context.Error.WriteLine("warning: " + warning);
        }

        return ExitCodes.Success;
    }

    private static void WriteTables(IAnsiConsole console, MemoryEstimate e, bool si)
    {
        string Fmt(ByteSize b) => b.Format(binary: !si);
        console.MarkupLine($"[bold]{Markup.Escape(e.Model)}[/]: {WorkloadNames.Name(e.Mode)} on {e.Gpus} GPU{(e.Gpus == 1 ? "" : "s")}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("component");
        table.AddColumn(new TableColumn("per GPU").RightAligned());
        table.AddColumn(new TableColumn("total").RightAligned());
        table.AddColumn("formula");
        foreach (var c in e.Components)
        {
            var name = c.OnDevice ? c.Name : c.Name + " (host)";
            table.AddRow(Markup.Escape(name), Fmt(c.PerGpu), Fmt(c.Total), Markup.Escape(c.Formula));
        }

        table.AddRow("[bold]total (device)[/]", $"[bold]{Fmt(e.PerGpu)}[/]", $"[bold]{Fmt(e.Total)}[/]", "Σ on-device components");
        console.Write(table);

        var device = e.Components.Where(c => c.OnDevice && c.PerGpu.Bytes > 0).ToList();
        if (device.Count > 0)
        {
            var chart = new BreakdownChart().Width(Math.Min(100, console.Profile.Width)).HideTagValues();
            var colors = new[] { Color.Blue, Color.Green, Color.Yellow, Color.Red, Color.Aqua, Color.Fuchsia, Color.Orange1, Color.Grey, Color.Purple, Color.Teal };
            var palette = Enumerable.Repeat(colors, device.Count).SelectMany(c => c);
            foreach (var (c, color) in device.Zip(palette))
            {
                double share = e.SharePercent(c);
                var label = FormattableString.Invariant($"{c.Name} {Fmt(c.PerGpu)} ({share:0.#}%)");
                chart.AddItem(Markup.Escape(label), share, color);
            }

            console.WriteLine();
            console.MarkupLine("per GPU breakdown:");
            console.Write(chart);
        }

        var assumptions = new Table().Border(TableBorder.Rounded).AddColumn("assumption").AddColumn("value");
        foreach (var a in e.Assumptions)
        {
            assumptions.AddRow(Markup.Escape(a.Name), Markup.Escape(a.Text));
        }

        console.WriteLine();
        console.Write(assumptions);
    }
}
