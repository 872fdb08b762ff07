using System.Buffers.Binary;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Checkpoints;

public sealed class GgufWriterTests
{
    [Fact]
    public void TinyLlama_DefaultOptions_LayoutIsAlignedAndSized()
    {
        // Given the default tiny llama: d=64, V=320, L=2, H=4, Hkv=2 (head 16, kv width 32), ff=128, F16 matrices.
        var writer = GgufWriter.TinyLlama();

        // When
        var bytes = writer.ToArray();
        var layout = writer.ComputeLayout();

        // Then: 3 + 9·L tensors; magic, version 3 and counts at the front; every offset a multiple of 32.
        Assert.Equal(3 + 9 * 2, writer.TensorCount);
        Assert.Equal("GGUF"u8.ToArray(), bytes[..4]);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal((ulong)writer.TensorCount, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(layout.TotalBytes, bytes.Length);
        Assert.Equal(0, layout.DataStart % 32);
        Assert.All(layout.TensorOffsets, o => Assert.Equal(0, o % 32));

        // Data bytes by hand: F16 matrices 2·(2·64·320 + 2·(64·64 + 2·64·32 + 64·64 + 3·64·128)) = 2·(40960 + 2·(4096+4096+4096+24576))
        // = 2·(40960 + 73728) = 229376; F32 norms 4·(64 + 2·2·64) = 1280 (each 256 or 256 bytes, already 32-aligned).
        Assert.Equal(229376 + 1280, layout.DataBytes);
    }

    [Fact]
    public void ByteSize_Q8_0_IsBlocksTimes34()
    {
        // 64 × 10 elements = 20 blocks of 32 → 20 × 34 bytes.
        Assert.Equal(680, GgufWriter.ByteSize(GgufWriter.GgmlType.Q8_0, [64, 10]));
    }

    [Fact]
    public void DefaultSource_ChunkedOrWhole_SameBytes()
    {
        var whole = new byte[10000];
        GgufWriter.DefaultSource(GgufWriter.GgmlType.F16, 7)(whole, 0);
        var chunked = new byte[10000];
        var source = GgufWriter.DefaultSource(GgufWriter.GgmlType.F16, 7);
        source(chunked.AsSpan(0, 3333), 0);
        source(chunked.AsSpan(3333), 3333);
        Assert.Equal(whole, chunked);
        for (int i = 0; i < whole.Length; i += 2)
        {
            Assert.True(Half.IsFinite(BinaryPrimitives.ReadHalfLittleEndian(whole.AsSpan(i))));
        }
    }

    [Fact]
    public void WriteFile_WhenDumpFolderSet_WritesTinyLlamas()
    {
        // Writes sample files for external checks (peer parsers, llama.cpp) when LLMSIZER_DUMP_GGUF names a folder.
        var dir = Environment.GetEnvironmentVariable("LLMSIZER_DUMP_GGUF");
        if (string.IsNullOrEmpty(dir))
        {
            return;
        }

        Directory.CreateDirectory(dir);
        GgufWriter.TinyLlama().WriteFile(Path.Combine(dir, "tiny-f16.gguf"));
        GgufWriter.TinyLlama(new() { WeightType = GgufWriter.GgmlType.Q8_0, OutputTensor = false }).WriteFile(Path.Combine(dir, "tiny-q8.gguf"));
        GgufWriter.TinyLlama(new() { WeightType = GgufWriter.GgmlType.F32, Alignment = 64 }).WriteFile(Path.Combine(dir, "tiny-f32.gguf"));
        var all = new GgufWriter();
        all.AddUInt8("u8", 1).AddInt8("i8", -1).AddUInt16("u16", 2).AddInt16("i16", -2).AddUInt32("u32", 3).AddInt32("i32", -3)
            .AddFloat32("f32", 1.5f).AddBool("b", true).AddString("s", "héllo").AddUInt64("u64", 4).AddInt64("i64", -4).AddFloat64("f64", 2.5)
            .AddArray("ai32", GgufWriter.MetaType.Int32, new[] { 1, 2, 3 })
            .Add("nested", GgufWriter.Value.Nested(GgufWriter.Value.Array(GgufWriter.MetaType.UInt8, new byte[] { 1, 2 }), GgufWriter.Value.Strings("a", "b")));
        all.AddTensor("t", GgufWriter.GgmlType.F32, 3, 2);
        all.WriteFile(Path.Combine(dir, "all-types.gguf"));
    }
}
