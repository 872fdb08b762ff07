using LlmSizer.Architecture;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer;

/// <summary>Where a model description came from.</summary>
public enum ModelSourceKind
{
    /// <summary>The built-in catalog.</summary>
    Catalog,

    /// <summary>A config.json file or folder.</summary>
    Config,

    /// <summary>Safetensors files (single, sharded, or a model folder).</summary>
    Safetensors,

    /// <summary>A GGUF file.</summary>
    Gguf,

    /// <summary>The Hugging Face Hub.</summary>
    Hub,

    /// <summary>Numbers given as flags.</summary>
    Manual,
}

/// <summary>A resolved model: its architecture (when known) and its tensors (generated or read).</summary>
public sealed record ModelInfo
{
    /// <summary>The name to show: the catalog id, the file or folder name.</summary>
    public required string Name { get; init; }

    /// <summary>Where it came from.</summary>
    public required ModelSourceKind Source { get; init; }

    /// <summary>The architecture, when known (always for catalog, config and manual sources; from metadata for GGUF).</summary>
    public ArchitectureSpec? Architecture { get; init; }

    /// <summary>The family that generated <see cref="Inventory"/> from <see cref="Architecture"/>, when it did.</summary>
    public IArchitectureFamily? Family { get; init; }

    /// <summary>The tensors: generated from the architecture, or read from the files.</summary>
    public required TensorInventory Inventory { get; init; }

    /// <summary>The files read (empty for catalog and manual sources).</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>The total size of the files read, when files were read.</summary>
    public ByteSize? FileBytes { get; init; }

    /// <summary>Metadata read from the files, as text: the safetensors <c>__metadata__</c> map (first file), or the GGUF
    /// metadata keys (arrays shown as "[N × type]", chat templates by length). Null for other sources.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The file format version, when the format has one (GGUF: 2 or 3).</summary>
    public int? FormatVersion { get; init; }

    /// <summary>The GGUF data alignment in bytes (<c>general.alignment</c>, default 32); null for other sources.</summary>
    public int? Alignment { get; init; }

    /// <summary>Things worth telling the user that are not errors (e.g. an index whose <c>total_size</c> differs from the
    /// shards' tensor bytes, or a config.json beside the weights whose family is not supported).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>For a generated inventory (catalog, config, manual): the storage type its bytes assume, as a sentence;
    /// null when the tensors were read from files (their own types).</summary>
    public string? StorageNote => Source is ModelSourceKind.Catalog or ModelSourceKind.Config or ModelSourceKind.Manual &&
        Inventory.Tensors.FirstOrDefault(t => t.Kind == Tensors.TensorKind.Parameter) is { } first
        ? $"Bytes assume every tensor in {first.DataType.Name} ({first.DataType.BlockBytes} bytes)"
        : null;

    /// <summary>The parameter report of <see cref="Inventory"/>.</summary>
    /// <returns>The report.</returns>
    public ParameterReport Parameters() => ParameterReport.From(Inventory);

    /// <summary>The language model alone: the tensors of <see cref="ModelComponent.LanguageModel"/> (the vision tower,
    /// projector and audio encoder of a multimodal model dropped) and the architecture without its vision tower, as when a
    /// multimodal checkpoint serves text only.</summary>
    /// <returns>This model when it has no other component; otherwise the reduced model, with a warning saying what was
    /// left out.</returns>
    public ModelInfo LanguageModelOnly()
    {
        var others = Inventory.Tensors.Where(t => t.Component != ModelComponent.LanguageModel).ToList();
        if (others.Count == 0 && Architecture?.Vision is null)
        {
            return this;
        }

        var left = others.Where(t => t.Kind == TensorKind.Parameter).GroupBy(t => t.Component)
            .Select(g => $"{ModelComponents.Name(g.Key)} {g.Sum(t => t.Elements):N0}")
            .ToList();
        return this with
        {
            Inventory = new TensorInventory(Inventory.Tensors.Where(t => t.Component == ModelComponent.LanguageModel)),
            Architecture = Architecture is { } spec ? spec with { Vision = null } : null,
            Warnings = [.. Warnings, left.Count == 0
                ? "text only: the language model alone is counted"
                : $"text only: the language model alone is counted ({string.Join(", ", left)} parameters left out)"],
        };
    }
}
