using System.Text.Json.Nodes;
using static LlmSizer.Mcp.Tests.McpServerProcess;

namespace LlmSizer.Mcp.Tests;

public sealed class AllowPathTests
{
    [Fact]
    public async Task PathUnderAllowPath_EqualsCli_AndPathsOutsideAreRefused()
    {
        using var allowed = new TempDir();
        using var outside = new TempDir();
        var config = allowed.Write("qwen/config.json", ToolTests.CatalogConfig("qwen3-8b"));
        var secret = outside.Write("other/config.json", ToolTests.CatalogConfig("qwen3-8b"));
        await using var server = await StartAsync("--allow-path", allowed.Path);

        foreach (var path in new[] { config, Path.GetDirectoryName(config)! })
        {
            var result = await server.CallAsync("params", new() { ["model"] = path });
            Assert.NotEqual(true, result.IsError);
            var (code, cli, stderr) = RunCli("params", path, "--json");
            Assert.True(code == 0, stderr);
            Assert.Equal(cli, JsonText(result));
        }

        var memory = await server.CallAsync("memory", new() { ["model"] = config, ["context"] = "8k" });
        Assert.Equal(RunCli("memory", config, "--context", "8k", "--json").Stdout, JsonText(memory));

        var escapes = new List<string> { secret, Path.Combine(allowed.Path, "..", Path.GetFileName(outside.Path), "other", "config.json"), allowed.Path + "-sibling/config.json" };
        if (!OperatingSystem.IsWindows())
        {
            var link = Path.Combine(allowed.Path, "link");
            Directory.CreateSymbolicLink(link, Path.Combine(outside.Path, "other"));
            escapes.Add(Path.Combine(link, "config.json"));
            escapes.Add(link);
        }

        foreach (var path in escapes)
        {
            var result = await server.CallAsync("params", new() { ["model"] = path });
            Assert.True(result.IsError, path);
            Assert.Equal("model", Structured(result).GetProperty("setting").GetString());
            Assert.Contains("outside", Structured(result).GetProperty("error").GetString());
        }

        var next = await server.CallAsync("params", new() { ["model"] = config });
        Assert.NotEqual(true, next.IsError);
        Assert.Equal(36, JsonNode.Parse(JsonText(next))!["architecture"]!["layers"]!.GetValue<int>());
    }

    [Fact]
    public async Task AllowHub_ReadsHubIdsThroughTheHubReader()
    {
        // Given: --allow-hub, but HF_HUB_OFFLINE and an empty HOME, so the Hub reader answers without any network
        var home = Directory.CreateTempSubdirectory("llmsize-mcp-hub-").FullName;
        try
        {
            await using var server = await StartWithEnvironmentAsync(new() { ["HOME"] = home, ["HF_HUB_OFFLINE"] = "1", ["HF_HOME"] = null, ["HF_HUB_CACHE"] = null, ["XDG_CACHE_HOME"] = null }, "--allow-hub");

            // When
            var result = await server.CallAsync("params", new() { ["model"] = "hf:Qwen/Qwen3-8B" });

            // Then: the Hub reader's own answer (offline, nothing cached), as a tool error about the model
            Assert.True(result.IsError);
            Assert.Equal("model", Structured(result).GetProperty("setting").GetString());
            Assert.Contains("HF_HUB_OFFLINE", Structured(result).GetProperty("error").GetString());
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [Fact]
    public async Task Timeout_AnswersWithAToolError()
    {
        await using var server = await StartAsync("--timeout", "0.001");
        var result = await server.CallAsync("fit", new() { ["model"] = "llama-3.1-405b", ["context"] = "128k" });
        Assert.True(result.IsError);
        Assert.Contains("longer than the server's limit", Structured(result).GetProperty("error").GetString());
    }

    [Fact]
    public void Cli_McpHelp_ListsItsOptions()
    {
        var (code, stdout, _) = RunCli("mcp", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--allow-path", stdout);
        Assert.Contains("--allow-hub", stdout);
    }

    [Fact]
    public async Task Server_BadArgument_ExitsWithUsage()
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServerDll, "--allow-path", "/nonexistent-folder-xyz" },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("--allow-path", stderr);
    }
}

public sealed class McpCommandTests
{
    /// <summary><c>llmsize mcp</c> (the CLI's own build output) finds llmsize-mcp in the source checkout, passes stdio
    /// through, and forwards --allow-path.</summary>
    [Fact]
    public async Task LlmsizeMcp_StartsTheServer_WithStdioPassedThrough()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory);
        var cli = Path.Combine(McpServerProcess.RepoRoot, "src", "LlmSizer.Cli", "bin", framework.Parent!.Name, framework.Name, "llmsize.dll");
        Assert.True(File.Exists(cli), cli);
        using var allowed = new TempDir();
        var config = allowed.Write("config.json", ToolTests.CatalogConfig("qwen3-8b"));
        var transport = new ModelContextProtocol.Client.StdioClientTransport(new ModelContextProtocol.Client.StdioClientTransportOptions
        {
            Name = "llmsize",
            Command = "dotnet",
            Arguments = [cli, "mcp", "--allow-path", allowed.Path],
        });
        await using var client = await ModelContextProtocol.Client.McpClient.CreateAsync(transport);
        var tools = await client.ListToolsAsync();
        Assert.Equal(5, tools.Count);
        var result = await client.CallToolAsync("params", new Dictionary<string, object?> { ["model"] = config });
        Assert.NotEqual(true, result.IsError);
        Assert.Equal(McpServerProcess.RunCli("params", config, "--json").Stdout, McpServerProcess.JsonText(result));
    }
}
