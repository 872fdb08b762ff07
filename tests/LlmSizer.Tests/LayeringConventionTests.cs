using System.Text.RegularExpressions;

namespace LlmSizer.Tests;

/// <summary>Source-level checks of the layering (DESIGN.md §1): the core speaks logical settings, never a front end's
/// flags; the CLI parses flags and renders, and does no arithmetic on model quantities.</summary>
public partial class LayeringConventionTests
{
    /// <summary>Files of the core exempt from rule 1: none. Other programs' flags (vllm serve, llama-server, nvidia-smi)
    /// live in the data file Fit/engine-command-lines.json, not in C# literals.</summary>
    private static readonly string[] OtherProgramsCommandLines = [];

    /// <summary>Rule 1: no string literal in src/LlmSizer starts with "--" followed by a letter (a CLI flag such as
    /// "--context"). Errors name logical
    /// settings (<c>context</c>, <c>tensor_parallel</c>); each front end maps them to its own vocabulary.</summary>
    [Fact]
    public void Core_MentionsNoCliFlag()
    {
        var offenders = SourceFiles("src/LlmSizer")
            .Where(f => !OtherProgramsCommandLines.Any(o => f.EndsWith(o, StringComparison.Ordinal)))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line)))
            .Where(x => FlagLiteral().IsMatch(StripComment(x.line)))
            .Select(x => $"{Path.GetRelativePath(TestPaths.RepoRoot, x.f)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();

        Assert.True(offenders.Count == 0, "CLI flags in the core:\n" + string.Join('\n', offenders));
    }

    /// <summary>Rule 2: the CLI does no arithmetic on model quantities. In src/LlmSizer.Cli, outside comments and string
    /// literals, there is no multiplication, division or modulo operator, no checked(...) block, no rounding
    /// (Math.Round/Ceiling/Floor) and no summing (.Sum(/.Aggregate(): every number it prints comes from the core.
    /// Layout arithmetic with + and - (a column width, Math.Min of a width) stays allowed.</summary>
    [Fact]
    public void Cli_DoesNoArithmeticOnModelQuantities()
    {
        var offenders = new List<string>();
        foreach (var file in SourceFiles("src/LlmSizer.Cli"))
        {
            int n = 0;
            bool inRawString = false; // inside a multi-line """raw string""": text, not code
            foreach (var raw in File.ReadLines(file))
            {
                n++;
                int quotes = System.Text.RegularExpressions.Regex.Count(raw, "\"\"\"");
                if (inRawString || quotes > 0)
                {
                    inRawString ^= quotes % 2 == 1;
                    continue;
                }

                var code = StripStrings(StripComment(raw));
                if (Arithmetic().IsMatch(code))
                {
                    offenders.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{n}: {raw.Trim()}");
                }
            }
        }

        Assert.True(offenders.Count == 0, "arithmetic in the CLI:\n" + string.Join('\n', offenders));
    }

    [Fact]
    public void Rules_CatchWhatTheyForbid()
    {
        // The checks above must be able to fail: the patterns match the forms they forbid.
        Assert.Matches(FlagLiteral(), "throw new InvalidSettingException(\"--tp\", \"--tp: expected\");");
        Assert.DoesNotMatch(FlagLiteral(), "var parts = leaf.Split(\"--\");");
        Assert.Matches(Arithmetic(), StripStrings("long share = part * 100 / whole;"));
        Assert.Matches(Arithmetic(), "var total = rows.Sum(r => r.Bytes);");
        Assert.Matches(Arithmetic(), "x = checked(a + b);");
        Assert.DoesNotMatch(Arithmetic(), StripStrings("console.MarkupLine($\"[bold]{name}[/] x/y\");"));
        Assert.DoesNotMatch(Arithmetic(), StripComment("int w = width - 2; // a * b"));
    }

    private static IEnumerable<string> SourceFiles(string relative) =>
        Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, relative), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                     && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    private static string StripComment(string line)
    {
        var t = line.TrimStart();
        if (t.StartsWith("//", StringComparison.Ordinal) || t.StartsWith('*') || t.StartsWith("/*", StringComparison.Ordinal))
        {
            return "";
        }

        int i = line.IndexOf(" // ", StringComparison.Ordinal);
        return i < 0 ? line : line[..i];
    }

    private static string StripStrings(string line) => StringLiteral().Replace(line, "\"\"");

    [GeneratedRegex("\"--[A-Za-z]")]
    private static partial Regex FlagLiteral();

    [GeneratedRegex(@"[\w\)\]]\s*[*/%]\s*[\w\(]|\bchecked\s*\(|Math\.(Round|Ceiling|Floor)\b|\.Sum\(|\.Aggregate\(")]
    private static partial Regex Arithmetic();

    [GeneratedRegex("\\$?@?\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();
}
