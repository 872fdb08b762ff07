using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Quantization;

/// <summary>The family a <see cref="WeightFormat"/> belongs to.</summary>
public enum WeightFormatKind
{
    /// <summary>Keep the types the inventory already has (a checkpoint read from disk).</summary>
    Native,

    /// <summary>Every parameter tensor in one plain type (f32, f16, bf16, int8, int4).</summary>
    Uniform,

    /// <summary>A llama.cpp ftype: per-tensor recipe of GGUF block types (q4_k_m, q8_0 ...).</summary>
    LlamaCpp,

    /// <summary>GPTQ: packed integer weights, fp16 scale and packed zero point per group, g_idx.</summary>
    Gptq,

    /// <summary>AWQ: packed int4 weights, fp16 scale and packed zero point per group.</summary>
    Awq,

    /// <summary>bitsandbytes LLM.int8: int8 weights plus an fp32 scale per output row.</summary>
    BnbInt8,

    /// <summary>bitsandbytes 4-bit (NF4/FP4), optionally with double quantization.</summary>
    Bnb4,

    /// <summary>FP8 (E4M3/E5M2) with per-tensor, per-channel or 128×128 block scales.</summary>
    Fp8,

    /// <summary>OCP MXFP4 on the transformer-block linear layers (E2M1 + one E8M0 scale per 32).</summary>
    Mxfp4,
}

/// <summary>How the weights of a model are stored: a name (as a user types it) and a rule that gives each tensor of a
/// <see cref="TensorInventory"/> its storage type and any quantization side data (scales, zero points, g_idx).</summary>
/// <remarks>Sources, per kind: GGUF block sizes are <see cref="DataType"/>'s (ggml-common.h); llama.cpp mixes follow
/// <c>src/llama-quant.cpp</c> (memory-physics.md §2.3); GPTQ/AWQ/bitsandbytes/FP8 layouts follow memory-physics.md
/// §2.4 (AutoGPTQ/AutoAWQ packing; QLoRA paper §3 for NF4 and double quantization; DeepSeek-V3 report §3.3 for block
/// FP8). Formats that quantize only the transformer-block linear layers keep embeddings, lm_head, norms and routers in
/// <see cref="UnquantizedType"/>.</remarks>
public sealed class WeightFormat
{
    private WeightFormat(string name, WeightFormatKind kind, string description)
    {
        Name = name;
        Kind = kind;
        Description = description;
    }

    /// <summary>The canonical (lower-case) name, e.g. "bf16", "q4_k_m", "gptq-int4-g128", "nf4-dq".</summary>
    public string Name { get; }

    /// <summary>The family of the format.</summary>
    public WeightFormatKind Kind { get; }

    /// <summary>One line saying how tensors are stored.</summary>
    public string Description { get; }

    /// <summary>For <see cref="WeightFormatKind.Uniform"/>, the type of every parameter tensor.</summary>
    public DataType? UniformType { get; private init; }

    /// <summary>For GPTQ/AWQ, the group size (input rows per scale).</summary>
    public int GroupSize { get; private init; }

    /// <summary>For GPTQ, the weight bits (4 or 8).</summary>
    public int Bits { get; private init; }

    /// <summary>For bitsandbytes 4-bit, whether double quantization is on.</summary>
    public bool DoubleQuant { get; private init; }

    /// <summary>The type of tensors the format leaves unquantized (embeddings, lm_head, norms), unless overridden.</summary>
    public DataType UnquantizedType { get; private init; } = DataType.BF16;

    /// <summary>Module-name patterns whose tensors the format leaves unquantized (a checkpoint's
    /// <c>modules_to_not_convert</c>, <c>llm_int8_skip_modules</c> or compressed-tensors <c>ignore</c>); empty for none.
    /// A plain pattern matches whole dotted segments anywhere in a tensor name, <c>*</c> standing for one segment
    /// (<c>model.layers.*.self_attn</c> matches <c>model.layers.0.self_attn.q_proj.weight</c>); a pattern starting
    /// <c>re:</c> is a regular expression matched from the start of the module name (the tensor name without its last
    /// segment), as compressed-tensors does.</summary>
    public ImmutableArray<string> UnconvertedModules { get; private init; } = [];

