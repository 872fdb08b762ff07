using System.CommandLine;
using System.Globalization;
using LlmSizer.Cli.Output;
using LlmSizer.Seed;
using LlmSizer.Tensors;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize seed</c>: the worked example of the post "Sizing an LLM: Parameters", every number it prints,
/// the errata, and the exact figures of a real GPT-style model of the same sizes (DESIGN.md §5).</summary>
internal sealed class SeedCommand : ICliCommand
{
    private readonly Option<bool> _json = CommonOptions.Json();

    public Command Create(CliContext context)
    {
        var command = new Command("seed", "Reproduce the worked example of the post \"Sizing an LLM: Parameters\", with errata and exact figures.");
        command.Options.Add(_json);
        command.SetAction(parseResult => Execute(context, parseResult.GetValue(_json)));
        return command;
    }

    private static int Execute(CliContext context, bool json)
    {
        var r = SeedPostMethod.Compute();
        if (json)
        {
            JsonOutput.Write(context.Out, w => WriteJson(w, r));
        }
        else
        {
            WriteTables(context.Console, r);
        }

        return ExitCodes.Success;
    }

    private static void WriteJson(System.Text.Json.Utf8JsonWriter w, SeedPostResult r)
    {
        w.WriteStartObject();
        w.WriteStartObject("inputs");
        w.WriteNumber("embedding_size", SeedPostMethod.EmbeddingSize);
        w.WriteNumber("layers", SeedPostMethod.Layers);
        w.WriteNumber("heads", SeedPostMethod.Heads);
        w.WriteNumber("vocab", SeedPostMethod.Vocab);
        w.WriteEndObject();
        w.WriteStartObject("parameters");
        w.WriteNumber("embedding", r.Embedding);
        w.WriteNumber("attention", r.Attention);
        w.WriteNumber("feedforward", r.FeedForward);
        w.WriteNumber("output", r.Output);
        w.WriteNumber("total", r.Total);
        w.WriteEndObject();
        w.WriteStartObject("published");
        w.WriteNumber("attention", r.PublishedAttention);
        w.WriteNumber("total", r.PublishedTotal);
        w.WriteEndObject();
        w.WriteStartObject("vram_bytes");
        w.WriteNumber("fp32", r.VramBytesFp32);
        w.WriteNumber("fp16", r.VramBytesFp16);
        w.WriteNumber("int8", r.VramBytesInt8);
        w.WriteEndObject();
        w.WriteStartObject("vram_mib");
        w.WriteNumber("fp32", Math.Round(SeedPostResult.MiB(r.VramBytesFp32), 1));
        w.WriteNumber("fp16", Math.Round(SeedPostResult.MiB(r.VramBytesFp16), 1));
        w.WriteNumber("int8", Math.Round(SeedPostResult.MiB(r.VramBytesInt8), 1));
        w.WriteEndObject();
        w.WriteStartObject("training_estimate_mib");
        w.WriteNumber("parameters", r.TrainingParametersMiB);
        w.WriteNumber("activations", r.TrainingActivationsMiB);
        w.WriteNumber("optimizer", r.TrainingOptimizerMiB);
        w.WriteNumber("input", r.TrainingInputMiB);
        w.WriteNumber("total", r.TrainingTotalMiB);
        w.WriteNumber("omitted_gradients", r.TrainingGradientsMiB);
        w.WriteNumber("total_with_gradients", r.TrainingTotalMiB + r.TrainingGradientsMiB);
        w.WriteEndObject();
        w.WriteStartArray("errata");
        foreach (var e in r.Errata)
        {
            w.WriteStringValue(e);
        }

        w.WriteEndArray();
        w.WriteStartObject("exact");
        w.WriteString("model", "GPT-2-style: learned position embeddings, biases, LayerNorms, 4x MLP");
        w.WriteNumber("positions", SeedPostMethod.AssumedPositions);
        w.WriteNumber("intermediate", 4 * SeedPostMethod.EmbeddingSize);
        WriteExact(w, "tied", r.ExactTied);
        WriteExact(w, "untied", r.ExactUntied);
        var t = r.ExactTraining;
        w.WriteStartObject("training");
        w.WriteString("method", "llmsize memory estimator, training: mixed-precision AdamW model states (ZeRO, Rajbhandari et al. 2020) + layer activations (Korthikanti et al. 2022), embedding output and cross-entropy logits; no recomputation, no FlashAttention");
        w.WriteNumber("bytes_per_parameter", t.BytesPerParameter);
        w.WriteNumber("model_states_bytes_tied", t.ModelStatesBytesTied);
        w.WriteNumber("model_states_bytes_untied", t.ModelStatesBytesUntied);
        w.WriteNumber("activation_bytes", t.ActivationBytes);
        w.WriteNumber("sequence_length", t.SequenceLength);
        w.WriteNumber("batch", t.Batch);
        w.WriteNumber("total_bytes_tied", t.ModelStatesBytesTied + t.ActivationBytes);
        w.WriteNumber("total_bytes_untied", t.ModelStatesBytesUntied + t.ActivationBytes);
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteExact(System.Text.Json.Utf8JsonWriter w, string name, SeedExactModel m)
    {
        w.WriteStartObject(name);
        w.WriteNumber("total", m.Total.Value);
        w.WriteNumber("tensors", m.Tensors);
        w.WriteStartObject("groups");
        foreach (var group in Enum.GetValues<TensorGroup>())
        {
            w.WriteNumber(ParamsRendering.GroupName(group), m.Groups.TryGetValue(group, out var c) ? c.Value : 0);
        }

        w.WriteEndObject();
        w.WriteNumber("fp32_bytes", m.Fp32Bytes);
        w.WriteEndObject();
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
            v.AddRow(name, N(bytes), SeedPostResult.MiB(bytes).ToString("0.0", CultureInfo.InvariantCulture), (bytes / 1e6).ToString("0.0", CultureInfo.InvariantCulture));
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
        t.AddRow("total with gradients", N(r.TrainingTotalMiB + r.TrainingGradientsMiB), "");
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
                e.AddRow(ParamsRendering.GroupName(group), N(a), N(b));
            }
        }

        e.AddRow("[bold]total[/]", $"[bold]{N(r.ExactTied.Total.Value)}[/]", $"[bold]{N(r.ExactUntied.Total.Value)}[/]");
        var tr = r.ExactTraining;
        e.AddRow($"model states ({tr.BytesPerParameter} B/param, MiB)", Mib(tr.ModelStatesBytesTied), Mib(tr.ModelStatesBytesUntied));
        e.AddRow($"activations (seq {tr.SequenceLength}, batch {tr.Batch}, MiB)", Mib(tr.ActivationBytes), Mib(tr.ActivationBytes));
        e.AddRow("[bold]training total (MiB)[/]", Mib(tr.ModelStatesBytesTied + tr.ActivationBytes), Mib(tr.ModelStatesBytesUntied + tr.ActivationBytes));
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
