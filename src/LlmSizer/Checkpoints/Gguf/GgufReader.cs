using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using LlmSizer.DataTypes;

namespace LlmSizer.Checkpoints.Gguf;

/// <summary>One tensor info of a GGUF file.</summary>
/// <param name="Name">The tensor name (llama.cpp naming, e.g. <c>blk.0.attn_q.weight</c>).</param>
/// <param name="Dims">The dimensions as stored: innermost (ne[0], the row) first.</param>
/// <param name="DataType">The ggml type.</param>
/// <param name="Offset">The offset relative to the data section.</param>
/// <param name="Bytes">The exact bytes (rows × row size).</param>
internal sealed record GgufTensor(string Name, ImmutableArray<long> Dims, DataType DataType, long Offset, long Bytes);

/// <summary>What a GGUF header holds: version, metadata, tensor infos and where the data section lies.</summary>
internal sealed class GgufFile
{
    public required string Path { get; init; }

    public required uint Version { get; init; }

    public required long FileLength { get; init; }

    public required IReadOnlyDictionary<string, GgufValue> Metadata { get; init; }

    public required IReadOnlyList<GgufTensor> Tensors { get; init; }

    /// <summary>The alignment of the data section and tensor offsets (<c>general.alignment</c>, default 32).</summary>
    public required long Alignment { get; init; }

    /// <summary>The byte just past the last tensor info.</summary>
    public required long HeaderLength { get; init; }

    /// <summary>The file offset of the data section (the header length rounded up to the alignment).</summary>
    public required long DataStart { get; init; }

    /// <summary>The value of <c>general.architecture</c>, when present.</summary>
    public string? Architecture => Metadata.TryGetValue("general.architecture", out var v) ? v.Scalar as string : null;

    public GgufValue? Get(string key) => Metadata.GetValueOrDefault(key);

    /// <summary>The file offset of a metadata key, for messages (0 when absent).</summary>
    public long OffsetOf(string key) => Metadata.TryGetValue(key, out var v) ? v.Offset : 0;
}

/// <summary>Options of <see cref="GgufReader"/>.</summary>
internal sealed record GgufReadOptions
{
    /// <summary>Arrays with more elements than this are skipped (counted, not materialised).</summary>
    public long MaxMaterializedArrayLength { get; init; } = 4096;

    /// <summary>Materialise the tokenizer arrays (tokens, scores, token types, merges) too, within the limit above.</summary>
    public bool MaterializeTokenizer { get; init; }

    public static GgufReadOptions Default { get; } = new();
}

/// <summary>Reads GGUF v2/v3 headers (metadata and tensor infos), never tensor data. Every length, count and offset
/// is checked against the bytes that remain before anything is allocated from it.</summary>
/// <remarks>Format: ggml-org/ggml docs/gguf.md. Checks follow ggml's own gguf.cpp: n_dims ≤ GGML_MAX_DIMS (4), known
/// types, ne[0] a multiple of the block size, unique keys and tensor names, alignment a power of two, tensor data inside
/// the file.</remarks>
internal static class GgufReader
{
    private const int MaxNesting = 4;
    private const int GgmlMaxDims = 4;

    public static GgufFile Read(string path, GgufReadOptions? options = null)
    {
        using var source = new FileByteSource(path);
        return Read(source, options);
    }

    /// <summary>Reads a header from a synchronous source: the cursor reads ahead in growing chunks as it walks.</summary>
    public static GgufFile Read(ISynchronousByteSource source, GgufReadOptions? options = null)
    {
        var c = new Cursor(source, source.Name, ByteSource.KnownLength(source), long.MaxValue);
        try
        {
            return ReadCore(c, options ?? GgufReadOptions.Default);
        }
        finally
        {
            c.Dispose();
        }
    }

