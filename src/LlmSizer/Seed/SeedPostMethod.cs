using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Memory;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer.Seed;

/// <summary>The worked example of the post "Sizing an LLM: Parameters" (Carlos Camacho), reproduced number by number
/// with its own formulas, its errata, and the exact figures of a real GPT-style model of the same sizes.</summary>
/// <remarks>The post sizes a toy transformer: embedding size d = 512, L = 12 layers, H = 8 heads, vocabulary V = 50,000,
/// as embedding V·d + attention L·H·(d·d/H) + feed-forward L·2·d² + output d·V. See DESIGN.md §5.</remarks>
public static class SeedPostMethod
{
    /// <summary>The post's embedding size d.</summary>
    public const int EmbeddingSize = 512;

    /// <summary>The post's layer count L.</summary>
    public const int Layers = 12;

    /// <summary>The post's attention head count H.</summary>
    public const int Heads = 8;

    /// <summary>The post's vocabulary size V.</summary>
    public const int Vocab = 50_000;

    /// <summary>The attention figure the post prints (it does not follow from its formula).</summary>
    public const long PublishedAttention = 3_932_160;

    /// <summary>The total the post prints (it adds the printed attention figure).</summary>
    public const long PublishedTotal = 61_423_616;

    /// <summary>The context length we choose for the exact model's learned position table (GPT-2's n_positions);
    /// the post gives none.</summary>
    public const int AssumedPositions = 1024;

    /// <summary>The post's assumed activation memory in its rule of thumb, in its "MB" (MiB).</summary>
    public const int PostActivationsMiB = 200;

    /// <summary>The post's assumed input-data memory in its rule of thumb, in its "MB" (MiB).</summary>
    public const int PostInputMiB = 50;

    /// <summary>The MLP width of the exact model: 4 × the embedding size (GPT-2's <c>n_inner</c> default).</summary>
    public const int ExactIntermediate = 4 * EmbeddingSize;

    /// <summary>What the exact model is.</summary>
    public const string ExactModelDescription = "GPT-2-style: learned position embeddings, biases, LayerNorms, 4x MLP";

    /// <summary>How the exact training estimate is made.</summary>
    public const string ExactTrainingMethod = "llmsize memory estimator, training: mixed-precision AdamW model states (ZeRO, Rajbhandari et al. 2020) + layer activations (Korthikanti et al. 2022), embedding output and cross-entropy logits; no recomputation, no FlashAttention";

    /// <summary>Computes every figure of the post and the exact figures beside them.</summary>
    /// <returns>The result.</returns>
    public static SeedPostResult Compute()
    {
        long d = EmbeddingSize, l = Layers, h = Heads, v = Vocab;

        // The post's four formulas, evaluated as written.
        long embedding = checked(v * d);                 // V·d
        long attention = checked(l * h * (d * d / h));   // L·H·(d·d/H) = 12·8·(512·64)
        long feedForward = checked(l * 2 * d * d);       // L·2·d²
        long output = checked(d * v);                    // d·V
        long corrected = checked(embedding + attention + feedForward + output);

        // The post's VRAM bytes are of its printed total; its "MB" are MiB (2^20 bytes), rounded as printed.
        var fp32 = checked(PublishedTotal * 4);
        var fp16 = checked(PublishedTotal * 2);
        var int8 = PublishedTotal;
        var parametersMiB = (int)Math.Round(fp32 / (double)ByteSize.MiB);
        var optimizerMiB = 2 * parametersMiB;            // "2 times model parameters, typical for Adam"
        var trainingTotal = parametersMiB + PostActivationsMiB + optimizerMiB + PostInputMiB;

        var tied = BuildExactModel(tied: true);
        var untied = BuildExactModel(tied: false);
        return new SeedPostResult
        {
            Embedding = embedding,
            Attention = attention,
            FeedForward = feedForward,
            Output = output,
            Total = corrected,
            PublishedAttention = PublishedAttention,
            PublishedTotal = PublishedTotal,
            VramBytesFp32 = fp32,
            VramBytesFp16 = fp16,
            VramBytesInt8 = int8,
            TrainingParametersMiB = parametersMiB,
            TrainingActivationsMiB = PostActivationsMiB,
            TrainingOptimizerMiB = optimizerMiB,
            TrainingInputMiB = PostInputMiB,
            TrainingTotalMiB = trainingTotal,
            TrainingGradientsMiB = parametersMiB,
            ExactTied = tied,
            ExactUntied = untied,
            ExactTraining = ExactTrainingEstimate(),
            Errata =
            [
                string.Create(CultureInfo.InvariantCulture, $"Attention: the post's formula L*H*(d*d/H) = 12 x 8 x (512 x 64) gives {attention:N0}, not the printed {PublishedAttention:N0}; the printed total {PublishedTotal:N0} uses the printed figure, so the total by the post's own formulas is {corrected:N0}."),
                string.Create(CultureInfo.InvariantCulture, $"Units: the post's \"MB\" are MiB (2^20 bytes): {fp32:N0} B = {fp32 / (double)ByteSize.MiB:0.0} MiB (it would be {fp32 / 1e6:0.0} MB in SI units)."),
                string.Create(CultureInfo.InvariantCulture, $"Training: the rule of thumb (parameters + activations + optimizer + input = {trainingTotal} MB) leaves out the gradients, another {parametersMiB} MB in FP32, which makes {trainingTotal + parametersMiB} MB."),
                "Formulas: a real transformer layer has Q, K, V and output projections (4*d^2, not d^2) and a 4x MLP (8*d^2, not 2*d^2), plus biases, norms and position embeddings; the output layer is often tied to the embedding (counted once). See 'exact'.",
                "Optimizer: Adam keeps two FP32 states per parameter; with mixed precision the model states are 16 bytes per parameter (ZeRO, Rajbhandari et al. 2020, section 3.1), not 2x the FP32 weights.",
            ],
        };
    }

