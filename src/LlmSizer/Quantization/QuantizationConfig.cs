using System.Globalization;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;

namespace LlmSizer.Quantization;

/// <summary>How a checkpoint says it is quantized: the <c>quantization_config</c> of its config.json, read onto a
/// <see cref="WeightFormat"/> so that the default estimate sizes the checkpoint as it ships.</summary>
/// <remarks>Fields, per <c>quant_method</c> (transformers' quantizer configs, <c>utils/quantization_config.py</c>):
/// <list type="bullet">
/// <item><c>fp8</c>: <c>fmt</c> (e4m3 or e5m2), <c>weight_block_size</c> [rows, columns] (absent: one scale per tensor),
/// <c>activation_scheme</c>, <c>modules_to_not_convert</c> (DeepSeek-V3 config.json).</item>
/// <item><c>mxfp4</c>: <c>modules_to_not_convert</c> (gpt-oss config.json).</item>
/// <item><c>gptq</c>, <c>awq</c>: <c>bits</c>, <c>group_size</c> (-1: one scale per output row), <c>zero_point</c> (AWQ),
/// <c>sym</c> (GPTQ keeps its packed zeros either way), <c>modules_to_not_convert</c>.</item>
/// <item><c>bitsandbytes</c>: <c>load_in_4bit</c>/<c>load_in_8bit</c>, <c>bnb_4bit_quant_type</c>,
/// <c>bnb_4bit_use_double_quant</c>, <c>llm_int8_skip_modules</c>.</item>
/// <item><c>compressed-tensors</c>: <c>config_groups.*.weights</c> (<c>num_bits</c>, <c>type</c>, <c>strategy</c>,
/// <c>group_size</c>, <c>block_structure</c>, <c>symmetric</c>) and <c>ignore</c>.</item>
/// </list></remarks>
public sealed record QuantizationConfig
{
    /// <summary>The <c>quant_method</c> values read here.</summary>
    public static IReadOnlyList<string> KnownMethods { get; } = ["fp8", "mxfp4", "gptq", "awq", "bitsandbytes", "compressed-tensors"];

    private QuantizationConfig(string method, WeightFormat format, string summary)
    {
        Method = method;
        Format = format;
        Summary = summary;
    }

    /// <summary>The <c>quant_method</c>, lower-case.</summary>
    public string Method { get; }

    /// <summary>The weight format the checkpoint is stored in.</summary>
    public WeightFormat Format { get; }

    /// <summary>One line for the estimate's assumptions, e.g. "fp8 e4m3, 128×128 blocks, dynamic activations".</summary>
    public string Summary { get; }

    /// <summary>Reads the <c>quantization_config</c> (or compressed-tensors' older <c>compression_config</c>) of a config.</summary>
    /// <param name="config">The config.json.</param>
    /// <returns>The checkpoint's quantization, or null when the config has none.</returns>
    /// <exception cref="ModelConfigException">The <c>quant_method</c> is unknown, or a field is invalid or unsupported.</exception>
    public static QuantizationConfig? Read(ConfigObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var key = config.FirstPresent("quantization_config", "compression_config");
        if (key is null)
        {
            return null;
        }

        if (config.Element.GetProperty(key).ValueKind != JsonValueKind.Object)
        {
            throw config.Error(key, "expected an object");
        }

        var q = config.Object(key)!;
        var method = q.String("quant_method")?.Trim().ToLowerInvariant()
            ?? (key == "compression_config" ? "compressed-tensors" : null);
        return method switch
        {
            "fp8" => Fp8(q),
            "mxfp4" => Mxfp4(q),
            "gptq" => Gptq(q),
            "awq" => Awq(q),
            "bitsandbytes" => Bnb(q),
            "compressed-tensors" or "compressed_tensors" => Compressed(q),
            _ => throw q.Error("quant_method", $"expected one of {string.Join(", ", KnownMethods)}; found "
                + (method is null ? "none" : $"'{MessageText.Clean(method, 64)}'")),
        };
    }