    /// <summary>True for GGUF (llama.cpp) formats.</summary>
    public bool IsGguf => Kind == WeightFormatKind.LlamaCpp;

    /// <summary>True when weights are stored with fewer than 16 bits.</summary>
    public bool IsQuantized => Kind is not (WeightFormatKind.Native or WeightFormatKind.Uniform) ||
        (UniformType is { } u && u.BitsPerElement < 16);

    /// <summary>Keep the inventory's own types.</summary>
    public static WeightFormat Native { get; } = new("native", WeightFormatKind.Native, "as stored in the checkpoint");

    /// <summary>Every parameter in bf16.</summary>
    public static WeightFormat BF16 { get; } = Uniform(DataType.BF16);

    /// <summary>Every parameter in fp16.</summary>
    public static WeightFormat F16 { get; } = Uniform(DataType.F16);

    /// <summary>Every parameter in fp32.</summary>
    public static WeightFormat F32 { get; } = Uniform(DataType.F32);

    /// <summary>The canonical names accepted by <see cref="Parse"/> (aliases and group-size suffixes are accepted too).</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
    [
        "native", "f32", "f16", "bf16", "fp8", "fp8_e5m2", "fp8-channel", "fp8-block", "int8", "int4", "mxfp4",
        "bnb-int8", "nf4", "nf4-dq", "fp4", "gptq-int4", "gptq-int8", "awq",
        .. Enum.GetValues<LlamaFtype>().Where(f => f is not (LlamaFtype.F32 or LlamaFtype.F16 or LlamaFtype.BF16))
            .Select(f => f.ToString().ToLowerInvariant()),
    ];

    /// <summary>Parses a format name, forgivingly (case-insensitive; "f16|fp16|float16|half", "q4_k_m", "Q4_K_M",
    /// "gptq", "gptq-int4-g64", "awq", "nf4", "qlora", "bnb-int8", "fp8", "fp8-block" ...).</summary>
    /// <param name="name">The name.</param>
    /// <param name="setting">The flag it came from, for the message.</param>
    /// <returns>The format.</returns>
    /// <exception cref="InvalidSettingException">The name is unknown; the message lists the known names.</exception>
    public static WeightFormat Parse(string? name, string setting = "dtype") =>
        TryParse(name, out var f)
            ? f
            : throw new InvalidSettingException(setting,
                $"expected one of {string.Join(", ", KnownNames)}; found '{name}'.");

