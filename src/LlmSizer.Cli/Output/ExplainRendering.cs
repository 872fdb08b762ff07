namespace LlmSizer.Cli.Output;

/// <summary>Prints the core's explanation lines as they are: plain text, never wrapped, so every equation stays on one
/// line and can be checked by hand (or parsed back).</summary>
internal static class ExplainRendering
{
    public static void Write(TextWriter output, IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
    }
}
