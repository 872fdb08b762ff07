using LlmSizer.Gpus;
using LlmSizer.Units;

namespace LlmSizer.Tests.Gpus;

/// <summary>The built-in GPU table: every row complete and plausible, and forgiving lookup.</summary>
public class GpuCatalogTests
{
    // The accelerators the issue asks for, by catalog id.
    public static readonly string[] RequiredIds =
    [
        "rtx-3060-12gb", "rtx-3080-10gb", "rtx-3080-12gb", "rtx-3090", "rtx-4060-ti-16gb", "rtx-4070-ti-super", "rtx-4080",
        "rtx-4090", "rtx-5080", "rtx-5090", "rtx-a4000", "rtx-a5000", "rtx-a6000", "rtx-6000-ada", "rtx-pro-6000", "t4",
        "v100-16gb", "v100-32gb", "a10", "a10g", "l4", "l40", "l40s", "a100-40gb-pcie", "a100-80gb-pcie", "a100-40gb-sxm",
        "a100-80gb-sxm", "h100-pcie", "h100-sxm-80gb", "h100-nvl", "h200", "gh200-96gb", "b200", "gb200", "mi210", "mi250x",
        "mi300x", "mi325x", "mi355x", "gaudi2", "gaudi3", "m2-max-96gb", "m2-ultra-192gb", "m3-max-128gb", "m3-ultra-512gb",
        "m4-max-128gb",
    ];

    public static TheoryData<string> Ids => [.. GpuCatalog.All.Select(g => g.Id)];

