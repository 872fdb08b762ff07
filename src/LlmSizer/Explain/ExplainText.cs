using System.Globalization;
using System.Text;

namespace LlmSizer.Explain;

/// <summary>Writes derivations as text lines, the way the post writes its example: the part, its formula, the numbers
/// put in, the product; then the sum. The CLI prints these lines as they are, and docs/method.md is built from them.</summary>
/// <remarks>Every line that holds an equation has the form <c>label: A = B = C</c> (or <c>name = A = B</c>), with any
/// comment after " — "; every side made only of numbers evaluates to the same value (a test parses them back).</remarks>
public static class ExplainText
{
    /// <summary>The separator before a comment on an equation line.</summary>
    public const string CommentSeparator = " — ";

    /// <summary>The lines of a parameter explanation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The lines.</returns>
    public static IReadOnlyList<string> Lines(ParameterExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var lines = new List<string>
        {
            $"{e.Model} ({e.Family}): {N(e.Total.Result)} parameters, derived part by part as the post \"Sizing an LLM: Parameters\" does, for the real architecture",
        };
        foreach (var note in e.Notes)
        {
            lines.Add("note: " + note);
        }

        lines.Add("");
        lines.Add("Symbols (value, and where it comes from):");
        int width = e.Symbols.Select(s => s.Name.Length).DefaultIfEmpty(1).Max();
        foreach (var s in e.Symbols)
        {
            lines.Add($"  {s.Name.PadRight(width)} = {N(s.Value),15}  {s.Meaning}; {s.Source}");
        }

        int step = 0;
        foreach (var d in e.Groups)
        {
            lines.Add("");
            lines.Add($"{++step}. {d.Title} ({d.Name})");
            lines.AddRange(Equation(d));
            foreach (var t in d.Terms)
            {
                var mult = t.Count == 1 ? "" : t.Multiplicity + "·";
                var num = t.Count == 1 ? "" : t.MultiplicitySubstituted + "·";
                var side = mult + t.Formula == num + t.Substituted || num + t.Substituted == t.Total.ToString(CultureInfo.InvariantCulture) ? "" : $" = {num}{t.Substituted}";
                lines.Add($"     {mult}{t.Formula}{side} = {N(t.Total)}{CommentSeparator}{t.Label} [{t.Substituted.Replace("·", ", ", StringComparison.Ordinal)}]{(t.Count == 1 ? "" : " × " + t.Count.ToString(CultureInfo.InvariantCulture))}");
            }

            foreach (var note in d.Notes)
            {
                lines.Add("   trap: " + note);
            }

            if (d.PostFormula is not null)
            {
                lines.Add($"   post's formula: {d.PostFormula} = {d.PostSubstituted} = {N(d.PostValue!.Value)}{CommentSeparator}{PostComparison(d.PostValue.Value, d.PostExact ?? d.Result)}{(d.PostExact is null ? "" : " (against the MLP and the routed experts together)")}");
            }
        }

        lines.Add("");
        lines.Add("Sum");
        lines.Add($"   {e.Total.Name} = {e.Total.Formula} = {e.Total.Substituted} = {N(e.Total.Result)}");
        if (e.Active is { } active)
        {
            lines.Add($"   {active.Name} = {active.Formula} = {active.Substituted} = {N(active.Result)}{CommentSeparator}parameters a token uses");
        }

        if (e.PostTotal is { } post)
        {
            lines.Add($"   post's method: {post.Formula} = {post.Substituted} = {N(post.Result)}{CommentSeparator}{PostComparison(post.Result, e.Total.Result)}");
        }

        return lines;
    }

    /// <summary>The lines of a memory explanation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The lines.</returns>
    public static IReadOnlyList<string> Lines(MemoryExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var lines = new List<string>
        {
            $"{e.Model}: {e.Mode} on {e.Gpus} GPU{(e.Gpus == 1 ? "" : "s")}: each component's formula with this workload's numbers, and where its constants come from",
            "",
            "Assumptions (value, and where it comes from):",
        };
        int width = e.Assumptions.Select(a => a.Name.Length).DefaultIfEmpty(1).Max();
        foreach (var a in e.Assumptions)
        {
            lines.Add($"  {a.Name.PadRight(width)} = {a.Value}  ({a.Source})");
        }

        int step = 0;
        foreach (var d in e.Components)
        {
            lines.Add("");
            lines.Add($"{++step}. {d.Title} ({d.Name})");
            lines.Add($"   {d.Name} = {N(d.Result)} bytes{CommentSeparator}{new Units.ByteSize(d.Result)} per GPU");
            lines.Add("   formula: " + d.Formula);
            if (d.Source is not null)
            {
                lines.Add("   source: " + d.Source);
            }

            foreach (var note in d.Notes)
            {
                lines.Add("   note: " + note);
            }

            if (d.Name == "weights" && e.WeightsByType is { } w)
            {
                lines.Add("   by storage type:");
                lines.Add($"     {w.Name} = {w.Substituted} = {N(w.Result)} bytes{CommentSeparator}{w.Title}");
                foreach (var note in w.Notes)
                {
                    lines.Add("     " + note);
                }
            }

            if (d.Name == "kv_cache" && e.KvPerToken is { } kv)
            {
                lines.Add("   per token:");
                lines.Add($"     {kv.Name} = {kv.Formula} = {kv.Substituted} = {N(kv.Result)} bytes{CommentSeparator}{kv.Title}");
                foreach (var note in kv.Notes)
                {
                    lines.Add("     " + note);
                }

                lines.Add("     source: " + kv.Source);
                if (e.KvPerSequence is { } seq)
                {
                    lines.Add($"     {seq.Name} = {seq.Formula} = {seq.Substituted} = {N(seq.Result)} bytes{CommentSeparator}{seq.Title}");
                }
            }
        }

        lines.Add("");
        lines.Add("Sum (on-device components, one GPU)");
        lines.Add($"   {e.PerGpu.Name} = {e.PerGpu.Formula} = {e.PerGpu.Substituted} = {N(e.PerGpu.Result)} bytes{CommentSeparator}{new Units.ByteSize(e.PerGpu.Result)}");
        if (e.PostRule is { } post)
        {
            lines.Add($"   post's method: {post.Formula} = {post.Substituted} = {N(post.Result)} bytes{CommentSeparator}{post.Title}");
            foreach (var note in post.Notes)
            {
                lines.Add("   " + note);
            }
        }
        return lines;
    }

