using LlmSizer.DataTypes;
using LlmSizer.Units;

namespace LlmSizer.Tests.Units;

public class UnitsTests
{
    [Theory]
    [InlineData(8_030_261_248L, "8.03 B")]
    [InlineData(124_439_808L, "124 M")]
    [InlineData(999_885_952L, "1.00 B")] // rounds up across the unit boundary, never "1000 M"
    [InlineData(60_506_624L, "60.5 M")]
    [InlineData(950L, "950")]
    [InlineData(1_500L, "1.50 K")]
    [InlineData(671_026_404_352L, "671 B")]
    public void ParameterCount_ShortForm_ThreeSignificantDigits(long value, string expected) =>
        Assert.Equal(expected, new ParameterCount(value).ToShortString());

    [Fact]
    public void ParameterCount_ExactForm_HasThousandsSeparators() =>
        Assert.Equal("8,030,261,248", new ParameterCount(8_030_261_248L).ToExactString());

    [Theory]
    [InlineData("24GiB", 24L * 1024 * 1024 * 1024)]
    [InlineData("24 GB", 24_000_000_000L)]
    [InlineData("80G", 80L * 1024 * 1024 * 1024)]
    [InlineData("512MiB", 512L * 1024 * 1024)]
    [InlineData("1073741824", 1_073_741_824L)]
    public void ByteSize_TryParse_AcceptsIecSiAndPlainBytes(string text, long bytes)
    {
        Assert.True(ByteSize.TryParse(text, out var size));
        Assert.Equal(bytes, size.Bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-5GiB")]
    [InlineData("12 parsecs")]
    [InlineData("1e30")]
    public void ByteSize_TryParse_RejectsNonsense(string text) => Assert.False(ByteSize.TryParse(text, out _));

    [Fact]
    public void ByteSize_Format_IecByDefaultSiOnRequest()
    {
        // 16,060,522,496 B = 14.957... GiB = 16.06 GB
        var size = new ByteSize(16_060_522_496L);
        Assert.Equal("14.96 GiB", size.ToString());
        Assert.Equal("16.06 GB", size.ToString("SI", null));
    }

    [Theory]
    [InlineData("Q4_0", 32, 18)]    // ggml-common.h: block_q4_0 = fp16 d + 16 bytes of nibbles
    [InlineData("Q8_0", 32, 34)]    // fp16 d + 32 int8
    [InlineData("Q4_K", 256, 144)]
    [InlineData("Q6_K", 256, 210)]
    [InlineData("MXFP4", 32, 17)]   // E8M0 scale + 16 bytes
    [InlineData("IQ4_XS", 256, 136)]
    [InlineData("TQ1_0", 256, 54)]
    public void DataType_GgufBlocks_MatchGgmlCommonLayouts(string name, int elements, int bytes)
    {
        var type = DataType.Parse(name);
        Assert.Equal(elements, type.BlockElements);
        Assert.Equal(bytes, type.BlockBytes);
    }

    [Fact]
    public void DataType_SizeOf_RoundsUpToWholeBlocks()
    {
        // 33 elements of Q4_0 need two 18-byte blocks; 4096 elements of packed F4 need 2048 bytes.
        Assert.Equal(36, DataType.Q4_0.SizeOf(33).Bytes);
        Assert.Equal(2048, DataType.F4.SizeOf(4096).Bytes);
    }

    [Fact]
    public void DataType_EveryKnownType_RoundTripsThroughParseAndIds()
    {
        foreach (var type in DataType.All)
        {
            Assert.True(DataType.TryParse(type.Name, out var byName) && ReferenceEquals(type, byName), type.Name);
            foreach (var alias in type.Aliases)
            {
                Assert.True(DataType.TryParse(alias, out var byAlias) && ReferenceEquals(type, byAlias), alias);
            }

            if (type.GgmlTypeId is int id)
            {
                Assert.True(DataType.TryFromGgml(id, out var byId) && ReferenceEquals(type, byId), type.Name);
            }
        }
    }

    [Fact]
    public void DataType_UnknownName_ErrorListsKnownNames()
    {
        var ex = Assert.Throws<LlmSizer.Errors.InvalidSettingException>(() => DataType.Parse("fp7", "dtype"));
        Assert.Contains("dtype", ex.Message);
        Assert.Contains("bf16", ex.Message);
    }
}
