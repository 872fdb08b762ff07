using System.Diagnostics.CodeAnalysis;
using LlmSizer.Units;

namespace LlmSizer.DataTypes;

/// <summary>A storage type for tensor elements with an exact block layout: <see cref="BlockElements"/> logical
/// elements occupy <see cref="BlockBytes"/> bytes (1 and 2 for F16; 32 and 18 for Q4_0; 2 and 1 for packed 4-bit).</summary>
/// <remarks>Sizes are exact: <c>SizeOf(n) = ceil(n / BlockElements) × BlockBytes</c>. <see cref="BitsPerElement"/> is for
/// display only. Known instances live in <c>DataType.Known.cs</c>.</remarks>
public sealed partial record DataType
{
    private DataType(string name, int blockElements, int blockBytes, int? ggmlTypeId, string? safetensorsName, string[] aliases, bool isFloat = true)
    {
        Name = name;
        BlockElements = blockElements;
        BlockBytes = blockBytes;
        GgmlTypeId = ggmlTypeId;
        SafetensorsName = safetensorsName;
        Aliases = aliases;
        IsFloatingPoint = isFloat;
    }

    /// <summary>The canonical upper-case name, e.g. "BF16", "Q4_K", "F8_E4M3".</summary>
    public string Name { get; }

    /// <summary>Logical elements per block (1 for plain types, 32 or 256 for GGUF quant blocks).</summary>
    public int BlockElements { get; }

    /// <summary>Bytes per block.</summary>
    public int BlockBytes { get; }

    /// <summary>The GGML type id (<c>enum ggml_type</c>), when the type exists in GGUF.</summary>
    public int? GgmlTypeId { get; }

    /// <summary>The safetensors header dtype string, when the type exists in safetensors.</summary>
    public string? SafetensorsName { get; }

    /// <summary>Other accepted names (lower case), e.g. "fp16", "half".</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>True for floating-point and block-quantized weight types; false for integer and boolean types.</summary>
    public bool IsFloatingPoint { get; }

    /// <summary>The average bits per element, for display only.</summary>
    public double BitsPerElement => BlockBytes * 8.0 / BlockElements;

    /// <summary>The exact bytes that <paramref name="elements"/> elements occupy: whole blocks, rounded up.</summary>
    /// <param name="elements">The number of logical elements; must be non-negative.</param>
    /// <returns>The size in bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The count is negative.</exception>
    /// <exception cref="OverflowException">The size does not fit in 64 bits.</exception>
    public ByteSize SizeOf(long elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        long blocks = elements / BlockElements + (elements % BlockElements == 0 ? 0 : 1);
        return new ByteSize(checked(blocks * BlockBytes));
    }

    /// <summary>Finds a type by any of its names or aliases, case-insensitively ("bf16", "bfloat16", "Q4_K", "f8_e4m3").</summary>
    /// <param name="name">The name.</param>
    /// <param name="type">The type, when found.</param>
    /// <returns>True when found.</returns>
    public static bool TryParse(string? name, [NotNullWhen(true)] out DataType? type)
    {
        type = null;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        return ByName.TryGetValue(name.Trim(), out type);
    }

    /// <summary>Finds a type by name or throws an <see cref="Errors.InvalidSettingException"/> listing the known names.</summary>
    /// <param name="name">The name.</param>
    /// <param name="setting">The flag or field the name came from, for the message.</param>
    /// <returns>The type.</returns>
    /// <exception cref="Errors.InvalidSettingException">The name is unknown.</exception>
    public static DataType Parse(string name, string setting = "dtype") =>
        TryParse(name, out var type)
            ? type
            : throw new Errors.InvalidSettingException(setting,
                $"unknown data type '{name}' (known: {string.Join(", ", All.Select(t => t.Name.ToLowerInvariant()))}).");

    /// <summary>Finds a type by its GGML type id.</summary>
    /// <param name="ggmlTypeId">The id from a GGUF tensor info.</param>
    /// <param name="type">The type, when known.</param>
    /// <returns>True when known.</returns>
    public static bool TryFromGgml(int ggmlTypeId, [NotNullWhen(true)] out DataType? type) =>
        ByGgml.TryGetValue(ggmlTypeId, out type);

    /// <summary>Finds a type by its safetensors dtype string (case-sensitive, as in the format).</summary>
    /// <param name="dtype">The dtype string, e.g. "BF16".</param>
    /// <param name="type">The type, when known.</param>
    /// <returns>True when known.</returns>
    public static bool TryFromSafetensors(string dtype, [NotNullWhen(true)] out DataType? type) =>
        BySafetensors.TryGetValue(dtype, out type);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
