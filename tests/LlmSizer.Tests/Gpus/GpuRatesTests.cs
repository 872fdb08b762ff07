using LlmSizer.Errors;
using LlmSizer.Gpus;
using LlmSizer.Units;

namespace LlmSizer.Tests.Gpus;

/// <summary>User-typed bandwidths and compute rates, and custom devices.</summary>
public class GpuRatesTests
{
    [Theory]
    [InlineData("960GB/s", 960)]
    [InlineData("960 GB/s", 960)]
    [InlineData("960gb/s", 960)]
    [InlineData("960", 960)]
    [InlineData("3.35TB/s", 3350)]
    [InlineData("3.35 TB/s", 3350)]
    [InlineData("900GBps", 900)]
    [InlineData("800000MB/s", 800)]
    [InlineData("1TiB/s", 1099.511627776)]
    [InlineData(" 8TB/s ", 8000)]
    public void TryParseBandwidth_Valid_ReturnsGBps(string text, double expected)
    {
        Assert.True(GpuRates.TryParseBandwidth(text, out var value), text);
        Assert.Equal(expected, value, 6);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("fast")]
    [InlineData("-960GB/s")]
    [InlineData("0GB/s")]
    [InlineData("960Gb/s")]     // bits
    [InlineData("10Tbps")]      // bits
    [InlineData("3,35TB/s")]    // decimal comma is refused, not misread
    [InlineData("960 furlongs")]
    [InlineData("1e9GB/s")]
    [InlineData("99999999999TB/s")]
    [InlineData("1.2.3GB/s")]
    public void TryParseBandwidth_Invalid_ReturnsFalse(string? text)
    {
        Assert.False(GpuRates.TryParseBandwidth(text, out _));
    }

    [Theory]
    [InlineData("150", 150)]
    [InlineData("150TFLOPS", 150)]
    [InlineData("150 TFLOP/s", 150)]
    [InlineData("989.5T", 989.5)]
    [InlineData("1.5PFLOPS", 1500)]
    [InlineData("2.25 PF", 2250)]
    [InlineData("500000GFLOPS", 500)]
    public void TryParseTflops_Valid_ReturnsTflops(string text, double expected)
    {
        Assert.True(GpuRates.TryParseTflops(text, out var value), text);
        Assert.Equal(expected, value, 6);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("0")]
    [InlineData("150 TOPS/W")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void TryParseTflops_Invalid_ReturnsFalse(string? text)
    {
        Assert.False(GpuRates.TryParseTflops(text, out _));
    }

    [Fact]
    public void ParseBandwidth_Invalid_ThrowsNamingTheLogicalSetting()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => GpuRates.ParseBandwidth("fast"));
        Assert.Equal("gpu_bandwidth", ex.Setting);
        Assert.Equal("gpu_bandwidth: expected a memory bandwidth such as 960GB/s or 3.35TB/s; found 'fast'.", ex.Message);
        Assert.DoesNotContain("--", ex.Message);
    }

    [Fact]
    public void ParseTflops_Invalid_ThrowsNamingTheLogicalSetting()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => GpuRates.ParseTflops("-3"));
        Assert.Equal("gpu_tflops", ex.Setting);
        Assert.StartsWith("gpu_tflops: expected", ex.Message);
        Assert.DoesNotContain("--", ex.Message);
    }

    [Fact]
    public void ParseCustom_AllValues_BuildsTheDevice()
    {
        // When
        var device = GpuDevice.ParseCustom("48GiB", "960GB/s", "150");

        // Then
        Assert.Equal(48L * ByteSize.GiB, device.UsableMemory.Bytes);
        Assert.Equal(960, device.BandwidthGBps);
        Assert.Equal(150, device.Tflops);
        Assert.Null(device.Spec);
        Assert.Equal("custom", device.Name);
    }

    [Fact]
    public void ParseCustom_MemoryOnly_LeavesRatesUnknown()
    {
        var device = GpuDevice.ParseCustom("80GB");
        Assert.Equal(80_000_000_000, device.UsableMemory.Bytes);
        Assert.Null(device.BandwidthGBps);
        Assert.Null(device.Tflops);
    }

    [Theory]
    [InlineData(null, null, null, "gpu_memory")]
    [InlineData("0", null, null, "gpu_memory")]
    [InlineData("lots", null, null, "gpu_memory")]
    [InlineData("48GiB", "quick", null, "gpu_bandwidth")]
    [InlineData("48GiB", "960GB/s", "x", "gpu_tflops")]
    public void ParseCustom_BadValue_ThrowsNamingTheSetting(string? memory, string? bandwidth, string? tflops, string setting)
    {
        var ex = Assert.Throws<InvalidSettingException>(() => GpuDevice.ParseCustom(memory, bandwidth, tflops));
        Assert.Equal(setting, ex.Setting);
        Assert.StartsWith(setting + ": expected", ex.Message);
        Assert.DoesNotContain("--", ex.Message);
    }

    [Fact]
    public void Custom_OutOfRangeRates_Throw()
    {
        Assert.Equal("gpu_bandwidth", Assert.Throws<InvalidSettingException>(() => GpuDevice.Custom(ByteSize.FromGiB(24), bandwidthGBps: double.NaN)).Setting);
        Assert.Equal("gpu_tflops", Assert.Throws<InvalidSettingException>(() => GpuDevice.Custom(ByteSize.FromGiB(24), tflops: -1)).Setting);
        Assert.Equal("gpu_memory", Assert.Throws<InvalidSettingException>(() => GpuDevice.Custom(ByteSize.Zero)).Setting);
    }
}