    /// <summary>The bytes of model states per parameter for mixed-precision Adam: FP16 weights (2) + FP16 gradients (2)
    /// + FP32 master weights, momentum and variance (4 + 4 + 4) = 16.</summary>
    /// <remarks>Source: Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion Parameter Models"
    /// (SC 2020), section 3.1: "2Ψ + 2Ψ + 12Ψ = 16Ψ bytes". Pure FP32 Adam (4 + 4 + 4 + 4) is also 16.</remarks>
    public const int MixedPrecisionAdamBytesPerParameter = 16;

    /// <summary>The training workload the exact estimate states: mixed-precision (fp16 weights and gradients, fp32 master)
    /// AdamW, sequence length <see cref="AssumedPositions"/>, micro-batch 1, no recomputation, no FlashAttention (the
    /// GPT-2-era attention that stores the s × s scores), one GPU.</summary>
    public static Workload ExactTrainingWorkload { get; } = new()
    {
        Format = Quantization.WeightFormat.F16,
        Context = AssumedPositions,
        Batch = 1,
        Attention = AttentionKernel.Eager,
        Training = new TrainingSettings { Optimizer = OptimizerKind.AdamW, Recompute = Recompute.None },
    };

    /// <summary>The exact training estimate of the GPT-style models, from the library's memory estimator
    /// (<see cref="MemoryEstimator"/>) under <see cref="ExactTrainingWorkload"/>.</summary>
    /// <returns>Model states for both and activations under the stated assumptions.</returns>
    /// <remarks>Model states: weights + gradients + fp32 master + AdamW moments = 2 + 2 + 4 + 8 = 16 B/param (ZeRO,
    /// Rajbhandari et al. 2020, §3.1). Activations: Korthikanti et al. 2022 §4.1, s·b·h·(34 + 5·a·s/h) per layer, plus
    /// the embedding output and the cross-entropy logits (the estimator's <c>activations</c> and <c>logits</c>).</remarks>
    public static SeedTrainingEstimate ExactTrainingEstimate()
    {
        var tied = MemoryEstimator.Estimate(ExactModelInfo(tied: true), ExactTrainingWorkload);
        var untied = MemoryEstimator.Estimate(ExactModelInfo(tied: false), ExactTrainingWorkload);
        return new SeedTrainingEstimate
        {
            BytesPerParameter = MixedPrecisionAdamBytesPerParameter,
            ModelStatesBytesTied = ModelStates(tied),
            ModelStatesBytesUntied = ModelStates(untied),
            SequenceLength = AssumedPositions,
            Batch = ExactTrainingWorkload.Batch,
            ActivationBytes = checked(tied["activations"].Bytes + tied["logits"].Bytes),
        };
    }

    private static long ModelStates(MemoryEstimate e) =>
        checked(e["weights"].Bytes + e["gradients"].Bytes + e["master_weights"].Bytes + e["optimizer_states"].Bytes);

    private static ArchitectureSpec ExactSpec(bool tied) => new ManualArchitecture
    {
        Layers = Layers,
        Hidden = EmbeddingSize,
        Heads = Heads,
        Vocab = Vocab,
        Bias = true,
        Norm = NormKind.LayerNorm,
        MaxPositions = AssumedPositions,
        LearnedPositions = true,
        Tied = tied,
    }.ToSpec("seed");

    internal static ModelInfo ExactModelInfo(bool tied)
    {
        var spec = ExactSpec(tied);
        return new ModelInfo
        {
            Name = tied ? "seed GPT-style (tied)" : "seed GPT-style (untied)",
            Source = ModelSourceKind.Manual,
            Architecture = spec,
            Inventory = ManualFamily.Instance.Generate(spec),
        };
    }

    /// <summary>Builds the GPT-2-style model of the post's sizes: learned positions (1024), biases, LayerNorms, 4× MLP.</summary>
    /// <param name="tied">Whether the output head shares the token embedding (GPT-2 does).</param>
    /// <returns>Its exact counts.</returns>
    public static SeedExactModel BuildExactModel(bool tied)
    {
        var inventory = ManualFamily.Instance.Generate(ExactSpec(tied));
        return new SeedExactModel(tied, inventory.TotalParameters, inventory.ByGroup(), inventory.Tensors.Length);
    }
}