    /// <summary>Tries to parse a format name; see <see cref="Parse"/>.</summary>
    /// <param name="name">The name.</param>
    /// <param name="format">The format, when known.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? name, [NotNullWhen(true)] out WeightFormat? format)
    {
        format = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        var n = name.Trim().ToLowerInvariant().Replace('.', '_');
        if (n.StartsWith("gguf-", StringComparison.Ordinal) || n.StartsWith("gguf_", StringComparison.Ordinal))
        {
            n = n[5..];
        }

        switch (n)
        {
            case "native" or "auto" or "file" or "as-stored":
                format = Native;
                return true;
            case "f32" or "fp32" or "float32" or "float":
                format = F32;
                return true;
            case "f16" or "fp16" or "float16" or "half":
                format = F16;
                return true;
            case "bf16" or "bfloat16":
                format = BF16;
                return true;
            case "int8" or "i8":
                format = Uniform(DataType.I8);
                return true;
            case "int4" or "i4":
                format = Uniform(DataType.Int4);
                return true;
            case "fp8" or "f8" or "fp8_e4m3" or "f8_e4m3" or "e4m3" or "float8_e4m3fn" or "fp8-tensor":
                format = Fp8(DataType.F8_E4M3, Fp8Scale.Tensor);
                return true;
            case "fp8_e5m2" or "f8_e5m2" or "e5m2":
                format = Fp8(DataType.F8_E5M2, Fp8Scale.Tensor);
                return true;
            case "fp8-channel" or "fp8_channel":
                format = Fp8(DataType.F8_E4M3, Fp8Scale.Channel);
                return true;
            case "fp8-block" or "fp8_block" or "fp8-128":
                format = Fp8(DataType.F8_E4M3, Fp8Scale.Block);
                return true;
            case "mxfp4":
                format = new WeightFormat("mxfp4", WeightFormatKind.Mxfp4,
                    "block linear layers MXFP4 (32 × E2M1 + one E8M0 scale = 17 B / 32); others bf16");
                return true;
            case "bnb-int8" or "bnb_int8" or "llm_int8" or "llm-int8" or "int8-bnb" or "load_in_8bit" or "bnb-8bit":
                format = new WeightFormat("bnb-int8", WeightFormatKind.BnbInt8,
                    "bitsandbytes LLM.int8: block linears int8 + fp32 scale per output row (SCB); lm_head, embeddings, norms unquantized")
                {
                    UnquantizedType = DataType.F16,
                };
                return true;
            case "nf4" or "bnb-nf4" or "bnb-4bit" or "load_in_4bit" or "fp4" or "bnb-fp4":
                format = Bnb4(n.Contains("fp4", StringComparison.Ordinal) ? "fp4" : "nf4", doubleQuant: false);
                return true;
            case "nf4-dq" or "nf4_dq" or "nf4-double" or "bnb-nf4-dq" or "qlora":
                format = Bnb4("nf4-dq", doubleQuant: true);
                return true;
            default:
                break;
        }

        if (TryParseGroupFormat(n, out format))
        {
            return true;
        }

        foreach (var f in Enum.GetValues<LlamaFtype>())
        {
            if (string.Equals(f.ToString(), n, StringComparison.OrdinalIgnoreCase))
            {
                format = new WeightFormat(n, WeightFormatKind.LlamaCpp,
                    $"llama.cpp {f} mix: default {LlamaCppMix.DefaultType(f).Name}, per-tensor overrides of llama-quant.cpp, 1-D tensors F32");
                return true;
            }
        }

        return false;
    }

    private static bool TryParseGroupFormat(string n, [NotNullWhen(true)] out WeightFormat? format)
    {
        format = null;
        var parts = n.Split('-', '_');
        if (parts[0] is not ("gptq" or "awq"))
        {
            return false;
        }

        int bits = 4, group = 128;
        foreach (var p in parts.Skip(1))
        {
            if (p is "int4" or "4bit" or "w4" or "w4a16")
            {
                bits = 4;
            }
            else if (p is "int8" or "8bit" or "w8" or "w8a16")
            {
                bits = 8;
            }
            else if (p.Length > 1 && p[0] == 'g' && int.TryParse(p.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var g) && g > 0)
            {
                group = g;
            }
            else
            {
                return false;
            }
        }

        bool awq = parts[0] == "awq";
        if (awq && bits != 4)
        {
            return false;
        }

        var canonical = awq ? $"awq-g{group}" : $"gptq-int{bits}-g{group}";
        format = new WeightFormat(canonical, awq ? WeightFormatKind.Awq : WeightFormatKind.Gptq,
            $"{(awq ? "AWQ" : "GPTQ")} int{bits}, group {group}: packed weights + fp16 scale and packed {bits}-bit zero per group per output column"
            + (awq ? "" : " + int32 g_idx per input row") + "; embeddings, lm_head, norms fp16")
        {
            Bits = bits,
            GroupSize = group,
            UnquantizedType = DataType.F16,
            _gIdx = !awq,
            _zeros = true,
        };
        return true;
    }

    private static WeightFormat Uniform(DataType type) =>
        new(type.Name.ToLowerInvariant() switch { "int4" => "int4", "i8" => "int8", var s => s }, WeightFormatKind.Uniform,
            $"every parameter in {type.Name} ({type.BitsPerElement:0.###} bits, no scales)")
        {
            UniformType = type,
        };

    private static WeightFormat Bnb4(string name, bool doubleQuant) =>
        new(name, WeightFormatKind.Bnb4, doubleQuant
            ? "bitsandbytes NF4 + double quantization: 4-bit codes, 8-bit absmax per 64, fp32 absmax per 64×256 (4.127 bpw); non-Linear4bit modules bf16"
            : $"bitsandbytes {name.ToUpperInvariant()}: 4-bit codes + fp32 absmax per 64 (4.5 bpw); non-Linear4bit modules bf16")
        {
            DoubleQuant = doubleQuant,
        };

