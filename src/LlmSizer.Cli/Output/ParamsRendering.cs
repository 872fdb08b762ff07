using System.Globalization;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Tensors;
using LlmSizer.Units;
using Spectre.Console;

namespace LlmSizer.Cli.Output;

/// <summary>Renders a model's <see cref="ParameterReport"/> as tables or as the <c>params --json</c> document
/// (DESIGN.md §4). Rendering only: every number comes from the library.</summary>
internal static class ParamsRendering
{
    /// <summary>What to include besides the summary.</summary>
    /// <param name="Tensors">Every tensor.</param>
    /// <param name="LayersDetail">Parameters per layer.</param>
    public sealed record Options(bool Tensors, bool LayersDetail);

    /// <summary>The JSON name of a source kind.</summary>
    public static string SourceName(ModelSourceKind source) => source switch
    {
        ModelSourceKind.Catalog => "catalog",
        ModelSourceKind.Config => "config",
        ModelSourceKind.Safetensors => "safetensors",
        ModelSourceKind.Gguf => "gguf",
        ModelSourceKind.Hub => "hub",
        ModelSourceKind.Manual => "manual",
        _ => source.ToString().ToLowerInvariant(),
    };

    /// <summary>The stable JSON name of a group.</summary>
    public static string GroupName(TensorGroup group) => group switch
    {
        TensorGroup.Embedding => "embedding",
        TensorGroup.Attention => "attention",
        TensorGroup.Mlp => "mlp",
        TensorGroup.Experts => "experts",
        TensorGroup.Norm => "norm",
        TensorGroup.LmHead => "lm_head",
        TensorGroup.Other => "other",
        _ => group.ToString().ToLowerInvariant(),
    };

    /// <summary>Bits per weight (display only; computed in <see cref="ParameterReport.BitsPerWeight"/>).</summary>
    public static double BitsPerWeight(ParameterReport report) => report.BitsPerWeight;

