using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmSizer.Contract;

#pragma warning disable CS1591 // Each property is the contract field of the same (snake_case) name, documented in README "fit".

/// <summary>The document of <c>llmsize fit --json</c>.</summary>
public sealed record FitDocument(string Model, bool AnyFits, IReadOnlyList<FitPlanDocument> Results)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<FormatOptionDocument>? Formats { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ContextPointDocument>? Sweep { get; init; }
}

/// <summary>One weight format and KV type of the quality ladder on one GPU.</summary>
public sealed record FormatOptionDocument(string Engine, string Dtype, string KvDtype, long PerGpuBytes, long BudgetBytes, bool Fits, int MaxContext);

/// <summary>The memory at one context.</summary>
public sealed record ContextPointDocument(int Context, long PerGpuBytes, bool Fits);

/// <summary>One plan.</summary>
public sealed record FitPlanDocument
{
    public required string Gpu { get; init; }
    public required string GpuName { get; init; }
    public required string? Engine { get; init; }
    public required bool FitsOnOne { get; init; }
    public required string FitType { get; init; }
    public required int GpusNeeded { get; init; }
    public required int TensorParallel { get; init; }
    public required int PipelineParallel { get; init; }
    public required int Nodes { get; init; }
    public required long PerGpuBytes { get; init; }
    public required long BudgetBytes { get; init; }
    public required long HeadroomBytes { get; init; }
    public required int MaxContext { get; init; }
    public required long? KvCacheBytesPerGpu { get; init; }
    public required long? KvCacheTokens { get; init; }
    public required double? MaxConcurrency { get; init; }
    public required int? GpuLayers { get; init; }
    public required long? HostBytes { get; init; }
    public required double? DecodeTokensPerS { get; init; }
    public required double? AggregateDecodeTokensPerS { get; init; }
    public required double? PrefillTokensPerS { get; init; }
    public required double? TimeToFirstTokenS { get; init; }
    public required double? StepSeconds { get; init; }
    public required double? TrainingHours { get; init; }
    public required string? Reason { get; init; }
    public required IReadOnlyDictionary<string, object> Assumptions { get; init; }
    public required EngineSettingsDocument EngineSettings { get; init; }
}

/// <summary>The engine settings of a plan.</summary>
public sealed record EngineSettingsDocument
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Vllm { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Sglang { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Llamacpp { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Deepspeed { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Fsdp { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? K8s { get; init; }
}

/// <summary>The document of <c>llmsize gpus --json</c>.</summary>
public sealed record GpuListDocument(IReadOnlyList<GpuEntryDocument> Gpus);

/// <summary>One catalog GPU.</summary>
public sealed record GpuEntryDocument
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Vendor { get; init; }
    public required string Category { get; init; }
    public required string Architecture { get; init; }
    public required string MemoryType { get; init; }
    public required long MarketedMemoryBytes { get; init; }
    public required long UsableMemoryBytes { get; init; }
    public required bool UsableMemoryVerified { get; init; }
    public required string? UsableMemoryRule { get; init; }
    public required double BandwidthGbps { get; init; }
    public required double? Bf16Tflops { get; init; }
    public required double? Fp16Tflops { get; init; }
    public required double? Fp8Tflops { get; init; }
    public required double? Int8Tops { get; init; }
    public required string Interconnect { get; init; }
    public required IReadOnlyList<string> SmiNames { get; init; }
    public required IReadOnlyList<string> Aliases { get; init; }
    public required IReadOnlyList<string> Sources { get; init; }
}
#pragma warning restore CS1591