    private enum Fp8Scale
    {
        Tensor,
        Channel,
        Block,
    }

    private Fp8Scale _fp8Scale;
    private int _blockRows = 128;
    private int _blockCols = 128;
    private bool _gIdx;
    private bool _zeros;
    private DataType _scaleType = DataType.F16;
    private Regex? _unconvertedPlain;
    private Regex? _unconvertedRegex;

    private static WeightFormat Fp8(DataType type, Fp8Scale scale, int blockRows = 128, int blockCols = 128) =>
        new(scale switch
            {
                Fp8Scale.Channel => "fp8-channel",
                Fp8Scale.Block => blockRows == 128 && blockCols == 128 ? "fp8-block" : FormattableString.Invariant($"fp8-block{blockRows}x{blockCols}"),
                _ => type == DataType.F8_E5M2 ? "fp8_e5m2" : "fp8",
            },
            WeightFormatKind.Fp8,
            $"block linears {type.Name} + fp32 scale per " + scale switch
            {
                Fp8Scale.Channel => "output row",
                Fp8Scale.Block => FormattableString.Invariant($"{blockRows}×{blockCols} block (DeepSeek-V3 §3.3)"),
                _ => "tensor",
            } + "; embeddings, lm_head, norms bf16")
        {
            UniformType = type,
            _fp8Scale = scale,
            _blockRows = blockRows,
            _blockCols = blockCols,
        };

    /// <summary>FP8 weights with a scale per tensor, per output row or per block, as a checkpoint's
    /// <c>quantization_config</c> describes them.</summary>
    /// <param name="type">F8_E4M3 or F8_E5M2.</param>
    /// <param name="scale">"tensor", "channel" or "block".</param>
    /// <param name="blockRows">Block height (output rows) for block scales.</param>
    /// <param name="blockCols">Block width (input columns) for block scales.</param>
    internal static WeightFormat Fp8Checkpoint(DataType type, string scale, int blockRows, int blockCols) =>
        Fp8(type, scale switch { "channel" => Fp8Scale.Channel, "block" => Fp8Scale.Block, _ => Fp8Scale.Tensor }, blockRows, blockCols);

    /// <summary>The MXFP4 format (gpt-oss's experts).</summary>
    internal static WeightFormat Mxfp4 => Parse("mxfp4");

    /// <summary>Integer weights in groups along the input dimension with a scale per group and output row, as GPTQ, AWQ
    /// and compressed-tensors store them.</summary>
    /// <param name="name">The canonical name.</param>
    /// <param name="kind">Gptq or Awq.</param>
    /// <param name="bits">4 or 8.</param>
    /// <param name="group">Input columns per scale; 0 for one scale per output row (channel).</param>
    /// <param name="gIdx">Whether an int32 g_idx per input column is stored.</param>
    /// <param name="zeros">Whether a packed zero point per group is stored.</param>
    /// <param name="scaleType">The type of the scales.</param>
    /// <param name="unquantized">The type of tensors left unquantized.</param>
    internal static WeightFormat GroupQuant(string name, WeightFormatKind kind, int bits, int group, bool gIdx, bool zeros, DataType scaleType, DataType unquantized) =>
        new(name, kind, FormattableString.Invariant(
            $"int{bits} block linears, {(group == 0 ? "one scale per output row" : $"group {group}")}: packed weights + {scaleType.Name} scale")
            + (zeros ? $" and packed {bits}-bit zero" : "") + (group == 0 ? "" : " per group per output column")
            + (gIdx ? " + int32 g_idx per input row" : "") + $"; embeddings, lm_head, norms {unquantized.Name}")
        {
            Bits = bits,
            GroupSize = group,
            UnquantizedType = unquantized,
            _gIdx = gIdx,
            _zeros = zeros,
            _scaleType = scaleType,
        };

