using System.CommandLine;

namespace LlmSizer.Cli.Commands;

// How to add a command
// --------------------
// 1. Create src/LlmSizer.Cli/Commands/<Name>Command.cs with an `internal sealed class <Name>Command : ICliCommand`.
//    Its Create(CliContext context) builds a System.CommandLine `Command`: add options with `command.Options.Add(...)`
//    (reuse CommonOptions.Json() for --json and CommonOptions.ModelArgument() for <MODEL>), then
//    `command.SetAction(parseResult => Execute(context, parseResult...))` returning an exit code from ExitCodes.
// 2. Write results to context.Out: tables through context.Console (Spectre IAnsiConsole over stdout), JSON through
//    Output.JsonOutput.Write(context.Out, writer => ...) with snake_case names (DESIGN.md §4; never rename a field).
// 3. Do not catch exceptions: throw the library's LlmSizerException subclasses (InvalidSettingException naming the
//    flag for a bad flag value) and LlmSizeApp.Run maps them to "error: ..." on stderr and exit code 1. Throw
//    UsageException for argument combinations that make no sense (exit 2). Return ExitCodes.DoesNotFit (3) for a
//    "no" answer from a check. No formulas in the CLI: compute in src/LlmSizer and only render here.
// 4. Add one line `() => new <Name>Command(),` to Factories below (the order is the order in `llmsize --help`).
//    Commands are built fresh for every run: no option instance is shared between runs or threads.
// 5. Test it through the real entry point: LlmSizeApp.Run(args, stdout, stderr, consoleWidth: 120) in
//    tests/LlmSizer.Tests/Cli/ (see CliRunner there).

/// <summary>The list of <c>llmsize</c> subcommands and the root command that holds them.</summary>
internal static class CommandRegistry
{
    /// <summary>The name of the global flag that adds stack traces to error output.</summary>
    public const string VerboseFlag = "--verbose";

    /// <summary>The factory of every subcommand, in help order.</summary>
    private static readonly Func<ICliCommand>[] Factories =
    [
        () => new ParamsCommand(),
        () => new MemoryCommand(),
        () => new FitCommand(),
        () => new ModelsCommand(),
        () => new GpusCommand(),
        () => new SeedCommand(),
        () => new CompletionCommand(),
        () => new ServeCommand(),
        () => new McpCommand(),
    ];

    /// <summary>New instances of every subcommand, in help order.</summary>
    /// <returns>The commands.</returns>
    public static IReadOnlyList<ICliCommand> CreateAll() => [.. Factories.Select(f => f())];

    /// <summary>Builds the root command with every subcommand bound to <paramref name="context"/>.</summary>
    /// <param name="context">Where the commands write.</param>
    /// <param name="commands">The subcommands (default: new instances from <see cref="CreateAll"/>).</param>
    /// <returns>The root command.</returns>
    public static RootCommand BuildRoot(CliContext context, IReadOnlyList<ICliCommand>? commands = null)
    {
        var root = new RootCommand("llmsize: exact LLM parameter counts and GPU memory estimates.");
        root.Options.Add(new Option<bool>(VerboseFlag) { Description = "Print stack traces with errors.", Recursive = true });
        // Handled before parsing (LlmSizeApp.Run); declared here so it appears in every command's help.
        root.Options.Add(new Option<string?>("--output", "-o") { Description = "Write the output (tables or JSON) to FILE instead of stdout.", HelpName = "FILE", Recursive = true });
        CommonOptions.AddExamples(root,
            "llmsize fit llama-3.1-8b --gpu rtx-4090 --context 8192",
            "llmsize params meta-llama/Llama-3.1-8B-Instruct",
            "llmsize memory qwen3-8b --engine llamacpp --dtype q4_k_m --context 32k");
        foreach (var command in commands ?? CreateAll())
        {
            root.Subcommands.Add(command.Create(context));
        }

        return root;
    }
}

/// <summary>One <c>llmsize</c> subcommand.</summary>
internal interface ICliCommand
{
    /// <summary>Builds the System.CommandLine command, with its action bound to <paramref name="context"/>.</summary>
    /// <param name="context">Where the command writes.</param>
    /// <returns>The command.</returns>
    Command Create(CliContext context);
}

/// <summary>Options and arguments that several commands share, so their names and help stay identical.</summary>
internal static class CommonOptions
{
    /// <summary>The <c>--json</c> flag: machine-readable output on stdout (DESIGN.md §4).</summary>
    /// <returns>A new option instance.</returns>
    public static Option<bool> Json() => new("--json") { Description = "Write JSON (stable snake_case names) instead of tables." };

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, string[]> Examples = [];

    /// <summary>Ends a command's help with real examples (printed after the options by <see cref="ExamplesOf"/>).</summary>
    /// <param name="command">The command.</param>
    /// <param name="examples">Two to four command lines that work as written.</param>
    public static void AddExamples(Command command, params string[] examples) => Examples.AddOrUpdate(command, examples);

    /// <summary>The examples section of a command's help, or null.</summary>
    /// <param name="command">The command.</param>
    /// <returns>The text.</returns>
    public static string? ExamplesOf(Command command) => Examples.TryGetValue(command, out var examples)
        ? "Examples:" + string.Concat(examples.Select(e => Environment.NewLine + "  " + e)) + Environment.NewLine
        : null;

    /// <summary>The <c>--refresh</c> flag of commands that take a MODEL.</summary>
    /// <returns>A new option instance.</returns>
    public static Option<bool> Refresh() => new("--refresh") { Description = "For hf: ids and URLs: fetch configs and headers again, ignoring the Hugging Face cache and llmsize's header cache." };

    /// <summary>The <c>&lt;MODEL&gt;</c> argument.</summary>
    /// <param name="optional">True when manual flags may replace it.</param>
    /// <returns>A new argument instance.</returns>
    public static Argument<string?> ModelArgument(bool optional = false) => new("MODEL")
    {
        Description = "A catalog id (see 'llmsize models'), a config.json, a model folder, a .safetensors file or index, a .gguf file, hf:org/name[@rev][/file] or hf:org/name-GGUF:Q4_K_M (the Hub, headers only), or an http(s) URL of a .gguf/.safetensors file.",
        Arity = optional ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
    };
}
