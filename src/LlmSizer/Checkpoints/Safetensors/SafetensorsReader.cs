using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Numerics;
using System.Text.Json;
using System.Text.Unicode;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Checkpoints.Safetensors;

/// <summary>A parsed safetensors header.</summary>
internal sealed class SafetensorsHeader
{
    public required string Path { get; init; }

    public required long FileLength { get; init; }

    /// <summary>The JSON header's length in bytes (the data section starts at 8 + this).</summary>
    public required long HeaderLength { get; init; }

    /// <summary>The <c>__metadata__</c> map, when present.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The tensors in header order, classified by name (<see cref="TensorClassifier.Classify"/>); tensors of
    /// equal shape share one shape array. The array belongs to the caller (the loader finishes it in place).</summary>
    public required TensorInfo[] Tensors { get; init; }

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

    /// <summary>Reads a header from a synchronous source: two reads (the length, then the JSON).</summary>
    public static SafetensorsHeader Read(ISynchronousByteSource source)
    {
        string file = source.Name;
        long fileLength = ByteSource.KnownLength(source);
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || !source.TryReadExactly(0, prefix))
        {
            throw SafetensorsThrowHelper.TooShort(file, fileLength);
        }

        int headerLength = HeaderLength(file, prefix, fileLength);
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

    /// <summary>Reads a header from any source (a remote one included): the same two reads, awaited, and the same parse.</summary>
    public static async ValueTask<SafetensorsHeader> ReadAsync(IByteSource source, CancellationToken cancellationToken = default)
    {
        if (source is ISynchronousByteSource sync)
        {
            return Read(sync);
        }

        string file = source.Name;
        long fileLength = ByteSource.KnownLength(source);
        var prefix = new byte[8];
        if (fileLength < 8 || !await source.TryReadExactlyAsync(0, prefix, cancellationToken).ConfigureAwait(false))
        {
            throw SafetensorsThrowHelper.TooShort(file, fileLength);
        }

        int headerLength = HeaderLength(file, prefix, fileLength);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(headerLength, 1));
        try
        {
            if (!await source.TryReadExactlyAsync(8, buffer.AsMemory(0, headerLength), cancellationToken).ConfigureAwait(false))
            {
                throw SafetensorsThrowHelper.TooShort(file, fileLength);
            }

            return Parse(file, fileLength, buffer.AsSpan(0, headerLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int HeaderLength(string file, ReadOnlySpan<byte> prefix, long fileLength)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > SafetensorsThrowHelper.MaxHeaderLength || n > (ulong)(fileLength - 8))
        {
            throw SafetensorsThrowHelper.HeaderTooLarge(file, n, fileLength);
        }

        return (int)n;
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

        // Entries are collected in a pooled array (sized from the header length: a tensor entry takes ~100 bytes of
        // JSON), validated, and only then turned into the final TensorInfo objects: the only per-tensor allocations are
        // the name string and the TensorInfo (shapes are shared, dtypes are the interned DataType instances).
        var entries = ArrayPool<Entry>.Shared.Rent(Math.Min(header.Length / 100 + 4, 1 << 16));
        try
        {
            int count = 0;
            var metadata = ReadEntries(file, header, ref entries, ref count);
            var span = entries.AsSpan(0, count);

            CheckUniqueNames(file, span);

            // Spans must tile the data section from 0. Files list tensors in offset order (the reference writer does),
            // so check header order first and sort by offsets only when that fails, to name the first misplaced tensor.
            long dataLength = fileLength - 8 - header.Length;
            long cursor = 0;
            if (!TryContiguous(span, ref cursor))
            {
                span.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
                cursor = 0;
                foreach (ref readonly var e in span)
                {
                    if (e.Begin != cursor)
                    {
                        throw SafetensorsThrowHelper.NotContiguous(file, e.Name, cursor, e.Begin);
                    }

                    cursor = e.End;
                }
            }

            if (cursor != dataLength)
            {
                throw SafetensorsThrowHelper.DataLength(file, cursor, dataLength);
            }

            // Valid: classify into header order.
            var tensors = count == 0 ? [] : new TensorInfo[count];
            foreach (ref readonly var e in span)
            {
                tensors[e.Index] = TensorClassifier.Classify(e.Name, e.Shape, e.DataType);
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
        finally
        {
            ArrayPool<Entry>.Shared.Return(entries, clearArray: true);
        }
    }

    private static Dictionary<string, string>? ReadEntries(string file, ReadOnlySpan<byte> header, ref Entry[] entries, ref int count)
    {
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
        var shapes = new ShapeCache();
        int lastDtype = 0;
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
                if (count == entries.Length)
                {
                    var larger = ArrayPool<Entry>.Shared.Rent(checked(entries.Length * 2));
                    entries.AsSpan().CopyTo(larger);
                    ArrayPool<Entry>.Shared.Return(entries, clearArray: true);
                    entries = larger;
                }

                entries[count] = ReadTensor(file, name, ref reader, at, shapes, ref lastDtype, count);
                count++;
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
        catch (InvalidOperationException)
        {
            // Utf8JsonReader validates UTF-8 and escapes lazily: GetString on "\ud800" (a lone surrogate) throws this.
            throw SafetensorsThrowHelper.InvalidJson(file, 8 + reader.TokenStartIndex, "a string with an invalid escape (a lone UTF-16 surrogate such as \\ud800)");
        }

        return metadata;
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

    private static Entry ReadTensor(string file, string name, ref Utf8JsonReader reader, long at, ShapeCache shapes, ref int lastDtype, int index)
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

                // Most tensors share the previous tensor's dtype: try it first.
                lastDtype = FindDtype(ref reader, lastDtype);
                dataType = lastDtype >= 0 ? Dtypes[lastDtype].Type : throw SafetensorsThrowHelper.UnknownDtype(file, fieldAt, name, reader.GetString()!);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                int count = ReadLongArray(file, name, "shape", ref reader, fieldAt, dims);
                shape = shapes.Get(dims[..count]);
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

        return new Entry(name, dtypeValue, shape.Value, begin, end, index);
    }

    // The safetensors dtypes with their UTF-8 names, compared against the JSON value without making a string.
    private static readonly (byte[] Utf8, DataType Type)[] Dtypes = BuildDtypes();

    private static (byte[] Utf8, DataType Type)[] BuildDtypes()
    {
        var list = new List<(byte[], DataType)>();
        foreach (var t in DataType.All)
        {
            if (t.SafetensorsName is { } n)
            {
                list.Add((System.Text.Encoding.UTF8.GetBytes(n), t));
            }
        }

        return [.. list];
    }

    /// <summary>The index in <see cref="Dtypes"/> of the JSON string value, trying <paramref name="hint"/> first (most
    /// tensors share the previous tensor's dtype); -1 when unknown.</summary>
    private static int FindDtype(ref Utf8JsonReader reader, int hint)
    {
        if ((uint)hint < (uint)Dtypes.Length && reader.ValueTextEquals(Dtypes[hint].Utf8))
        {
            return hint;
        }

        for (int i = 0; i < Dtypes.Length; i++)
        {
            if (reader.ValueTextEquals(Dtypes[i].Utf8))
            {
                return i;
            }
        }

        return -1;
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

    /// <summary>One tensor while the header is validated (pooled; becomes a <see cref="TensorInfo"/> once valid).</summary>
    private readonly record struct Entry(string Name, DataType DataType, ImmutableArray<long> Shape, long Begin, long End, int Index);

    /// <summary>True when the spans, in header order, follow each other from <paramref name="cursor"/>; advances it.</summary>
    private static bool TryContiguous(ReadOnlySpan<Entry> entries, ref long cursor)
    {
        foreach (ref readonly var e in entries)
        {
            if (e.Begin != cursor)
            {
                return false;
            }

            cursor = e.End;
        }

        return true;
    }

    /// <summary>Throws on a repeated tensor name. An open-addressing table of entry indexes, rented from the pool:
    /// linear time and no allocation (sorting names with long common prefixes cost more than the whole parse).</summary>
    private static void CheckUniqueNames(string file, ReadOnlySpan<Entry> entries)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, checked(entries.Length * 2)));
        var table = ArrayPool<int>.Shared.Rent(size);
        try
        {
            var slots = table.AsSpan(0, size);
            slots.Fill(-1);
            int mask = size - 1;
            for (int i = 0; i < entries.Length; i++)
            {
                string name = entries[i].Name;
                int slot = StringComparer.Ordinal.GetHashCode(name) & mask;
                while (slots[slot] >= 0)
                {
                    if (string.Equals(entries[slots[slot]].Name, name, StringComparison.Ordinal))
                    {
                        throw SafetensorsThrowHelper.Duplicate(file, null, name);
                    }

                    slot = (slot + 1) & mask;
                }

                slots[slot] = i;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(table);
        }
    }
}