    /// <summary>This format with the tensors of <paramref name="patterns"/> left unquantized (see
    /// <see cref="UnconvertedModules"/>).</summary>
    /// <param name="patterns">Module-name patterns; none returns this format.</param>
    /// <returns>The format.</returns>
    /// <exception cref="ArgumentException">A <c>re:</c> pattern is not a valid regular expression.</exception>
    public WeightFormat WithUnconvertedModules(IEnumerable<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var list = patterns.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.Ordinal).ToImmutableArray();
        if (list.IsEmpty)
        {
            return this;
        }

        var plain = list.Where(p => !p.StartsWith("re:", StringComparison.Ordinal)).ToList();
        var res = list.Where(p => p.StartsWith("re:", StringComparison.Ordinal)).Select(p => p[3..]).ToList();
        return new WeightFormat(Name, Kind, Description + $"; kept in {UnquantizedType.Name}: {string.Join(", ", list)}")
        {
            UniformType = UniformType,
            GroupSize = GroupSize,
            Bits = Bits,
            DoubleQuant = DoubleQuant,
            UnquantizedType = UnquantizedType,
            _fp8Scale = _fp8Scale,
            _blockRows = _blockRows,
            _blockCols = _blockCols,
            _gIdx = _gIdx,
            _zeros = _zeros,
            _scaleType = _scaleType,
            UnconvertedModules = list,
            // Plain: whole dotted segments anywhere in the tensor name, '*' one segment.
            _unconvertedPlain = plain.Count == 0 ? null : new Regex(
                string.Join("|", plain.Select(p => "(?:(?:^|\\.)" + string.Join("[^.]+", p.Split('*').Select(Regex.Escape)) + "(?:\\.|$))")),
                RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
            // "re:": from the start of the module name (the tensor name up to its last '.'), as compressed-tensors matches.
            _unconvertedRegex = res.Count == 0 ? null : new Regex(
                string.Join("|", res.Select(r => "^(?:" + r + ")")), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)),
        };
    }

    private bool IsUnconverted(string tensorName)
    {
        if (_unconvertedPlain is { } p && p.IsMatch(tensorName))
        {
            return true;
        }

        if (_unconvertedRegex is { } r)
        {
            int dot = tensorName.LastIndexOf('.');
            return r.IsMatch(dot < 0 ? tensorName.AsSpan() : tensorName.AsSpan(0, dot));
        }

        return false;
    }

    /// <summary>Returns the inventory as this format stores it: parameter tensors re-typed, side data added as
    /// <see cref="TensorKind.QuantizationAux"/> tensors.</summary>
    /// <param name="inventory">The model's tensors (any types).</param>
    /// <param name="spec">The architecture (GQA ratio, experts, layer count for llama.cpp's rules), when known.</param>
    /// <param name="unquantized">Overrides <see cref="UnquantizedType"/> (e.g. fp32 when a 4-bit model is loaded without torch_dtype).</param>
    /// <returns>The stored inventory.</returns>
    public TensorInventory Apply(TensorInventory inventory, ArchitectureSpec? spec, DataType? unquantized = null)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        switch (Kind)
        {
            case WeightFormatKind.Native:
                return inventory;
            case WeightFormatKind.Uniform:
                return inventory.WithDataType(UniformType!);
            default:
                var sink = new MaterializingSink(inventory.Tensors.Length);
                Apply(inventory, spec, unquantized, sink);
                return sink.Build();
        }
    }

    /// <summary>The most side-data tensors this format adds to one weight (so a sink can size its buffers once).</summary>
    internal int MaxAuxPerWeight => Kind switch
    {
        WeightFormatKind.Gptq or WeightFormatKind.Awq => 1 + (_zeros ? 1 : 0) + (_gIdx ? 1 : 0),
        WeightFormatKind.BnbInt8 or WeightFormatKind.Fp8 => 1,
        WeightFormatKind.Bnb4 => DoubleQuant ? 3 : 1,
        _ => 0,
    };

    /// <summary>Tells <paramref name="sink"/> each tensor as this format stores it, without building an inventory: the
    /// memory estimator needs only each stored tensor's bytes and placement, and a model near
    /// <see cref="ModelLimits.MaxGeneratedTensors"/> would otherwise allocate a re-typed copy (with side-data names) per
    /// format it is sized in.</summary>
    internal void Apply(TensorInventory inventory, ArchitectureSpec? spec, DataType? unquantized, IStoredTensorSink sink)
    {
        var keep = unquantized ?? UnquantizedType;
        switch (Kind)
        {
            case WeightFormatKind.Native:
                foreach (var t in inventory.Tensors)
                {
                    sink.Kept(t);
                }

                return;
            case WeightFormatKind.Uniform:
                foreach (var t in inventory.Tensors)
                {
                    if (t.Kind == TensorKind.Parameter)
                    {
                        sink.Retyped(t, UniformType!);
                    }
                    else
                    {
                        sink.Kept(t);
                    }
                }

                return;
            case WeightFormatKind.LlamaCpp:
                LlamaCppMix.Apply(inventory, spec, Enum.Parse<LlamaFtype>(Name, ignoreCase: true), sink);
                return;
            default:
                break;
        }

        foreach (var t in inventory.Tensors)
        {
            if (t.Kind != TensorKind.Parameter)
            {
                sink.Kept(t);
                continue;
            }

            var role = TensorRoles.Of(t);
            // Per-expert bias matrices ([experts, out], gpt-oss) are biases, not weights: no format quantizes them.
            if (!TensorRoles.IsBlockLinear(t, role) || IsUnconverted(t.Name) ||
                t.Name.EndsWith("_bias", StringComparison.Ordinal) || t.Name.EndsWith(".bias", StringComparison.Ordinal))
            {
                sink.Retyped(t, keep);
                continue;
            }

            long rowLen = t.Shape[^1];
            long rows = t.StoredElements / Math.Max(1, rowLen);
            long elements = t.StoredElements;
            switch (Kind)
            {
                case WeightFormatKind.Gptq:
                case WeightFormatKind.Awq:
                {
                    // [out, in]: groups run along the input dimension; one scale (fp16) and one packed zero per group per output column.
                    long groups = GroupSize == 0 ? 1 : (rowLen + GroupSize - 1) / GroupSize;
                    var payload = Bits == 4 ? DataType.Int4 : DataType.I8;
                    sink.Retyped(t, payload);
                    sink.Aux(t, ".scales", _scaleType, groups, rows);
                    if (_zeros)
                    {
                        sink.Aux(t, ".qzeros", payload, groups, rows);
                    }

                    if (_gIdx)
                    {
                        sink.Aux(t, ".g_idx", DataType.I32, rowLen);
                    }

                    break;
                }

                case WeightFormatKind.BnbInt8:
                    sink.Retyped(t, DataType.I8);
                    sink.Aux(t, ".SCB", DataType.F32, rows);
                    break;
                case WeightFormatKind.Bnb4:
                {
                    long blocks = (elements + 63) / 64;
                    sink.Retyped(t, DataType.Int4);
                    if (DoubleQuant)
                    {
                        sink.Aux(t, ".absmax", DataType.U8, blocks);
                        sink.Aux(t, ".nested_absmax", DataType.F32, (blocks + 255) / 256);
                        sink.Aux(t, ".offset", DataType.F32, 1);
                    }
                    else
                    {
                        sink.Aux(t, ".absmax", DataType.F32, blocks);
                    }

                    break;
                }

                case WeightFormatKind.Fp8:
                    sink.Retyped(t, UniformType!);
                    switch (_fp8Scale)
                    {
                        case Fp8Scale.Channel:
                            sink.Aux(t, ".weight_scale", DataType.F32, rows);
                            break;
                        case Fp8Scale.Block:
                            sink.Aux(t, ".weight_scale_inv", DataType.F32, (rows + _blockRows - 1) / _blockRows, (rowLen + _blockCols - 1) / _blockCols);
                            break;
                        default:
                            sink.Aux(t, ".weight_scale", DataType.F32, 1);
                            break;
                    }

                    break;
                case WeightFormatKind.Mxfp4:
                    sink.Retyped(t, rowLen % 32 == 0 ? DataType.MXFP4 : keep);
                    break;
                default:
                    sink.Kept(t);
                    break;
            }
        }
    }


    /// <inheritdoc/>
    public override string ToString() => Name;
}
