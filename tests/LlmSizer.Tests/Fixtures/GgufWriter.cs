using System.Buffers.Binary;
using System.Text;

namespace LlmSizer.Tests.Fixtures;

/// <summary>Writes GGUF files (v2/v3 layout) for tests: metadata of every value type (nested arrays too), tensor infos,
/// alignment padding and tensor data from a byte source. It can also write deliberately broken files (wrong magic,
/// version, counts, offsets, n_dims, type ids) and header-only or sparse files.</summary>
/// <remarks>Self-contained on purpose (no LlmSizer types): it is linked into other test projects, e.g. one that makes
/// real llama.cpp load the files. Layout per the GGUF spec (ggml-org/ggml docs/gguf.md): magic "GGUF", u32 version,
/// u64 tensor count, u64 KV count, KV pairs, tensor infos, padding to <c>general.alignment</c> (default 32), tensor data;
/// each tensor's offset is relative to the data section and aligned, tensors are padded to the alignment.</remarks>
internal sealed class GgufWriter
{
    /// <summary>GGUF metadata value types (gguf_type).</summary>
    public enum MetaType : uint
    {
        UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
        String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
    }

    /// <summary>GGML tensor types (enum ggml_type in ggml/include/ggml.h) the writer knows sizes for.</summary>
    public enum GgmlType : uint
    {
        F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
        Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
        IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
        I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
    }

    /// <summary>Fills <paramref name="destination"/> with the tensor bytes that start at <paramref name="offsetInTensor"/>.</summary>
    public delegate void TensorDataSource(Span<byte> destination, long offsetInTensor);

    /// <summary>How <see cref="WriteFile"/> writes the tensor data section.</summary>
    public enum DataMode
    {
        /// <summary>Every tensor byte is written (from its source, or valid random values).</summary>
        Full,

        /// <summary>Header only; the file is then extended to its full length without writing (sparse where the file system allows).</summary>
        Sparse,

        /// <summary>Header (and padding to the data section) only; the file is shorter than the tensors need.</summary>
        HeaderOnly,
    }

    /// <summary>One metadata value: a scalar, a string, or an array (of scalars, strings or nested arrays).</summary>
    public sealed class Value
    {
        private Value(MetaType type, object payload, MetaType elementType = MetaType.UInt8)
        {
            Type = type;
            Payload = payload;
            ElementType = elementType;
        }

        public MetaType Type { get; }
        public MetaType ElementType { get; }
        public object Payload { get; }

        public static Value UInt8(byte v) => new(MetaType.UInt8, v);
        public static Value Int8(sbyte v) => new(MetaType.Int8, v);
        public static Value UInt16(ushort v) => new(MetaType.UInt16, v);
        public static Value Int16(short v) => new(MetaType.Int16, v);
        public static Value UInt32(uint v) => new(MetaType.UInt32, v);
        public static Value Int32(int v) => new(MetaType.Int32, v);
        public static Value Float32(float v) => new(MetaType.Float32, v);
        public static Value Bool(bool v) => new(MetaType.Bool, v);
        public static Value String(string v) => new(MetaType.String, v);
        public static Value UInt64(ulong v) => new(MetaType.UInt64, v);
        public static Value Int64(long v) => new(MetaType.Int64, v);
        public static Value Float64(double v) => new(MetaType.Float64, v);

        /// <summary>An array of a primitive element type; <paramref name="items"/> is a typed array (byte[], sbyte[], ushort[],
        /// short[], uint[], int[], float[], bool[], string[], ulong[], long[], double[]) matching <paramref name="elementType"/>.</summary>
        public static Value Array(MetaType elementType, System.Array items)
        {
            var expected = elementType switch
            {
                MetaType.UInt8 => typeof(byte[]), MetaType.Int8 => typeof(sbyte[]), MetaType.UInt16 => typeof(ushort[]),
                MetaType.Int16 => typeof(short[]), MetaType.UInt32 => typeof(uint[]), MetaType.Int32 => typeof(int[]),
                MetaType.Float32 => typeof(float[]), MetaType.Bool => typeof(bool[]), MetaType.String => typeof(string[]),
                MetaType.UInt64 => typeof(ulong[]), MetaType.Int64 => typeof(long[]), MetaType.Float64 => typeof(double[]),
                MetaType.Array => typeof(Value[]),
                _ => throw new ArgumentOutOfRangeException(nameof(elementType)),
            };
            if (items.GetType() != expected)
            {
                throw new ArgumentException($"Array of {elementType} needs {expected.Name}, got {items.GetType().Name}.", nameof(items));
            }

            return new Value(MetaType.Array, items, elementType);
        }

