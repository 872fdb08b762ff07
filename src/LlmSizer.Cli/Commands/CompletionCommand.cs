using System.CommandLine;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize completion bash|zsh|fish|pwsh</c>: prints a shell completion script. Every script asks
/// <c>llmsize</c> itself for suggestions through System.CommandLine's <c>[suggest:N]</c> directive (which the native
/// binary supports too), so completions always match the installed version's commands, flags and values.</summary>
internal sealed class CompletionCommand : ICliCommand
{
    private static readonly string[] Shells = ["bash", "zsh", "fish", "pwsh"];

    private readonly Argument<string> _shell = new("SHELL") { Description = "bash | zsh | fish | pwsh" };

    public Command Create(CliContext context)
    {
        var command = new Command("completion", "Print a shell completion script for bash, zsh, fish or PowerShell.");
        _shell.AcceptOnlyFromAmong(Shells);
        command.Arguments.Add(_shell);
        CommonOptions.AddExamples(command,
            "llmsize completion bash >> ~/.bashrc",
            "llmsize completion zsh > \"${fpath[1]}/_llmsize\"",
            "llmsize completion fish > ~/.config/fish/completions/llmsize.fish",
            "llmsize completion pwsh >> $PROFILE");
        command.SetAction(parseResult =>
        {
            context.Out.Write(Script(parseResult.GetValue(_shell)!));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The script for a shell.</summary>
    /// <param name="shell">bash, zsh, fish or pwsh.</param>
    /// <returns>The script.</returns>
    internal static string Script(string shell) => shell switch
    {
        "bash" => """
            # llmsize bash completion: asks llmsize for suggestions ([suggest:N] directive).
            _llmsize_complete() {
              local IFS=$'\n'
              COMPREPLY=( $(llmsize "[suggest:${COMP_POINT}]" "${COMP_LINE}" 2>/dev/null) )
            }
            complete -o default -F _llmsize_complete llmsize

            """,
        "zsh" => """
            #compdef llmsize
            # llmsize zsh completion: asks llmsize for suggestions ([suggest:N] directive).
            _llmsize() {
              local -a suggestions
              suggestions=("${(@f)$(llmsize "[suggest:${#BUFFER}]" "$BUFFER" 2>/dev/null)}")
              compadd -a suggestions
            }
            compdef _llmsize llmsize

            """,
        "fish" => """
            # llmsize fish completion: asks llmsize for suggestions ([suggest:N] directive).
            function __llmsize_complete
                set -l line (commandline -cp)
                llmsize "[suggest:"(string length -- $line)"]" "$line" 2>/dev/null
            end
            complete -c llmsize -f -a '(__llmsize_complete)'

            """,
        _ => """
            # llmsize PowerShell completion: asks llmsize for suggestions ([suggest:N] directive).
            Register-ArgumentCompleter -Native -CommandName llmsize -ScriptBlock {
                param($wordToComplete, $commandAst, $cursorPosition)
                llmsize "[suggest:$cursorPosition]" "$commandAst" 2>$null | ForEach-Object {
                    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
                }
            }

            """,
    };
}
