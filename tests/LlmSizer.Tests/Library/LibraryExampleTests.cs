namespace LlmSizer.Tests.Library;

/// <summary>The README's library example (docs/examples/LibraryExample.cs, compiled into this project) runs, prints the
/// published count, and is the same code the README shows.</summary>
public class LibraryExampleTests
{
    [Fact]
    public void Example_Runs_AndPrintsThePublishedCount()
    {
        using var output = new StringWriter();

        LlmSizerExamples.LibraryExample.Run(output);

        var text = output.ToString();
        Assert.Contains("parameters: 8,030,261,248", text); // meta-llama/Llama-3.1-8B safetensors total
        Assert.Contains("fits on one H100: True", text);
        Assert.Contains("vllm serve meta-llama/Llama-3.1-8B --tensor-parallel-size 1 --max-model-len 8192", text);
    }

    [Fact]
    public void Readme_ShowsTheExampleVerbatim()
    {
        var example = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "examples", "LibraryExample.cs")).ReplaceLineEndings("\n");
        var body = string.Join('\n', example.Split('\n').SkipWhile(l => !l.StartsWith("using ", StringComparison.Ordinal))).Trim();
        foreach (var readme in new[] { "README.md", Path.Combine("docs", "nuget", "README.md") })
        {
            var text = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, readme)).ReplaceLineEndings("\n");
            Assert.True(text.Contains(body, StringComparison.Ordinal), $"{readme} does not show docs/examples/LibraryExample.cs verbatim");
        }
    }
}