    /// <summary>Reads a header from any source (a remote one included). The parsing is the synchronous one above, run
    /// over a prefix of the file held in memory: when the walk needs bytes past the prefix, the prefix is extended (at
    /// least doubled, so a header of n bytes takes O(log n) reads and at most about twice the parse work) and the
    /// walk restarts. A GGUF header has no length field, so this is how a range reader learns where it ends.</summary>
    public static async ValueTask<GgufFile> ReadAsync(IByteSource source, GgufReadOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (source is ISynchronousByteSource sync)
        {
            return Read(sync, options);
        }

        long length = ByteSource.KnownLength(source);
        var prefix = new byte[(int)Math.Min(length, 64 * 1024)];
        int have = 0;
        while (true)
        {
            if (!await source.TryReadExactlyAsync(have, prefix.AsMemory(have), cancellationToken).ConfigureAwait(false))
            {
                throw GgufThrowHelper.Truncated(source.Name, have, "header", prefix.Length - have, 0);
            }

            have = prefix.Length;
            var c = new Cursor(new MemoryByteSource(prefix, source.Name), source.Name, length, have);
            try
            {
                return ReadCore(c, options ?? GgufReadOptions.Default);
            }
            catch (NeedBytesException e)
            {
                // Grow by the bytes held (doubling) up to 1 MiB a step, in whole 64 KiB chunks: a remote reader then
                // over-reads at most one step past the end of the tensor infos, and a big tokenizer takes few reads.
                const long Granule = 64 * 1024;
                long step = Math.Min(have, 1024 * 1024);
                long grown = Math.Max(e.End, have + step);
                long want = Math.Min(length, checked((grown + Granule - 1) / Granule * Granule));
                if (want > Array.MaxLength || want > ModelLimits.MaxStreamBytes * 16)
                {
                    throw GgufThrowHelper.Error(source.Name, have, "header", $"at most {ModelLimits.MaxStreamBytes * 16:N0} bytes of metadata and tensor infos", $"more ({want:N0} bytes needed)");
                }

                Array.Resize(ref prefix, (int)want);
            }
            finally
            {
                c.Dispose();
            }
        }
    }

    /// <summary>Thrown by the cursor of <see cref="ReadAsync"/> when the walk needs bytes past the prefix in memory.</summary>
    private sealed class NeedBytesException(long end) : Exception
    {
        public long End { get; } = end;
    }

