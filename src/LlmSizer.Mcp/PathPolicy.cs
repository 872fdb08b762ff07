namespace LlmSizer.Mcp;

/// <summary>Decides whether a path given to a tool may be read: only under a folder the server was started with
/// (<c>--allow-path</c>), after resolving <c>..</c> and symbolic links, so neither can step outside.</summary>
internal static class PathPolicy
{
    private static readonly StringComparison Comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase
        : StringComparison.Ordinal;

    /// <summary>True when <paramref name="path"/> (full, links resolved) is one of <paramref name="roots"/> or inside one.</summary>
    /// <param name="path">The path as given (relative paths are taken from the server's working folder).</param>
    /// <param name="roots">The allowed folders, full and resolved.</param>
    /// <returns>True when allowed.</returns>
    public static bool IsAllowed(string path, IReadOnlyList<string> roots)
    {
        if (roots.Count == 0)
        {
            return false;
        }

        string real;
        try
        {
            real = RealPath(Path.GetFullPath(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }

        return roots.Any(root => Inside(real, root));
    }

    /// <summary>Resolves every symbolic link along a full path, component by component.</summary>
    /// <param name="fullPath">A full path.</param>
    /// <returns>The path with no link in it (components that do not exist are kept as they are).</returns>
    public static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "";
        var current = root;
        var parts = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                next = target is null ? next : RealPath(Path.GetFullPath(target.FullName));
            }

            current = next;
        }

        return current;
    }

    private static bool Inside(string path, string root)
    {
        var r = Path.TrimEndingDirectorySeparator(root);
        return path.Equals(r, Comparison)
            || path.StartsWith(r + Path.DirectorySeparatorChar, Comparison)
            || (r.Length == Path.GetPathRoot(r)?.Length && path.StartsWith(r, Comparison));
    }
}
