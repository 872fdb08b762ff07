using LlmSizer.Errors;
using LlmSizer.Gpus;
using LlmSizer.Units;

namespace LlmSizer.Tests.Gpus;

/// <summary>nvidia-smi, rocm-smi and /proc/meminfo parsers: real output shapes, and garbage or hostile output that must
/// give one-line library errors only.</summary>
public class LocalGpuParserTests
{
    // Shapes from real logs: rows as in https://github.com/akash-network/provider-configs/pull/99 (csv with header) and
    // the memory figures of https://github.com/NVIDIA/nccl/issues/1264 and https://github.com/RLinf/RLinf/issues/255.
    private const string NvidiaBare = "NVIDIA H100 80GB HBM3, 81559, 72790\nNVIDIA H100 80GB HBM3, 81559, 0\n";
    private const string NvidiaHeader = "name, memory.total [MiB], memory.used [MiB]\nNVIDIA GeForce RTX 4090, 24564 MiB, 507 MiB\nNVIDIA GeForce RTX 4090, 24564 MiB, 459 MiB\n";

    // The shape of https://github.com/marimo-team/marimo/issues/9237 (rocm-smi --showproductname --showuse --showmeminfo vram --json),
    // with the MI300X total of https://github.com/ROCm/legacy-rocm-build/issues/4750.
    private const string RocmJson = """
        {
          "card0": {
            "VRAM Total Memory (B)": "206141652992",
            "VRAM Total Used Memory (B)": "297771008",
            "Card Series": "AMD Instinct MI300X OAM",
            "Card Model": "0x74a1",
            "Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]",
            "Card SKU": "M3000100",
            "GFX Version": "gfx942"
          },
          "card1": {
            "VRAM Total Memory (B)": "206141652992",
            "VRAM Total Used Memory (B)": "297771008",
            "Card Series": "AMD Instinct MI300X OAM",
            "Card Model": "0x74a1"
          }
        }
        """;

    private const string MemInfo = "MemTotal:       131897740 kB\nMemFree:        1234567 kB\nMemAvailable:   98765432 kB\nBuffers:          123 kB\nHugePages_Total:       0\n";

    [Fact]
    public void NvidiaSmi_NoHeaderNoUnits_OneRecordPerCardNeverSummed()
    {
        // When
        var gpus = NvidiaSmiParser.Parse(NvidiaBare);

        // Then
        Assert.Equal(2, gpus.Count);
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.All(gpus, g =>
        {
            Assert.Equal("NVIDIA H100 80GB HBM3", g.Name);
            Assert.Equal(81_559L * ByteSize.MiB, g.Total?.Bytes);
            Assert.Equal("h100-sxm-80gb", g.CatalogMatch?.Id);
            Assert.Equal(LocalGpuTool.NvidiaSmi, g.Tool);
        });
        Assert.Equal(72_790L * ByteSize.MiB, gpus[0].Used?.Bytes);
        Assert.Equal((81_559L - 72_790) * ByteSize.MiB, gpus[0].Free?.Bytes);
        Assert.Equal(81_559L * ByteSize.MiB, gpus[1].Free?.Bytes);
    }

    [Fact]
    public void NvidiaSmi_HeaderAndUnits_ReadsByColumnName()
    {
        var gpus = NvidiaSmiParser.Parse(NvidiaHeader);

        Assert.Equal(2, gpus.Count);
        Assert.All(gpus, g => Assert.Equal("rtx-4090", g.CatalogMatch?.Id));
        Assert.Equal(507L * ByteSize.MiB, gpus[0].Used?.Bytes);
    }

    [Fact]
    public void NvidiaSmi_HeaderWithExtraColumnsAndCrLf_UsesTheIndexColumn()
    {
        // Given a header in another order, an index column and Windows line ends
        var output = "index, memory.used [MiB], name, memory.total [MiB], memory.free [MiB]\r\n3, 1, NVIDIA L40S, 46068, 46067\r\n";

        // When
        var gpu = Assert.Single(NvidiaSmiParser.Parse(output));

        // Then
        Assert.Equal(3, gpu.Index);
        Assert.Equal("NVIDIA L40S", gpu.Name);
        Assert.Equal(46_068L * ByteSize.MiB, gpu.Total?.Bytes);
        Assert.Equal("l40s", gpu.CatalogMatch?.Id);
    }

