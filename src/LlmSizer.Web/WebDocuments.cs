using System.Text.Json;
using System.Text.Json.Serialization;
using LlmSizer.Gpus;

namespace LlmSizer.Web;

/// <summary>The document of <c>/api/max_context</c>: the longest context whose per-GPU estimate fits one GPU
/// (<see cref="Memory.MemorySolver.MaxContext(Memory.PreparedModel, Memory.Workload, Units.ByteSize)"/>).</summary>
public sealed record MaxContextDocument
{
    /// <summary>The model.</summary>
    public required string Model { get; init; }

    /// <summary>The GPU id.</summary>
    public required string Gpu { get; init; }

    /// <summary>The per-GPU budget: the GPU's usable memory in bytes.</summary>
    public required long BudgetBytes { get; init; }

    /// <summary>The longest fitting context in tokens; 0 when not even one token fits.</summary>
    public required int MaxContext { get; init; }

    /// <summary>The model's max_position_embeddings, when known (a longer context is only a warning).</summary>
    public required int? MaxPositions { get; init; }
}

/// <summary>Source-generated serializer of the web project's own documents, with the contract's options.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(MaxContextDocument))]
public sealed partial class WebJsonContext : JsonSerializerContext
{
    private static readonly Lazy<WebJsonContext> Configured = new(() => new WebJsonContext(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }));

    /// <summary>The context with the contract's options.</summary>
    public static WebJsonContext Contract => Configured.Value;
}
