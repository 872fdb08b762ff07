using System.Text.Json;
using LlmSizer.Cli;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace LlmSizer.Mcp.Tests;

/// <summary>The real llmsize-mcp, started from its build output and reached with the SDK's client over stdio.</summary>
public sealed class McpServerProcess : IAsyncDisposable
{
    private McpServerProcess(McpClient client) => Client = client;

    public McpClient Client { get; }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LlmSizer.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    /// <summary>src/LlmSizer.Mcp/bin/&lt;Configuration&gt;/net10.0/llmsize-mcp.dll, the configuration of this test build.</summary>
    public static string ServerDll
    {
        get
        {
            var framework = new DirectoryInfo(AppContext.BaseDirectory);
            var configuration = framework.Parent!.Name;
            var path = Path.Combine(RepoRoot, "src", "LlmSizer.Mcp", "bin", configuration, framework.Name, "llmsize-mcp.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("build src/LlmSizer.Mcp first", path);
        }
    }

    public static Task<McpServerProcess> StartAsync(params string[] args) => StartWithEnvironmentAsync(null, args);

    /// <summary>Starts the server with extra environment variables (the child's only; this process's are untouched).</summary>
    public static async Task<McpServerProcess> StartWithEnvironmentAsync(Dictionary<string, string?>? environment, params string[] args)
    {
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "llmsize",
            Command = "dotnet",
            Arguments = [ServerDll, .. args],
            EnvironmentVariables = environment,
        });
        var client = await McpClient.CreateAsync(transport);
        return new McpServerProcess(client);
    }

    public Task<CallToolResult> CallAsync(string tool, Dictionary<string, object?>? arguments = null) =>
        Client.CallToolAsync(tool, arguments ?? []).AsTask();

    public async ValueTask DisposeAsync() => await Client.DisposeAsync();

    /// <summary>What <c>llmsize ARGS</c> prints on stdout, less the final newline, and its exit code.</summary>
    public static (int Code, string Stdout, string Stderr) RunCli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = LlmSizeApp.Run(args, stdout, stderr, 120);
        return (code, stdout.ToString().TrimEnd('\n', '\r'), stderr.ToString());
    }

    /// <summary>The JSON text block of a result (the second content block).</summary>
    public static string JsonText(CallToolResult result) => ((TextContentBlock)result.Content[1]).Text;

    public static string Summary(CallToolResult result) => ((TextContentBlock)result.Content[0]).Text;

    public static JsonElement Structured(CallToolResult result) =>
        result.StructuredContent is { } s ? JsonSerializer.SerializeToElement(s) : throw new InvalidOperationException("no structured content");
}

/// <summary>One default server (no --allow-path) shared by a test class.</summary>
public sealed class DefaultServer : IAsyncLifetime
{
    public McpServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await McpServerProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