    [Fact]
    public void NvidiaSmi_RealQueryWithoutMemoryUsed_LeavesUsedUnknown()
    {
        // Given the output pasted in https://github.com/akash-network/provider-configs/pull/99
        var output = "name, driver_version, memory.total [MiB], pci.bus_id, pci.device_id\n" +
            "NVIDIA L40S, 595.71.05, 46068 MiB, 00000000:01:00.0, 0x26B910DE\n" +
            "NVIDIA L40S, 595.71.05, 46068 MiB, 00000000:91:00.0, 0x26B910DE\n";

        // When
        var gpus = NvidiaSmiParser.Parse(output);

        // Then
        Assert.Equal(2, gpus.Count);
        Assert.All(gpus, g =>
        {
            Assert.Equal(46_068L * ByteSize.MiB, g.Total?.Bytes);
            Assert.Null(g.Used);
            Assert.Null(g.Free);
            Assert.Equal("l40s", g.CatalogMatch?.Id);
        });
    }

    [Fact]
    public void NvidiaSmi_NoHeaderWithUnits_Reads()
    {
        var gpu = Assert.Single(NvidiaSmiParser.Parse("NVIDIA GeForce RTX 5090, 32607 MiB, 492 MiB"));
        Assert.Equal("rtx-5090", gpu.CatalogMatch?.Id);
        Assert.Equal(32_607L * ByteSize.MiB, gpu.ToDevice()?.UsableMemory.Bytes);
        Assert.Equal((32_607L - 492) * ByteSize.MiB, gpu.ToDevice(useFreeMemory: true)?.UsableMemory.Bytes);
        Assert.Equal(1792, gpu.ToDevice()?.BandwidthGBps);
    }

    [Fact]
    public void NvidiaSmi_NotAvailableMemory_IsUnknownNotAnError()
    {
        // Unified-memory devices (DGX Spark GB10) print [N/A] for memory.
        var gpu = Assert.Single(NvidiaSmiParser.Parse("NVIDIA GB10, [N/A], [N/A]\n"));
        Assert.Null(gpu.Total);
        Assert.Null(gpu.Free);
        Assert.Null(gpu.ToDevice());
        Assert.Null(gpu.CatalogMatch);
    }

    [Fact]
    public void NvidiaSmi_NoDevices_IsEmpty()
    {
        Assert.Empty(NvidiaSmiParser.Parse("No devices were found\n"));
    }