        /// <summary>An array of arrays (each item must be an array value).</summary>
        public static Value Nested(params Value[] arrays) => Array(MetaType.Array, arrays);

        /// <summary>An array of strings.</summary>
        public static Value Strings(params string[] items) => Array(MetaType.String, items);
    }

    private sealed record Kv(string Key, Value Value);

    private sealed record Tensor(string Name, ulong[] Dims, uint TypeId, long Bytes, TensorDataSource? Source, ulong? OffsetOverride, uint? NDimsOverride);

    /// <summary>Where the parts of a written file lie.</summary>
    /// <param name="HeaderEnd">The byte just past the last tensor info.</param>
    /// <param name="DataStart">The aligned start of the tensor data section.</param>
    /// <param name="DataBytes">The bytes of the data section (tensors with padding).</param>
    /// <param name="TotalBytes">The full file length when the data is written.</param>
    /// <param name="TensorOffsets">Each tensor's offset relative to <paramref name="DataStart"/>.</param>
    public sealed record Layout(long HeaderEnd, long DataStart, long DataBytes, long TotalBytes, IReadOnlyList<long> TensorOffsets);

    private readonly List<Kv> _kvs = [];
    private readonly List<Tensor> _tensors = [];

    /// <summary>The magic written first; the default is "GGUF" as bytes.</summary>
    public byte[] Magic { get; set; } = "GGUF"u8.ToArray();

    /// <summary>The version field (2 and 3 share the layout written here; other numbers only change the field).</summary>
    public uint Version { get; set; } = 3;

    /// <summary>When set, written as the tensor count instead of the real one.</summary>
    public ulong? TensorCountOverride { get; set; }

    /// <summary>When set, written as the KV count instead of the real one.</summary>
    public ulong? KvCountOverride { get; set; }

    /// <summary>The seed of the deterministic random tensor data.</summary>
    public int Seed { get; set; } = 1234;

    /// <summary>The alignment: the value of a <c>general.alignment</c> key added so far, else 32.</summary>
    public uint Alignment
    {
        get
        {
            foreach (var kv in _kvs)
            {
                if (kv.Key == "general.alignment" && kv.Value.Type == MetaType.UInt32 && (uint)kv.Value.Payload != 0)
                {
                    return (uint)kv.Value.Payload;
                }
            }

            return 32;
        }
    }

    /// <summary>The number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>The number of metadata pairs added.</summary>
    public int KvCount => _kvs.Count;

    public GgufWriter Add(string key, Value value)
    {
        _kvs.Add(new Kv(key, value));
        return this;
    }

    public GgufWriter AddUInt8(string key, byte v) => Add(key, Value.UInt8(v));
    public GgufWriter AddInt8(string key, sbyte v) => Add(key, Value.Int8(v));
    public GgufWriter AddUInt16(string key, ushort v) => Add(key, Value.UInt16(v));
    public GgufWriter AddInt16(string key, short v) => Add(key, Value.Int16(v));
    public GgufWriter AddUInt32(string key, uint v) => Add(key, Value.UInt32(v));
    public GgufWriter AddInt32(string key, int v) => Add(key, Value.Int32(v));
    public GgufWriter AddFloat32(string key, float v) => Add(key, Value.Float32(v));
    public GgufWriter AddBool(string key, bool v) => Add(key, Value.Bool(v));
    public GgufWriter AddString(string key, string v) => Add(key, Value.String(v));
    public GgufWriter AddUInt64(string key, ulong v) => Add(key, Value.UInt64(v));
    public GgufWriter AddInt64(string key, long v) => Add(key, Value.Int64(v));
    public GgufWriter AddFloat64(string key, double v) => Add(key, Value.Float64(v));
    public GgufWriter AddArray(string key, MetaType elementType, System.Array items) => Add(key, Value.Array(elementType, items));
    public GgufWriter AddStrings(string key, params string[] items) => Add(key, Value.Strings(items));

