using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Safetensors;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Checkpoints;

public sealed class SafetensorsReaderTests
{
    private static SafetensorsHeader Read(byte[] bytes, string name = "test.safetensors") => SafetensorsReader.Read(MemoryByteSource.Create(bytes, name));

    private static ModelFileFormatException Fails(byte[] bytes, string name = "bad.safetensors") =>
        Assert.Throws<ModelFileFormatException>(() => Read(bytes, name));

    [Fact]
    public void Read_EveryDtype_ShapesOffsetsAndBytesByHand()
    {
        // Given one tensor of each dtype, 2×4 = 8 elements each (F4: 8 × 4 bits = 4 bytes; F6: 8 × 6 bits = 6 bytes).
        string[] dtypes = ["F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
                           "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL", "C64"];
        var w = new SafetensorsWriter().Metadata("format", "pt");
        foreach (var d in dtypes)
        {
            w.Add("t." + d, d, 2, 4);
        }

        // When
        var header = Read(w.ToArray());

        // Then: bytes per dtype ×8 elements: 64,32,16,16,8,8,8,4,6,6,64,32,16,8,64,32,16,8,8,64 → sum 480.
        Assert.Equal(20, header.Tensors.Length);
        Assert.Equal(480, header.DataBytes);
        Assert.Equal("pt", header.Metadata!["format"]);
        Assert.Equal(DataType.F4, header.Tensors.Single(t => t.Name == "t.F4").DataType);
        Assert.Equal(4, header.Tensors.Single(t => t.Name == "t.F4").Bytes.Bytes);
        Assert.All(header.Tensors, t => Assert.Equal([2L, 4L], t.Shape.ToArray()));
    }

    [Fact]
    public void Read_ScalarAndEmptyTensors_Accepted()
    {
        // A scalar (shape []) is one element; a [0, 5] tensor has no bytes.
        var header = Read(new SafetensorsWriter().Add("s", "F32").Add("e", "F16", 0, 5).Add("x", "U8", 3).ToArray());
        Assert.Equal(4 + 0 + 3, header.DataBytes);
    }

    [Fact]
    public void Read_HeaderLength2Pow63_ThrowsNamingFileAndField()
    {
        var w = new SafetensorsWriter { HeaderLengthOverride = 1UL << 63 }.Add("a", "F32", 2);
        var e = Fails(w.ToArray(), "huge.safetensors");
        Assert.Contains("huge.safetensors", e.Message);
        Assert.Contains("header length", e.Message);
        Assert.Contains("9,223,372,036,854,775,808", e.Message);
        Assert.Equal(0, e.ByteOffset);
    }

    [Fact]
    public void Read_HeaderLengthBeyondFile_Throws()
    {
        var bytes = new SafetensorsWriter().Add("a", "F32", 2).ToArray();
        Assert.Contains("header length", Fails(bytes[..20]).Message);
    }

    [Fact]
    public void Read_FileShorterThan8Bytes_Throws() => Assert.Contains("8-byte", Fails([1, 2, 3]).Message);

    [Fact]
    public void Read_InvalidUtf8_Throws()
    {
        var w = new SafetensorsWriter { RawHeader = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}" };
        var bytes = w.ToArray();
        int i = Array.IndexOf(bytes, (byte)'a');
        bytes[i] = 0xC3; // a lone lead byte
        Assert.Contains("UTF-8", Fails(bytes).Message);
    }

    [Fact]
    public void Read_DeepNesting_ThrowsInsteadOfRecursing()
    {
        var deep = new string('[', 5000) + new string(']', 5000);
        var w = new SafetensorsWriter { RawHeader = "{\"a\":{\"extra\":" + deep + "}}" };
        var e = Fails(w.ToArray());
        Assert.Contains("header: expected valid JSON (at most 4 levels deep)", e.Message);
    }

    [Fact]
    public void Read_OverlappingOffsets_ThrowsNamingTensor()
    {
        var w = new SafetensorsWriter().Add("a", "F32", [4], (0, 16)).Add("b", "F32", [4], (8, 24));
        w.DataLengthDelta = -8;
        var e = Fails(w.ToArray());
        Assert.Contains("'b' data_offsets", e.Message);
        Assert.Contains("contiguous", e.Message);
    }

