namespace LlmSizer.Cli.Output;

/// <summary>Writes JSON documents of the contract (serialized by the core's source-generated
/// <see cref="Contract.LlmSizerJsonContext"/>: no reflection, NativeAOT-clean).</summary>
internal static class JsonOutput
{
    /// <summary>Writes one JSON document, followed by a newline, to <paramref name="output"/>.</summary>
    /// <param name="output">The writer (stdout).</param>
    /// <param name="json">The document.</param>
    public static void Write(TextWriter output, string json) => output.WriteLine(json);
}