    /// <summary>Sets <c>general.alignment</c> (a UINT32 key).</summary>
    public GgufWriter SetAlignment(uint alignment) => AddUInt32("general.alignment", alignment);

    /// <summary>Adds a tensor.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="type">The ggml type.</param>
    /// <param name="dims">The dimensions in GGUF order: innermost (row length) first, e.g. [n_embd, n_vocab] for token_embd.</param>
    public GgufWriter AddTensor(string name, GgmlType type, params ulong[] dims) => AddTensor(name, type, dims, null);

    /// <summary>Adds a tensor with a data source and optional broken-file overrides.</summary>
    /// <param name="name">The tensor name.</param>
    /// <param name="type">The ggml type (the id written unless <paramref name="rawTypeId"/> is set).</param>
    /// <param name="dims">The dimensions, innermost first.</param>
    /// <param name="source">The bytes; null writes valid deterministic random values for F32/F16/BF16/Q8_0/Q4_0, random bytes for integers, zeros otherwise.</param>
    /// <param name="offsetOverride">Written instead of the computed offset.</param>
    /// <param name="rawTypeId">Written instead of the type id (e.g. an unknown id); the data size still follows <paramref name="type"/>.</param>
    /// <param name="nDimsOverride">Written instead of dims.Length (the dims written are still <paramref name="dims"/>).</param>
    public GgufWriter AddTensor(string name, GgmlType type, ulong[] dims, TensorDataSource? source,
        ulong? offsetOverride = null, uint? rawTypeId = null, uint? nDimsOverride = null)
    {
        _tensors.Add(new Tensor(name, dims, rawTypeId ?? (uint)type, ByteSize(type, dims), source, offsetOverride, nDimsOverride));
        return this;
    }