    public static void WriteJson(Utf8JsonWriter w, ModelInfo model, ParameterReport report, Options options, InventoryComparison? comparison)
    {
        w.WriteStartObject();
        w.WriteString("model", model.Name);
        w.WriteString("source", SourceName(model.Source));
        if (model.Files.Count > 0)
        {
            w.WriteStartArray("files");
            foreach (var f in model.Files)
            {
                w.WriteStringValue(f);
            }

            w.WriteEndArray();
        }

        if (model.Architecture is { } a)
        {
            w.WriteStartObject("architecture");
            WriteArchitecture(w, a);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("architecture");
        }

        w.WriteStartObject("parameters");
        w.WriteCount("total", report.Total);
        w.WriteCount("active", report.Active);
        w.WriteStartObject("groups");
        foreach (var group in Enum.GetValues<TensorGroup>())
        {
            w.WriteNumber(GroupName(group), report.Groups.TryGetValue(group, out var c) ? c.Value : 0);
        }

        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteNumber("tensors", report.TensorCount);
        w.WriteStartObject("by_dtype");
        foreach (var (dtype, count) in report.ByDataType)
        {
            w.WriteNumber(dtype.Name, count.Value);
        }

        w.WriteEndObject();
        w.WriteStartObject("bytes_by_dtype");
        foreach (var group in model.Inventory.Parameters.GroupBy(t => t.DataType))
        {
            w.WriteNumber(group.Key.Name, group.Aggregate(ByteSize.Zero, (s, t) => s + t.Bytes).Bytes);
        }

        w.WriteEndObject();
        w.WriteNumber("weight_bytes", report.WeightBytes.Bytes);
        w.WriteNumber("bits_per_weight", Math.Round(BitsPerWeight(report), 4));
        w.WriteNumberOrNull("file_bytes", model.FileBytes?.Bytes);

        if (options.LayersDetail)
        {
            w.WriteStartArray("layers");
            foreach (var (layer, count) in report.ByLayer)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", layer);
                w.WriteNumber("parameters", count.Value);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        if (options.Tensors)
        {
            w.WriteStartArray("tensor_list");
            foreach (var t in model.Inventory.Tensors)
            {
                WriteTensor(w, t);
            }

            w.WriteEndArray();
        }

        if (comparison is not null)
        {
            w.WriteStartObject("check");
            w.WriteBoolean("match", comparison.IsMatch);
            w.WriteNumber("matched", comparison.Matched);
            w.WriteStartArray("missing");
            foreach (var t in comparison.Missing)
            {
                WriteTensor(w, t);
            }

            w.WriteEndArray();
            w.WriteStartArray("extra");
            foreach (var t in comparison.Extra)
            {
                WriteTensor(w, t);
            }

            w.WriteEndArray();
            w.WriteStartArray("misshapen");
            foreach (var m in comparison.Misshapen)
            {
                w.WriteStartObject();
                w.WriteString("name", m.Name);
                w.WriteString("expected_shape", m.Expected.ShapeText());
                w.WriteString("actual_shape", m.Actual.ShapeText());
                w.WriteNumber("expected_elements", m.Expected.Elements);
                w.WriteNumber("actual_elements", m.Actual.Elements);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteArchitecture(Utf8JsonWriter w, ArchitectureSpec a)
    {
        w.WriteString("family", a.Family);
        w.WriteStringOrNull("model_class", a.ModelClass);
        w.WriteNumber("layers", a.Layers);
        w.WriteNumberOrNull("decoder_layers", a.DecoderLayers);
        w.WriteNumber("hidden", a.Hidden);
        w.WriteNumber("heads", a.Heads);
        w.WriteNumber("kv_heads", a.KvHeads);
        w.WriteNumber("head_dim", a.HeadDim);
        w.WriteNumber("v_head_dim", a.VHeadDim);
        w.WriteNumber("intermediate", a.Intermediate);
        w.WriteNumber("vocab", a.Vocab);
        w.WriteNumberOrNull("max_positions", a.MaxPositions);
        w.WriteBoolean("tied_embeddings", a.TiedEmbeddings);
        w.WriteString("mlp", a.Mlp == MlpKind.Gated ? "gated" : "dense");
        w.WriteString("norm", a.Norm switch { NormKind.LayerNorm => "layernorm", NormKind.LayerNormNoBias => "layernorm_no_bias", _ => "rmsnorm" });
        w.WriteNumberOrNull("experts", a.Moe?.Experts);
        w.WriteNumberOrNull("active_experts", a.Moe?.ActiveExperts);
        w.WriteNumberOrNull("expert_intermediate", a.Moe?.ExpertIntermediate);
        w.WriteNumberOrNull("shared_experts", a.Moe?.SharedExperts);
        w.WriteNumberOrNull("kv_lora_rank", a.Mla?.KvLoraRank);
        w.WriteNumberOrNull("q_lora_rank", a.Mla?.QLoraRank);
        w.WriteNumberOrNull("sliding_window", a.SlidingWindow);
        w.WriteBoolean("encoder_only", a.IsEncoderOnly);
        w.WriteStringOrNull("torch_dtype", a.TorchDtype);
    }

    private static void WriteTensor(Utf8JsonWriter w, TensorInfo t)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteStartArray("shape");
        foreach (var d in t.Shape)
        {
            w.WriteNumberValue(d);
        }

        w.WriteEndArray();
        w.WriteString("dtype", t.DataType.Name);
        w.WriteNumber("elements", t.Elements);
        w.WriteNumber("bytes", t.Bytes.Bytes);
        w.WriteString("group", GroupName(t.Group));
        if (t.Kind != TensorKind.Parameter)
        {
            w.WriteString("kind", t.Kind == TensorKind.Buffer ? "buffer" : "quantization_aux");
        }

        w.WriteEndObject();
    }

    public static void WriteTables(IAnsiConsole console, ModelInfo model, ParameterReport report, Options options, InventoryComparison? comparison)
    {
        var total = report.Total;
        console.MarkupLine($"[bold]{Markup.Escape(model.Name)}[/] ({SourceName(model.Source)}): [bold]{total.ToExactString()}[/] parameters ({total.ToShortString()})");
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

            groups.AddRow(GroupName(group), count.ToExactString(), count.ToShortString(), Percent(count.Value, total.Value));
        }

        groups.AddRow("[bold]total[/]", $"[bold]{total.ToExactString()}[/]", total.ToShortString(), "100.0%");
        if (report.Active != total)
        {
            groups.AddRow("active per token", report.Active.ToExactString(), report.Active.ToShortString(), Percent(report.Active.Value, total.Value));
        }

        console.Write(groups);

        var storage = new Table().Border(TableBorder.Rounded).Title("Storage");
        storage.AddColumn("Dtype");
        storage.AddColumn(new TableColumn("Parameters").RightAligned());
        storage.AddColumn(new TableColumn("Bytes").RightAligned());
        storage.AddColumn(new TableColumn("Size").RightAligned());
        foreach (var group in model.Inventory.Parameters.GroupBy(t => t.DataType))
        {
            var bytes = group.Aggregate(ByteSize.Zero, (s, t) => s + t.Bytes);
            var count = new ParameterCount(group.Sum(t => t.Elements));
            storage.AddRow(group.Key.Name, count.ToExactString(), N(bytes.Bytes), bytes.ToString());
        }

        storage.AddRow("[bold]weights[/]", total.ToExactString(), N(report.WeightBytes.Bytes), report.WeightBytes.ToString());
        console.Write(storage);
        var fileNote = model.FileBytes is { } fb ? $"; files {N(fb.Bytes)} bytes ({fb})" : "";
        console.WriteLine($"{report.TensorCount.ToString(CultureInfo.InvariantCulture)} tensors; {BitsPerWeight(report).ToString("0.##", CultureInfo.InvariantCulture)} bits per weight{fileNote}");
        if (model.Source is ModelSourceKind.Catalog or ModelSourceKind.Config or ModelSourceKind.Manual)
        {
            console.WriteLine("Bytes assume every tensor in BF16 (2 bytes); see 'llmsize memory' for other precisions.");
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

    private static string Percent(long part, long whole) =>
        whole == 0 ? "-" : (part * 100.0 / whole).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
