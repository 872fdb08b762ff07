namespace LlmSizer.Tests;

/// <summary>Locates the repository and the optional shared samples folder (../shared/samples beside the checkout).</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared samples folder, or null when this checkout has none beside it.</summary>
    public static string? SharedSamples
    {
        get
        {
            var dir = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "samples"));
            return Directory.Exists(dir) ? dir : null;
        }
    }

    public static string SpecsDir => Path.Combine(AppContext.BaseDirectory, "Specs");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LlmSizer.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("LlmSizer.slnx not found above " + AppContext.BaseDirectory);
    }
}
