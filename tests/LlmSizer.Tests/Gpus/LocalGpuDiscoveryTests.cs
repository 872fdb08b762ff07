using LlmSizer.Gpus;
using LlmSizer.Units;

namespace LlmSizer.Tests.Gpus;

/// <summary>The discovery runner against fake nvidia-smi / rocm-smi shell scripts in a temporary folder that is passed
/// as the search path (the process environment is not touched). Unix only: the fakes are /bin/sh scripts.</summary>
public sealed class LocalGpuDiscoveryTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-gpus-" + Guid.NewGuid().ToString("N"));

    public LocalGpuDiscoveryTests() => Directory.CreateDirectory(_dir);

    private static bool CanRunScripts => (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && File.Exists("/bin/sh");

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A killed fake may still hold its folder for a moment; the temp folder is cleaned by the OS.
        }
    }

    [Fact]
    public void Discover_FakeNvidiaSmiWithTwoCards_ReportsEachCardWithItsMatch()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given a fake nvidia-smi that checks it is asked for name, memory.total, memory.used without header or units
        WriteTool("nvidia-smi", """
            [ "$1" = "--query-gpu=name,memory.total,memory.used" ] || { echo "unexpected $1" >&2; exit 3; }
            [ "$2" = "--format=csv,noheader,nounits" ] || { echo "unexpected $2" >&2; exit 3; }
            printf 'NVIDIA H100 80GB HBM3, 81559, 72790\nNVIDIA H100 80GB HBM3, 81559, 0\n'
            """);
        var meminfo = Path.Combine(_dir, "meminfo");
        File.WriteAllText(meminfo, "MemTotal:       2097152 kB\nMemAvailable:   1048576 kB\n");

        // When
        var report = LocalGpuDiscovery.Discover(Options() with { MemInfoPath = meminfo });

        // Then: two cards, not one summed card
        Assert.Equal(2, report.Gpus.Count);
        Assert.All(report.Gpus, g => Assert.Equal(81_559L * ByteSize.MiB, g.Total?.Bytes));
        Assert.All(report.Gpus, g => Assert.Equal("h100-sxm-80gb", g.CatalogMatch?.Id));
        Assert.Equal(0, report.Gpus[1].Used?.Bytes);
        Assert.Contains("rocm-smi: not found on the search path.", report.Notes);
        Assert.Equal(2L * ByteSize.GiB, report.HostMemory?.Total.Bytes);
        Assert.Equal(1L * ByteSize.GiB, report.HostMemory?.Available?.Bytes);
    }

    [Fact]
    public void Discover_FakeRocmSmi_ReportsCards()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given
        WriteTool("rocm-smi", """
            [ "$*" = "--showproductname --showmeminfo vram --json" ] || exit 3
            echo '{"card0": {"VRAM Total Memory (B)": "206141652992", "VRAM Total Used Memory (B)": "297771008", "Card Series": "AMD Instinct MI300X"}}'
            """);

        // When
        var report = LocalGpuDiscovery.Discover(Options());

        // Then
        var gpu = Assert.Single(report.Gpus);
        Assert.Equal(LocalGpuTool.RocmSmi, gpu.Tool);
        Assert.Equal("mi300x", gpu.CatalogMatch?.Id);
        Assert.Contains("nvidia-smi: not found on the search path.", report.Notes);
    }

    [Fact]
    public void Discover_NoTools_ReturnsNotesAndNoGpus()
    {
        var report = LocalGpuDiscovery.Discover(Options());
        Assert.Empty(report.Gpus);
        Assert.Equal(2, report.Notes.Count);
        Assert.Null(report.HostMemory);
    }

    [Fact]
    public void Discover_ToolNotExecutable_IsNotFound()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given a file named nvidia-smi without the execute bit
        var path = Path.Combine(_dir, "nvidia-smi");
        File.WriteAllText(path, "#!/bin/sh\necho nope\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // When / Then
        Assert.Empty(LocalGpuDiscovery.Discover(Options()).Gpus);
        Assert.Null(LocalGpuDiscovery.FindExecutable("nvidia-smi", [_dir]));
    }

    [Fact]
    public void Discover_ToolHangs_IsStoppedAtTheTimeout()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given a fake that never answers
        WriteTool("nvidia-smi", "sleep 30\n");

        // When
        var ex = Assert.Throws<GpuDiscoveryException>(() => LocalGpuDiscovery.Discover(Options() with { Timeout = TimeSpan.FromSeconds(1) }));

        // Then
        Assert.Equal("nvidia-smi: did not finish within 1 s and was stopped.", ex.Message);
        Assert.Equal("nvidia-smi", ex.Tool);
    }

    [Fact]
    public void Discover_ToolFloodsOutput_IsStoppedAtTheLimit()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given a fake that prints without end
        WriteTool("nvidia-smi", "while :; do echo 'NVIDIA H100 80GB HBM3, 81559, 0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; done\n");

        // When
        var ex = Assert.Throws<GpuDiscoveryException>(() => LocalGpuDiscovery.Discover(Options() with { MaxOutputChars = 64 * 1024 }));

        // Then
        Assert.Equal("nvidia-smi: printed more than 65,536 characters and was stopped.", ex.Message);
    }

    [Fact]
    public void Discover_ToolFails_ReportsExitCodeAndFirstLine()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given the driver-mismatch failure nvidia-smi prints
        WriteTool("nvidia-smi", """
            echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running." >&2
            exit 9
            """);

        // When
        var ex = Assert.Throws<GpuDiscoveryException>(() => LocalGpuDiscovery.Discover(Options()));

        // Then
        Assert.StartsWith("nvidia-smi: exited with code 9: 'NVIDIA-SMI has failed because it couldn't communicate", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Discover_ToolPrintsGarbage_ThrowsOneLine()
    {
        if (!CanRunScripts)
        {
            return;
        }

        WriteTool("nvidia-smi", "printf '\\033[31mSegmentation fault\\000\\001\\002\\n'\n");
        var ex = Assert.Throws<GpuDiscoveryException>(() => LocalGpuDiscovery.Discover(Options()));
        Assert.StartsWith("nvidia-smi: line 1: expected", ex.Message);
        Assert.DoesNotContain('\u001b', ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Discover_NoDevicesFound_IsANoteNotAnError()
    {
        if (!CanRunScripts)
        {
            return;
        }

        WriteTool("nvidia-smi", "echo 'No devices were found'\nexit 6\n");
        var report = LocalGpuDiscovery.Discover(Options());
        Assert.Empty(report.Gpus);
        Assert.Contains("nvidia-smi: no devices were found.", report.Notes);
    }

    [Fact]
    public void Discover_OneToolBrokenWhileTheOtherFindsGpus_KeepsTheGpusAndNotesTheFailure()
    {
        if (!CanRunScripts)
        {
            return;
        }

        // Given a working nvidia-smi and a rocm-smi that prints garbage
        WriteTool("nvidia-smi", "echo 'NVIDIA GeForce RTX 4090, 24564, 507'\n");
        WriteTool("rocm-smi", "echo 'ERROR: No AMD GPUs specified'\n");

        // When
        var report = LocalGpuDiscovery.Discover(Options());

        // Then
        Assert.Equal("rtx-4090", Assert.Single(report.Gpus).CatalogMatch?.Id);
        Assert.Contains(report.Notes, n => n.StartsWith("rocm-smi: output: expected a JSON object", StringComparison.Ordinal) && n.EndsWith("(ignored: another tool found GPUs)", StringComparison.Ordinal));
    }

    [Fact]
    public void FindExecutable_RelativeOrEmptyDirectories_AreSkipped()
    {
        Assert.Null(LocalGpuDiscovery.FindExecutable("nvidia-smi", ["", " ", "relative/dir"]));
    }

    private LocalGpuDiscoveryOptions Options() => new() { SearchDirectories = [_dir], MemInfoPath = null, Timeout = TimeSpan.FromSeconds(20) };

    private void WriteTool(string name, string body)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
