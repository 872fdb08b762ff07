namespace LlmSizer.Tests.Cli;

/// <summary>A mistyped model name gets the closest catalog ids, not the first ones alphabetically; a fine-tune's Hub
/// name resolves to its base model's entry, with a warning that says so.</summary>
public class ModelNameSuggestionTests
{
    [Theory]
    [InlineData("lama-3.1-8b", "llama-3.1-8b")]
    [InlineData("gemma2-9b", "gemma-2-9b")]
    [InlineData("mixtral-8x7", "mixtral-8x7b")]
    [InlineData("Qwen3-8", "qwen3-8b")]
    public void Params_Typo_SuggestsTheClosestIdFirst(string typed, string expected)
    {
        var r = CliRunner.Run("params", typed);

        Assert.Equal(1, r.ExitCode);
        var line = r.StderrLines.Single();
        Assert.Contains("did you mean " + expected, line);
    }

    [Fact]
    public void Params_NothingClose_NamesTheCatalogInstead()
    {
        var r = CliRunner.Run("params", "xyzzy");

        Assert.Equal(1, r.ExitCode);
        Assert.DoesNotContain("did you mean", r.Stderr);
        Assert.Contains("llmsize models", r.Stderr);
    }

    [Theory]
    [InlineData("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b", 8_030_261_248)] // same shapes as meta-llama/Llama-3.1-8B
    [InlineData("google/gemma-2-9b-it", "gemma-2-9b", 9_241_705_984)]
    public void Params_FineTuneName_ResolvesToTheBaseEntryAndSaysSo(string typed, string baseId, long total)
    {
        var r = CliRunner.Run("params", typed, "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"\"total\": {total}", r.Stdout);
        Assert.Contains($"sized as {baseId}", r.Stderr);
    }
}

public class DefaultsErrorTests
{
    [Fact]
    public void Memory_UnknownTorchDtype_IsAnErrorNamingTheField()
    {
        // float128 is no PyTorch dtype: it used to be sized silently as bf16.
        using var dir = new TempDir();
        var config = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "src", "LlmSizer", "Catalog", "Models", "llama-3.1-8b.json"));
        using var doc = System.Text.Json.JsonDocument.Parse(config);
        var text = doc.RootElement.GetProperty("config").GetRawText().Replace("\"bfloat16\"", "\"float128\"", StringComparison.Ordinal);
        var path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, text);

        var r = CliRunner.Run("memory", path);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("torch_dtype: expected float16, bfloat16, float32 or auto; found 'float128'", r.StderrLines.Single());
    }
}
