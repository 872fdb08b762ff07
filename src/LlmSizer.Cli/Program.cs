namespace LlmSizer.Cli;

internal static class Program
{
    public static int Main(string[] args) => LlmSizeApp.Run(args, Console.Out, Console.Error);
}
