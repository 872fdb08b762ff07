namespace LlmSizer.Tests.Cli;

public class GoldenOutputTests
{
    [Fact]
    public void Seed_Table_MatchesGolden()
    {
        var r = CliRunner.Run("seed");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Seed/Table");
    }

    [Fact]
    public void Params_Llama31_8B_Table_MatchesGolden()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b");

        Assert.Equal(0, r.ExitCode);
        Golden.Match(r.Stdout, "Params/Llama31_8B");
    }
}
