using System.Buffers.Binary;
using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Tests.Fixtures;
using G = LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

public sealed class GgufReaderTests
{
    private static GgufFile Read(byte[] bytes, string name = "test.gguf", GgufReadOptions? options = null) =>
        GgufReader.Read(MemoryByteSource.Create(bytes, name), options);

    private static ModelFileFormatException Fails(byte[] bytes, string name = "bad.gguf") =>
        Assert.Throws<ModelFileFormatException>(() => Read(bytes, name));

    private static G Small()
    {
        var w = new G();
        w.AddString("general.architecture", "llama").AddUInt32("llama.block_count", 1);
        w.AddTensor("a", G.GgmlType.F32, 8, 2);
        w.AddTensor("b", G.GgmlType.Q8_0, 64, 3);
        return w;
    }

    [Fact]
    public void Read_EveryValueType_RoundTrips()
    {
        // Given one key of each GGUF value type, a nested array and a string array.
        var w = new G();
        w.AddUInt8("u8", 200).AddInt8("i8", -5).AddUInt16("u16", 60000).AddInt16("i16", -300).AddUInt32("u32", 4_000_000_000)
         .AddInt32("i32", -70000).AddFloat32("f32", 1.5f).AddBool("b", true).AddString("s", "héllo").AddUInt64("u64", ulong.MaxValue)
         .AddInt64("i64", long.MinValue).AddFloat64("f64", 2.25)
         .AddArray("ai32", G.MetaType.Int32, new[] { 1, -2, 3 })
         .AddArray("ab", G.MetaType.Bool, new[] { true, false })
         .AddStrings("as", "x", "yz")
         .Add("nested", G.Value.Nested(G.Value.Array(G.MetaType.UInt8, new byte[] { 1, 2 }), G.Value.Strings("a")));

        // When
        var f = Read(w.ToArray());

        // Then
        Assert.Equal((byte)200, f.Get("u8")!.Scalar);
        Assert.Equal((sbyte)-5, f.Get("i8")!.Scalar);
        Assert.Equal((ushort)60000, f.Get("u16")!.Scalar);
        Assert.Equal((short)-300, f.Get("i16")!.Scalar);
        Assert.Equal(4_000_000_000u, f.Get("u32")!.Scalar);
        Assert.Equal(-70000, f.Get("i32")!.Scalar);
        Assert.Equal(1.5f, f.Get("f32")!.Scalar);
        Assert.Equal(true, f.Get("b")!.Scalar);
        Assert.Equal("héllo", f.Get("s")!.Scalar);
        Assert.Equal(ulong.MaxValue, f.Get("u64")!.Scalar);
        Assert.Equal(long.MinValue, f.Get("i64")!.Scalar);
        Assert.Equal(2.25, f.Get("f64")!.Scalar);
        Assert.Equal([1, -2, 3], (int[])f.Get("ai32")!.Items!);
        Assert.Equal([true, false], (bool[])f.Get("ab")!.Items!);
        Assert.Equal(["x", "yz"], (string[])f.Get("as")!.Items!);
        var nested = (GgufValue[])f.Get("nested")!.Items!;
        Assert.Equal(2, nested.Length);
        Assert.Equal(new byte[] { 1, 2 }, (byte[])nested[0].Items!);
        Assert.Equal(["a"], (string[])nested[1].Items!);
        Assert.Equal(3u, f.Version);
        Assert.Empty(f.Tensors);
    }

    [Fact]
    public void Read_TokenizerArrays_SkippedButCounted()
    {
        var w = G.TinyLlama(new G.LlamaOptions { Vocab = 300 });
        var f = Read(w.ToArray());
        var tokens = f.Get("tokenizer.ggml.tokens")!;
        Assert.Equal(300, tokens.Count);
        Assert.Null(tokens.Items);
        Assert.Null(f.Get("tokenizer.ggml.scores")!.Items);

        var all = Read(w.ToArray(), options: new GgufReadOptions { MaterializeTokenizer = true });
        Assert.Equal("<s>", ((string[])all.Get("tokenizer.ggml.tokens")!.Items!)[1]);
    }

    [Fact]
    public void Read_TinyLlama_TensorsSizesAndOffsetsByHand()
    {
        // Given the default tiny llama (d=64, V=320, L=2, kv width 32, ff=128) in F16, and 64-byte alignment.
        var w = G.TinyLlama(new G.LlamaOptions { Alignment = 64 });
        var bytes = w.ToArray();

        // When
        var f = Read(bytes);

        // Then: 21 tensors; token_embd [64, 320] F16 = 40,960 bytes; data section aligned to 64; offsets as written.
        Assert.Equal(21, f.Tensors.Count);
        Assert.Equal(64, f.Alignment);
        Assert.Equal(0, f.DataStart % 64);
        var embd = f.Tensors[0];
        Assert.Equal("token_embd.weight", embd.Name);
        Assert.Equal([64L, 320L], embd.Dims.ToArray());
        Assert.Equal(DataType.F16, embd.DataType);
        Assert.Equal(40960, embd.Bytes);
        Assert.Equal(w.ComputeLayout().TensorOffsets, f.Tensors.Select(t => t.Offset).ToList());
        Assert.Equal(bytes.Length, f.FileLength);
    }