    [Fact]
    public void NvidiaSmi_UnknownCard_HasNoMatch()
    {
        var gpu = Assert.Single(NvidiaSmiParser.Parse("Quadro RTX 4000, 8192, 1"));
        Assert.Null(gpu.CatalogMatch);
        Assert.Null(gpu.ToDevice()?.BandwidthGBps);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n  ")]
    [InlineData("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.")]
    [InlineData("a,b")]
    [InlineData("NVIDIA H100, -5, 3")]
    [InlineData("NVIDIA H100, 99999999999999999999, 0")]
    [InlineData("NVIDIA H100, 10, 20")]
    [InlineData("NVIDIA H100, 10 GiB, 2")]
    [InlineData("NVIDIA H100, 1.5, 0")]
    [InlineData(", 81559, 0")]
    [InlineData("name, memory.total [MiB], memory.used [MiB]\n")]
    [InlineData("name, memory.total [GiB], memory.used [GiB]\nNVIDIA H100, 80, 0")]
    [InlineData("name, memory.used [MiB]\nNVIDIA H100, 81559")]
    [InlineData("name, memory.total [MiB], memory.used [MiB]\nNVIDIA H100, 81559")]
    [InlineData("index, name, memory.total [MiB], memory.used [MiB]\nx, NVIDIA H100, 81559, 0")]
    [InlineData("NVIDIA\u0007H100, 81559, 0")]
    [InlineData("NVIDIA H100, [GPU is lost], [GPU is lost]")]
    [InlineData("\u0000\u0000\u0000\u0000")]
    [InlineData("<html><body>502 Bad Gateway</body></html>")]
    public void NvidiaSmi_Garbage_ThrowsOneLineNamingTheTool(string output)
    {
        var ex = Assert.Throws<GpuDiscoveryException>(() => NvidiaSmiParser.Parse(output));
        AssertOneLine(ex, "nvidia-smi: ");
    }

    [Fact]
    public void NvidiaSmi_HugeOutput_ThrowsWithoutReadingIt()
    {
        var ex = Assert.Throws<GpuDiscoveryException>(() => NvidiaSmiParser.Parse(new string('x', NvidiaSmiParser.MaxChars + 1)));
        AssertOneLine(ex, "nvidia-smi: ");
    }

    [Fact]
    public void NvidiaSmi_TooManyGpus_Throws()
    {
        var output = string.Concat(Enumerable.Repeat("NVIDIA H100 80GB HBM3, 81559, 0\n", NvidiaSmiParser.MaxGpus + 1));
        AssertOneLine(Assert.Throws<GpuDiscoveryException>(() => NvidiaSmiParser.Parse(output)), "nvidia-smi: ");
    }

    [Fact]
    public void NvidiaSmi_LongLine_QuotesAtMostSixtyCharacters()
    {
        var ex = Assert.Throws<GpuDiscoveryException>(() => NvidiaSmiParser.Parse(new string('z', 100_000)));
        Assert.True(ex.Message.Length < 300, ex.Message);
    }

    [Fact]
    public void NvidiaSmi_TruncatedAtEveryOffset_OnlyLibraryErrors()
    {
        AssertSweep(NvidiaHeader, s => NvidiaSmiParser.Parse(s));
        AssertSweep(NvidiaBare, s => NvidiaSmiParser.Parse(s));
    }

    [Fact]
    public void NvidiaSmi_RandomText_OnlyLibraryErrors()
    {
        AssertFuzz("NVIDIA H100,0123456789 MiB[N/A]\n\r\t name memory.total", s => NvidiaSmiParser.Parse(s));
    }

    [Fact]
    public void RocmSmi_Json_OneRecordPerCardMatchedToCatalog()
    {
        // When
        var gpus = RocmSmiParser.Parse(RocmJson);

        // Then
        Assert.Equal(2, gpus.Count);
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.All(gpus, g =>
        {
            Assert.Equal("AMD Instinct MI300X OAM", g.Name);
            Assert.Equal(206_141_652_992, g.Total?.Bytes);
            Assert.Equal(206_141_652_992 - 297_771_008, g.Free?.Bytes);
            Assert.Equal("mi300x", g.CatalogMatch?.Id);
            Assert.Equal(LocalGpuTool.RocmSmi, g.Tool);
        });
    }

    [Fact]
    public void RocmSmi_WarningsBeforeJsonAndOtherMembers_AreSkipped()
    {
        // Given a warning line, a "system" member and a consumer card (shape of marimo-team/marimo#9237)
        var output = "WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status\n\n" +
            """{"system": {"Driver version": "6.8.5"}, "card0": {"GPU use (%)": "0", "VRAM Total Memory (B)": "21458059264", "VRAM Total Used Memory (B)": "27856896", "Card Series": "Radeon RX 7900 XT", "Card Model": "0x744c"}}""";

        // When
        var gpu = Assert.Single(RocmSmiParser.Parse(output));

        // Then
        Assert.Equal("Radeon RX 7900 XT", gpu.Name);
        Assert.Equal(21_458_059_264, gpu.Total?.Bytes);
        Assert.Null(gpu.CatalogMatch);
    }

    [Fact]
    public void RocmSmi_OldSpellingAndNoName_Reads()
    {
        var gpus = RocmSmiParser.Parse("""{"card3": {"VRAM Total Memory (B)": 68702699520, "Card series": "AMD Instinct MI210"}, "card7": {"VRAM Total Memory (B)": "1024", "Card Model": "0x740f"}}""");
        Assert.Equal(2, gpus.Count);
        Assert.Equal(3, gpus[0].Index);
        Assert.Equal("mi210", gpus[0].CatalogMatch?.Id);
        Assert.Null(gpus[0].Used);
        Assert.Equal("AMD GPU (card7)", gpus[1].Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ERROR: No AMD GPUs specified")]
    [InlineData("{")]
    [InlineData("{}")]
    [InlineData("[1, 2, 3]")]
    [InlineData("""{"card0": {"Card Series": "AMD Instinct MI300X"}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": "lots"}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": "-1"}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": 1.5}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": "99999999999999999999"}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": "100", "VRAM Total Used Memory (B)": "200"}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": {"a": [[[[[[[[[[1]]]]]]]]]]}}}""")]
    [InlineData("""{"card0": {"VRAM Total Memory (B)": "100"} trailing""")]
    public void RocmSmi_Garbage_ThrowsOneLineNamingTheTool(string output)
    {
        var ex = Assert.Throws<GpuDiscoveryException>(() => RocmSmiParser.Parse(output));
        AssertOneLine(ex, "rocm-smi: ");
    }

    [Fact]
    public void RocmSmi_TruncatedAtEveryOffset_OnlyLibraryErrors()
    {
        AssertSweep(RocmJson, s => RocmSmiParser.Parse(s));
    }

    [Fact]
    public void RocmSmi_RandomText_OnlyLibraryErrors()
    {
        AssertFuzz("{}[]\":,card0 VRAM Total Memory (B)0123456789", s => RocmSmiParser.Parse(s));
    }

    [Fact]
    public void MemInfo_Typical_ReadsTotalAndAvailableInKiB()
    {
        var host = MemInfoParser.Parse(MemInfo);
        Assert.Equal(131_897_740L * 1024, host.Total.Bytes);
        Assert.Equal(98_765_432L * 1024, host.Available?.Bytes);
    }

    [Fact]
    public void MemInfo_NoMemAvailable_LeavesItUnknown()
    {
        var host = MemInfoParser.Parse("MemTotal: 1024 kB\nMemFree: 512 kB\n");
        Assert.Equal(1024L * 1024, host.Total.Bytes);
        Assert.Null(host.Available);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MemFree: 12 kB")]
    [InlineData("MemTotal: lots kB")]
    [InlineData("MemTotal: 12 MB")]
    [InlineData("MemTotal: 12")]
    [InlineData("MemTotal: -12 kB")]
    [InlineData("MemTotal: 99999999999999999999 kB")]
    public void MemInfo_Garbage_ThrowsOneLine(string text)
    {
        var ex = Assert.Throws<GpuDiscoveryException>(() => MemInfoParser.Parse(text));
        AssertOneLine(ex, "/proc/meminfo: ");
    }

    [Fact]
    public void MemInfo_TruncatedAtEveryOffset_OnlyLibraryErrors()
    {
        AssertSweep(MemInfo, s => MemInfoParser.Parse(s));
    }

    private static void AssertOneLine(LlmSizerException ex, string prefix)
    {
        Assert.StartsWith(prefix, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.DoesNotContain('\r', ex.Message);
        Assert.True(ex.Message.Length < 400, ex.Message);
    }

    private static void AssertSweep(string valid, Action<string> parse)
    {
        for (int cut = 0; cut <= valid.Length; cut++)
        {
            var text = valid[..cut];
            try
            {
                parse(text);
            }
            catch (GpuDiscoveryException ex)
            {
                Assert.DoesNotContain('\n', ex.Message);
            }
        }
    }

    private static void AssertFuzz(string alphabet, Action<string> parse)
    {
        var random = new Random(20261201);
        for (int i = 0; i < 2000; i++)
        {
            var chars = new char[random.Next(0, 200)];
            for (int j = 0; j < chars.Length; j++)
            {
                chars[j] = random.Next(10) == 0 ? (char)random.Next(0, 0x3000) : alphabet[random.Next(alphabet.Length)];
            }

            try
            {
                parse(new string(chars));
            }
            catch (GpuDiscoveryException ex)
            {
                Assert.DoesNotContain('\n', ex.Message);
            }
        }
    }
}
