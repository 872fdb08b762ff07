using LlmSizer.DataTypes;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer.Architecture;

/// <summary>The parameter breakdown of a model: total, active per token, by group, by storage type, by layer.</summary>
public sealed record ParameterReport
{
    /// <summary>All unique parameters (a tied matrix once).</summary>
    public required ParameterCount Total { get; init; }

    /// <summary>Parameters used per token (equal to <see cref="Total"/> for dense models), the input embedding included.</summary>
    public required ParameterCount Active { get; init; }

    /// <summary>Parameters used per token without the input token and position embeddings
    /// (<see cref="TensorInventory.ActiveParametersWithoutEmbeddings"/>).</summary>
    public ParameterCount ActiveWithoutEmbeddings { get; init; }

    /// <summary>Parameters per group; every group is present.</summary>
    public required IReadOnlyDictionary<TensorGroup, ParameterCount> Groups { get; init; }

    /// <summary>Parameters per multimodal component (<c>language_model</c>, <c>vision_tower</c>, <c>projector</c>,
    /// <c>audio_encoder</c>); every component is present and the values sum to <see cref="Total"/>. A text-only model
    /// has everything in <see cref="ModelComponent.LanguageModel"/>. This sits beside <see cref="Groups"/>, which it
    /// does not change.</summary>
    public IReadOnlyDictionary<ModelComponent, ParameterCount> Components { get; init; } =
        Enum.GetValues<ModelComponent>().ToDictionary(c => c, _ => ParameterCount.Zero);

    /// <summary>Parameters per storage type.</summary>
    public required IReadOnlyList<KeyValuePair<DataType, ParameterCount>> ByDataType { get; init; }

    /// <summary>Bytes of the parameter tensors per storage type, in the order of <see cref="ByDataType"/>.</summary>
    public required IReadOnlyList<KeyValuePair<DataType, ByteSize>> BytesByDataType { get; init; }

    /// <summary>Parameters per layer.</summary>
    public required IReadOnlyList<KeyValuePair<int, ParameterCount>> ByLayer { get; init; }

    /// <summary>The number of parameter tensors.</summary>
    public required int TensorCount { get; init; }

    /// <summary>The exact bytes of the parameter tensors at their storage types.</summary>
    public required ByteSize WeightBytes { get; init; }

    /// <summary>The average stored bits per parameter (weight bytes × 8 / total), or 0 for an empty model.</summary>
    public double BitsPerWeight => Total.Value == 0 ? 0 : WeightBytes.Bytes * 8.0 / Total.Value;

    /// <summary>A part's share of the total, in percent (null for an empty model).</summary>
    /// <param name="part">The part.</param>
    /// <returns>The percentage, or null.</returns>
    public double? SharePercent(ParameterCount part) => Total.Value == 0 ? null : part.Value * 100.0 / Total.Value;

    /// <summary>Computes the report of an inventory.</summary>
    /// <param name="inventory">The tensors.</param>
    /// <returns>The report.</returns>
    public static ParameterReport From(TensorInventory inventory) => new()
    {
        Total = inventory.TotalParameters,
        Active = inventory.ActiveParameters,
        ActiveWithoutEmbeddings = inventory.ActiveParametersWithoutEmbeddings,
        Groups = inventory.ByGroup(),
        Components = inventory.ByComponent(),
        ByDataType = inventory.ByDataType(),
        BytesByDataType = inventory.Parameters.GroupBy(t => t.DataType)
            .Select(g => new KeyValuePair<DataType, ByteSize>(g.Key, g.Aggregate(ByteSize.Zero, (s, t) => s + t.Bytes))).ToList(),
        ByLayer = inventory.ByLayer(),
        TensorCount = inventory.Parameters.Count(),
        WeightBytes = inventory.ParameterBytes,
    };
}
