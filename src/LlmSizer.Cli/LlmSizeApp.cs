using System.CommandLine;
using System.CommandLine.Invocation;
using LlmSizer.Cli.Commands;
using LlmSizer.Errors;

namespace LlmSizer.Cli;

/// <summary>The entry point that tests call directly: builds the commands, parses, runs, and maps errors to exit
/// codes. This is the only place that catches exceptions (house style C.6: one catch at the edge).</summary>
internal static class LlmSizeApp
{
    /// <summary>Runs <c>llmsize</c> with the given arguments.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="stdout">Where results go (tables, JSON).</param>
    /// <param name="stderr">Where errors go (one line each).</param>
    /// <param name="consoleWidth">A fixed table width (tests), or null to detect the terminal.</param>
    /// <returns>The process exit code (see <see cref="ExitCodes"/>).</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, int? consoleWidth = null) =>
        Run(args, stdout, stderr, consoleWidth, CommandRegistry.CreateAll());

    /// <summary>Runs <c>llmsize</c> with a given command list (tests substitute commands with fake model sources).</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="consoleWidth">A fixed table width, or null to detect.</param>
    /// <param name="commands">The subcommands.</param>
    /// <returns>The process exit code.</returns>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, int? consoleWidth, IReadOnlyList<ICliCommand> commands) =>
        Run(args, stdout, stderr, consoleWidth, commands, null);

    /// <summary>Runs <c>llmsize</c> with given Hub options (tests pass an environment pointing at a loopback server
    /// instead of changing the process's environment variables).</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="consoleWidth">A fixed table width, or null to detect.</param>
    /// <param name="commands">The subcommands.</param>
    /// <param name="hub">How hf: ids are read (default: from the process environment).</param>
    /// <returns>The process exit code.</returns>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, int? consoleWidth, IReadOnlyList<ICliCommand> commands, Hub.HubLoadOptions? hub)
    {
        // --output FILE (any command): write what would go to stdout into FILE instead; errors still go to stderr.
        int o = Array.FindIndex(args, a => a is "--output" or "-o");
        if (o >= 0)
        {
            if (o + 1 >= args.Length || args[o + 1].StartsWith('-'))
            {
                stderr.WriteLine("error: --output: expected a file path; found none. (see 'llmsize --help')");
                return ExitCodes.UsageError;
            }

            var path = args[o + 1];
            var rest = args.Where((_, i) => i != o && i != o + 1).ToArray();
            StreamWriter file;
            try
            {
                file = new StreamWriter(path, append: false, new System.Text.UTF8Encoding(false));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine("error: --output: " + OneLine(ex.Message));
                return ExitCodes.InputError;
            }

            using (file)
            {
                return Run(rest, file, stderr, consoleWidth ?? 160, commands, hub);
            }
        }

        var context = new CliContext(stdout, stderr, consoleWidth) { HubOptions = hub ?? new Hub.HubLoadOptions() };
        var root = CommandRegistry.BuildRoot(context, commands);
        var verbose = args.Contains(CommandRegistry.VerboseFlag, StringComparer.Ordinal);
        try
        {
            var parseResult = root.Parse(args);
            if (parseResult.Action is ParseErrorAction parseError)
            {
                // The default action prints the whole help to stdout, which breaks --json pipelines: print one line
                // on stderr instead and leave help to --help.
                parseError.ShowHelp = false;
                var first = parseResult.Errors.OrderBy(e => e.Message.StartsWith("Required", StringComparison.Ordinal) ? 1 : 0).Select(e => e.Message).FirstOrDefault() ?? "invalid arguments";
                first = string.Join(' ', first.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                stderr.WriteLine($"error: {OneLine(first)} (see 'llmsize {CommandPath(parseResult)}--help')");
                return ExitCodes.UsageError;
            }

            int code = parseResult.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            });
            if (parseResult.Action is System.CommandLine.Help.HelpAction && CommonOptions.ExamplesOf(parseResult.CommandResult.Command) is { } examples)
            {
                stdout.Write(examples); // help ends with real examples
            }

            return code;
        }
        catch (UsageException ex)
        {
            stderr.WriteLine("error: " + OneLine(ex.Message));
            return ExitCodes.UsageError;
        }
        catch (InvalidSettingException ex)
        {
            // The core names logical settings (tensor_parallel); the command line shows its own flags (--tp).
            return Fail(stderr, CliSettings.Message(ex), ex, verbose, ExitCodes.InputError);
        }
        catch (RemoteModelException ex)
        {
            // The Hub or a URL's server refused, failed or could not be reached (the message never holds the token).
            return Fail(stderr, ex, verbose, ExitCodes.NetworkError);
        }
        catch (LlmSizerException ex)
        {
            return Fail(stderr, ex, verbose, ExitCodes.InputError);
        }
        catch (IOException ex)
        {
            return Fail(stderr, ex, verbose, ExitCodes.InputError);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Fail(stderr, ex, verbose, ExitCodes.InputError);
        }
        catch (HttpRequestException ex)
        {
            return Fail(stderr, ex, verbose, ExitCodes.NetworkError);
        }
    }

    private static int Fail(TextWriter stderr, Exception ex, bool verbose, int code) => Fail(stderr, ex.Message, ex, verbose, code);

    private static int Fail(TextWriter stderr, string message, Exception ex, bool verbose, int code)
    {
        stderr.WriteLine("error: " + OneLine(message));
        if (verbose)
        {
            stderr.WriteLine(ex.ToString());
        }

        return code;
    }

    private static string CommandPath(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var r = parseResult.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
        {
            if (r.Parent is not null)
            {
                names.Insert(0, r.Command.Name);
            }
        }

        return names.Count == 0 ? "" : string.Join(' ', names) + " ";
    }

    /// <summary>The longest error line printed; longer messages (an echoed 1 MiB argument) are cut.</summary>
    private const int MaxMessageLength = 500;

    /// <summary>Keeps a message to one safe line: the first line only (library messages are one line already; .NET I/O
    /// messages may not be), control characters (ANSI escapes from an echoed argument) dropped, and long text cut.</summary>
    private static string OneLine(string message)
    {
        var i = message.IndexOfAny(['\r', '\n']);
        var line = i < 0 ? message : message[..i];
        var clean = new System.Text.StringBuilder(Math.Min(line.Length, MaxMessageLength + 1));
        foreach (var c in line)
        {
            if (clean.Length == MaxMessageLength)
            {
                clean.Append('…');
                break;
            }

            if (!char.IsControl(c))
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }
}

/// <summary>Process exit codes (DESIGN.md §3).</summary>
internal static class ExitCodes
{
    /// <summary>The command did its job.</summary>
    public const int Success = 0;

    /// <summary>Bad input: a file, config field or flag value; one line on stderr names it.</summary>
    public const int InputError = 1;

    /// <summary>Usage error: unknown flag, missing argument, bad combination of arguments.</summary>
    public const int UsageError = 2;

    /// <summary>A check answered "no": the model does not fit, or <c>--check</c> found mismatching tensors.</summary>
    public const int DoesNotFit = 3;

    /// <summary>A network or remote error.</summary>
    public const int NetworkError = 4;
}

/// <summary>A usage error found after parsing (e.g. neither a MODEL nor manual flags): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
