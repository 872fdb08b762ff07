using Spectre.Console;

namespace LlmSizer.Cli;

/// <summary>What every command writes to: stdout (text and JSON), stderr, and a Spectre console over stdout for
/// tables. Tests pass <see cref="StringWriter"/>s and a fixed width.</summary>
internal sealed class CliContext
{
    private readonly Lazy<IAnsiConsole> _console;

    public CliContext(TextWriter stdout, TextWriter stderr, int? consoleWidth = null)
    {
        Out = stdout;
        Error = stderr;
        _console = new Lazy<IAnsiConsole>(() =>
        {
            var redirected = consoleWidth is not null || !ReferenceEquals(stdout, System.Console.Out) || System.Console.IsOutputRedirected;
            // NO_COLOR (no-color.org): any non-empty value turns colour off; tables keep their layout.
            bool noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(stdout),
                Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
                ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
                Interactive = InteractionSupport.No,
            });
            if (consoleWidth is int width)
            {
                console.Profile.Width = width;
            }
            else if (redirected)
            {
                // Piped output: a width wide enough for tensor names, and stable.
                console.Profile.Width = 160;
            }

            return console;
        });
    }

    /// <summary>How <c>hf:</c> ids and URLs are read (tests point the environment at a loopback server).</summary>
    public Hub.HubLoadOptions HubOptions { get; init; } = new();

    /// <summary>Standard output.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>A Spectre console writing to <see cref="Out"/>, for tables.</summary>
    public IAnsiConsole Console => _console.Value;
}
