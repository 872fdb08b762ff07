using LlmSizer.Errors;

namespace LlmSizer.Cli;

/// <summary>The entry point that tests call directly: parses, runs, maps errors to exit codes.</summary>
internal static class LlmSizeApp
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var model = ModelResolver.Resolve(args.Length > 1 ? args[1] : "");
            stdout.WriteLine($"{model.Name}: {model.Inventory.TotalParameters.ToExactString()}");
            return ExitCodes.Success;
        }
        catch (LlmSizerException ex)
        {
            stderr.WriteLine("error: " + ex.Message);
            return ExitCodes.InputError;
        }
    }
}

/// <summary>Process exit codes (DESIGN.md §3).</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int InputError = 1;
    public const int UsageError = 2;
    public const int DoesNotFit = 3;
    public const int NetworkError = 4;
}
