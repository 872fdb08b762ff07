using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize mcp [--allow-path DIR]... [--allow-hub] [--timeout SECONDS]</c>: an MCP server on stdio. The
/// server is the separate executable <c>llmsize-mcp</c> (src/LlmSizer.Mcp, on the official MCP C# SDK), started here
/// as a child process that inherits stdin, stdout and stderr, so the native-AOT <c>llmsize</c> never references the
/// SDK (docs/mcp.md). Nothing is written to stdout here: it carries the protocol.</summary>
internal sealed class McpCommand : ICliCommand
{
    /// <summary>The environment variable that points at the <c>llmsize-mcp</c> executable or <c>llmsize-mcp.dll</c>.</summary>
    public const string ServerVariable = "LLMSIZE_MCP";

    private const string ServerName = "llmsize-mcp";

    private readonly Option<string[]> _allowPath = new("--allow-path")
    {
        Description = "Let the tools read model files and folders under DIR (repeatable). Default: no path is read; catalog ids and config_json text only.",
        HelpName = "DIR",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<bool> _allowHub = new("--allow-hub")
    {
        Description = "Let tools read hf: ids and http(s) URLs from the Hugging Face Hub (configs and headers only); without it the server uses no network.",
    };

    private readonly Option<string?> _timeout = new("--timeout")
    {
        Description = "Wall-clock limit of one tool call in seconds (default 30, at most 600).",
        HelpName = "SECONDS",
    };

    public Command Create(CliContext context)
    {
        var command = new Command("mcp", "Run an MCP server on stdio (tools: params, memory, fit, gpus, models; the same JSON as --json).");
        command.Options.Add(_allowPath);
        command.Options.Add(_allowHub);
        command.Options.Add(_timeout);
        CommonOptions.AddExamples(command, "llmsize mcp", "llmsize mcp --allow-path ~/models");
        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult p)
    {
        var start = Locate() ?? throw new UsageException(
            $"mcp: the server '{ServerName}' was not found next to llmsize ({AppContext.BaseDirectory}); " +
            $"publish it there (dotnet publish src/LlmSizer.Mcp -o <llmsize's folder>) or set {ServerVariable} to its path.");
        foreach (var dir in p.GetValue(_allowPath) ?? [])
        {
            start.ArgumentList.Add("--allow-path");
            start.ArgumentList.Add(dir);
        }

        if (p.GetValue(_allowHub))
        {
            start.ArgumentList.Add("--allow-hub");
        }

        if (p.GetValue(_timeout) is { } seconds)
        {
            start.ArgumentList.Add("--timeout");
            start.ArgumentList.Add(seconds);
        }

        // No redirection: the server reads the client's stdin and writes the client's stdout itself.
        start.UseShellExecute = false;
        using var server = Process.Start(start) ?? throw new UsageException($"mcp: could not start {ServerName}.");
        context.Error.WriteLine("llmsize mcp: MCP server on stdio (the client closing stdin, or Ctrl+C, stops it)");
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Stop(c, server));
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, server));
        server.WaitForExit();
        return server.ExitCode switch
        {
            0 => ExitCodes.Success,
            2 => ExitCodes.UsageError,
            _ => ExitCodes.InputError,
        };
    }

    /// <summary>Ends the server and lets llmsize return its exit code. The server keeps no state, so it is simply
    /// stopped; it also stops by itself when the client closes stdin.</summary>
    private static void Stop(PosixSignalContext signal, Process server)
    {
        signal.Cancel = true;
        try
        {
            if (!server.HasExited)
            {
                server.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary><c>$LLMSIZE_MCP</c>, else <c>llmsize-mcp</c> (apphost) or <c>llmsize-mcp.dll</c> beside this executable,
    /// else the build output of a source checkout (<c>src/LlmSizer.Mcp/bin/&lt;Configuration&gt;/net10.0/</c>).</summary>
    private static ProcessStartInfo? Locate()
    {
        var paths = new List<string>();
        if (Environment.GetEnvironmentVariable(ServerVariable) is { Length: > 0 } configured)
        {
            paths.Add(configured);
        }

        var baseDir = AppContext.BaseDirectory;
        paths.Add(Path.Combine(baseDir, OperatingSystem.IsWindows() ? ServerName + ".exe" : ServerName));
        paths.Add(Path.Combine(baseDir, ServerName + ".dll"));
        var framework = new DirectoryInfo(baseDir);
        var configuration = framework.Parent;
        if (configuration?.Parent is { Name: "bin" } bin && bin.Parent?.Parent is { } sources)
        {
            paths.Add(Path.Combine(sources.FullName, "LlmSizer.Mcp", "bin", configuration.Name, framework.Name, ServerName + ".dll"));
        }

        var found = paths.FirstOrDefault(File.Exists);
        if (found is null)
        {
            return null;
        }

        if (!found.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            return new ProcessStartInfo(found);
        }

        var viaDotnet = new ProcessStartInfo("dotnet");
        viaDotnet.ArgumentList.Add(found);
        return viaDotnet;
    }
}
