using System.Text.Json;
using LlmSizer.Cli;
using LlmSizer.Cli.Commands;
using LlmSizer.Gpus;

namespace LlmSizer.Tests.Cli;

public class FitCommandTests
{
    [Fact]
    public void Fit_OneGpu_Json_HasTheContractFields()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--gpu", "4090", "--context", "8192", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var plan = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.Equal("rtx-4090", plan.GetProperty("gpu").GetString());
        Assert.True(plan.GetProperty("fits_on_one").GetBoolean());
        Assert.Equal("full_gpu", plan.GetProperty("fit_type").GetString());
        foreach (var name in new[] { "gpus_needed", "tensor_parallel", "pipeline_parallel", "nodes", "per_gpu_bytes", "headroom_bytes", "max_context",
                     "kv_cache_bytes_per_gpu", "kv_cache_tokens", "max_concurrency", "gpu_layers", "decode_tokens_per_s", "prefill_tokens_per_s", "assumptions" })
        {
            Assert.True(plan.TryGetProperty(name, out _), name);
        }

        Assert.StartsWith("vllm serve meta-llama/Llama-3.1-8B", plan.GetProperty("engine_settings").GetProperty("vllm").GetString());
        Assert.Contains("kind: Deployment", plan.GetProperty("engine_settings").GetProperty("k8s").GetString());
    }

    [Fact]
    public void Fit_NothingFits_ExitsThree()
    {
        var r = CliRunner.Run("fit", "llama-3.1-405b", "--gpu", "rtx-3060-12gb", "--max-gpus", "8", "--gpu-only");

        Assert.Equal(3, r.ExitCode);
        Assert.Contains("none", r.Stdout);
        Assert.Contains("shortfall", r.Stdout);
    }

    [Fact]
    public void Fit_UnknownGpu_SuggestsTheClosest()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--gpu", "rtx-4900");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("rtx-4090", r.StderrLines.Single());
    }

    [Fact]
    public void Fit_GpuAndBudget_IsAUsageError()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--gpu", "h100", "--budget", "24GiB");

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--budget", r.StderrLines.Single());
    }

    [Fact]
    public void Fit_TpThatDoesNotDivideHeads_NamesTheFlag()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--gpu", "h100", "--tp", "3");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: --tp:", r.StderrLines.Single());
    }

    [Fact]
    public void Fit_FormatK8s_PrintsOnlyTheManifest()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--gpu", "h100", "--format", "k8s");

        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("apiVersion: apps/v1", r.Stdout);
        Assert.Contains("nvidia.com/gpu.product: \"NVIDIA-H100-80GB-HBM3\"", r.Stdout);
    }

    [Fact]
    public void Fit_Catalog_TableRanksPlansAndPrintsTheBestSettings()
    {
        var r = CliRunner.Run("fit", "llama-3.1-8b", "--context", "8192");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("plans over", r.Stdout);
        Assert.Contains("best:", r.Stdout);
        Assert.Contains("vllm serve", r.Stdout);
    }

    [Fact]
    public void Fit_Local_WithFakeNvidiaSmi_PlansForTheCardsFreeMemory()
    {
        // Given a fake nvidia-smi that reports one RTX 4090 with 4 GiB already used
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return; // a shell-script fake needs a Unix shell
        }

        using var dir = new TempDir();
        var tool = Path.Combine(dir.Path, "nvidia-smi");
        File.WriteAllText(tool, "#!/bin/sh\necho 'NVIDIA GeForce RTX 4090, 24564, 4096'\n");
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var meminfo = Path.Combine(dir.Path, "meminfo");
        File.WriteAllText(meminfo, "MemTotal:       65536000 kB\nMemAvailable:   60000000 kB\n");
        var options = new LocalGpuDiscoveryOptions { SearchDirectories = [dir.Path], MemInfoPath = meminfo };
        var commands = new ICliCommand[] { new FitCommand(discover: () => LocalGpuDiscovery.Discover(options)) };

        // When fit runs with --gpu local
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = LlmSizeApp.Run(["fit", "llama-3.1-8b", "--gpu", "local", "--context", "8192", "--json"], stdout, stderr, 160, commands);

        // Then the plan is for the card's free memory: (24,564 − 4,096) MiB, matched to the catalog's RTX 4090
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout.ToString());
        var plan = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.Equal(0.9 * (24_564 - 4_096) * 1024.0 * 1024, plan.GetProperty("budget_bytes").GetInt64(), 1e6);
        Assert.Equal("full_gpu", plan.GetProperty("fit_type").GetString());
    }

    [Fact]
    public void Fit_Local_NoGpu_IsACpuOnlyLlamaCppPlan()
    {
        using var dir = new TempDir();
        var meminfo = Path.Combine(dir.Path, "meminfo");
        File.WriteAllText(meminfo, "MemTotal:       65536000 kB\nMemAvailable:   60000000 kB\n");
        var options = new LocalGpuDiscoveryOptions { SearchDirectories = [dir.Path], MemInfoPath = meminfo };
        var commands = new ICliCommand[] { new FitCommand(discover: () => LocalGpuDiscovery.Discover(options)) };

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = LlmSizeApp.Run(["fit", "llama-3.1-8b", "--gpu", "local", "--dtype", "q4_k_m", "--json"], stdout, stderr, 160, commands);

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout.ToString());
        var plan = doc.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.Equal("cpu_only", plan.GetProperty("fit_type").GetString());
        Assert.Contains("-ngl 0", plan.GetProperty("engine_settings").GetProperty("llamacpp").GetString());
    }

    [Fact]
    public void Gpus_Json_ListsTheCatalog()
    {
        var r = CliRunner.Run("gpus", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var gpus = doc.RootElement.GetProperty("gpus").EnumerateArray().ToList();
        Assert.True(gpus.Count >= 40);
        var h100 = gpus.Single(g => g.GetProperty("id").GetString() == "h100-sxm-80gb");
        Assert.Equal(81_559L * 1024 * 1024, h100.GetProperty("usable_memory_bytes").GetInt64()); // nvidia-smi: 81559MiB
    }
}
