using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace LlmSizer.Tests.Fixtures;

/// <summary>Writes safetensors files for tests: an 8-byte little-endian header length, a JSON header (padded with spaces
/// to a multiple of 8, as the reference writer does) and the tensor data, contiguous in the order added. Knobs make
/// broken files: explicit offsets, a wrong header length, a raw header text, extra or missing data bytes.</summary>
/// <remarks>Format: huggingface/safetensors README ("Format"). Self-contained (no LlmSizer types).</remarks>
internal sealed class SafetensorsWriter
{
    private readonly List<(string Name, string Dtype, long[] Shape, long Bytes, (long Begin, long End)? Offsets)> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);

    /// <summary>Bits per element of each safetensors dtype (F4: 4, F6: 6).</summary>
    public static int Bits(string dtype) => dtype switch
    {
        "C64" => 64,
        "F64" or "I64" or "U64" => 64,
        "F32" or "I32" or "U32" => 32,
        "F16" or "BF16" or "I16" or "U16" => 16,
        "F8_E4M3" or "F8_E5M2" or "F8_E8M0" or "I8" or "U8" or "BOOL" => 8,
        "F6_E2M3" or "F6_E3M2" => 6,
        "F4" => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>Bytes of a tensor: elements × bits / 8 (C64 is two F32: 8 bytes).</summary>
    public static long ByteSize(string dtype, long[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }

        return dtype == "C64" ? n * 8 : checked(n * Bits(dtype)) / 8;
    }

    /// <summary>When set, written as the header length instead of the real one.</summary>
    public ulong? HeaderLengthOverride { get; set; }

    /// <summary>When set, written as the header text instead of the generated JSON.</summary>
    public string? RawHeader { get; set; }

    /// <summary>Bytes added (positive) or removed (negative) at the end of the data section.</summary>
    public int DataLengthDelta { get; set; }

    /// <summary>The byte each data byte is set to.</summary>
    public byte Fill { get; set; }

    public int TensorCount => _tensors.Count;

    public SafetensorsWriter Metadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>Adds a tensor; shape outermost first.</summary>
    public SafetensorsWriter Add(string name, string dtype, params long[] shape) => Add(name, dtype, shape, null);

    /// <summary>Adds a tensor with explicit data offsets (for broken files).</summary>
    public SafetensorsWriter Add(string name, string dtype, long[] shape, (long Begin, long End)? offsets)
    {
        _tensors.Add((name, dtype, shape, dtype is "BOGUS" ? 4 : ByteSize(dtype, shape), offsets));
        return this;
    }

    /// <summary>The total data bytes of the tensors added.</summary>
    public long DataBytes => _tensors.Sum(t => t.Bytes);

    /// <summary>The JSON header (before padding).</summary>
    public string HeaderJson()
    {
        if (RawHeader is not null)
        {
            return RawHeader;
        }

        var sb = new StringBuilder("{");
        bool first = true;
        if (_metadata.Count > 0)
        {
            sb.Append("\"__metadata__\":{");
            sb.Append(string.Join(",", _metadata.Select(kv => $"{Quote(kv.Key)}:{Quote(kv.Value)}")));
            sb.Append('}');
            first = false;
        }

        long cursor = 0;
        foreach (var t in _tensors)
        {
            var (b, e) = t.Offsets ?? (cursor, cursor + t.Bytes);
            cursor += t.Bytes;
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            sb.Append(Quote(t.Name)).Append(":{\"dtype\":").Append(Quote(t.Dtype)).Append(",\"shape\":[")
              .Append(string.Join(",", t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))))
              .Append("],\"data_offsets\":[").Append(b.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(e.ToString(CultureInfo.InvariantCulture)).Append("]}");
        }

        return sb.Append('}').ToString();
    }

    private static string Quote(string s) => System.Text.Json.JsonSerializer.Serialize(s);

    private byte[] HeaderBytes()
    {
        var json = Encoding.UTF8.GetBytes(HeaderJson());
        int padded = RawHeader is null ? (json.Length + 7) / 8 * 8 : json.Length;
        var header = new byte[padded];
        header.AsSpan().Fill((byte)' ');
        json.CopyTo(header, 0);
        return header;
    }

    public byte[] ToArray()
    {
        using var ms = new MemoryStream();
        WriteTo(ms, writeData: true);
        return ms.ToArray();
    }

    /// <summary>Writes the file; with <paramref name="sparse"/> the data is not written but the file is extended to its length.</summary>
    public void WriteFile(string path, bool sparse = false)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        long end = WriteTo(fs, writeData: !sparse);
        if (sparse)
        {
            fs.SetLength(end);
        }
    }

    /// <summary>Writes to a stream and returns the full file length.</summary>
    public long WriteTo(Stream stream, bool writeData)
    {
        var header = HeaderBytes();
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, HeaderLengthOverride ?? (ulong)header.Length);
        stream.Write(len);
        stream.Write(header);
        long dataLength = DataBytes + DataLengthDelta;
        if (writeData)
        {
            var chunk = new byte[1 << 16];
            chunk.AsSpan().Fill(Fill);
            for (long done = 0; done < dataLength;)
            {
                int n = (int)Math.Min(chunk.Length, dataLength - done);
                stream.Write(chunk, 0, n);
                done += n;
            }
        }

        return 8 + header.Length + dataLength;
    }
}
