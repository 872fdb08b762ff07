using System.Text.Json;
using System.Text.Json.Serialization;
using LlmSizer.Gpus;

namespace LlmSizer.Web;

/// <summary>The document of <c>GET /api/gpus</c>: the built-in accelerator catalog, reduced to what the page needs.</summary>
/// <param name="Gpus">Every entry, in catalog order.</param>
public sealed record GpusDocument(IReadOnlyList<GpuEntryDocument> Gpus)
{
    /// <summary>Maps the catalog.</summary>
    /// <param name="gpus">The entries (<see cref="GpuCatalog.All"/>).</param>
    /// <returns>The document.</returns>
    public static GpusDocument From(IEnumerable<GpuSpec> gpus) => new([.. gpus.Select(g => new GpuEntryDocument
    {
        Id = g.Id,
        Name = g.Name,
        Vendor = g.Vendor.ToString().ToLowerInvariant(),
        Category = g.Category switch
        {
            GpuCategory.DataCenter => "data_center",
            _ => g.Category.ToString().ToLowerInvariant(),
        },
        Architecture = g.Architecture,
        MemoryType = g.MemoryType,
        MarketedMemoryBytes = g.MarketedMemory.Bytes,
        UsableMemoryBytes = g.UsableMemory.Bytes,
        UsableMemoryVerified = g.UsableMemoryVerified,
        BandwidthGbps = g.BandwidthGBps,
        Aliases = g.Aliases,
    })]);
}

/// <summary>One accelerator.</summary>
public sealed record GpuEntryDocument
{
    /// <summary>The catalog id (<c>h100-sxm-80gb</c>).</summary>
    public required string Id { get; init; }

    /// <summary>The display name.</summary>
    public required string Name { get; init; }

    /// <summary>nvidia, amd, intel or apple.</summary>
    public required string Vendor { get; init; }

    /// <summary>consumer, workstation, data_center or unified.</summary>
    public required string Category { get; init; }

    /// <summary>The GPU architecture (Hopper).</summary>
    public required string Architecture { get; init; }

    /// <summary>The memory technology (HBM3).</summary>
    public required string MemoryType { get; init; }

    /// <summary>The marketed memory in bytes (vendor "GB" read as GiB).</summary>
    public required long MarketedMemoryBytes { get; init; }

    /// <summary>The memory the driver reports as total, in bytes: the capacity line of the page's charts.</summary>
    public required long UsableMemoryBytes { get; init; }

    /// <summary>True when the usable figure comes from a real driver log.</summary>
    public required bool UsableMemoryVerified { get; init; }

    /// <summary>Peak memory bandwidth in GB/s.</summary>
    public required double BandwidthGbps { get; init; }

    /// <summary>Other accepted ids.</summary>
    public required IReadOnlyList<string> Aliases { get; init; }
}

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
[JsonSerializable(typeof(GpusDocument))]
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