    [Fact]
    public void Read_Q8_0Tensor_BytesAreBlocksTimes34()
    {
        // [64, 3] Q8_0: 3 rows × (64 / 32) blocks × 34 bytes = 204.
        var f = Read(Small().ToArray());
        Assert.Equal(204, f.Tensors.Single(t => t.Name == "b").Bytes);
        Assert.Equal(64, f.Tensors.Single(t => t.Name == "a").Bytes);
    }

    [Fact]
    public void Read_Version2_Accepted() => Assert.Equal(2u, Read(new G { Version = 2 }.AddString("k", "v").ToArray()).Version);

    [Fact]
    public void Read_Version1_UnsupportedVersionError()
    {
        var e = Fails(new G { Version = 1 }.ToArray(), "old.gguf");
        Assert.Contains("old.gguf: byte 4: version: expected 2 or 3; found 1 (GGUF v1 is not supported", e.Message);
    }

    [Fact]
    public void Read_BigEndian_SaysSo() => Assert.Contains("big-endian", Fails(new G { Version = 0x03000000 }.ToArray()).Message);

    [Fact]
    public void Read_BadMagic_Throws() => Assert.Contains("magic", Fails(new G { Magic = "GGML"u8.ToArray() }.ToArray()).Message);

    [Fact]
    public void Read_AbsurdTensorCount_ThrowsBeforeAllocating()
    {
        var e = Fails(new G { TensorCountOverride = ulong.MaxValue }.AddString("k", "v").ToArray());
        Assert.Contains("tensor_count", e.Message);
        Assert.Contains("18,446,744,073,709,551,615", e.Message);
    }

    [Fact]
    public void Read_AbsurdKvCount_Throws() => Assert.Contains("metadata_kv_count", Fails(new G { KvCountOverride = 1UL << 60 }.ToArray()).Message);

