namespace LlmSizer.Tests.Cli;

/// <summary>Bad input exits 1 with one line on stderr naming the file/field/flag; usage errors exit 2.</summary>
public class ErrorHandlingTests
{
    private static void AssertOneLineError(CliResult r, params string[] mustContain)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
        foreach (var text in mustContain)
        {
            Assert.Contains(text, line);
        }
    }

    [Fact]
    public void Params_MissingFile_ExitsOneNamingFile()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "nope", "config.json");

        AssertOneLineError(CliRunner.Run("params", missing), missing);
    }

    [Fact]
    public void Params_FolderWithoutConfig_ExitsOneNamingFolder()
    {
        using var dir = new TempDir();

        AssertOneLineError(CliRunner.Run("params", dir.Path), dir.Path);
    }

    [Fact]
    public void Params_InvalidJson_ExitsOneNamingFile()
    {
        using var dir = new TempDir();
        var file = dir.Write("config.json", """{"model_type": "llama", "hidden_size": 4096,,, """);

        AssertOneLineError(CliRunner.Run("params", file), file, "JSON");
    }

    [Fact]
    public void Params_UnknownModelType_ExitsOneListingSupported()
    {
        using var dir = new TempDir();
        var file = dir.Write("config.json", """{"model_type": "not_a_model", "hidden_size": 64}""");

        AssertOneLineError(CliRunner.Run("params", file), file, "model_type", "not_a_model", "llama");
    }

    [Theory]
    [InlineData("-4096")]
    [InlineData("40.5")]
    [InlineData("\"big\"")]
    public void Params_BadIntegerField_ExitsOneNamingField(string value)
    {
        using var dir = new TempDir();
        var file = dir.Write("config.json", $$"""{"model_type": "llama", "hidden_size": {{value}}, "num_attention_heads": 32}""");

        AssertOneLineError(CliRunner.Run("params", file), file, "hidden_size");
    }

    [Fact]
    public void Params_HeadsNotDividingHidden_ExitsOneNamingField()
    {
        using var dir = new TempDir();
        var file = dir.Write("config.json", """{"model_type": "llama", "hidden_size": 100, "num_attention_heads": 7}""");

        AssertOneLineError(CliRunner.Run("params", file), file, "num_attention_heads");
    }

    [Theory]
    [InlineData("--layers", "-3")]
    [InlineData("--layers", "abc")]
    [InlineData("--hidden", "0")]
    public void Params_ManualBadNumber_ExitsOneNamingFlag(string flag, string value)
    {
        var args = new List<string> { "params", "--layers", "12", "--hidden", "512", "--heads", "8", "--vocab", "50000" };
        var i = args.IndexOf(flag);
        args[i + 1] = value;

        AssertOneLineError(CliRunner.Run([.. args]), flag);
    }

    [Fact]
    public void Params_ManualHeadsNotDividingHidden_ExitsOneNamingFlag()
    {
        AssertOneLineError(CliRunner.Run("params", "--layers", "2", "--hidden", "100", "--heads", "7", "--vocab", "10"), "--heads", "100");
    }

    [Fact]
    public void Params_ManualKvHeadsNotDividingHeads_ExitsOneNamingFlag()
    {
        AssertOneLineError(CliRunner.Run("params", "--layers", "2", "--hidden", "64", "--heads", "8", "--kv-heads", "3", "--vocab", "10"), "--kv-heads");
    }

    [Fact]
    public void Params_ManualMissingRequired_ExitsOneNamingFlag()
    {
        AssertOneLineError(CliRunner.Run("params", "--layers", "2", "--hidden", "64", "--heads", "8"), "--vocab");
    }

    [Fact]
    public void Params_UnknownCatalogId_ExitsOne()
    {
        AssertOneLineError(CliRunner.Run("params", "no-such-model-7b"), "no-such-model-7b");
    }

    [Fact]
    public void Verbose_BadInput_PrintsStackTrace()
    {
        var r = CliRunner.Run("params", "no-such-model-7b", "--verbose");

        Assert.Equal(1, r.ExitCode);
        Assert.True(r.StderrLines.Length > 1);
    }

    [Theory]
    [InlineData("params", "llama-3.1-8b", "--no-such-flag")]
    [InlineData("params", "--no-such-flag")]
    [InlineData("no-such-command")]
    [InlineData("seed", "--json", "extra")]
    [InlineData("params", "--norm", "batchnorm", "--layers", "1", "--hidden", "8", "--heads", "1", "--vocab", "4")]
    public void UnknownFlagOrCommand_ExitsTwoWithOneLineAndNoHelpOnStdout(params string[] args)
    {
        var r = CliRunner.Run(args);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: ", line);
    }

    [Fact]
    public void Params_NoModelNoFlags_ExitsTwo()
    {
        var r = CliRunner.Run("params");

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
    }

    [Fact]
    public void Params_ModelAndManualFlags_ExitsTwo()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b", "--layers", "2");

        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.StderrLines);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("params", "--help")]
    [InlineData("seed", "-h")]
    [InlineData("models", "--help")]
    public void Help_PrintsUsage_ExitsZero(params string[] args)
    {
        var r = CliRunner.Run(args);

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Stdout);
        Assert.Equal("", r.Stderr);
    }
}
