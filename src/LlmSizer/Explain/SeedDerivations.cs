using System.Collections.Immutable;
using System.Globalization;
using LlmSizer.Memory;
using LlmSizer.Seed;
using LlmSizer.Units;

namespace LlmSizer.Explain;

/// <summary>One line of the post's derivation: what the post prints (verbatim), what its own formula gives, the
/// erratum when the two differ or the method is off, and the exact method beside it.</summary>
public sealed record SeedStep
{
    /// <summary>A stable snake_case name (<c>embedding</c>, <c>attention</c>, <c>vram_fp32</c>, <c>training_total</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The heading, in the post's words.</summary>
    public required string Title { get; init; }

    /// <summary>The post's line as it prints it (its figures exactly; <c>\times</c> written ×).</summary>
    public required string Printed { get; init; }

    /// <summary>The figure the post prints.</summary>
    public required long PrintedValue { get; init; }

    /// <summary>The post's formula evaluated as written (unit in <see cref="Derivation.Unit"/>).</summary>
    public required Derivation Post { get; init; }

    /// <summary>What is wrong at this line, or null when the post is right here (by its own method).</summary>
    public string? Erratum { get; init; }

    /// <summary>The exact method's derivation of the same part (the GPT-2-style model of the post's sizes), when there is
    /// one.</summary>
    public ImmutableArray<Derivation> Exact { get; init; } = [];

    /// <summary>What the exact method is, in words, when <see cref="Exact"/> is set.</summary>
    public string? ExactNote { get; init; }
}

/// <summary>The post "Sizing an LLM: Parameters" explained line by line: every figure it prints, each erratum at the
/// line it affects, and the exact method beside it (parameter derivations of a real GPT-2-style model of those sizes and
/// the memory estimator's training derivation).</summary>
public sealed record SeedExplanation
{
    /// <summary>The post's steps in its order.</summary>
    public required ImmutableArray<SeedStep> Steps { get; init; }

    /// <summary>The exact parameter derivation of the GPT-2-style model with a tied head (GPT-2's own choice).</summary>
    public required ParameterExplanation ExactTied { get; init; }

    /// <summary>The exact parameter derivation with an untied head (the post's separate output layer).</summary>
    public required ParameterExplanation ExactUntied { get; init; }

    /// <summary>The exact training-memory derivation (mixed-precision AdamW, the stated workload) of the tied model.</summary>
    public required MemoryExplanation ExactTraining { get; init; }

    /// <summary>The corrections, one sentence each (as <c>llmsize seed</c> prints them).</summary>
    public required ImmutableArray<string> Errata { get; init; }
}

