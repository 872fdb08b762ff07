using System.Reflection;
using LlmSizer.Mcp;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

var (settings, error, help) = ServerSettings.Parse(args);
if (help)
{
    Console.Out.Write(ServerSettings.Usage);
    return 0;
}

if (settings is null)
{
    Console.Error.WriteLine($"llmsize-mcp: {error}");
    Console.Error.Write(ServerSettings.Usage);
    return 2;
}

using var runner = new ToolRunner(settings);
var version = typeof(ToolRunner).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
var options = new McpServerOptions
{
    ServerInfo = new Implementation { Name = "llmsize", Version = version },
    ServerInstructions =
        "LlmSizer counts LLM parameters exactly and estimates GPU memory and deployments, offline. Use models to find a catalog id, " +
        "params for the parameter count, memory for the GPU memory of a workload (sizes in bytes), fit to choose GPUs and engine settings, " +
        "gpus for GPU ids. Settings use the same names and values as the llmsize CLI (context accepts 32k).",
    Capabilities = new ServerCapabilities { Tools = new ToolsCapability { ListChanged = false } },
    Handlers = new McpServerHandlers
    {
        ListToolsHandler = (_, _) => ValueTask.FromResult(runner.List()),
        CallToolHandler = (request, cancellationToken) =>
        {
            var p = request.Params;
            return runner.CallAsync(p?.Name ?? "", p?.Arguments, cancellationToken);
        },
    },
};

await using var transport = new StdioServerTransport(options);
await using var server = McpServer.Create(transport, options);
await server.RunAsync().ConfigureAwait(false);
return 0;