    /// <summary>The lines of the post's explanation: each step as the post prints it, its formula evaluated, the
    /// erratum at that line, and the exact method beside it; then the exact model's full derivation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The lines.</returns>
    public static IReadOnlyList<string> Lines(SeedExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var lines = new List<string>
        {
            "\"Sizing an LLM: Parameters\", line by line: what the post prints, what its formula gives, the erratum where it applies, and the exact method beside it",
            "The post's model: d = 512 (embedding size), L = 12 layers, H = 8 attention heads, V = 50,000 (vocabulary)",
        };
        int step = 0;
        foreach (var s in e.Steps)
        {
            lines.Add("");
            lines.Add($"{++step}. {s.Title}");
            lines.Add($"   post prints: \"{s.Printed}\"");
            lines.Add($"   post's formula: {s.Post.Formula} = {s.Post.Substituted} = {N(s.Post.Result)}{UnitSuffix(s.Post.Unit)}{CommentSeparator}{(s.Post.Result == s.PrintedValue ? "the printed figure follows" : $"the printed {N(s.PrintedValue)} does not follow")}");
            if (s.Erratum is not null)
            {
                lines.Add("   erratum: " + s.Erratum);
            }

            if (s.ExactNote is not null)
            {
                lines.Add("   " + s.ExactNote);
            }

            foreach (var x in s.Exact)
            {
                var formula = x.Formula.Length > 0 && x.Formula != x.Substituted ? x.Formula + " = " : "";
                var substituted = x.Substituted is null || x.Substituted == N(x.Result) ? "" : x.Substituted + " = ";
                lines.Add($"     {x.Name} = {formula}{substituted}{N(x.Result)}{UnitSuffix(x.Unit)}{CommentSeparator}{x.Title}");
            }
        }

        lines.Add("");
        lines.Add("Errata (as 'llmsize seed' lists them):");
        lines.AddRange(e.Errata.Select(x => " - " + x));
        lines.Add("");
        lines.Add("The exact method, in full: the GPT-2-style model with a tied head");
        lines.Add("");
        lines.AddRange(Lines(e.ExactTied));
        lines.Add("");
        lines.Add("The exact training estimate of that model");
        lines.Add("");
        lines.AddRange(Lines(e.ExactTraining));
        return lines;
    }

    private static string UnitSuffix(string unit) => unit == "parameters" ? "" : " " + unit;

    /// <summary>The equation lines of one derivation: <c>name = formula = substituted = result</c>.</summary>
    /// <param name="d">The derivation.</param>
    /// <returns>One line, or two when the formula alone is long.</returns>
    public static IEnumerable<string> Equation(Derivation d)
    {
        ArgumentNullException.ThrowIfNull(d);
        var sb = new StringBuilder("   ").Append(d.Name).Append(" = ");
        if (d.Formula.Length > 0 && d.Formula != d.Substituted)
        {
            sb.Append(d.Formula).Append(" = ");
        }

        if (d.Substituted is not null && d.Substituted != N(d.Result))
        {
            sb.Append(d.Substituted).Append(" = ");
        }

        sb.Append(N(d.Result));
        if (d.Unit != "parameters")
        {
            sb.Append(' ').Append(d.Unit);
        }

        yield return sb.ToString();
    }

    /// <summary>How the post's figure compares with the exact one, in words.</summary>
    /// <param name="post">The post's figure.</param>
    /// <param name="exact">The exact figure.</param>
    /// <returns>"exact: 1,342,177,280; the post is off by −60.0%".</returns>
    public static string PostComparison(long post, long exact) =>
        exact == 0
            ? post == 0 ? "the same" : $"exact: 0; the post counts {N(post)} that is not there"
            : post == exact ? $"exact: {N(exact)}; the post is right here" : $"exact: {N(exact)}; the post is off by {Percent(post, exact)}";

    /// <summary>(post − exact) / exact as a signed percentage with one decimal: "+12.3%", "−60.0%".</summary>
    /// <param name="post">The post's figure.</param>
    /// <param name="exact">The exact figure (non-zero).</param>
    /// <returns>The percentage text.</returns>
    public static string Percent(long post, long exact)
    {
        double p = (post - (double)exact) * 100.0 / exact;
        var text = Math.Abs(p).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        return (p < 0 ? "−" : "+") + text;
    }

    internal static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
