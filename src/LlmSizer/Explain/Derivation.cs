using System.Collections.Immutable;

namespace LlmSizer.Explain;

/// <summary>A symbol of a derivation (<c>d</c>, <c>n_kv</c>, <c>L</c>), its value and where the value came from.</summary>
/// <param name="Name">The symbol as printed in formulas (<c>d</c>, <c>n_q</c>, <c>d_h</c>, <c>L_moe</c>).</param>
/// <param name="Meaning">What it stands for, in words ("hidden size").</param>
/// <param name="Value">Its value.</param>
/// <param name="Source">Where the value came from: a config field (<c>config.json hidden_size</c>), a catalog entry, a
/// setting, a default and its reason, or a count over the tensor list.</param>
public sealed record DerivationSymbol(string Name, string Meaning, long Value, string Source);

/// <summary>One term of a derivation: a tensor kind (or a post's formula part) with its formula in symbols, the same
/// expression with numbers, and its value.</summary>
/// <param name="Label">What the term counts (<c>self_attn.q_proj.weight</c>).</param>
/// <param name="Formula">The term in symbols (<c>n_q·d_h·d</c>).</param>
/// <param name="Substituted">The term with the symbols' values put in (<c>4096·4096</c>).</param>
/// <param name="Value">The term's value (the substituted expression evaluated, times nothing else).</param>
/// <param name="Multiplicity">How many times the term occurs (layers, experts): its symbol (<c>L</c>, <c>L_moe·E</c>)
/// or empty for once.</param>
/// <param name="Count">How many times the term occurs, as a number (1 for once).</param>
/// <param name="MultiplicitySubstituted">The multiplicity with numbers (<c>58·256</c> for <c>L_moe·E</c>); its product is
/// <paramref name="Count"/>.</param>
public sealed record DerivationTerm(string Label, string Formula, string Substituted, long Value, string Multiplicity, long Count, string MultiplicitySubstituted)
{
    /// <summary>The term's contribution: <see cref="Value"/> × <see cref="Count"/>.</summary>
    public long Total => checked(Value * Count);
}

/// <summary>The derivation of one number: a parameter group, a memory component, a figure of the post.</summary>
/// <remarks>The printed equation is <c>Title = Formula = Substituted = Result</c>; each of the last two evaluates to
/// <see cref="Result"/> (a test parses them back). <see cref="Terms"/> hold the parts the formula sums.</remarks>
public sealed record Derivation
{
    /// <summary>A stable snake_case name (<c>embedding</c>, <c>attention</c>, <c>kv_cache</c>, <c>post_attention</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The heading, in words.</summary>
    public required string Title { get; init; }

    /// <summary>The formula in symbols; empty when the number has no closed form here (then <see cref="Substituted"/>
    /// carries the computation).</summary>
    public required string Formula { get; init; }

    /// <summary>The formula with numbers put in; evaluates to <see cref="Result"/>. Null when the number is not an
    /// arithmetic expression (a measured constant, a prose formula of the memory estimator).</summary>
    public required string? Substituted { get; init; }

    /// <summary>The result: the estimator's own number (parameters or bytes).</summary>
    public required long Result { get; init; }

    /// <summary>The unit of <see cref="Result"/>: <c>parameters</c>, <c>bytes</c> or <c>MB</c>.</summary>
    public string Unit { get; init; } = "parameters";

    /// <summary>The terms the formula sums (one per tensor kind for parameters).</summary>
    public ImmutableArray<DerivationTerm> Terms { get; init; } = [];

    /// <summary>The symbols the formula uses, with their values and sources.</summary>
    public ImmutableArray<DerivationSymbol> Symbols { get; init; } = [];

    /// <summary>The traps that apply here, named (tied head counted once, GQA's smaller K/V, biases, QK-norm ...).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];

    /// <summary>Where the formula comes from (paper, repository path), when it is not plain counting.</summary>
    public string? Source { get; init; }

    /// <summary>The post's simplified formula for the same part, when the post has one (<c>L·H·(d·d/H)</c>).</summary>
    public string? PostFormula { get; init; }

    /// <summary>The post's simplified formula with this model's numbers put in; evaluates to <see cref="PostValue"/>.</summary>
    public string? PostSubstituted { get; init; }

    /// <summary>The value of the post's simplified formula for this model.</summary>
    public long? PostValue { get; init; }

    /// <summary>The exact figure the post's formula is compared with: <see cref="Result"/>, or (for the post's
    /// feed-forward in an MoE model) the MLP and routed experts together.</summary>
    public long? PostExact { get; init; }

    /// <summary>The post's error for this model in percent: (post − exact) / exact × 100; null when exact is 0 or the
    /// post has no formula.</summary>
    public double? PostErrorPercent => PostValue is { } p && (PostExact ?? Result) is var exact && exact != 0 ? (p - (double)exact) * 100.0 / exact : null;
}

/// <summary>How the parts add up: <c>total = a + b + … = x + y + … = result</c>.</summary>
/// <param name="Name">The total's name (<c>total</c>, <c>active</c>, <c>per_gpu</c>).</param>
/// <param name="Formula">The sum in names (<c>embedding + attention + …</c>).</param>
/// <param name="Substituted">The sum with numbers; evaluates to <paramref name="Result"/>.</param>
/// <param name="Result">The total.</param>
public sealed record DerivationSum(string Name, string Formula, string Substituted, long Result);

/// <summary>The derivation of a model's parameter count: every group in the post's order, the symbols, the traps, and
/// how the groups sum to the total (and to the active parameters for MoE).</summary>
public sealed record ParameterExplanation
{
    /// <summary>The model's display name.</summary>
    public required string Model { get; init; }

    /// <summary>The architecture family (<c>llama</c>, <c>t5</c>).</summary>
    public required string Family { get; init; }

    /// <summary>Every symbol used, with value and source.</summary>
    public required ImmutableArray<DerivationSymbol> Symbols { get; init; }

    /// <summary>One derivation per non-empty group (and the output head, even tied), in the post's order.</summary>
    public required ImmutableArray<Derivation> Groups { get; init; }

    /// <summary>How the groups sum to the total.</summary>
    public required DerivationSum Total { get; init; }

    /// <summary>How the active parameters follow (MoE only), or null for a dense model.</summary>
    public DerivationSum? Active { get; init; }

    /// <summary>The post's simplified total for this model, or null when the architecture is unknown (V·d + L·H·(d·d/H) + L·2·d² + d·V), for comparison.</summary>
    public required DerivationSum? PostTotal { get; init; }

    /// <summary>The traps that concern the whole model (not one group).</summary>
    public ImmutableArray<string> Notes { get; init; } = [];
}
