using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Unicode;
using LlmSizer.DataTypes;

namespace LlmSizer.Checkpoints.Safetensors;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="DataType">The dtype.</param>
/// <param name="Shape">The shape, outermost first (logical elements, also for packed F4/F6).</param>
/// <param name="Begin">The start of its bytes, relative to the data section.</param>
/// <param name="End">The end of its bytes (exclusive).</param>
internal sealed record SafetensorsTensor(string Name, DataType DataType, ImmutableArray<long> Shape, long Begin, long End);

/// <summary>A parsed safetensors header.</summary>
internal sealed class SafetensorsHeader
{
    public required string Path { get; init; }

    public required long FileLength { get; init; }

    /// <summary>The JSON header's length in bytes (the data section starts at 8 + this).</summary>
    public required long HeaderLength { get; init; }

    /// <summary>The <c>__metadata__</c> map, when present.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The tensors in header order.</summary>
    public required IReadOnlyList<SafetensorsTensor> Tensors { get; init; }

    /// <summary>The total tensor bytes (the data section length).</summary>
    public required long DataBytes { get; init; }
}

/// <summary>Reads safetensors headers (8-byte little-endian length + UTF-8 JSON), never tensor data, with the checks of
/// the reference implementation (huggingface/safetensors): header length ≤ 100,000,000 and inside the file, known dtypes,
/// shape × dtype size equal to each byte span, spans contiguous from 0 and covering exactly the rest of the file, unique names.</summary>
internal static class SafetensorsReader
{
    // Root object → tensor object → shape array is three levels; anything deeper is not a safetensors header.
    private const int MaxDepth = 4;

    // More dimensions than any framework tensor has (PyTorch allows 64); a longer shape is refused, not allocated.
    private const int MaxDims = 64;

    public static SafetensorsHeader Read(string path)
    {
        using var source = new FileByteSource(path);
        return Read(source);
    }

    public static SafetensorsHeader Read(IByteSource source)
    {
        string file = source.Name;
        long fileLength = source.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || !source.TryReadExactly(0, prefix))
        {
            throw SafetensorsThrowHelper.TooShort(file, fileLength);
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > SafetensorsThrowHelper.MaxHeaderLength || n > (ulong)(fileLength - 8))
        {
            throw SafetensorsThrowHelper.HeaderTooLarge(file, n, fileLength);
        }