    [Fact]
    public void Read_GapBetweenTensors_Throws()
    {
        var w = new SafetensorsWriter().Add("a", "F32", [4], (0, 16)).Add("b", "F32", [4], (20, 36));
        w.DataLengthDelta = 4;
        Assert.Contains("expected to begin at 16", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_SpanNotShapeTimesDtype_Throws()
    {
        var w = new SafetensorsWriter().Add("a", "F16", [4], (0, 16));
        w.DataLengthDelta = 8;
        var e = Fails(w.ToArray());
        Assert.Contains("'a' data_offsets", e.Message);
        Assert.Contains("8 bytes", e.Message);
    }

    [Fact]
    public void Read_DataShorterThanOffsets_Throws()
    {
        var w = new SafetensorsWriter().Add("a", "F32", 4);
        w.DataLengthDelta = -1;
        Assert.Contains("data ending at 16", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_UnknownDtype_ThrowsListingKnown()
    {
        var w = new SafetensorsWriter { RawHeader = "{\"a\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}" };
        var e = Fails(w.ToArray());
        Assert.Contains("'F12'", e.Message);
        Assert.Contains("BF16", e.Message);
    }

    [Fact]
    public void Read_DuplicateName_Throws()
    {
        var w = new SafetensorsWriter { RawHeader = "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}" };
        w.DataLengthDelta = 2;
        Assert.Contains("'a' twice", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_DuplicateNamesNotAdjacent_Throws()
    {
        var w = new SafetensorsWriter
        {
            RawHeader = "{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"y\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}," +
                        "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}",
        };
        w.DataLengthDelta = 3;
        Assert.Contains("'x' twice", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_TensorsListedOutOfOffsetOrder_AcceptedInHeaderOrder()
    {
        // b holds bytes 0..16 and a bytes 16..32: contiguous once sorted by offset, listed a first.
        var w = new SafetensorsWriter().Add("a", "F32", [4], (16, 32)).Add("b", "F32", [4], (0, 16));
        var header = Read(w.ToArray());
        Assert.Equal(32, header.DataBytes);
        Assert.Equal(["a", "b"], header.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Read_OutOfOrderWithGap_ThrowsNamingTensorAfterGap()
    {
        // Sorted by offset: b 0..16, then a at 20 (a gap of 4 bytes).
        var w = new SafetensorsWriter().Add("a", "F32", [4], (20, 36)).Add("b", "F32", [4], (0, 16));
        w.DataLengthDelta = 4;
        var e = Fails(w.ToArray());
        Assert.Contains("'a' data_offsets", e.Message);
        Assert.Contains("expected to begin at 16", e.Message);
    }

    [Fact]
    public void Read_EqualShapes_ShareOneShapeArrayAndValues()
    {
        var header = Read(new SafetensorsWriter().Add("a", "BF16", 8, 4).Add("b", "BF16", 8, 4).Add("c", "BF16", 4, 8).ToArray());
        Assert.Equal([8L, 4L], header.Tensors[1].Shape.ToArray());
        Assert.Equal([4L, 8L], header.Tensors[2].Shape.ToArray());
        Assert.True(header.Tensors[0].Shape == header.Tensors[1].Shape); // ImmutableArray == compares the array reference
    }

    [Fact]
    public void Read_NegativeOrFractionalShape_Throws()
    {
        var w = new SafetensorsWriter { RawHeader = "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}" };
        w.DataLengthDelta = 1;
        Assert.Contains("shape", Fails(w.ToArray()).Message);
    }

    [Fact]
    public void Read_Sparse10GBFile_ReadsOnlyTheHeader()
    {
        // Given a 10 GB file (two 5 GB F16 tensors, data never written) with a small header.
        var path = Path.Combine(Path.GetTempPath(), $"llmsizer-sparse-{Guid.NewGuid():N}.safetensors");
        var w = new SafetensorsWriter().Add("a", "F16", 50_000, 50_000).Add("b", "F16", 50_000, 50_000);
        try
        {
            w.WriteFile(path, sparse: true);
            using var file = new FileByteSource(path);
            var counting = new CountingByteSource(file);

            // When
            var header = SafetensorsReader.Read(counting);

            // Then: 10,000,000,000 data bytes, and only 8 + header length bytes read.
            Assert.Equal(10_000_000_000L, header.DataBytes);
            Assert.Equal(8 + header.HeaderLength, counting.BytesRead);
            Assert.Equal(8 + header.HeaderLength, counting.MaxEnd);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Read_TruncatedAtEveryOffset_OnlyModelFileFormatException()
    {
        var bytes = new SafetensorsWriter().Metadata("k", "v").Add("a", "F32", 2, 3).Add("b", "BF16", 5).Add("c", "F4", 4).ToArray();
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var ex = Record.Exception(() => Read(bytes[..cut]));
            Assert.IsType<ModelFileFormatException>(ex);
        }
    }

    [Fact]
    public void Read_SeededRandomMutations_OnlyModelFileFormatException()
    {
        var original = new SafetensorsWriter().Metadata("k", "v").Add("a", "F32", 2, 3).Add("b", "BF16", 5).Add("c", "F4", 4).ToArray();
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
}
