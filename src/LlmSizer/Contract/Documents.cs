using System.Text.Json.Serialization;

namespace LlmSizer.Contract;

// The JSON contract (README "JSON contract"; DESIGN.md §4): one set of documents for the CLI's --json, the web API and
// NuGet callers. Property names become snake_case through LlmSizerJsonContext; declaration order is output order.
// Names are stable: add properties freely, never rename or retype one.
#pragma warning disable CS1591 // Each property is the contract field of the same (snake_case) name, documented in docs/contract.md.

/// <summary>The document of <c>llmsize params --json</c>.</summary>
public sealed record ParamsDocument
{
    public required string Model { get; init; }
    public required string Source { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Files { get; init; }
    public required ArchitectureDocument? Architecture { get; init; }
    public required ParametersDocument Parameters { get; init; }
    public required int Tensors { get; init; }
    public required IReadOnlyDictionary<string, long> ByDtype { get; init; }
    public required IReadOnlyDictionary<string, long> BytesByDtype { get; init; }
    public required long WeightBytes { get; init; }
    public required double BitsPerWeight { get; init; }
    public required long? FileBytes { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LayerDocument>? Layers { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<TensorDocument>? TensorList { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CheckDocument? Check { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Warnings { get; init; }
}

/// <summary>The normalized architecture.</summary>
public sealed record ArchitectureDocument
{
    public required string Family { get; init; }
    public required string? ModelClass { get; init; }
    public required int Layers { get; init; }
    public required int? DecoderLayers { get; init; }
    public required int Hidden { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VHeadDim { get; init; }
    public required int Intermediate { get; init; }
    public required int Vocab { get; init; }
    public required int? MaxPositions { get; init; }
    public required bool TiedEmbeddings { get; init; }
    public required string Mlp { get; init; }
    public required string Norm { get; init; }
    public required int? Experts { get; init; }
    public required int? ActiveExperts { get; init; }
    public required int? ExpertIntermediate { get; init; }
    public required int? SharedExperts { get; init; }
    public required int? KvLoraRank { get; init; }
    public required int? QLoraRank { get; init; }
    public required int? SlidingWindow { get; init; }
    public required bool EncoderOnly { get; init; }
    public required string? TorchDtype { get; init; }
}

/// <summary>Parameter totals and groups.</summary>
public sealed record ParametersDocument
{
    public required long Total { get; init; }

    /// <summary>Active per token, the input embedding included.</summary>
    public required long Active { get; init; }

    /// <summary>Active per token without the input token and position embeddings.</summary>
    public required long ActiveWithoutEmbeddings { get; init; }

    /// <summary>Which of the two the model card quotes, when the catalog records it.</summary>
    public ModelCardDocument? ModelCard { get; init; }
    public required IReadOnlyDictionary<string, long> Groups { get; init; }
    public required IReadOnlyDictionary<string, long> Components { get; init; }
}

/// <summary>The active figure a model card quotes.</summary>
/// <param name="ActiveCounts"><c>with_embeddings</c> or <c>without_embeddings</c>.</param>
/// <param name="Active">The card's figure as printed.</param>
/// <param name="Source">Where it was read.</param>
public sealed record ModelCardDocument(string ActiveCounts, string Active, string Source);

/// <summary>Parameters of one layer.</summary>
public sealed record LayerDocument(int Layer, long Parameters);

/// <summary>One tensor.</summary>
public sealed record TensorDocument
{
    public required string Name { get; init; }
    public required IReadOnlyList<long> Shape { get; init; }
    public required string Dtype { get; init; }
    public required long Elements { get; init; }
    public required long Bytes { get; init; }
    public required string Group { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Kind { get; init; }
}

/// <summary>The config-versus-checkpoint comparison.</summary>
public sealed record CheckDocument
{
    public required bool Match { get; init; }
    public required int Matched { get; init; }
    public required IReadOnlyList<TensorDocument> Missing { get; init; }
    public required IReadOnlyList<TensorDocument> Extra { get; init; }
    public required IReadOnlyList<MisshapenDocument> Misshapen { get; init; }
}

/// <summary>A tensor whose shape differs.</summary>
public sealed record MisshapenDocument
{
    public required string Name { get; init; }
    public required string ExpectedShape { get; init; }
    public required string ActualShape { get; init; }
    public required long ExpectedElements { get; init; }
    public required long ActualElements { get; init; }
}

/// <summary>The document of <c>llmsize memory --json</c>.</summary>
/// <remarks><c>assumptions</c> holds typed values (numbers as numbers); <c>assumptions_text</c> keeps the earlier
/// one-string-per-assumption form ("4096 (default)") for scripts written against it; <c>assumption_details</c> says,
/// per assumption, whether it was defaulted and why.</remarks>
public sealed record MemoryDocument
{
    public required string Model { get; init; }
    public required string Mode { get; init; }
    public required IReadOnlyDictionary<string, object> Assumptions { get; init; }
    public required IReadOnlyDictionary<string, string> AssumptionsText { get; init; }
    public required IReadOnlyList<AssumptionDocument> AssumptionDetails { get; init; }
    public required int Gpus { get; init; }
    public required long PerGpuBytes { get; init; }
    public required long TotalBytes { get; init; }
    public required IReadOnlyList<ComponentDocument> Components { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
}

/// <summary>One assumption.</summary>
public sealed record AssumptionDocument
{
    public required string Name { get; init; }
    public required object Value { get; init; }
    public required bool Default { get; init; }
    public required string? Reason { get; init; }
}

/// <summary>One memory component.</summary>
public sealed record ComponentDocument
{
    public required string Name { get; init; }
    public required long Bytes { get; init; }
    public required long PerGpuBytes { get; init; }
    public required string Formula { get; init; }
    public required string Source { get; init; }
    public required bool OnDevice { get; init; }
    public required double SharePercent { get; init; }
}

/// <summary>The document of <c>llmsize models --json</c>.</summary>
public sealed record ModelsDocument(IReadOnlyList<ModelEntryDocument> Models);

/// <summary>One catalog model.</summary>
public sealed record ModelEntryDocument
{
    public required string Id { get; init; }
    public required string Repository { get; init; }
    public required string Source { get; init; }
    public required string? Family { get; init; }
    public required long? Parameters { get; init; }
    public required long? Active { get; init; }
    public required string? Error { get; init; }
}

/// <summary>The document of <c>llmsize seed --json</c>.</summary>
public sealed record SeedDocument
{
    public required SeedInputsDocument Inputs { get; init; }
    public required SeedParametersDocument Parameters { get; init; }
    public required SeedPublishedDocument Published { get; init; }
    public required SeedPrecisionsDocument<long> VramBytes { get; init; }
    public required SeedPrecisionsDocument<double> VramMib { get; init; }
    public required SeedTrainingRuleDocument TrainingEstimateMib { get; init; }
    public required IReadOnlyList<string> Errata { get; init; }
    public required SeedExactDocument Exact { get; init; }
}

/// <summary>The post's inputs.</summary>
public sealed record SeedInputsDocument(int EmbeddingSize, int Layers, int Heads, int Vocab);

/// <summary>The post's parameter figures, recomputed by its formulas.</summary>
public sealed record SeedParametersDocument(long Embedding, long Attention, long Feedforward, long Output, long Total);

/// <summary>The figures the post prints where they differ.</summary>
public sealed record SeedPublishedDocument(long Attention, long Total);

/// <summary>A value per precision.</summary>
/// <typeparam name="T">The value type.</typeparam>
public sealed record SeedPrecisionsDocument<T>(T Fp32, T Fp16, T Int8);

/// <summary>The post's training rule of thumb, in its MB (MiB).</summary>
public sealed record SeedTrainingRuleDocument(int Parameters, int Activations, int Optimizer, int Input, int Total, int OmittedGradients, int TotalWithGradients);

/// <summary>The exact figures of a real GPT-2-style model of the post's sizes.</summary>
public sealed record SeedExactDocument
{
    public required string Model { get; init; }
    public required int Positions { get; init; }
    public required int Intermediate { get; init; }
    public required SeedExactModelDocument Tied { get; init; }
    public required SeedExactModelDocument Untied { get; init; }
    public required SeedExactTrainingDocument Training { get; init; }
}

/// <summary>One exact model.</summary>
public sealed record SeedExactModelDocument(long Total, int Tensors, IReadOnlyDictionary<string, long> Groups, long Fp32Bytes);

/// <summary>The exact training estimate.</summary>
public sealed record SeedExactTrainingDocument
{
    public required string Method { get; init; }
    public required int BytesPerParameter { get; init; }
    public required long ModelStatesBytesTied { get; init; }
    public required long ModelStatesBytesUntied { get; init; }
    public required long ActivationBytes { get; init; }
    public required int SequenceLength { get; init; }
    public required int Batch { get; init; }
    public required long TotalBytesTied { get; init; }
    public required long TotalBytesUntied { get; init; }
}

/// <summary>An error, as the web API returns it (RFC 7807 problem details) and as tools may log it.</summary>
public sealed record ErrorDocument(string Error, string? Setting);
#pragma warning restore CS1591