        int headerLength = (int)n;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(headerLength, 1));
        try
        {
            var header = buffer.AsSpan(0, headerLength);
            if (!source.TryReadExactly(8, header))
            {
                throw SafetensorsThrowHelper.TooShort(file, fileLength);
            }

            return Parse(file, fileLength, header);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static SafetensorsHeader Parse(string file, long fileLength, ReadOnlySpan<byte> header)
    {
        if (!Utf8.IsValid(header))
        {
            throw SafetensorsThrowHelper.InvalidUtf8(file);
        }

        if (header.IsEmpty || header[0] != (byte)'{')
        {
            throw SafetensorsThrowHelper.NotAnObject(file);
        }

        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
        // Sized from the header length (a tensor entry takes ~100 bytes of JSON), so large headers do not regrow the list.
        var tensors = new List<SafetensorsTensor>(Math.Min(header.Length / 100 + 4, 1 << 16));
        Dictionary<string, string>? metadata = null;
        bool sawMetadata = false;
        try
        {
            reader.Read(); // StartObject
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                long at = 8 + reader.TokenStartIndex;
                if (reader.ValueTextEquals("__metadata__"u8))
                {
                    if (sawMetadata)
                    {
                        throw SafetensorsThrowHelper.Duplicate(file, at, "__metadata__");
                    }

                    sawMetadata = true;
                    metadata = ReadMetadata(file, ref reader);
                    continue;
                }

                string name = reader.GetString()!;
                tensors.Add(ReadTensor(file, name, ref reader, at));
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw SafetensorsThrowHelper.InvalidJson(file, 8 + reader.TokenStartIndex, "content after the header object");
            }
        }
        catch (JsonException e)
        {
            throw SafetensorsThrowHelper.InvalidJson(file, 8 + (e.BytePositionInLine ?? 0), e.Message);
        }

        // Duplicate names: sorted by name, duplicates are neighbours (cheaper than a hash set of every name).
        var sorted = tensors.ToArray();
        Array.Sort(sorted, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 1; i < sorted.Length; i++)
        {
            if (string.Equals(sorted[i].Name, sorted[i - 1].Name, StringComparison.Ordinal))
            {
                throw SafetensorsThrowHelper.Duplicate(file, null, sorted[i].Name);
            }
        }

        long dataLength = fileLength - 8 - header.Length;
        Array.Sort(sorted, static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long cursor = 0;
        foreach (var t in sorted)
        {
            if (t.Begin != cursor)
            {
                throw SafetensorsThrowHelper.NotContiguous(file, t.Name, cursor, t.Begin);
            }

            cursor = t.End;
        }

        if (cursor != dataLength)
        {
            throw SafetensorsThrowHelper.DataLength(file, cursor, dataLength);
        }

        return new SafetensorsHeader
        {
            Path = file,
            FileLength = fileLength,
            HeaderLength = header.Length,
            Metadata = metadata,
            Tensors = tensors,
            DataBytes = cursor,
        };
    }

    private static Dictionary<string, string>? ReadMetadata(string file, ref Utf8JsonReader reader)
    {
        long at = 8 + reader.TokenStartIndex;
        reader.Read();

        // The reference reads __metadata__ as Option<HashMap<String, String>>: null is allowed (MLX writes it).
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw SafetensorsThrowHelper.Error(file, at, "__metadata__", "an object of strings", reader.TokenType.ToString());
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                throw SafetensorsThrowHelper.Error(file, 8 + reader.TokenStartIndex, $"__metadata__ '{key}'", "a string", reader.TokenType.ToString());
            }

            map[key] = reader.GetString()!;
        }

        return map;
    }

    private static SafetensorsTensor ReadTensor(string file, string name, ref Utf8JsonReader reader, long at)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw SafetensorsThrowHelper.BadField(file, at, name, "entry", "an object with dtype, shape and data_offsets", reader.TokenType.ToString());
        }

        Span<long> dims = stackalloc long[MaxDims];
        Span<long> offsets = stackalloc long[2];
        DataType? dataType = null;
        ImmutableArray<long>? shape = null;
        long begin = -1, end = -1;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            long fieldAt = 8 + reader.TokenStartIndex;
            if (reader.ValueTextEquals("dtype"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    throw SafetensorsThrowHelper.BadField(file, fieldAt, name, "dtype", "a string", reader.TokenType.ToString());
                }

                string dtype = reader.GetString()!;
                if (!DataType.TryFromSafetensors(dtype, out var dt))
                {
                    throw SafetensorsThrowHelper.UnknownDtype(file, fieldAt, name, dtype);
                }

                dataType = dt;
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                int count = ReadLongArray(file, name, "shape", ref reader, fieldAt, dims);
                shape = ImmutableArray.Create(dims[..count]);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                int count = ReadLongArray(file, name, "data_offsets", ref reader, fieldAt, offsets);
                if (count != 2 || offsets[1] < offsets[0])
                {
                    throw SafetensorsThrowHelper.BadField(file, fieldAt, name, "data_offsets", "[begin, end] with begin ≤ end", "[" + string.Join(", ", offsets[..count].ToArray()) + "]");
                }

                begin = offsets[0];
                end = offsets[1];
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (dataType is null || shape is null || begin < 0)
        {
            string missing = dataType is null ? "dtype" : shape is null ? "shape" : "data_offsets";
            throw SafetensorsThrowHelper.BadField(file, at, name, missing, "present", "nothing");
        }

        // Byte size = elements × bits / 8, which must be whole (the reference's MisalignedSlice check for F4/F6).
        long elements = 1;
        foreach (var d in shape.Value)
        {
            if (d != 0 && elements > long.MaxValue / d)
            {
                throw SafetensorsThrowHelper.BadField(file, at, name, "shape", "a product that fits in 64 bits", "[" + string.Join(", ", shape.Value) + "]");
            }

            elements *= d;
        }

        var dtypeValue = dataType;
        long bytes;
        if (dtypeValue.BlockElements == 1)
        {
            bytes = elements > long.MaxValue / dtypeValue.BlockBytes ? -1 : elements * dtypeValue.BlockBytes;
        }
        else
        {
            bytes = elements % dtypeValue.BlockElements != 0 ? -1 : elements / dtypeValue.BlockElements * dtypeValue.BlockBytes;
        }

        if (bytes != end - begin)
        {
            throw SafetensorsThrowHelper.SizeMismatch(file, name, bytes, end - begin);
        }

        return new SafetensorsTensor(name, dtypeValue, shape.Value, begin, end);
    }

    private static int ReadLongArray(string file, string name, string field, ref Utf8JsonReader reader, long at, scoped Span<long> values)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw SafetensorsThrowHelper.BadField(file, at, name, field, "an array of non-negative integers", reader.TokenType.ToString());
        }

        int count = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long v) || v < 0)
            {
                throw SafetensorsThrowHelper.BadField(file, 8 + reader.TokenStartIndex, name, field, "non-negative integers", reader.TokenType == JsonTokenType.Number ? "a negative, fractional or huge number" : reader.TokenType.ToString());
            }

            if (count == values.Length)
            {
                throw SafetensorsThrowHelper.BadField(file, at, name, field, $"at most {values.Length} entries", "more");
            }

            values[count++] = v;
        }

        return count;
    }
}