    private static GgufFile ReadCore(Cursor c, GgufReadOptions options)
    {
        string file = c.Name;
        var magic = c.Take(4, "magic");
        if (!magic.SequenceEqual("GGUF"u8))
        {
            throw GgufThrowHelper.BadMagic(file, magic);
        }

        uint version = c.U32("version");
        if (version is not (2 or 3))
        {
            throw GgufThrowHelper.UnsupportedVersion(file, version);
        }

        long countsAt = c.Position;
        ulong tensorCount = c.U64("tensor_count");
        ulong kvCount = c.U64("metadata_kv_count");

        // Each KV needs at least a key length (8), a type (4) and a one-byte value; each tensor info a name length (8),
        // n_dims (4), type (4) and offset (8). Counts beyond what the remaining bytes can hold are rejected before any list is sized.
        long maxKv = c.Remaining / 13;
        if (kvCount > (ulong)maxKv)
        {
            throw GgufThrowHelper.CountTooLarge(file, countsAt + 8, "metadata_kv_count", kvCount, maxKv);
        }

        long maxTensors = (c.Remaining - (long)kvCount * 13) / 24;
        if (tensorCount > (ulong)maxTensors)
        {
            throw GgufThrowHelper.CountTooLarge(file, countsAt, "tensor_count", tensorCount, maxTensors);
        }

        var metadata = new Dictionary<string, GgufValue>((int)Math.Min(kvCount, 1024), StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            long keyAt = c.Position;
            string key = c.String("metadata key");
            long typeAt = c.Position;
            uint type = c.U32("metadata", key, " type");
            var value = ReadValue(c, key, type, typeAt, 0, options);
            value.Offset = keyAt;
            if (!metadata.TryAdd(key, value))
            {
                throw GgufThrowHelper.DuplicateKey(file, keyAt, key);
            }
        }

        var tensors = new List<GgufTensor>((int)Math.Min(tensorCount, 65536));
        var names = new HashSet<string>((int)Math.Min(tensorCount, 65536), StringComparer.Ordinal);
        var offsets = new List<(ulong Offset, long InfoAt)>((int)Math.Min(tensorCount, 65536));
        Span<long> dims = stackalloc long[GgmlMaxDims];
        for (ulong i = 0; i < tensorCount; i++)
        {
            long infoAt = c.Position;
            string name = c.String("tensor name");
            if (!names.Add(name))
            {
                throw GgufThrowHelper.DuplicateTensor(file, infoAt, name);
            }

            long dimsAt = c.Position;
            uint nDims = c.U32("tensor", name, " n_dims");
            if (nDims is 0 or > GgmlMaxDims)
            {
                throw GgufThrowHelper.TooManyDims(file, dimsAt, name, nDims);
            }

            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                long at = c.Position;
                ulong dim = c.U64("tensor", name, " dimension");
                if (dim > long.MaxValue || (dim != 0 && elements > long.MaxValue / (long)dim))
                {
                    throw GgufThrowHelper.BadDim(file, at, name, dim);
                }

                dims[d] = (long)dim;
                elements *= (long)dim;
            }

            long typeAt = c.Position;
            uint typeId = c.U32("tensor", name, " type");
            if (typeId > int.MaxValue || !DataType.TryFromGgml((int)typeId, out var dataType))
            {
                throw GgufThrowHelper.UnknownGgmlType(file, typeAt, name, typeId);
            }

            if (dims[0] % dataType.BlockElements != 0)
            {
                throw GgufThrowHelper.RowNotBlockMultiple(file, dimsAt, name, dataType.Name, dims[0], dataType.BlockElements);
            }

            long offsetAt = c.Position;
            ulong offset = c.U64("tensor", name, " offset");

            // ggml_nbytes of a contiguous tensor: rows × (ne[0] / block) × block bytes.
            long rowBlocks = dims[0] / dataType.BlockElements;
            long rows = dims[0] == 0 ? 0 : elements / dims[0];
            long bytes;
            try
            {
                bytes = checked(rows * rowBlocks * dataType.BlockBytes);
            }
            catch (OverflowException)
            {
                throw GgufThrowHelper.BadDim(file, dimsAt, name, (ulong)elements);
            }

            offsets.Add((offset, offsetAt));
            tensors.Add(new GgufTensor(name, [.. dims[..(int)nDims]], dataType, offset > long.MaxValue ? -1 : (long)offset, bytes));
        }

        long headerLength = c.Position;
        long alignment = 32;
        if (metadata.TryGetValue("general.alignment", out var alignValue))
        {
            if (!alignValue.TryGetInt64(out alignment) || alignment <= 0 || alignment > (1 << 30) || (alignment & (alignment - 1)) != 0)
            {
                throw GgufThrowHelper.BadAlignment(file, alignValue.ToString());
            }
        }

        long dataStart = headerLength % alignment == 0 ? headerLength : headerLength + alignment - headerLength % alignment;
        long fileLength = c.Length;

        // Tensor data must lie inside the file, aligned and without overlap (a vocab-only file has no tensors and
        // may end before the padded data start).
        var order = new int[tensors.Count];
        for (int i = 0; i < order.Length; i++)
        {
            var t = tensors[i];
            ulong offset = offsets[i].Offset;
            if (offset % (ulong)alignment != 0)
            {
                throw GgufThrowHelper.MisalignedOffset(file, offsets[i].InfoAt, t.Name, offset, alignment);
            }

            if (offset > (ulong)fileLength || (long)offset > fileLength - dataStart || t.Bytes > fileLength - dataStart - (long)offset)
            {
                throw GgufThrowHelper.DataOutsideFile(file, offsets[i].InfoAt, t.Name, offset, t.Bytes, dataStart, fileLength);
            }

            order[i] = i;
        }