/// <summary>The exact counts of the GPT-style model of the post's sizes.</summary>
/// <param name="Tied">Whether the head is tied.</param>
/// <param name="Total">All parameters.</param>
/// <param name="Groups">Parameters per group.</param>
/// <param name="Tensors">The number of tensors.</param>
public sealed record SeedExactModel(bool Tied, ParameterCount Total, IReadOnlyDictionary<TensorGroup, ParameterCount> Groups, int Tensors)
{
    /// <summary>The bytes of the weights in FP32 (4 bytes each), as the post stores them.</summary>
    public long Fp32Bytes => DataTypes.DataType.F32.SizeOf(Total.Value).Bytes;
}

/// <summary>The exact training-memory figures beside the post's rule of thumb.</summary>
public sealed record SeedTrainingEstimate
{
    /// <summary>Model-state bytes per parameter (16 for mixed-precision Adam).</summary>
    public required int BytesPerParameter { get; init; }

    /// <summary>Model states of the tied model, bytes.</summary>
    public required long ModelStatesBytesTied { get; init; }

    /// <summary>Model states of the untied model, bytes.</summary>
    public required long ModelStatesBytesUntied { get; init; }

    /// <summary>The assumed sequence length for activations.</summary>
    public required int SequenceLength { get; init; }

    /// <summary>The assumed micro-batch for activations.</summary>
    public required int Batch { get; init; }

    /// <summary>Activation bytes: the transformer layers (no recomputation, 16-bit), the embedding output and the
    /// cross-entropy logits, as the memory estimator counts them.</summary>
    public required long ActivationBytes { get; init; }

    /// <summary>Model states and activations of the tied model.</summary>
    public long TotalBytesTied => checked(ModelStatesBytesTied + ActivationBytes);

    /// <summary>Model states and activations of the untied model.</summary>
    public long TotalBytesUntied => checked(ModelStatesBytesUntied + ActivationBytes);
}

/// <summary>Every figure of the post, computed, and the exact figures beside them.</summary>
public sealed record SeedPostResult
{
    /// <summary>Embedding V·d.</summary>
    public required long Embedding { get; init; }

    /// <summary>Attention by the post's formula L·H·(d·d/H).</summary>
    public required long Attention { get; init; }

    /// <summary>Feed-forward L·2·d².</summary>
    public required long FeedForward { get; init; }

    /// <summary>Output d·V.</summary>
    public required long Output { get; init; }

    /// <summary>The total by the post's own formulas.</summary>
    public required long Total { get; init; }

    /// <summary>The attention figure the post prints.</summary>
    public required long PublishedAttention { get; init; }

    /// <summary>The total the post prints.</summary>
    public required long PublishedTotal { get; init; }

    /// <summary>The post's FP32 VRAM bytes (printed total × 4).</summary>
    public required long VramBytesFp32 { get; init; }

    /// <summary>The post's FP16 VRAM bytes (printed total × 2).</summary>
    public required long VramBytesFp16 { get; init; }

    /// <summary>The post's INT8 VRAM bytes (printed total × 1).</summary>
    public required long VramBytesInt8 { get; init; }

    /// <summary>The rule of thumb: parameters, MiB.</summary>
    public required int TrainingParametersMiB { get; init; }

    /// <summary>The rule of thumb: activations (assumed by the post), MiB.</summary>
    public required int TrainingActivationsMiB { get; init; }

    /// <summary>The rule of thumb: optimizer states (2 × parameters), MiB.</summary>
    public required int TrainingOptimizerMiB { get; init; }

    /// <summary>The rule of thumb: input data (assumed by the post), MiB.</summary>
    public required int TrainingInputMiB { get; init; }

    /// <summary>The rule of thumb's total, MiB.</summary>
    public required int TrainingTotalMiB { get; init; }

    /// <summary>The gradients the rule of thumb leaves out (FP32, same size as the parameters), MiB.</summary>
    public required int TrainingGradientsMiB { get; init; }

    /// <summary>The post's training total with the gradients it leaves out.</summary>
    public int TrainingTotalWithGradientsMiB => checked(TrainingTotalMiB + TrainingGradientsMiB);

    /// <summary>The exact GPT-style model with a tied head.</summary>
    public required SeedExactModel ExactTied { get; init; }

    /// <summary>The exact GPT-style model with an untied head.</summary>
    public required SeedExactModel ExactUntied { get; init; }

    /// <summary>The exact training figures.</summary>
    public required SeedTrainingEstimate ExactTraining { get; init; }

    /// <summary>The corrections, one sentence each.</summary>
    public required IReadOnlyList<string> Errata { get; init; }

    /// <summary>VRAM MiB of a byte count, as the post rounds it (one decimal).</summary>
    /// <param name="bytes">Bytes.</param>
    /// <returns>MiB.</returns>
    public static double MiB(long bytes) => bytes / (double)ByteSize.MiB;

    /// <summary>Bytes in SI megabytes (10^6), for display beside <see cref="MiB"/>.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The MB.</returns>
    public static double MB(long bytes) => bytes / 1e6;
}