    [Fact]
    public void Read_StringLengthBeyondFile_Throws()
    {
        var bytes = new G().AddString("key", "value").ToArray();

        // The key's length field sits right after the 24-byte preamble.
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 1UL << 62);
        var e = Fails(bytes);
        Assert.Contains("byte 24: metadata key", e.Message);
    }

    [Fact]
    public void Read_ArrayCountBeyondFile_Throws()
    {
        var bytes = new G().AddArray("arr", G.MetaType.UInt64, new ulong[] { 1, 2 }).ToArray();
        int countAt = 24 + 8 + 3 + 4 + 4;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(countAt), 1UL << 40);
        var e = Fails(bytes);
        Assert.Contains("metadata 'arr' count", e.Message);
    }

    [Fact]
    public void Read_UnknownValueType_Throws()
    {
        var bytes = new G().AddUInt32("k", 1).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24 + 8 + 1), 99);
        Assert.Contains("metadata 'k' type: expected a GGUF value type 0..12; found 99", Fails(bytes).Message);
    }

    [Fact]
    public void Read_InvalidUtf8Key_Throws()
    {
        var bytes = new G().AddUInt32("k", 1).ToArray();
        bytes[24 + 8] = 0xFF;
        Assert.Contains("UTF-8", Fails(bytes).Message);
    }

    [Fact]
    public void Read_DeeplyNestedArrays_Throws()
    {
        var v = G.Value.Array(G.MetaType.UInt8, new byte[] { 1 });
        for (int i = 0; i < 6; i++)
        {
            v = G.Value.Nested(v);
        }

        Assert.Contains("nested at most 4 deep", Fails(new G().Add("deep", v).ToArray()).Message);
    }

    [Fact]
    public void Read_FiveDims_Throws()
    {
        var w = new G();
        w.AddTensor("t", G.GgmlType.F32, [1, 1, 1, 1, 1], null);
        Assert.Contains("tensor 't' n_dims: expected 1..4; found 5", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_UnknownGgmlType_Throws()
    {
        var w = new G();
        w.AddTensor("t", G.GgmlType.F32, [4], null, rawTypeId: 4);
        Assert.Contains("tensor 't' type: expected a known ggml type id (0..39); found 4", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_DimensionProductOverflows_Throws()
    {
        var w = new G();
        w.AddTensor("t", G.GgmlType.F32, [4], null);
        var bytes = w.ToArray();
        var e = Fails(WithDims(bytes, "t", [1UL << 40, 1UL << 40]));
        Assert.Contains("tensor 't' dimension", e.Message);
    }

    [Fact]
    public void Read_TensorDataBeyondFile_Throws()
    {
        var bytes = Small().ToArray();
        var e = Fails(bytes[..^40], "cut.gguf");
        Assert.Contains("cut.gguf", e.Message);
        Assert.Contains("tensor 'b' data", e.Message);
    }

    [Fact]
    public void Read_MisalignedOffset_Throws()
    {
        var w = new G();
        w.AddTensor("a", G.GgmlType.F32, [8], null, offsetOverride: 4);
        Assert.Contains("multiple of the alignment 32", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_OverlappingTensors_Throws()
    {
        var w = new G();
        w.AddTensor("a", G.GgmlType.F32, [16], null);
        w.AddTensor("b", G.GgmlType.F32, [16], null, offsetOverride: 32);
        Assert.Contains("overlapping", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_DuplicateTensorName_Throws()
    {
        var w = new G();
        w.AddTensor("a", G.GgmlType.F32, 8);
        w.AddTensor("a", G.GgmlType.F32, 8);
        Assert.Contains("'a' twice", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_AlignmentNotPowerOfTwo_Throws() => Assert.Contains("general.alignment", Fails(new G().SetAlignment(48).ToArray()).Message);

    [Fact]
    public void Read_Sparse10GBFile_ReadsOnlyTheHeader()
    {
        // Given a GGUF whose two F16 tensors of 50,000 × 50,000 (5 GB each) are never written (sparse file).
        var path = Path.Combine(Path.GetTempPath(), $"llmsizer-sparse-{Guid.NewGuid():N}.gguf");
        var w = new G();
        w.AddString("general.architecture", "llama");
        w.AddTensor("a", G.GgmlType.F16, 50_000, 50_000);
        w.AddTensor("b", G.GgmlType.F16, 50_000, 50_000);
        try
        {
            var layout = w.WriteFile(path, G.DataMode.Sparse);
            using var file = new FileByteSource(path);
            var counting = new CountingByteSource(file);

            // When
            var f = GgufReader.Read(counting);

            // Then: 10 GB of tensors counted from a read of the header only. GGUF has no header length, so the reader
            // reads ahead in doubling chunks from 4 KiB: at most 2 × header + 4 KiB, never the data.
            Assert.Equal(10_000_000_000L, f.Tensors.Sum(t => t.Bytes));
            Assert.True(counting.MaxEnd <= 2 * layout.DataStart + 4096, $"read up to {counting.MaxEnd}, data starts at {layout.DataStart}");
            Assert.True(counting.BytesRead <= 2 * layout.DataStart + 4096);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_TruncatedAtEveryOffset_OnlyModelFileFormatException()
    {
        var w = Small();
        w.AddArray("arr", G.MetaType.Float32, new[] { 1f, 2f });
        w.AddStrings("tokenizer.ggml.tokens", "a", "b", "c");
        var bytes = w.ToArray();

        // Up to the end of the last tensor's data (the padding after it may be cut without harm).
        var layout = w.ComputeLayout();
        long end = layout.DataStart + layout.TensorOffsets[^1] + 204;
        for (int cut = 0; cut < end; cut++)
        {
            var ex = Record.Exception(() => Read(bytes[..cut]));
            Assert.IsType<ModelFileFormatException>(ex);
        }
    }

    [Fact]
    public void Read_SeededRandomMutations_OnlyModelFileFormatException()
    {
        var w = Small();
        w.AddArray("arr", G.MetaType.Float32, new[] { 1f, 2f });
        w.AddStrings("tokenizer.ggml.tokens", "a", "b", "c");
        w.Add("nested", G.Value.Nested(G.Value.Strings("x")));
        var original = w.ToArray();
        var rng = new Random(20261128);
        for (int i = 0; i < 5000; i++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            var ex = Record.Exception(() => Read(bytes));
            Assert.True(ex is null or ModelFileFormatException, $"mutation {i}: {ex}");
        }
    }

    // Rewrites the dims of a one-dimensional tensor into several (the writer computes sizes, so huge dims are patched in).
    private static byte[] WithDims(byte[] bytes, string tensor, ulong[] dims)
    {
        var name = System.Text.Encoding.UTF8.GetBytes(tensor);
        int at = bytes.AsSpan().LastIndexOf(name) + name.Length; // n_dims follows the name
        var result = new List<byte>(bytes[..at]);
        var buf = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(buf, (uint)dims.Length);
        result.AddRange(buf[..4]);
        foreach (var d in dims)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buf, d);
            result.AddRange(buf);
        }

        result.AddRange(bytes[(at + 4 + 8)..]);
        return [.. result];
    }
}