        Array.Sort(order, (a, b) => tensors[a].Offset.CompareTo(tensors[b].Offset));
        for (int k = 1; k < order.Length; k++)
        {
            var prev = tensors[order[k - 1]];
            var cur = tensors[order[k]];
            if (cur.Offset < prev.Offset + prev.Bytes)
            {
                throw GgufThrowHelper.Overlap(file, cur.Name, prev.Name, (ulong)cur.Offset, prev.Offset + prev.Bytes);
            }
        }

        return new GgufFile
        {
            Path = file,
            Version = version,
            FileLength = fileLength,
            Metadata = metadata,
            Tensors = tensors,
            Alignment = alignment,
            HeaderLength = headerLength,
            DataStart = dataStart,
        };
    }

    private static int FixedSize(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    private static bool IsTokenizerArray(string key) =>
        key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal) &&
        (key.EndsWith(".tokens", StringComparison.Ordinal) || key.EndsWith(".scores", StringComparison.Ordinal) ||
         key.EndsWith(".token_type", StringComparison.Ordinal) || key.EndsWith(".merges", StringComparison.Ordinal));

    private static GgufValue ReadValue(Cursor c, string key, uint type, long typeAt, int depth, GgufReadOptions options)
    {
        switch ((GgufValueType)type)
        {
            case GgufValueType.UInt8: return new(GgufValueType.UInt8, c.Take(1, key)[0]);
            case GgufValueType.Int8: return new(GgufValueType.Int8, unchecked((sbyte)c.Take(1, key)[0]));
            case GgufValueType.UInt16: return new(GgufValueType.UInt16, BinaryPrimitives.ReadUInt16LittleEndian(c.Take(2, key)));
            case GgufValueType.Int16: return new(GgufValueType.Int16, BinaryPrimitives.ReadInt16LittleEndian(c.Take(2, key)));
            case GgufValueType.UInt32: return new(GgufValueType.UInt32, c.U32(key));
            case GgufValueType.Int32: return new(GgufValueType.Int32, BinaryPrimitives.ReadInt32LittleEndian(c.Take(4, key)));
            case GgufValueType.Float32: return new(GgufValueType.Float32, BinaryPrimitives.ReadSingleLittleEndian(c.Take(4, key)));
            case GgufValueType.Bool: return new(GgufValueType.Bool, c.Take(1, key)[0] != 0);
            case GgufValueType.String: return new(GgufValueType.String, c.String(key));
            case GgufValueType.UInt64: return new(GgufValueType.UInt64, c.U64(key));
            case GgufValueType.Int64: return new(GgufValueType.Int64, BinaryPrimitives.ReadInt64LittleEndian(c.Take(8, key)));
            case GgufValueType.Float64: return new(GgufValueType.Float64, BinaryPrimitives.ReadDoubleLittleEndian(c.Take(8, key)));
            case GgufValueType.Array: return ReadArray(c, key, depth, options);
            default: throw GgufThrowHelper.UnknownValueType(c.Name, typeAt, key, type);
        }
    }

    private static GgufValue ReadArray(Cursor c, string key, int depth, GgufReadOptions options)
    {
        if (depth >= MaxNesting)
        {
            throw GgufThrowHelper.NestingTooDeep(c.Name, c.Position, key, MaxNesting);
        }

        long elemTypeAt = c.Position;
        uint elemTypeRaw = c.U32("metadata", key, " element type");
        if (elemTypeRaw > (uint)GgufValueType.Float64)
        {
            throw GgufThrowHelper.UnknownValueType(c.Name, elemTypeAt, key, elemTypeRaw);
        }

        var elemType = (GgufValueType)elemTypeRaw;
        long countAt = c.Position;
        ulong count = c.U64("metadata", key, " count");
        int size = FixedSize(elemType);

        // The smallest encoding of one element: its fixed size, 8 for a string length, 12 for a nested array header.
        int minSize = size > 0 ? size : elemType == GgufValueType.String ? 8 : 12;
        long max = c.Remaining / minSize;
        if (count > (ulong)max)
        {
            throw GgufThrowHelper.CountTooLarge(c.Name, countAt, $"metadata '{key}' count", count, max);
        }

        long n = (long)count;
        // Materialised arrays stay well below 2 GiB of file bytes (a .NET array and span limit); larger ones are counted only.
        bool materialize = n <= options.MaxMaterializedArrayLength && n * minSize <= int.MaxValue / 2 &&
                           (options.MaterializeTokenizer || !IsTokenizerArray(key));
        if (size > 0)
        {
            if (!materialize)
            {
                c.Skip(n * size, key);
                return new GgufValue(elemType, n, null);
            }

            var bytes = c.Take((int)(n * size), key);
            Array items = elemType switch
            {
                GgufValueType.UInt8 => bytes.ToArray(),
                GgufValueType.Int8 => MemoryMarshal.Cast<byte, sbyte>(bytes).ToArray(),
                GgufValueType.UInt16 => Decode<ushort>(bytes, BinaryPrimitives.ReadUInt16LittleEndian),
                GgufValueType.Int16 => Decode<short>(bytes, BinaryPrimitives.ReadInt16LittleEndian),
                GgufValueType.UInt32 => Decode<uint>(bytes, BinaryPrimitives.ReadUInt32LittleEndian),
                GgufValueType.Int32 => Decode<int>(bytes, BinaryPrimitives.ReadInt32LittleEndian),
                GgufValueType.Float32 => Decode<float>(bytes, BinaryPrimitives.ReadSingleLittleEndian),
                GgufValueType.UInt64 => Decode<ulong>(bytes, BinaryPrimitives.ReadUInt64LittleEndian),
                GgufValueType.Int64 => Decode<long>(bytes, BinaryPrimitives.ReadInt64LittleEndian),
                GgufValueType.Float64 => Decode<double>(bytes, BinaryPrimitives.ReadDoubleLittleEndian),
                _ => DecodeBools(bytes),
            };
            return new GgufValue(elemType, n, items);
        }

        if (elemType == GgufValueType.String)
        {
            if (!materialize)
            {
                for (long i = 0; i < n; i++)
                {
                    c.SkipString(key);
                }

                return new GgufValue(elemType, n, null);
            }

            var strings = new string[n];
            for (long i = 0; i < n; i++)
            {
                strings[i] = c.String(key);
            }

            return new GgufValue(elemType, n, strings);
        }

        // Nested arrays: each element is (element type, count, items). They are read (and checked) either way.
        var nested = materialize ? new GgufValue[n] : null;
        for (long i = 0; i < n; i++)
        {
            var inner = ReadArray(c, key, depth + 1, options);
            if (nested is not null)
            {
                nested[i] = inner;
            }
        }

        return new GgufValue(elemType, n, nested);
    }

    private static T[] Decode<T>(ReadOnlySpan<byte> bytes, ReadFunc<T> read)
        where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        var result = new T[bytes.Length / size];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = read(bytes.Slice(i * size, size));
        }

        return result;
    }

    private static bool[] DecodeBools(ReadOnlySpan<byte> bytes)
    {
        var result = new bool[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            result[i] = bytes[i] != 0;
        }

        return result;
    }

    private delegate T ReadFunc<out T>(ReadOnlySpan<byte> span);

    /// <summary>A forward reader over a byte source with one pooled buffer, refilled as the header is walked.</summary>
    private sealed class Cursor(ISynchronousByteSource source, string name, long length, long available) : IDisposable
    {
        // Reads start small and double up to MaxRead: a GGUF header has no length field, so any read-ahead may run into
        // tensor data; doubling keeps the over-read below the bytes already consumed (+4 KiB) while big tokenizer
        // arrays still take few reads.
        private const int InitialBuffer = 4 * 1024;
        private const int MaxRead = 1024 * 1024;

        // The longest string decoded (chat templates run to ~100 KB); longer ones are refused rather than allocated.
        private const int MaxStringBytes = 64 * 1024 * 1024;

        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        private int _readSize = InitialBuffer;
        private long _bufferOffset;
        private int _bufferLength;

        public string Name => name;

        public long Length { get; } = length;

        public long Position { get; private set; }

        public long Remaining => Length - Position;

        public ReadOnlySpan<byte> Take(int count, string field) => Take(count, field, null, null);

        // The field is passed in parts (e.g. "tensor", name, " offset") and joined only for an error message, so the
        // hot path allocates nothing per field.
        public ReadOnlySpan<byte> Take(int count, string field, string? name, string? suffix)
        {
            if (count > Remaining)
            {
                throw GgufThrowHelper.Truncated(Name, Position, FieldName(field, name, suffix), count, Remaining);
            }

            long start = Position - _bufferOffset;
            if (start < 0 || start + count > _bufferLength)
            {
                Fill(count, field, name, suffix);
                start = 0;
            }

            Position += count;
            return _buffer.AsSpan((int)start, count);
        }

        public uint U32(string field, string? name = null, string? suffix = null) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field, name, suffix));

        public ulong U64(string field, string? name = null, string? suffix = null) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field, name, suffix));

        private static string FieldName(string field, string? name, string? suffix) =>
            name is null ? field + suffix : $"{field} '{name}'{suffix}";

        public void Skip(long count, string field)
        {
            if (count > Remaining)
            {
                throw GgufThrowHelper.Truncated(Name, Position, field, count, Remaining);
            }

            Position += count;
        }

        public string String(string field)
        {
            long at = Position;
            ulong length = U64(field, null, " length");
            if (length > (ulong)Remaining)
            {
                throw GgufThrowHelper.Truncated(Name, at, field, length > long.MaxValue ? long.MaxValue : (long)length, Remaining);
            }

            if (length > MaxStringBytes)
            {
                throw GgufThrowHelper.Error(Name, at, field + " length", $"at most {MaxStringBytes} bytes", length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            var bytes = Take((int)length, field);
            if (!Utf8.IsValid(bytes))
            {
                throw GgufThrowHelper.InvalidUtf8(Name, at, field);
            }

            return Encoding.UTF8.GetString(bytes);
        }

        public void SkipString(string field)
        {
            long at = Position;

            // Fast path: length and bytes already in the buffer.
            long start = Position - _bufferOffset;
            if (start >= 0 && start + 8 <= _bufferLength)
            {
                ulong len = BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan((int)start, 8));
                if (len <= (ulong)(_bufferLength - start - 8))
                {
                    Position += 8 + (long)len;
                    return;
                }
            }

            ulong length = U64(field, null, " length");
            if (length > (ulong)Remaining)
            {
                throw GgufThrowHelper.Truncated(Name, at, field, length > long.MaxValue ? long.MaxValue : (long)length, Remaining);
            }

            Position += (long)length;
        }

        private void Fill(int count, string field, string? name, string? suffix)
        {
            int size = Math.Max(_readSize, count);
            if (size > _buffer.Length)
            {
                // count is already bounded by the remaining bytes (and strings by MaxStringBytes).
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
                _buffer = ArrayPool<byte>.Shared.Rent(size);
            }

            _readSize = Math.Min(_readSize * 2, MaxRead);
            int want = (int)Math.Min(size, Remaining);
            if (Position + want > available)
            {
                // Only the asynchronous walk has a limit: it extends its prefix and starts again.
                throw new NeedBytesException(Position + want);
            }

            if (!source.TryReadExactly(Position, _buffer.AsSpan(0, want)))
            {
                throw GgufThrowHelper.Truncated(Name, Position, FieldName(field, name, suffix), count, 0);
            }

            _bufferOffset = Position;
            _bufferLength = want;
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
