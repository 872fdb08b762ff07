using System.Globalization;
using System.Text;
using LlmSizer.Memory;

namespace LlmSizer.Explain;

/// <summary>Writes docs/method.md, the reader's guide to the method: the post's simplified formulas, why each is off for
/// real models with the size of the error on five of them, and the exact formulas, all from the same derivations that
/// <c>--explain</c> prints (a test regenerates the file and compares).</summary>
public static class MethodGuide
{
    /// <summary>The five models the guide measures the post's error on.</summary>
    public static IReadOnlyList<string> Models { get; } = ["llama-3.1-8b", "mixtral-8x7b", "gemma-2-9b", "deepseek-v3", "gpt2"];

    /// <summary>Renders the guide as Markdown: the prose of the embedded template <c>Explain/method-guide.md</c> (which
    /// quotes the commands a reader runs), with its <c>{{errors}}</c>, <c>{{exact}}</c> and <c>{{kv}}</c> lines replaced
    /// by the numbers the derivations give.</summary>
    /// <returns>The text of docs/method.md.</returns>
    public static string Render()
    {
        var explained = Models.Select(m => ParameterDerivations.Explain(Sizer.Load(m))).ToList();
        var sb = new StringBuilder();
        void L(string line = "") => sb.Append(line).Append('\n');

        var blocks = new Dictionary<string, Action>(StringComparer.Ordinal)
        {
            ["{{errors}}"] = () =>
            {
                foreach (var e in explained)
                {
                    foreach (var (part, post, exact) in Parts(e))
                    {
                        L($"| {e.Model} | {part} | {N(post)} | {N(exact)} | {(exact == 0 ? "not there" : post == 0 ? "none in the post" : ExplainText.Percent(post, exact))} |");
                    }
                }
            },
            ["{{exact}}"] = () =>
            {
                foreach (var e in explained)
                {
                    Exact(e, L);
                }
            },
            ["{{kv}}"] = () =>
            {
                foreach (var model in Models)
                {
                    var info = Sizer.Load(model);
                    var kv = MemoryDerivations.Explain(info, MemoryEstimator.Estimate(PreparedModel.For(info), new Workload { Format = Quantization.WeightFormat.BF16, KvType = DataTypes.DataType.BF16 })).KvPerToken;
                    if (kv is not null)
                    {
                        L($"{model}: {kv.Formula} = {kv.Substituted} = {N(kv.Result)} bytes");
                    }
                }
            },
        };

        var template = Template.Value.Split('\n');
        for (int i = 0; i < template.Length; i++)
        {
            if (blocks.TryGetValue(template[i], out var block))
            {
                block();
            }
            else if (i < template.Length - 1 || template[i].Length > 0)
            {
                L(template[i]);
            }
        }

        return sb.ToString();
    }

    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(MethodGuide).Assembly.GetManifestResourceStream("LlmSizer.Explain.method-guide.md")
            ?? throw new InvalidOperationException("The embedded resource LlmSizer.Explain.method-guide.md is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().ReplaceLineEndings("\n");
    });

    /// <summary>One model's exact derivation: symbols, each group's equation, the sum, the active count, the traps.</summary>
    private static void Exact(ParameterExplanation e, Action<string> line)
    {
        void L(string text = "") => line(text);
        L();
        L($"### {e.Model} ({N(e.Total.Result)} parameters)");
        L();
        L("```text");
        foreach (var s in e.Symbols)
        {
            L($"{s.Name} = {N(s.Value)}  ({s.Meaning}; {s.Source})");
        }

        L();
        foreach (var d in e.Groups)
        {
            foreach (var eq in ExplainText.Equation(d))
            {
                L(eq.TrimStart());
            }
        }

        L($"{e.Total.Name} = {e.Total.Formula} = {N(e.Total.Result)}");
        if (e.Active is { } active)
        {
            L($"{active.Name} = {active.Formula} = {active.Substituted} = {N(active.Result)}");
        }

        L("```");
        var traps = e.Groups.SelectMany(g => g.Notes.Select(n => (g.Name, n))).ToList();
        if (traps.Count > 0)
        {
            L();
            foreach (var (group, note) in traps)
            {
                L($"- {group}: {note}");
            }
        }
    }

    private static IEnumerable<(string Part, long Post, long Exact)> Parts(ParameterExplanation e)
    {
        Derivation? G(string name) => e.Groups.FirstOrDefault(g => g.Name == name);
        long R(string name) => G(name)?.Result ?? 0;
        var embedding = G("embedding");
        var attention = G("attention");
        var ff = G("experts") ?? G("mlp");
        var head = G("lm_head");
        if (embedding?.PostValue is { } pe)
        {
            yield return ("embedding", pe, embedding.Result);
        }

        if (attention?.PostValue is { } pa)
        {
            yield return ("attention", pa, attention.Result);
        }

        if (ff?.PostValue is { } pf)
        {
            yield return ("feed-forward", pf, checked(R("mlp") + R("experts")));
        }

        if (head?.PostValue is { } ph)
        {
            yield return ("output", ph, head.Result);
        }

        yield return ("norms", 0, R("norm"));
        if (e.PostTotal is { } total)
        {
            yield return ("**total**", total.Result, e.Total.Result);
        }
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
