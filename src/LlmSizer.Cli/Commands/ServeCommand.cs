using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize serve [--urls URL]</c>: the web page and JSON API. The host is the separate executable
/// <c>llmsize-web</c> (src/LlmSizer.Web), started here as a child process, so the native-AOT <c>llmsize</c> never loads
/// ASP.NET Core and its cold start for params/memory is unchanged (docs/web.md).</summary>
internal sealed class ServeCommand : ICliCommand
{
    /// <summary>The loopback address used when <c>--urls</c> is not given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>The environment variable that points at the <c>llmsize-web</c> executable or <c>llmsize-web.dll</c>.</summary>
    public const string HostVariable = "LLMSIZE_WEB";

    private readonly Option<string?> _urls = new("--urls")
    {
        Description = "Where to listen (default http://127.0.0.1:5080, loopback only); e.g. http://0.0.0.0:8080 to expose it.",
        HelpName = "URL",
    };

    public Command Create(CliContext context)
    {
        var command = new Command("serve", "Serve the web page and JSON API (same JSON as --json) on loopback.");
        command.Options.Add(_urls);
        CommonOptions.AddExamples(command, "llmsize serve", "llmsize serve --urls http://127.0.0.1:8080");
        command.SetAction(parseResult => Execute(context, parseResult.GetValue(_urls) ?? DefaultUrl));
        return command;
    }

    private static int Execute(CliContext context, string urls)
    {
        if (!Uri.TryCreate(urls.Split(';')[0], UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new UsageException($"serve: --urls: expected an http(s) URL such as {DefaultUrl}; found '{urls}'.");
        }

        var start = FindHost() ?? throw new UsageException(
            $"serve: the web host 'llmsize-web' was not found next to llmsize ({AppContext.BaseDirectory}); " +
            $"publish it there (dotnet publish src/LlmSizer.Web -o <llmsize's folder>) or set {HostVariable} to its path.");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(urls);
        start.UseShellExecute = false;
        using var child = Process.Start(start) ?? throw new UsageException("serve: could not start llmsize-web.");
        context.Error.WriteLine($"llmsize serve: {urls} (Ctrl+C to stop)");
        // Ctrl+C in a terminal reaches the child too (same process group); a signal sent to llmsize alone (kill, a
        // supervisor's SIGTERM) is passed on. Either way llmsize waits for the host's clean shutdown.
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Forward(c, child));
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, child));
        child.WaitForExit();
        return child.ExitCode == 0 ? ExitCodes.Success : ExitCodes.InputError;
    }

    private static void Forward(PosixSignalContext signal, Process child)
    {
        signal.Cancel = true;
        if (child.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            child.Kill(entireProcessTree: true);
        }
        else
        {
            _ = NativeMethods.Kill(child.Id, NativeMethods.SigTerm);
        }
    }

    private static class NativeMethods
    {
        public const int SigTerm = 15;

        /// <summary>POSIX kill(2): asks the host to shut down as Ctrl+C would (ASP.NET Core stops on SIGTERM).</summary>
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Kill(int pid, int signal);
    }

    /// <summary>The web host: <c>$LLMSIZE_WEB</c>, else <c>llmsize-web</c> (apphost) or <c>llmsize-web.dll</c> next to
    /// this executable, else the repository's build output (running from a source checkout).</summary>
    private static ProcessStartInfo? FindHost()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } fromEnv)
        {
            candidates.Add(fromEnv);
        }

        var here = AppContext.BaseDirectory;
        candidates.Add(Path.Combine(here, OperatingSystem.IsWindows() ? "llmsize-web.exe" : "llmsize-web"));
        candidates.Add(Path.Combine(here, "llmsize-web.dll"));
        // src/LlmSizer.Cli/bin/<Configuration>/net10.0/ -> src/LlmSizer.Web/bin/<Configuration>/net10.0/
        var dir = new DirectoryInfo(here);
        if (dir.Parent?.Parent?.Parent?.Parent is { } src && dir.Parent.Parent.Name == "bin")
        {
            candidates.Add(Path.Combine(src.FullName, "LlmSizer.Web", "bin", dir.Parent.Name, dir.Name, "llmsize-web.dll"));
        }

        foreach (var path in candidates.Where(File.Exists))
        {
            if (path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            {
                var start = new ProcessStartInfo("dotnet");
                start.ArgumentList.Add(path);
                return start;
            }

            return new ProcessStartInfo(path);
        }

        return null;
    }
}