    [Fact]
    public void All_Loaded_HoldsAtLeastFortyWithUniqueIdsAndEveryRequiredOne()
    {
        // Given / When
        var all = GpuCatalog.All;

        // Then
        Assert.True(all.Count >= 40, $"{all.Count} GPUs");
        Assert.Equal(all.Count, all.Select(g => g.Id).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(RequiredIds, id => Assert.Contains(all, g => g.Id == id));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Row_Every_IsCompleteAndPlausible(string id)
    {
        // Given
        var g = GpuCatalog.All.Single(x => x.Id == id);

        // Then: identity
        Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", g.Id);
        Assert.False(string.IsNullOrWhiteSpace(g.Name));
        Assert.False(string.IsNullOrWhiteSpace(g.Architecture));
        Assert.False(string.IsNullOrWhiteSpace(g.MemoryType));
        Assert.False(string.IsNullOrWhiteSpace(g.Interconnect));
        Assert.NotEmpty(g.SmiNames);

        // Memory: usable is at most what is marketed, and not absurdly less (ECC carve-outs take 1/16; Apple's GPU 3/4).
        Assert.InRange(g.DevicesPerPackage, 1, 8);
        Assert.True(g.UsableMemory.Bytes > 0);
        var perDeviceMarketed = g.MarketedMemory.Bytes / g.DevicesPerPackage;
        Assert.True(g.UsableMemory.Bytes <= perDeviceMarketed, $"{id}: usable {g.UsableMemory} > marketed {g.MarketedMemory} / {g.DevicesPerPackage}");
        Assert.True(g.UsableMemory.Bytes >= perDeviceMarketed * 0.7, $"{id}: usable {g.UsableMemory} is below 70% of {g.MarketedMemory}");

        // Evidence or rule for the usable memory.
        if (g.UsableMemoryVerified)
        {
            Assert.False(string.IsNullOrWhiteSpace(g.UsableMemoryEvidence), id);
            AssertHttps(g.UsableMemorySource, id);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(g.UsableMemoryRule), id);
        }

        if (g.UsableMemorySource is not null)
        {
            AssertHttps(g.UsableMemorySource, id);
        }

        // Rates.
        Assert.InRange(g.BandwidthGBps, 100, 20_000);
        foreach (var rate in new[] { g.Bf16Tflops, g.Fp16Tflops, g.Fp8Tflops, g.Int8Tops })
        {
            if (rate is double r)
            {
                Assert.InRange(r, 1, 20_000);
            }
        }

        if (g.Fp8Tflops is double fp8 && g.Bf16Tflops is double bf16)
        {
            Assert.True(fp8 >= bf16, $"{id}: FP8 {fp8} < BF16 {bf16}");
        }

        if (g.Dense16BitTflops is null)
        {
            // Apple and AWS publish none: the row must say so.
            Assert.Contains("publish", g.Notes ?? "", StringComparison.OrdinalIgnoreCase);
        }

        if (g.InterconnectGBps is double link)
        {
            Assert.InRange(link, 1, 10_000);
        }

        // Sources are https URLs.
        Assert.NotEmpty(g.Sources);
        Assert.All(g.Sources, s => AssertHttps(s, id));

        // Unified memory states its GPU fraction, and the usable memory follows it.
        if (g.Category == GpuCategory.Unified)
        {
            Assert.Equal(GpuVendor.Apple, g.Vendor);
            var fraction = Assert.NotNull(g.GpuMemoryFraction);
            Assert.Equal((long)(g.MarketedMemory.Bytes * fraction), g.UsableMemory.Bytes);
        }
    }

    [Fact]
    public void Row_H100Sxm_MatchesTheNvidiaSmiLog()
    {
        // Given the catalog's H100 SXM
        var h100 = GpuCatalog.Find("h100-sxm-80gb");

        // Then: 81,559 MiB as nvidia-smi prints, ~79.6 GiB
        Assert.Equal(81_559L * ByteSize.MiB, h100.UsableMemory.Bytes);
        Assert.Equal(79.65, h100.UsableMemory.TotalGiB, 2);
        Assert.True(h100.UsableMemoryVerified);
        Assert.Contains("NVIDIA H100 80GB HBM3", h100.SmiNames);
        Assert.Equal(3350, h100.BandwidthGBps);
        Assert.Equal(989.5, h100.Bf16Tflops);
    }

    [Theory]
    [InlineData("4090", "rtx-4090")]
    [InlineData("rtx4090", "rtx-4090")]
    [InlineData("RTX 4090", "rtx-4090")]
    [InlineData("RTX-4090", "rtx-4090")]
    [InlineData("NVIDIA GeForce RTX 4090", "rtx-4090")]
    [InlineData("h100", "h100-sxm-80gb")]
    [InlineData("H100", "h100-sxm-80gb")]
    [InlineData("NVIDIA H100", "h100-sxm-80gb")]
    [InlineData("NVIDIA H100 80GB HBM3", "h100-sxm-80gb")]
    [InlineData("H100-SXM-80GB", "h100-sxm-80gb")]
    [InlineData("a100-80", "a100-80gb-sxm")]
    [InlineData("a100", "a100-80gb-sxm")]
    [InlineData("A100 40GB", "a100-40gb-sxm")]
    [InlineData("NVIDIA A100-SXM4-80GB", "a100-80gb-sxm")]
    [InlineData("mi300x", "mi300x")]
    [InlineData("AMD Instinct MI300X", "mi300x")]
    [InlineData("  MI 300 X ", "mi300x")]
    [InlineData("Tesla T4", "t4")]
    [InlineData("gaudi 3", "gaudi3")]
    [InlineData("m4 max", "m4-max-128gb")]
    public void TryFind_ForgivingName_FindsEntry(string name, string expectedId)
    {
        // When
        var found = GpuCatalog.TryFind(name, out var gpu);

        // Then
        Assert.True(found, name);
        Assert.Equal(expectedId, gpu!.Id);
    }

    [Fact]
    public void TryFind_EveryIdAliasAndSmiName_FindsAnEntryHoldingIt()
    {
        foreach (var g in GpuCatalog.All)
        {
            foreach (var key in g.Aliases.Prepend(g.Id))
            {
                Assert.True(GpuCatalog.TryFind(key, out var byKey), key);
                Assert.Equal(g.Id, byKey!.Id);
            }

            foreach (var smi in g.SmiNames)
            {
                Assert.True(GpuCatalog.TryFind(smi, out var bySmi), smi);
                Assert.Contains(smi, bySmi!.SmiNames);
            }
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("rtx-4900")]
    [InlineData("nvidia")]
    [InlineData("\u0000\u0001")]
    public void TryFind_UnknownName_ReturnsFalse(string? name)
    {
        Assert.False(GpuCatalog.TryFind(name, out var gpu));
        Assert.Null(gpu);
    }

    [Fact]
    public void Find_Typo_ThrowsListingClosestMatchesFirst()
    {
        // When
        var ex = Assert.Throws<UnknownGpuException>(() => GpuCatalog.Find("rtx-4900"));

        // Then: the closest ids by edit distance (a swap is closest), not alphabetical order
        Assert.Equal("gpu: 'rtx-4900' is not a known GPU; did you mean rtx-4090, rtx-4080, rtx-a4000?", ex.Message);
        Assert.Equal(["rtx-4090", "rtx-4080", "rtx-a4000"], ex.Suggestions);
        Assert.Equal("rtx-4900", ex.GpuName);
    }

    [Theory]
    [InlineData("h1oo", "h100-sxm-80gb")]
    [InlineData("mi300", "mi300x")]
    [InlineData("mi30x", "mi300x")]
    [InlineData("a6000 ada", "rtx-6000-ada")]
    [InlineData("rtx 5900", "rtx-5090")]
    [InlineData("l40ss", "l40s")]
    [InlineData("gaudi", "gaudi2")]
    public void Suggest_NearMiss_PutsTheIntendedGpuFirstOrWithinThree(string name, string expectedId)
    {
        // When
        var suggestions = GpuCatalog.Suggest(name).Select(g => g.Id).ToList();

        // Then
        Assert.Contains(expectedId, suggestions);
        Assert.InRange(suggestions.Count, 1, 3);
    }

    [Fact]
    public void Find_HostileName_ThrowsOneBoundedLine()
    {
        // Given a huge name with control characters
        var name = new string('x', 100_000) + "\n\r\u0007";

        // When
        var ex = Assert.Throws<UnknownGpuException>(() => GpuCatalog.Find(name));

        // Then
        Assert.DoesNotContain('\n', ex.Message);
        Assert.True(ex.Message.Length < 300, ex.Message);
    }

    [Fact]
    public void Find_Empty_ThrowsLibraryException()
    {
        var ex = Assert.Throws<UnknownGpuException>(() => GpuCatalog.Find(""));
        Assert.StartsWith("gpu: '' is not a known GPU", ex.Message);
    }

    [Theory]
    [InlineData("NVIDIA GeForce RTX 3080", 10240, "rtx-3080-10gb")]
    [InlineData("NVIDIA GeForce RTX 3080", 12288, "rtx-3080-12gb")]
    [InlineData("NVIDIA GeForce RTX 3060", 12288, "rtx-3060-12gb")]
    [InlineData("NVIDIA H100 80GB HBM3", 81559, "h100-sxm-80gb")]
    [InlineData("Aqua Vanjaram [AMD Instinct MI300X OAM]", 196592, "mi300x")]
    [InlineData("AMD Instinct MI250X/MI250", 65520, "mi250x")]
    public void MatchReported_NameAndMemory_PicksTheMatchingCard(string name, long mib, string expectedId)
    {
        var match = GpuCatalog.MatchReported(name, new ByteSize(mib * ByteSize.MiB));
        Assert.Equal(expectedId, match?.Id);
    }

    [Theory]
    [InlineData("NVIDIA GeForce RTX 3060", 8192)]   // the 8 GB card shares the name; not in the catalog
    [InlineData("AMD Instinct MI300A", 131072)]     // contains "mi300" but has 128 GB
    [InlineData("Radeon RX 7900 XT", 20464)]
    [InlineData("", 1024)]
    public void MatchReported_NoCardWithinFivePercent_ReturnsNull(string name, long mib)
    {
        Assert.Null(GpuCatalog.MatchReported(name, new ByteSize(mib * ByteSize.MiB)));
    }

    [Fact]
    public void FromSpec_CatalogGpu_CarriesUsableMemoryBandwidthAndTflops()
    {
        // Given / When
        var device = GpuDevice.FromSpec(GpuCatalog.Find("t4"));

        // Then: the T4 has no BF16, so its FP16 rate is used
        Assert.Equal(15_360L * ByteSize.MiB, device.UsableMemory.Bytes);
        Assert.Equal(320, device.BandwidthGBps);
        Assert.Equal(65, device.Tflops);
        Assert.Equal("t4", device.Spec?.Id);
    }

    [Fact]
    public void Docs_GpusPage_ListsEveryIdWithItsUsableMemory()
    {
        // Given docs/gpus.md (the table is the catalog, rendered)
        var lines = File.ReadAllLines(Path.Combine(TestPaths.RepoRoot, "docs", "gpus.md"));

        // Then every catalog row has a table row with its usable MiB
        foreach (var g in GpuCatalog.All)
        {
            var row = lines.SingleOrDefault(l => l.StartsWith($"| `{g.Id}` |", StringComparison.Ordinal));
            Assert.True(row is not null, $"docs/gpus.md has no row for {g.Id}");
            Assert.Contains($"| {g.UsableMemory.Bytes / ByteSize.MiB:N0} |", row, StringComparison.Ordinal);
        }
    }

    private static void AssertHttps(string? url, string id)
    {
        Assert.True(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && uri.Host.Contains('.'), $"{id}: '{url}' is not an https URL");
    }
}
