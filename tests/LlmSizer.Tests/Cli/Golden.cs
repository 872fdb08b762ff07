namespace LlmSizer.Tests.Cli;

/// <summary>Compares console output with a golden file under tests/LlmSizer.Tests/Cli/Expectations. Golden files pin the
/// layout only; the numbers in them are asserted against independent sources in other tests. Set
/// LLMSIZER_UPDATE_GOLDEN=1 to rewrite the files from the current output (then review the diff).</summary>
internal static class Golden
{
    public static void Match(string actual, string name)
    {
        var path = Path.Combine(TestPaths.RepoRoot, "tests", "LlmSizer.Tests", "Cli", "Expectations", name + ".txt");
        var normalized = Normalize(actual);
        if (Environment.GetEnvironmentVariable("LLMSIZER_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, normalized);
            return;
        }

        Assert.True(File.Exists(path), $"golden file {path} is missing; run the test with LLMSIZER_UPDATE_GOLDEN=1 to create it");
        var expected = Normalize(File.ReadAllText(path));
        if (expected == normalized)
        {
            return;
        }

        var e = expected.Split('\n');
        var a = normalized.Split('\n');
        var line = 0;
        while (line < e.Length && line < a.Length && e[line] == a[line])
        {
            line++;
        }

        Assert.Fail($"{name}: output differs from {path} at line {line + 1}:\n expected: {(line < e.Length ? e[line] : "<end>")}\n actual:   {(line < a.Length ? a[line] : "<end>")}");
    }

    private static string Normalize(string text) =>
        string.Join('\n', text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.TrimEnd())).TrimEnd() + "\n";
}