    /// <summary>(elements per block, bytes per block) per ggml type, from ggml/src/ggml-common.h.</summary>
    public static (int BlockElements, int BlockBytes) BlockLayout(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4), GgmlType.F16 => (1, 2), GgmlType.BF16 => (1, 2), GgmlType.F64 => (1, 8),
        GgmlType.I8 => (1, 1), GgmlType.I16 => (1, 2), GgmlType.I32 => (1, 4), GgmlType.I64 => (1, 8),
        GgmlType.Q4_0 => (32, 18), GgmlType.Q4_1 => (32, 20), GgmlType.Q5_0 => (32, 22), GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34), GgmlType.Q8_1 => (32, 36), GgmlType.Q2_K => (256, 84), GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144), GgmlType.Q5_K => (256, 176), GgmlType.Q6_K => (256, 210), GgmlType.Q8_K => (256, 292),
        GgmlType.IQ2_XXS => (256, 66), GgmlType.IQ2_XS => (256, 74), GgmlType.IQ3_XXS => (256, 98), GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ4_NL => (32, 18), GgmlType.IQ3_S => (256, 110), GgmlType.IQ2_S => (256, 82), GgmlType.IQ4_XS => (256, 136),
        GgmlType.IQ1_M => (256, 56), GgmlType.TQ1_0 => (256, 54), GgmlType.TQ2_0 => (256, 66), GgmlType.MXFP4 => (32, 17),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown ggml type"),
    };

    /// <summary>The exact bytes of a tensor (ggml_nbytes for a contiguous tensor: rows × row size).</summary>
    public static long ByteSize(GgmlType type, ReadOnlySpan<ulong> dims)
    {
        var (be, bb) = BlockLayout(type);
        if (dims.Length == 0)
        {
            return bb;
        }

        long rows = 1;
        for (int i = 1; i < dims.Length; i++)
        {
            rows = checked(rows * (long)dims[i]);
        }

        long row = checked((long)dims[0]);
        if (row % be != 0)
        {
            throw new ArgumentException($"Row length {row} is not a multiple of the {type} block ({be}).", nameof(dims));
        }

        return checked(rows * (row / be) * bb);
    }

    /// <summary>Computes the layout without writing.</summary>
    public Layout ComputeLayout()
    {
        long header = 4 + 4 + 8 + 8;
        foreach (var kv in _kvs)
        {
            header = checked(header + StringSize(kv.Key) + 4 + ValueSize(kv.Value));
        }

        foreach (var t in _tensors)
        {
            header = checked(header + StringSize(t.Name) + 4 + 8L * t.Dims.Length + 4 + 8);
        }

        long align = Alignment;
        long dataStart = Pad(header, align);
        var offsets = new List<long>(_tensors.Count);
        long cursor = 0;
        foreach (var t in _tensors)
        {
            offsets.Add(cursor);
            cursor = checked(cursor + Pad(t.Bytes, align));
        }

        return new Layout(header, dataStart, cursor, checked(dataStart + cursor), offsets);
    }

    /// <summary>Writes the whole file (header, padding, data) to memory.</summary>
    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms);
        return ms.ToArray();
    }

    /// <summary>Writes the file to a path.</summary>
    public Layout WriteFile(string path, DataMode mode = DataMode.Full)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var layout = WriteTo(fs, mode == DataMode.Full);
        if (mode == DataMode.Sparse)
        {
            fs.SetLength(layout.TotalBytes);
        }

        return layout;
    }

    /// <summary>Writes the file to a stream.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="writeData">False writes only the header and the padding up to the data section.</param>
    public Layout WriteTo(Stream stream, bool writeData = true)
    {
        var layout = ComputeLayout();
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write(TensorCountOverride ?? (ulong)_tensors.Count);
        w.Write(KvCountOverride ?? (ulong)_kvs.Count);
        foreach (var kv in _kvs)
        {
            WriteString(w, kv.Key);
            w.Write((uint)kv.Value.Type);
            WriteValue(w, kv.Value);
        }

        for (int i = 0; i < _tensors.Count; i++)
        {
            var t = _tensors[i];
            WriteString(w, t.Name);
            w.Write(t.NDimsOverride ?? (uint)t.Dims.Length);
            foreach (var d in t.Dims)
            {
                w.Write(d);
            }

            w.Write(t.TypeId);
            w.Write(t.OffsetOverride ?? (ulong)layout.TensorOffsets[i]);
        }

        WriteZeros(w, layout.DataStart - layout.HeaderEnd);
        if (writeData)
        {
            var buffer = new byte[1 << 16];
            for (int i = 0; i < _tensors.Count; i++)
            {
                var t = _tensors[i];
                var source = t.Source ?? DefaultSource((GgmlType)t.TypeId, Seed + i);
                for (long done = 0; done < t.Bytes;)
                {
                    int n = (int)Math.Min(buffer.Length, t.Bytes - done);
                    source(buffer.AsSpan(0, n), done);
                    w.Write(buffer, 0, n);
                    done += n;
                }

                WriteZeros(w, Pad(t.Bytes, Alignment) - t.Bytes);
            }
        }

        w.Flush();
        return layout;
    }

    /// <summary>A source that repeats <paramref name="pattern"/>.</summary>
    public static TensorDataSource Pattern(params byte[] pattern) => (dest, offset) =>
    {
        for (int i = 0; i < dest.Length; i++)
        {
            dest[i] = pattern[(int)((offset + i) % pattern.Length)];
        }
    };

    /// <summary>A source of valid values of the given type: finite small floats for F32/F16/BF16, valid scales for
    /// Q8_0/Q4_0 blocks, random bytes for integer types, zeros for other block types. Deterministic per seed.</summary>
    public static TensorDataSource DefaultSource(GgmlType type, int seed)
    {
        // Values are generated in pages of units (elements or blocks), each page seeded from its index, so chunked
        // writing gives the same bytes whatever the chunk size and the file is the same on every run.
        const int PageUnits = 4096;
        int bb = IsKnown(type) ? BlockLayout(type).BlockBytes : 1;
        var page = new byte[PageUnits * bb];
        long cachedPage = -1;
        return (dest, offset) =>
        {
            int written = 0;
            while (written < dest.Length)
            {
                long pos = offset + written;
                long pageIndex = pos / page.Length;
                if (pageIndex != cachedPage)
                {
                    var rng = new Random(unchecked((int)(seed * 1_000_003L + pageIndex)));
                    for (int u = 0; u < PageUnits; u++)
                    {
                        FillUnit(type, page.AsSpan(u * bb, bb), rng);
                    }

                    cachedPage = pageIndex;
                }

                int from = (int)(pos % page.Length);
                int n = Math.Min(page.Length - from, dest.Length - written);
                page.AsSpan(from, n).CopyTo(dest[written..]);
                written += n;
            }
        };
    }

    private static bool IsKnown(GgmlType type)
    {
        try
        {
            _ = BlockLayout(type);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static void FillUnit(GgmlType type, Span<byte> unit, Random rng)
    {
        float Small() => (float)(rng.NextDouble() - 0.5) * 0.2f;
        switch (type)
        {
            case GgmlType.F32:
                BinaryPrimitives.WriteSingleLittleEndian(unit, Small());
                break;
            case GgmlType.F16:
                BinaryPrimitives.WriteHalfLittleEndian(unit, (Half)Small());
                break;
            case GgmlType.BF16:
                BinaryPrimitives.WriteUInt16LittleEndian(unit, (ushort)(BitConverter.SingleToUInt32Bits(Small()) >> 16));
                break;
            case GgmlType.F64:
                BinaryPrimitives.WriteDoubleLittleEndian(unit, Small());
                break;
            case GgmlType.Q8_0:
            case GgmlType.Q4_0:
                // Block: fp16 scale d, then quants (int8 × 32 for Q8_0; 16 bytes of nibbles for Q4_0).
                BinaryPrimitives.WriteHalfLittleEndian(unit, (Half)(0.001f + (float)rng.NextDouble() * 0.01f));
                rng.NextBytes(unit[2..]);
                break;
            case GgmlType.I8:
            case GgmlType.I16:
            case GgmlType.I32:
            case GgmlType.I64:
                rng.NextBytes(unit);
                break;
            default:
                unit.Clear();
                break;
        }
    }

    /// <summary>Options of <see cref="TinyLlama"/>.</summary>
    public sealed record LlamaOptions
    {
        public string Name { get; init; } = "tiny-llama";
        public int Layers { get; init; } = 2;
        public int Embedding { get; init; } = 64;
        public int Heads { get; init; } = 4;
        public int KvHeads { get; init; } = 2;
        public int FeedForward { get; init; } = 128;

        /// <summary>Vocabulary size, at least 259 (3 special tokens and 256 byte tokens).</summary>
        public int Vocab { get; init; } = 320;
        public int Context { get; init; } = 256;

        /// <summary>The type of the 2-D weight matrices (F32, F16 or Q8_0; Q8_0 needs row lengths that are multiples of 32). Norms are F32.</summary>
        public GgmlType WeightType { get; init; } = GgmlType.F16;

        /// <summary>Write a separate output.weight (false: tied to token_embd, as llama.cpp allows).</summary>
        public bool OutputTensor { get; init; } = true;

        public float RmsEpsilon { get; init; } = 1e-5f;
        public float RopeFreqBase { get; init; } = 10000f;
        public uint? Alignment { get; init; }
    }

    /// <summary>A loadable llama-architecture model: all general.* and llama.* hyperparameters, an SPM tokenizer
    /// ("llama": &lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens &lt;0x00&gt;…&lt;0xFF&gt;, then plain tokens) and every tensor
    /// llama.cpp's llama loader requires, in llama.cpp's names and GGUF dimension order.</summary>
    /// <remarks>Parameters: V·d (token_embd) + d (output_norm) + [V·d output] + L·(2d + d·d + 2·d·(d/H·Hkv) + 3·d·ff).</remarks>
    public static GgufWriter TinyLlama(LlamaOptions? options = null)
    {
        var o = options ?? new LlamaOptions();
        if (o.Vocab < 259 || o.Embedding % o.Heads != 0 || o.Heads % o.KvHeads != 0)
        {
            throw new ArgumentException("Vocab must be >= 259 and heads must divide embedding and be a multiple of kv heads.", nameof(options));
        }

        int headDim = o.Embedding / o.Heads;
        var w = new GgufWriter();
        w.AddString("general.architecture", "llama");
        w.AddString("general.name", o.Name);
        if (o.Alignment is { } a)
        {
            w.SetAlignment(a);
        }

        // llama_ftype: 0 ALL_F32, 1 MOSTLY_F16, 7 MOSTLY_Q8_0, 32 MOSTLY_BF16.
        w.AddUInt32("general.file_type", o.WeightType switch
        {
            GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q8_0 => 7u, GgmlType.BF16 => 32u, GgmlType.Q4_0 => 2u, _ => 1u,
        });
        w.AddUInt32("general.quantization_version", 2);
        w.AddUInt32("llama.context_length", (uint)o.Context);
        w.AddUInt32("llama.embedding_length", (uint)o.Embedding);
        w.AddUInt32("llama.block_count", (uint)o.Layers);
        w.AddUInt32("llama.feed_forward_length", (uint)o.FeedForward);
        w.AddUInt32("llama.rope.dimension_count", (uint)headDim);
        w.AddFloat32("llama.rope.freq_base", o.RopeFreqBase);
        w.AddUInt32("llama.attention.head_count", (uint)o.Heads);
        w.AddUInt32("llama.attention.head_count_kv", (uint)o.KvHeads);
        w.AddFloat32("llama.attention.layer_norm_rms_epsilon", o.RmsEpsilon);
        w.AddUInt32("llama.vocab_size", (uint)o.Vocab);

        var tokens = new string[o.Vocab];
        var scores = new float[o.Vocab];
        var types = new int[o.Vocab];
        tokens[0] = "<unk>";
        types[0] = 2; // UNKNOWN
        tokens[1] = "<s>";
        types[1] = 3; // CONTROL
        tokens[2] = "</s>";
        types[2] = 3;
        for (int b = 0; b < 256; b++)
        {
            tokens[3 + b] = $"<0x{b:X2}>";
            types[3 + b] = 6; // BYTE
        }

        for (int i = 259; i < o.Vocab; i++)
        {
            tokens[i] = "\u2581t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            types[i] = 1; // NORMAL
            scores[i] = -i;
        }

        w.AddString("tokenizer.ggml.model", "llama");
        w.AddArray("tokenizer.ggml.tokens", MetaType.String, tokens);
        w.AddArray("tokenizer.ggml.scores", MetaType.Float32, scores);
        w.AddArray("tokenizer.ggml.token_type", MetaType.Int32, types);
        w.AddUInt32("tokenizer.ggml.unknown_token_id", 0);
        w.AddUInt32("tokenizer.ggml.bos_token_id", 1);
        w.AddUInt32("tokenizer.ggml.eos_token_id", 2);
        w.AddBool("tokenizer.ggml.add_bos_token", true);
        w.AddBool("tokenizer.ggml.add_eos_token", false);

        ulong d = (ulong)o.Embedding, v = (ulong)o.Vocab, ff = (ulong)o.FeedForward, kv = (ulong)(headDim * o.KvHeads);
        var wt = o.WeightType;
        w.AddTensor("token_embd.weight", wt, d, v);
        w.AddTensor("output_norm.weight", GgmlType.F32, d);
        if (o.OutputTensor)
        {
            w.AddTensor("output.weight", wt, d, v);
        }

        for (int l = 0; l < o.Layers; l++)
        {
            string p = "blk." + l.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d);
            w.AddTensor(p + "attn_q.weight", wt, d, d);
            w.AddTensor(p + "attn_k.weight", wt, d, kv);
            w.AddTensor(p + "attn_v.weight", wt, d, kv);
            w.AddTensor(p + "attn_output.weight", wt, d, d);
            w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, d);
            w.AddTensor(p + "ffn_gate.weight", wt, d, ff);
            w.AddTensor(p + "ffn_up.weight", wt, d, ff);
            w.AddTensor(p + "ffn_down.weight", wt, ff, d);
        }

        return w;
    }

    private static long Pad(long n, long align) => n % align == 0 ? n : checked(n + align - n % align);

    private static long StringSize(string s) => 8 + Encoding.UTF8.GetByteCount(s);

    private static long ValueSize(Value v) => v.Type switch
    {
        MetaType.UInt8 or MetaType.Int8 or MetaType.Bool => 1,
        MetaType.UInt16 or MetaType.Int16 => 2,
        MetaType.UInt32 or MetaType.Int32 or MetaType.Float32 => 4,
        MetaType.UInt64 or MetaType.Int64 or MetaType.Float64 => 8,
        MetaType.String => StringSize((string)v.Payload),
        MetaType.Array => 4 + 8 + ArrayPayloadSize(v),
        _ => throw new InvalidOperationException(),
    };

    private static long ArrayPayloadSize(Value v)
    {
        var items = (System.Array)v.Payload;
        switch (v.ElementType)
        {
            case MetaType.String:
                long s = 0;
                foreach (var str in (string[])items)
                {
                    s += StringSize(str);
                }

                return s;
            case MetaType.Array:
                long a = 0;
                foreach (var inner in (Value[])items)
                {
                    a += ValueSize(inner);
                }

                return a;
            default:
                return (long)items.Length * ValueSize(ScalarOfType(v.ElementType));
        }
    }

    private static Value ScalarOfType(MetaType t) => t switch
    {
        MetaType.UInt8 => Value.UInt8(0), MetaType.Int8 => Value.Int8(0), MetaType.UInt16 => Value.UInt16(0),
        MetaType.Int16 => Value.Int16(0), MetaType.UInt32 => Value.UInt32(0), MetaType.Int32 => Value.Int32(0),
        MetaType.Float32 => Value.Float32(0), MetaType.Bool => Value.Bool(false), MetaType.UInt64 => Value.UInt64(0),
        MetaType.Int64 => Value.Int64(0), MetaType.Float64 => Value.Float64(0),
        _ => throw new InvalidOperationException(),
    };

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void WriteZeros(BinaryWriter w, long count)
    {
        for (long i = 0; i < count; i++)
        {
            w.Write((byte)0);
        }
    }

    private static void WriteValue(BinaryWriter w, Value v)
    {
        switch (v.Type)
        {
            case MetaType.UInt8: w.Write((byte)v.Payload); break;
            case MetaType.Int8: w.Write((sbyte)v.Payload); break;
            case MetaType.UInt16: w.Write((ushort)v.Payload); break;
            case MetaType.Int16: w.Write((short)v.Payload); break;
            case MetaType.UInt32: w.Write((uint)v.Payload); break;
            case MetaType.Int32: w.Write((int)v.Payload); break;
            case MetaType.Float32: w.Write((float)v.Payload); break;
            case MetaType.Bool: w.Write((bool)v.Payload ? (byte)1 : (byte)0); break;
            case MetaType.String: WriteString(w, (string)v.Payload); break;
            case MetaType.UInt64: w.Write((ulong)v.Payload); break;
            case MetaType.Int64: w.Write((long)v.Payload); break;
            case MetaType.Float64: w.Write((double)v.Payload); break;
            case MetaType.Array:
                var items = (System.Array)v.Payload;
                w.Write((uint)v.ElementType);
                w.Write((ulong)items.Length);
                switch (items)
                {
                    case byte[] a: w.Write(a); break;
                    case sbyte[] a: foreach (var x in a) { w.Write(x); } break;
                    case ushort[] a: foreach (var x in a) { w.Write(x); } break;
                    case short[] a: foreach (var x in a) { w.Write(x); } break;
                    case uint[] a: foreach (var x in a) { w.Write(x); } break;
                    case int[] a: foreach (var x in a) { w.Write(x); } break;
                    case float[] a: foreach (var x in a) { w.Write(x); } break;
                    case bool[] a: foreach (var x in a) { w.Write(x ? (byte)1 : (byte)0); } break;
                    case string[] a: foreach (var x in a) { WriteString(w, x); } break;
                    case ulong[] a: foreach (var x in a) { w.Write(x); } break;
                    case long[] a: foreach (var x in a) { w.Write(x); } break;
                    case double[] a: foreach (var x in a) { w.Write(x); } break;
                    case Value[] a:
                        foreach (var x in a)
                        {
                            if (x.Type != MetaType.Array)
                            {
                                throw new InvalidOperationException("A nested array item must itself be an array.");
                            }

                            WriteValue(w, x);
                        }

                        break;
                }

                break;
        }
    }
}
