using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LlmSizer.Contract;

/// <summary>The source-generated serializer of the JSON contract (NativeAOT- and trim-safe: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ParamsDocument))]
[JsonSerializable(typeof(MemoryDocument))]
[JsonSerializable(typeof(ModelsDocument))]
[JsonSerializable(typeof(SeedDocument))]
[JsonSerializable(typeof(ErrorDocument))]
[JsonSerializable(typeof(FitDocument))]
[JsonSerializable(typeof(GpuListDocument))]
[JsonSerializable(typeof(ParamsExplainDocument))]
[JsonSerializable(typeof(MemoryExplainDocument))]
[JsonSerializable(typeof(SeedExplainDocument))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(string))]
public sealed partial class LlmSizerJsonContext : JsonSerializerContext
{
    private static readonly Lazy<LlmSizerJsonContext> Configured = new(() => new LlmSizerJsonContext(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        // Formulas carry ×, Σ and · : keep them readable; the output is never embedded in HTML unescaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    }));

    /// <summary>The context with the contract's options (snake_case, indented, readable non-ASCII).</summary>
    public static LlmSizerJsonContext Contract => Configured.Value;
}

/// <summary>Serializes contract documents.</summary>
public static class ContractJson
{
    /// <summary>Serializes a params document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(ParamsDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.ParamsDocument);

    /// <summary>Serializes a memory document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(MemoryDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.MemoryDocument);

    /// <summary>Serializes a models document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(ModelsDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.ModelsDocument);

    /// <summary>Serializes a seed document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(SeedDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.SeedDocument);

    /// <summary>Serializes a fit document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(FitDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.FitDocument);

    /// <summary>Serializes a GPU list document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(GpuListDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.GpuListDocument);

    /// <summary>Serializes a parameter explanation document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(ParamsExplainDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.ParamsExplainDocument);

    /// <summary>Serializes a memory explanation document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(MemoryExplainDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.MemoryExplainDocument);

    /// <summary>Serializes a seed explanation document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(SeedExplainDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.SeedExplainDocument);

    /// <summary>Serializes an error document.</summary>
    /// <param name="document">The document.</param>
    /// <returns>The JSON text.</returns>
    public static string Serialize(ErrorDocument document) => JsonSerializer.Serialize(document, LlmSizerJsonContext.Contract.ErrorDocument);
}
