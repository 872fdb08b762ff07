using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LlmSizer.Checkpoints.Gguf;

/// <summary>GGUF metadata value types (<c>enum gguf_type</c> in ggml/include/gguf.h).</summary>
internal enum GgufValueType : uint
{
    /// <remarks>GGUF_TYPE_UINT8</remarks>
    UInt8 = 0,

    /// <remarks>GGUF_TYPE_INT8</remarks>
    Int8 = 1,

    /// <remarks>GGUF_TYPE_UINT16</remarks>
    UInt16 = 2,

    /// <remarks>GGUF_TYPE_INT16</remarks>
    Int16 = 3,

    /// <remarks>GGUF_TYPE_UINT32</remarks>
    UInt32 = 4,

    /// <remarks>GGUF_TYPE_INT32</remarks>
    Int32 = 5,

    /// <remarks>GGUF_TYPE_FLOAT32</remarks>
    Float32 = 6,

    /// <remarks>GGUF_TYPE_BOOL (one byte)</remarks>
    Bool = 7,

    /// <remarks>GGUF_TYPE_STRING (u64 length + UTF-8 bytes)</remarks>
    String = 8,

    /// <remarks>GGUF_TYPE_ARRAY (u32 element type + u64 count + elements)</remarks>
    Array = 9,

    /// <remarks>GGUF_TYPE_UINT64</remarks>
    UInt64 = 10,

    /// <remarks>GGUF_TYPE_INT64</remarks>
    Int64 = 11,

    /// <remarks>GGUF_TYPE_FLOAT64</remarks>
    Float64 = 12,
}

/// <summary>One GGUF metadata value. Scalars and strings are held boxed in <see cref="Scalar"/>; arrays keep their
/// element type and count, and their items (<see cref="Items"/>, a typed array) only when they were materialised —
/// large arrays such as the tokenizer's token list are skipped and only counted.</summary>
internal sealed class GgufValue
{
    public GgufValue(GgufValueType type, object scalar)
    {
        Type = type;
        Scalar = scalar;
    }

    public GgufValue(GgufValueType elementType, long count, Array? items)
    {
        Type = GgufValueType.Array;
        ElementType = elementType;
        Count = count;
        Items = items;
    }

    public GgufValueType Type { get; }

    /// <summary>The file offset of the key-value pair (its key length), for messages; 0 when not read from a file.</summary>
    public long Offset { get; set; }

    public object? Scalar { get; }

    /// <summary>For arrays: the element type.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>For arrays: the element count (known even when the items were skipped).</summary>
    public long Count { get; }

    /// <summary>For materialised arrays: byte[], sbyte[], ushort[], short[], uint[], int[], float[], bool[], string[],
    /// ulong[], long[], double[] or GgufValue[] (nested arrays); null when skipped.</summary>
    public Array? Items { get; }

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Reads an integer scalar (any integer or bool type) as a long.</summary>
    public bool TryGetInt64(out long value)
    {
        switch (Scalar)
        {
            case byte v: value = v; return true;
            case sbyte v: value = v; return true;
            case ushort v: value = v; return true;
            case short v: value = v; return true;
            case uint v: value = v; return true;
            case int v: value = v; return true;
            case long v: value = v; return true;
            case ulong v when v <= long.MaxValue: value = (long)v; return true;
            case bool v: value = v ? 1 : 0; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>Reads a number (integer or float) as a double.</summary>
    public bool TryGetDouble(out double value)
    {
        switch (Scalar)
        {
            case float f: value = f; return true;
            case double d: value = d; return true;
            default:
                bool ok = TryGetInt64(out long l);
                value = l;
                return ok;
        }
    }

    /// <summary>Reads a materialised integer (or bool) array as longs.</summary>
    public bool TryGetInt64Array([NotNullWhen(true)] out long[]? values)
    {
        values = Items switch
        {
            byte[] a => [.. a.Select(x => (long)x)],
            sbyte[] a => [.. a.Select(x => (long)x)],
            ushort[] a => [.. a.Select(x => (long)x)],
            short[] a => [.. a.Select(x => (long)x)],
            uint[] a => [.. a.Select(x => (long)x)],
            int[] a => [.. a.Select(x => (long)x)],
            long[] a => a,
            ulong[] a when a.All(x => x <= long.MaxValue) => [.. a.Select(x => (long)x)],
            bool[] a => [.. a.Select(x => x ? 1L : 0L)],
            _ => null,
        };
        return values is not null;
    }

    /// <summary>A short text form for display: the scalar, or "[N × type]" for arrays (items up to 8 shown).</summary>
    public override string ToString()
    {
        if (!IsArray)
        {
            return Scalar switch
            {
                float f => f.ToString("R", CultureInfo.InvariantCulture),
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => Scalar?.ToString() ?? "",
            };
        }

        if (Items is { Length: <= 8 } items)
        {
            var parts = new List<string>();
            foreach (var item in items)
            {
                parts.Add(item switch
                {
                    GgufValue v => v.ToString(),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    bool b => b ? "true" : "false",
                    _ => item?.ToString() ?? "",
                });
            }

            return "[" + string.Join(", ", parts) + "]";
        }

        return $"[{Count.ToString(CultureInfo.InvariantCulture)} × {ElementType.ToString().ToLowerInvariant()}]";
    }
}
