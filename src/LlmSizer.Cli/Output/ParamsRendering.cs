using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.Contract;
using LlmSizer.Tensors;
using LlmSizer.Units;
using Spectre.Console;

namespace LlmSizer.Cli.Output;

/// <summary>Renders a model's <see cref="ParameterReport"/> as tables or as the <c>params --json</c> document
/// (DESIGN.md §4). Rendering only: every number comes from the library.</summary>
internal static class ParamsRendering
{
    public static void WriteTables(IAnsiConsole console, ParametersResult result)
    {
        var model = result.Model;
        var report = result.Report;
        var options = result.Options;
        var comparison = result.Check;
        var total = report.Total;
        console.MarkupLine($"[bold]{Markup.Escape(model.Name)}[/] ({ContractMapper.SourceName(model.Source)}): [bold]{total.ToExactString()}[/] parameters ({total.ToShortString()})");
        if (model.Architecture is { } a)
        {
            console.WriteLine(ArchitectureSummary(a));
        }

        var groups = new Table().Border(TableBorder.Rounded).Title("Parameters");
        groups.AddColumn("Group");
        groups.AddColumn(new TableColumn("Parameters").RightAligned());
        groups.AddColumn(new TableColumn("Short").RightAligned());
        groups.AddColumn(new TableColumn("Share").RightAligned());
        foreach (var group in Enum.GetValues<TensorGroup>())
        {
            var count = report.Groups.TryGetValue(group, out var c) ? c : ParameterCount.Zero;
            if (count.Value == 0)
            {
                continue;
            }

            groups.AddRow(ContractMapper.GroupName(group), count.ToExactString(), count.ToShortString(), Percent(report.SharePercent(count)));
        }

        groups.AddRow("[bold]total[/]", $"[bold]{total.ToExactString()}[/]", total.ToShortString(), "100.0%");
        if (report.Active != total)
        {
            // Both figures: model cards differ on whether the input embedding (a lookup, not a matmul) is "active".
            var card = result.CardActive;
            string Mark(bool withEmbeddings) => card is not null && card.WithEmbeddings == withEmbeddings ? $" [dim](model card: {Markup.Escape(card.Figure)})[/]" : "";
            groups.AddRow("active per token" + Mark(true), report.Active.ToExactString(), report.Active.ToShortString(), Percent(report.SharePercent(report.Active)));
            groups.AddRow("  without input embedding" + Mark(false), report.ActiveWithoutEmbeddings.ToExactString(), report.ActiveWithoutEmbeddings.ToShortString(),
                Percent(report.SharePercent(report.ActiveWithoutEmbeddings)));
        }

        console.Write(groups);

        // A multimodal model: its language model, vision tower, projector and audio encoder, each counted whole.
        var parts = report.Components.Where(c => c.Value.Value > 0).ToList();
        if (parts.Count > 1)
        {
            var components = new Table().Border(TableBorder.Rounded).Title("Components");
            components.AddColumn("Component");
            components.AddColumn(new TableColumn("Parameters").RightAligned());
            components.AddColumn(new TableColumn("Short").RightAligned());
            components.AddColumn(new TableColumn("Share").RightAligned());
            foreach (var (component, count) in parts)
            {
                components.AddRow(ModelComponents.Name(component), count.ToExactString(), count.ToShortString(), Percent(report.SharePercent(count)));
            }

            console.Write(components);
        }

        var storage = new Table().Border(TableBorder.Rounded).Title("Storage");
        storage.AddColumn("Dtype");
        storage.AddColumn(new TableColumn("Parameters").RightAligned());
        storage.AddColumn(new TableColumn("Bytes").RightAligned());
        storage.AddColumn(new TableColumn("Size").RightAligned());
        foreach (var ((dtype, count), (_, bytes)) in report.ByDataType.Zip(report.BytesByDataType))
        {
            storage.AddRow(dtype.Name, count.ToExactString(), N(bytes.Bytes), bytes.ToString());
        }

        storage.AddRow("[bold]weights[/]", total.ToExactString(), N(report.WeightBytes.Bytes), report.WeightBytes.ToString());
        console.Write(storage);
        var fileNote = model.FileBytes is { } fb ? $"; files {N(fb.Bytes)} bytes ({fb})" : "";
        console.WriteLine($"{report.TensorCount.ToString(CultureInfo.InvariantCulture)} tensors; {report.BitsPerWeight.ToString("0.##", CultureInfo.InvariantCulture)} bits per weight{fileNote}");
        if (model.StorageNote is { } note)
        {
            console.WriteLine(note + "; see 'llmsize memory' for other precisions.");
        }

        if (options.LayersDetail)
        {
            var layers = new Table().Border(TableBorder.Rounded).Title("Per layer");
            layers.AddColumn(new TableColumn("Layer").RightAligned());
            layers.AddColumn(new TableColumn("Parameters").RightAligned());
            layers.AddColumn(new TableColumn("Short").RightAligned());
            foreach (var (layer, count) in report.ByLayer)
            {
                layers.AddRow(layer.ToString(CultureInfo.InvariantCulture), count.ToExactString(), count.ToShortString());
            }

            console.Write(layers);
        }

        if (options.Tensors)
        {
            var tensors = new Table().Border(TableBorder.Simple).Title("Tensors");
            tensors.AddColumn("Name");
            tensors.AddColumn("Shape");
            tensors.AddColumn("Dtype");
            tensors.AddColumn(new TableColumn("Elements").RightAligned());
            tensors.AddColumn(new TableColumn("Bytes").RightAligned());
            foreach (var t in model.Inventory.Tensors)
            {
                var name = t.Kind == TensorKind.Parameter ? t.Name : $"{t.Name} ({(t.Kind == TensorKind.Buffer ? "buffer" : "quant aux")})";
                tensors.AddRow(Markup.Escape(name), Markup.Escape(t.ShapeText()), t.DataType.Name, N(t.Elements), N(t.Bytes.Bytes));
            }

            console.Write(tensors);
        }

        if (comparison is not null)
        {
            WriteComparison(console, comparison);
        }
    }

    private static void WriteComparison(IAnsiConsole console, InventoryComparison comparison)
    {
        if (comparison.IsMatch)
        {
            console.WriteLine($"check: OK, all {comparison.Matched.ToString(CultureInfo.InvariantCulture)} tensors match the config.");
            return;
        }

        console.WriteLine($"check: MISMATCH: {comparison.Missing.Count} missing, {comparison.Extra.Count} extra, {comparison.Misshapen.Count} misshapen, {comparison.Matched} matched.");
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("Problem");
        table.AddColumn("Tensor");
        table.AddColumn("Expected (config)");
        table.AddColumn("Found (files)");
        foreach (var t in comparison.Missing)
        {
            table.AddRow("missing", Markup.Escape(t.Name), Markup.Escape(t.ShapeText()), "-");
        }

        foreach (var t in comparison.Extra)
        {
            table.AddRow("extra", Markup.Escape(t.Name), "-", Markup.Escape(t.ShapeText()));
        }

        foreach (var m in comparison.Misshapen)
        {
            table.AddRow("misshapen", Markup.Escape(m.Name), Markup.Escape(m.Expected.ShapeText()), Markup.Escape(m.Actual.ShapeText()));
        }

        console.Write(table);
    }

    /// <summary>One line describing the architecture, e.g. "llama: 32 layers, hidden 4096, 32 heads (8 KV, dim 128), ...".</summary>
    public static string ArchitectureSummary(ArchitectureSpec a)
    {
        var parts = new List<string>
        {
            a.DecoderLayers is int dl ? $"{a.Layers} encoder + {dl} decoder layers" : $"{a.Layers} layers",
            $"hidden {N(a.Hidden)}",
            $"{a.Heads} heads ({a.KvHeads} KV, head dim {a.HeadDim})",
            $"{(a.Mlp == MlpKind.Gated ? "gated" : "dense")} MLP {N(a.Intermediate)}",
            $"vocab {N(a.Vocab)}",
        };
        if (a.Moe is { } moe)
        {
            parts.Add($"MoE {moe.ActiveExperts} of {moe.Experts} experts ({N(moe.ExpertIntermediate)})" + (moe.SharedExperts > 0 ? $" + {moe.SharedExperts} shared" : ""));
        }

        if (a.Mla is { } mla)
        {
            parts.Add($"MLA kv rank {mla.KvLoraRank}");
        }

        if (a.MaxPositions is int mp)
        {
            parts.Add($"context {N(mp)}");
        }

        parts.Add(a.TiedEmbeddings ? "tied embeddings" : "untied head");
        return $"{a.Family}{(a.ModelClass is null ? "" : $" ({a.ModelClass})")}: {string.Join(", ", parts)}";
    }

    private static string Percent(double? share) =>
        share is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