/// <summary>Builds the <see cref="SeedExplanation"/> from <see cref="SeedPostMethod"/>'s figures and the same
/// parameter and memory derivations every model gets.</summary>
public static class SeedDerivations
{
    /// <summary>Explains the post.</summary>
    /// <returns>The explanation.</returns>
    public static SeedExplanation Explain()
    {
        var r = SeedPostMethod.Compute();
        var tiedModel = SeedPostMethod.ExactModelInfo(tied: true);
        var untiedModel = SeedPostMethod.ExactModelInfo(tied: false);
        var tied = ParameterDerivations.Explain(tiedModel);
        var untied = ParameterDerivations.Explain(untiedModel);
        var training = MemoryDerivations.Explain(tiedModel, MemoryEstimator.Estimate(tiedModel, SeedPostMethod.ExactTrainingWorkload));
        const string d = "512", l = "12", h = "8", v = "50000";
        Derivation G(ParameterExplanation e, string name) => e.Groups.First(g => g.Name == name);
        const string exactModel = "exact: a GPT-2-style model of these sizes (learned positions P = 1024, biases, LayerNorms, 4·d MLP), generated tensor by tensor";

        var steps = ImmutableArray.CreateBuilder<SeedStep>();
        steps.Add(new SeedStep
        {
            Name = "embedding",
            Title = "Embedding Layer: Vocabulary Size * Embedding Size",
            Printed = "50,000 × 512 = 25,600,000",
            PrintedValue = 25_600_000,
            Post = Post("embedding", "V·d", $"{v}·{d}", r.Embedding),
            Exact = [G(tied, "embedding")],
            ExactNote = exactModel + "; the token table is the post's V·d, the position table P·d is extra",
        });
        steps.Add(new SeedStep
        {
            Name = "attention",
            Title = "Attention Mechanism: 12 × 8 × (Embedding Size × Embedding Size / Attention Heads)",
            Printed = "12 × 8 × (512 × 64) = 3,932,160",
            PrintedValue = SeedPostMethod.PublishedAttention,
            Post = Post("attention", "L·H·(d·d/H)", $"{l}·{h}·({d}·{d}/{h})", r.Attention),
            Erratum = $"12 × 8 × (512 × 64) is {N(r.Attention)}, not the printed {N(SeedPostMethod.PublishedAttention)}. And the formula itself counts one d×d matrix per layer: a real layer has four (Q, K, V and the output projection), 4·d² plus biases.",
            Exact = [G(tied, "attention")],
            ExactNote = exactModel,
        });
        steps.Add(new SeedStep
        {
            Name = "feed_forward",
            Title = "Feedforward Layers: 2 * Embedding Size^2 per layer",
            Printed = "12 × 2 × 512^2 = 6,291,456",
            PrintedValue = r.FeedForward,
            Post = Post("feed_forward", "L·2·d²", $"{l}·2·{d}·{d}", r.FeedForward),
            Erratum = "the arithmetic holds; the formula assumes two d×d matrices, but a transformer MLP widens to d_ff = 4·d: two d·d_ff matrices are 8·d² per layer, plus biases.",
            Exact = [G(tied, "mlp")],
            ExactNote = exactModel,
        });
        steps.Add(new SeedStep
        {
            Name = "output",
            Title = "Output Layers: Embedding Size * Vocabulary Size",
            Printed = "512 × 50,000 = 25,600,000",
            PrintedValue = r.Output,
            Post = Post("output", "d·V", $"{d}·{v}", r.Output),
            Erratum = "the arithmetic holds; GPT-2 ties the output layer to the embedding, so the matrix is stored (and counted) once: 0 more parameters. Untied, it is the post's d·V.",
            Exact = [G(tied, "lm_head"), G(untied, "lm_head")],
            ExactNote = "exact: tied head (first) and untied head (second)",
        });
        steps.Add(new SeedStep
        {
            Name = "total",
            Title = "Adding these up",
            Printed = "25,600,000 + 3,932,160 + 6,291,456 + 25,600,000 = 61,423,616",
            PrintedValue = SeedPostMethod.PublishedTotal,
            Post = Post("total", "V·d + L·H·(d·d/H) + L·2·d² + d·V",
                $"{r.Embedding} + {r.Attention} + {r.FeedForward} + {r.Output}", r.Total),
            Erratum = $"the printed sum adds the printed attention figure; by the post's own formulas the total is {N(r.Total)}. The norms (and biases, and positions) are missing from the post altogether.",
            Exact = [Sum("total (tied)", tied), Sum("total (untied)", untied)],
            ExactNote = "exact: every group of the GPT-2-style model, tied and untied",
        });

        foreach (var (name, bytesPer, printed, vram) in new[]
        {
            ("fp32", 4, "61,423,616 × 4 = 245,694,464 bytes or roughly 234 MB", r.VramBytesFp32),
            ("fp16", 2, "61,423,616 × 2 = 122,847,232 bytes or roughly 117 MB", r.VramBytesFp16),
            ("int8", 1, "61,423,616 × 1 = 61,423,616 bytes or roughly 58.6 MB", r.VramBytesInt8),
        })
        {
            long exactBytes = checked(tied.Total.Result * bytesPer);
            steps.Add(new SeedStep
            {
                Name = "vram_" + name,
                Title = $"Parameter Storage, {name.ToUpperInvariant()}: {bytesPer} byte{(bytesPer == 1 ? "" : "s")} per parameter",
                Printed = printed,
                PrintedValue = vram,
                Post = Post("vram_" + name, "N·bytes", $"{SeedPostMethod.PublishedTotal}·{bytesPer}", vram, "bytes"),
                Erratum = string.Create(CultureInfo.InvariantCulture,
                    $"the bytes are right for the printed total; its \"MB\" are MiB (2^20 bytes): {N(vram)} B = {vram / (double)ByteSize.MiB:0.0} MiB = {vram / 1e6:0.0} MB (SI). By its own formulas the count is {N(r.Total)}, {N(checked(r.Total * bytesPer))} bytes."),
                Exact = [new Derivation
                {
                    Name = "vram_" + name,
                    Title = $"weights of the tied GPT-2-style model in {name.ToUpperInvariant()}",
                    Formula = "N·bytes",
                    Substituted = $"{tied.Total.Result}·{bytesPer}",
                    Result = exactBytes,
                    Unit = "bytes",
                }],
                ExactNote = string.Create(CultureInfo.InvariantCulture, $"exact: {N(tied.Total.Result)} parameters (tied) × {bytesPer} B = {exactBytes / (double)ByteSize.MiB:0.0} MiB"),
            });
        }

        long trainingExact = training.PerGpu.Result;
        steps.Add(new SeedStep
        {
            Name = "training_total",
            Title = "Estimating VRAM Requirements: parameters + activations + optimizer states + input data",
            Printed = "234 + 200 + 468 + 50 = 952 MB",
            PrintedValue = r.TrainingTotalMiB,
            Post = Post("training_total", "params + activations + 2·params + input", $"{r.TrainingParametersMiB} + {r.TrainingActivationsMiB} + 2·{r.TrainingParametersMiB} + {r.TrainingInputMiB}", r.TrainingTotalMiB, "MB"),
            Erratum = $"the gradients are left out: another {r.TrainingGradientsMiB} MB in FP32, so {r.TrainingTotalWithGradientsMiB} MB by the post's own rule; the activations (200) and input (50) are assumed, not computed; Adam's two moments are 2 × the weights, as the post says, only in pure FP32 training; with mixed precision the model states are 16 bytes per parameter (ZeRO §3.1).",
            Exact = [new Derivation
            {
                Name = "training_total",
                Title = "exact training peak (memory estimator, one GPU)",
                Formula = training.PerGpu.Formula,
                Substituted = training.PerGpu.Substituted,
                Result = trainingExact,
                Unit = "bytes",
                Source = SeedPostMethod.ExactTrainingMethod,
            }],
            ExactNote = string.Create(CultureInfo.InvariantCulture,
                $"exact: mixed-precision AdamW, sequence {SeedPostMethod.AssumedPositions}, batch 1, no recomputation, eager attention: {trainingExact / (double)ByteSize.MiB:0.0} MiB (every component below)"),
        });

        return new SeedExplanation
        {
            Steps = steps.ToImmutable(),
            ExactTied = tied,
            ExactUntied = untied,
            ExactTraining = training,
            Errata = [.. r.Errata],
        };
    }

    private static Derivation Post(string name, string formula, string substituted, long result, string unit = "parameters") => new()
    {
        Name = name,
        Title = "the post's formula",
        Formula = formula,
        Substituted = substituted,
        Result = result,
        Unit = unit,
    };

    private static Derivation Sum(string title, ParameterExplanation e) => new()
    {
        Name = "total",
        Title = title,
        Formula = e.Total.Formula,
        Substituted = e.Total.Substituted,
        Result = e.Total.Result,
    };

    private static string N(long value) => ParameterDerivations.Num(value);
}
