using System.Text.Json.Serialization;
using LlmSizer.Explain;

namespace LlmSizer.Contract;

// The JSON contract of --explain (docs/contract.md, "Derivations"): the derivation as data for the web page and
// scripts. Names are stable snake_case (LlmSizerJsonContext); add fields freely, never rename.
#pragma warning disable CS1591 // Each property is the contract field of the same (snake_case) name, documented in docs/contract.md.

/// <summary>The document of <c>llmsize params MODEL --explain --json</c>.</summary>
public sealed record ParamsExplainDocument
{
    public required string Model { get; init; }
    public required string Family { get; init; }
    public required long Total { get; init; }
    public required IReadOnlyList<SymbolDocument> Symbols { get; init; }
    public required IReadOnlyList<DerivationDocument> Groups { get; init; }
    public required SumDocument Sum { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SumDocument? Active { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SumDocument? PostTotal { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required IReadOnlyList<string> Text { get; init; }
}

/// <summary>A symbol: its value and where the value came from.</summary>
public sealed record SymbolDocument
{
    public required string Name { get; init; }
    public required string Meaning { get; init; }
    public required long Value { get; init; }
    public required string Source { get; init; }
}

/// <summary>One derivation: formula in symbols, substituted, result, terms, traps, and the post's formula beside it.</summary>
public sealed record DerivationDocument
{
    public required string Name { get; init; }
    public required string Title { get; init; }
    public required string Formula { get; init; }
    public required string? Substituted { get; init; }
    public required long Result { get; init; }
    public required string Unit { get; init; }
    public required IReadOnlyList<TermDocument> Terms { get; init; }
    public required IReadOnlyList<string> Symbols { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required string? Source { get; init; }
    public required string? PostFormula { get; init; }
    public required string? PostSubstituted { get; init; }
    public required long? PostValue { get; init; }
    public required long? PostExact { get; init; }
    public required double? PostErrorPercent { get; init; }
}

/// <summary>One term of a derivation.</summary>
public sealed record TermDocument
{
    public required string Label { get; init; }
    public required string Formula { get; init; }
    public required string Substituted { get; init; }
    public required long Value { get; init; }
    public required string Multiplicity { get; init; }
    public required long Count { get; init; }
    public required string MultiplicitySubstituted { get; init; }
    public required long Total { get; init; }
}

/// <summary>How parts sum to a total.</summary>
public sealed record SumDocument
{
    public required string Name { get; init; }
    public required string Formula { get; init; }
    public required string Substituted { get; init; }
    public required long Result { get; init; }
}

/// <summary>Maps explanations onto the contract's documents.</summary>
public static partial class ExplainContract
{
    /// <summary>The document of a parameter explanation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The document.</returns>
    public static ParamsExplainDocument Params(ParameterExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new ParamsExplainDocument
        {
            Model = e.Model,
            Family = e.Family,
            Total = e.Total.Result,
            Symbols = [.. e.Symbols.Select(Symbol)],
            Groups = [.. e.Groups.Select(Derivation)],
            Sum = Sum(e.Total),
            Active = e.Active is null ? null : Sum(e.Active),
            PostTotal = e.PostTotal is null ? null : Sum(e.PostTotal),
            Notes = e.Notes,
            Text = ExplainText.Lines(e),
        };
    }

    /// <summary>The document of a symbol.</summary>
    /// <param name="s">The symbol.</param>
    /// <returns>The document.</returns>
    public static SymbolDocument Symbol(DerivationSymbol s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new SymbolDocument { Name = s.Name, Meaning = s.Meaning, Value = s.Value, Source = s.Source };
    }

    /// <summary>The document of a derivation.</summary>
    /// <param name="d">The derivation.</param>
    /// <returns>The document.</returns>
    public static DerivationDocument Derivation(Derivation d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new DerivationDocument
        {
            Name = d.Name,
            Title = d.Title,
            Formula = d.Formula,
            Substituted = d.Substituted,
            Result = d.Result,
            Unit = d.Unit,
            Terms = [.. d.Terms.Select(t => new TermDocument
            {
                Label = t.Label,
                Formula = t.Formula,
                Substituted = t.Substituted,
                Value = t.Value,
                Multiplicity = t.Multiplicity,
                Count = t.Count,
                MultiplicitySubstituted = t.MultiplicitySubstituted,
                Total = t.Total,
            })],
            Symbols = [.. d.Symbols.Select(s => s.Name)],
            Notes = d.Notes,
            Source = d.Source,
            PostFormula = d.PostFormula,
            PostSubstituted = d.PostSubstituted,
            PostValue = d.PostValue,
            PostExact = d.PostExact,
            PostErrorPercent = d.PostErrorPercent is { } p ? Math.Round(p, 2) : null,
        };
    }

    /// <summary>The document of a sum.</summary>
    /// <param name="s">The sum.</param>
    /// <returns>The document.</returns>
    public static SumDocument Sum(DerivationSum s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return new SumDocument { Name = s.Name, Formula = s.Formula, Substituted = s.Substituted, Result = s.Result };
    }
}

/// <summary>The document of <c>llmsize memory MODEL --explain --json</c>.</summary>
public sealed record MemoryExplainDocument
{
    public required string Model { get; init; }
    public required string Mode { get; init; }
    public required int Gpus { get; init; }
    public required IReadOnlyList<ExplainedAssumptionDocument> Assumptions { get; init; }
    public required IReadOnlyList<DerivationDocument> Components { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DerivationDocument? KvPerToken { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DerivationDocument? KvPerSequence { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DerivationDocument? WeightsByType { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DerivationDocument? PostRule { get; init; }
    public required SumDocument PerGpu { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    public required IReadOnlyList<string> Text { get; init; }
}

/// <summary>One input of a memory estimate and where its value came from.</summary>
public sealed record ExplainedAssumptionDocument
{
    public required string Name { get; init; }
    public required string Value { get; init; }
    public required string Source { get; init; }
}

/// <summary>The document of <c>llmsize seed --explain --json</c>.</summary>
public sealed record SeedExplainDocument
{
    public required IReadOnlyList<SeedStepDocument> Steps { get; init; }
    public required IReadOnlyList<string> Errata { get; init; }
    public required ParamsExplainDocument ExactTied { get; init; }
    public required ParamsExplainDocument ExactUntied { get; init; }
    public required MemoryExplainDocument ExactTraining { get; init; }
    public required IReadOnlyList<string> Text { get; init; }
}

/// <summary>One line of the post: as printed, as its formula gives it, the erratum, the exact method.</summary>
public sealed record SeedStepDocument
{
    public required string Name { get; init; }
    public required string Title { get; init; }
    public required string Printed { get; init; }
    public required long PrintedValue { get; init; }
    public required DerivationDocument Post { get; init; }
    public required string? Erratum { get; init; }
    public required IReadOnlyList<DerivationDocument> Exact { get; init; }
    public required string? ExactNote { get; init; }
}

/// <summary>Maps memory and seed explanations onto the contract's documents.</summary>
public static partial class ExplainContract
{
    /// <summary>The document of a memory explanation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The document.</returns>
    public static MemoryExplainDocument Memory(MemoryExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new MemoryExplainDocument
        {
            Model = e.Model,
            Mode = e.Mode,
            Gpus = e.Gpus,
            Assumptions = [.. e.Assumptions.Select(a => new ExplainedAssumptionDocument { Name = a.Name, Value = a.Value, Source = a.Source })],
            Components = [.. e.Components.Select(ExplainContract.Derivation)],
            KvPerToken = e.KvPerToken is null ? null : ExplainContract.Derivation(e.KvPerToken),
            KvPerSequence = e.KvPerSequence is null ? null : ExplainContract.Derivation(e.KvPerSequence),
            WeightsByType = e.WeightsByType is null ? null : ExplainContract.Derivation(e.WeightsByType),
            PostRule = e.PostRule is null ? null : ExplainContract.Derivation(e.PostRule),
            PerGpu = ExplainContract.Sum(e.PerGpu),
            Warnings = e.Warnings,
            Text = ExplainText.Lines(e),
        };
    }

    /// <summary>The document of the post's explanation.</summary>
    /// <param name="e">The explanation.</param>
    /// <returns>The document.</returns>
    public static SeedExplainDocument Seed(SeedExplanation e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new SeedExplainDocument
        {
            Steps = [.. e.Steps.Select(s => new SeedStepDocument
            {
                Name = s.Name,
                Title = s.Title,
                Printed = s.Printed,
                PrintedValue = s.PrintedValue,
                Post = ExplainContract.Derivation(s.Post),
                Erratum = s.Erratum,
                Exact = [.. s.Exact.Select(ExplainContract.Derivation)],
                ExactNote = s.ExactNote,
            })],
            Errata = e.Errata,
            ExactTied = ExplainContract.Params(e.ExactTied),
            ExactUntied = ExplainContract.Params(e.ExactUntied),
            ExactTraining = Memory(e.ExactTraining),
            Text = ExplainText.Lines(e),
        };
    }
}