    /// <inheritdoc/>
    public bool Equals(QuantizationConfig? other) =>
        other is not null && Method == other.Method && Summary == other.Summary &&
        Format.Name == other.Format.Name && Format.Description == other.Format.Description;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Method, Summary, Format.Name, Format.Description);

    private static QuantizationConfig Fp8(ConfigObject q)
    {
        var fmt = q.String("fmt")?.ToLowerInvariant() ?? "e4m3";
        var type = fmt switch
        {
            "e4m3" or "float8_e4m3fn" => DataType.F8_E4M3,
            "e5m2" or "float8_e5m2" => DataType.F8_E5M2,
            _ => throw q.Error("fmt", $"expected e4m3 or e5m2; found '{MessageText.Clean(fmt, 64)}'"),
        };
        var block = q.IntArray("weight_block_size");
        WeightFormat format;
        string scales;
        if (block is null)
        {
            format = WeightFormat.Fp8Checkpoint(type, "tensor", 0, 0);
            scales = "one scale per tensor";
        }
        else
        {
            if (block.Count != 2 || block[0] <= 0 || block[1] <= 0)
            {
                throw q.Error("weight_block_size", "expected two positive integers [rows, columns]");
            }

            format = WeightFormat.Fp8Checkpoint(type, "block", block[0], block[1]);
            scales = Inv($"{block[0]}×{block[1]} blocks");
        }

        var activations = q.String("activation_scheme");
        var summary = $"fp8 {fmt}, {scales}" + (activations is null ? "" : $", {MessageText.Clean(activations, 32)} activations");
        return Build("fp8", format, summary, q, "modules_to_not_convert");
    }

    private static QuantizationConfig Mxfp4(ConfigObject q) =>
        Build("mxfp4", WeightFormat.Mxfp4, "mxfp4 block linears (E2M1 + E8M0 scale per 32)", q, "modules_to_not_convert");

    private static QuantizationConfig Gptq(ConfigObject q)
    {
        int bits = Bits(q, "bits", 4);
        int group = GroupSize(q, "group_size", 128);
        var format = WeightFormat.GroupQuant(Inv($"gptq-int{bits}-g{(group == 0 ? "channel" : group.ToString(CultureInfo.InvariantCulture))}"),
            WeightFormatKind.Gptq, bits, group, gIdx: true, zeros: true, DataType.F16, DataType.F16);
        return Build("gptq", format, Inv($"gptq int{bits}, {GroupText(group)}"), q, "modules_to_not_convert");
    }

    private static QuantizationConfig Awq(ConfigObject q)
    {
        int bits = q.OptionalInt("bits") ?? q.OptionalInt("w_bit") ?? 4;
        if (bits != 4)
        {
            throw q.Error(q.Has("bits") ? "bits" : "w_bit", Inv($"expected 4 (AWQ packs int4); found {bits}"));
        }

        int group = GroupSize(q, q.Has("group_size") ? "group_size" : "q_group_size", 128);
        bool zeros = q.Bool("zero_point", true);
        var format = WeightFormat.GroupQuant(Inv($"awq-g{(group == 0 ? "channel" : group.ToString(CultureInfo.InvariantCulture))}"),
            WeightFormatKind.Awq, 4, group, gIdx: false, zeros, DataType.F16, DataType.F16);
        return Build("awq", format, $"awq int4, {GroupText(group)}" + (zeros ? "" : ", no zero points"), q, "modules_to_not_convert");
    }

    private static QuantizationConfig Bnb(ConfigObject q)
    {
        bool four = q.Bool("load_in_4bit", false), eight = q.Bool("load_in_8bit", false);
        if (four == eight)
        {
            throw q.Error("load_in_4bit", four
                ? "expected only one of load_in_4bit and load_in_8bit; found both true"
                : "expected load_in_4bit or load_in_8bit true; found neither");
        }

        if (eight)
        {
            return Build("bitsandbytes", WeightFormat.Parse("bnb-int8"), "bitsandbytes LLM.int8", q, "llm_int8_skip_modules");
        }

        var type = q.String("bnb_4bit_quant_type")?.ToLowerInvariant() ?? "fp4";
        if (type is not ("nf4" or "fp4"))
        {
            throw q.Error("bnb_4bit_quant_type", $"expected nf4 or fp4; found '{MessageText.Clean(type, 64)}'");
        }

        bool dq = q.Bool("bnb_4bit_use_double_quant", false);
        if (dq && type == "fp4")
        {
            throw q.Error("bnb_4bit_use_double_quant", "expected false with bnb_4bit_quant_type fp4 (double quantization is sized for nf4 here); found true");
        }

        return Build("bitsandbytes", WeightFormat.Parse(dq ? "nf4-dq" : type), $"bitsandbytes {type}" + (dq ? " + double quantization" : ""), q, "llm_int8_skip_modules");
    }

    private static QuantizationConfig Compressed(ConfigObject q)
    {
        var groups = q.Object("config_groups");
        if (groups is null || groups.Element.ValueKind != JsonValueKind.Object)
        {
            throw q.Error("config_groups", "expected an object of quantization schemes");
        }

        ConfigObject? weights = null;
        string? groupName = null;
        foreach (var g in groups.Element.EnumerateObject())
        {
            if (groups.Object(g.Name)?.Object("weights") is { } w && w.Element.ValueKind == JsonValueKind.Object)
            {
                weights = w;
                groupName = g.Name;
                break;
            }
        }

        if (weights is null)
        {
            throw q.Error("config_groups", "expected a scheme with weights; found none");
        }

        int bits = weights.OptionalInt("num_bits") ?? throw weights.Error("num_bits", "missing; expected 4 or 8");
        var type = weights.String("type")?.ToLowerInvariant() ?? "int";
        var strategy = weights.String("strategy")?.ToLowerInvariant() ?? "tensor";
        bool symmetric = weights.Bool("symmetric", true);
        WeightFormat format;
        string summary;
        if (type == "float")
        {
            if (bits != 8)
            {
                throw weights.Error("num_bits", Inv($"expected 8 for float weights (fp8; other float widths are not sized here); found {bits}"));
            }

            int rows = 128, cols = 128;
            if (strategy == "block")
            {
                var b = weights.IntArray("block_structure");
                if (b is not null)
                {
                    if (b.Count != 2 || b[0] <= 0 || b[1] <= 0)
                    {
                        throw weights.Error("block_structure", "expected two positive integers [rows, columns]");
                    }

                    (rows, cols) = (b[0], b[1]);
                }
            }
            else if (strategy is not ("tensor" or "channel"))
            {
                throw weights.Error("strategy", $"expected tensor, channel or block for fp8 weights; found '{MessageText.Clean(strategy, 64)}'");
            }

            format = WeightFormat.Fp8Checkpoint(DataType.F8_E4M3, strategy, rows, cols);
            summary = $"compressed-tensors fp8, {(strategy == "block" ? Inv($"{rows}×{cols} blocks") : $"one scale per {(strategy == "channel" ? "output row" : "tensor")}")}";
        }
        else if (type == "int")
        {
            if (bits is not (4 or 8))
            {
                throw weights.Error("num_bits", Inv($"expected 4 or 8; found {bits}"));
            }

            int group = strategy switch
            {
                "group" => weights.OptionalInt("group_size") ?? throw weights.Error("group_size", "missing; expected a positive integer with strategy group"),
                "channel" => 0,
                _ => throw weights.Error("strategy", $"expected group or channel for int weights; found '{MessageText.Clean(strategy, 64)}'"),
            };
            format = WeightFormat.GroupQuant(Inv($"w{bits}a16-{(group == 0 ? "channel" : "g" + group.ToString(CultureInfo.InvariantCulture))}"),
                WeightFormatKind.Gptq, bits, group, gIdx: false, zeros: !symmetric, DataType.BF16, DataType.BF16);
            summary = Inv($"compressed-tensors int{bits}, {GroupText(group)}") + (symmetric ? ", symmetric" : ", with zero points");
        }
        else
        {
            throw weights.Error("type", $"expected int or float; found '{MessageText.Clean(type, 64)}'");
        }

        if (groupName is not null && groups.Element.EnumerateObject().Count() > 1)
        {
            summary += $" (scheme {MessageText.Clean(groupName, 64)} of several)";
        }

        return Build("compressed-tensors", format, summary, q, "ignore");
    }

    private static QuantizationConfig Build(string method, WeightFormat format, string summary, ConfigObject q, string keepKey)
    {
        var keep = q.StringArray(keepKey);
        if (keep is { Count: > 0 })
        {
            try
            {
                format = format.WithUnconvertedModules(keep);
            }
            catch (ArgumentException e)
            {
                throw q.Error(keepKey, $"expected module names or re: patterns; found an invalid pattern ({MessageText.Clean(e.Message, 120)})");
            }
        }

        return new QuantizationConfig(method, format, summary);
    }

    private static int Bits(ConfigObject q, string key, int fallback)
    {
        int bits = q.OptionalInt(key) ?? fallback;
        return bits is 4 or 8 ? bits : throw q.Error(key, Inv($"expected 4 or 8 (other widths are not sized here); found {bits}"));
    }

    // -1 means one group per output row (per channel): 0 here.
    private static int GroupSize(ConfigObject q, string key, int fallback)
    {
        if (!q.Element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var g) && (g == -1 || g > 0))
        {
            return g == -1 ? 0 : g;
        }

        throw q.Error(key, $"expected a positive integer or -1; found {MessageText.Clean(v.GetRawText(), 40)}");
    }

    private static string GroupText(int group) => group == 0 ? "one scale per output row" : Inv($"group {group}");

    private static string Inv(FormattableString s) => FormattableString.Invariant(s);
}
