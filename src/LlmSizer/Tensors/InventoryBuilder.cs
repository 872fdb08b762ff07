using System.Collections.Immutable;
using LlmSizer.DataTypes;

namespace LlmSizer.Tensors;

/// <summary>Collects tensors for a generated inventory. Family generators use it so that every tensor carries its
/// group, layer and expert-pool tags consistently.</summary>
public sealed class InventoryBuilder
{
    private readonly List<TensorInfo> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates a builder whose tensors are stored as <paramref name="dataType"/>.</summary>
    /// <param name="dataType">The storage type of generated tensors (BF16 by default).</param>
    public InventoryBuilder(DataType? dataType = null)
    {
        DataType = dataType ?? DataType.BF16;
    }

    /// <summary>The storage type of generated tensors.</summary>
    public DataType DataType { get; }

    /// <summary>The number of tensors so far.</summary>
    public int Count => _tensors.Count;

    /// <summary>Adds a parameter tensor.</summary>
    /// <param name="name">The checkpoint name.</param>
    /// <param name="group">The breakdown group.</param>
    /// <param name="layer">The layer index, or null.</param>
    /// <param name="shape">The shape, outermost first (PyTorch order: [out, in] for a Linear weight).</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">A tensor of that name was already added (a generator bug).</exception>
    public InventoryBuilder Add(string name, TensorGroup group, int? layer, params ReadOnlySpan<long> shape) =>
        Add(new TensorInfo(name, [.. shape], DataType, group) { Layer = layer });

    /// <summary>Adds one routed expert's tensor (or a fused tensor of the whole pool).</summary>
    /// <param name="name">The checkpoint name.</param>
    /// <param name="layer">The layer index.</param>
    /// <param name="experts">The routed experts in the pool (E).</param>
    /// <param name="activeExperts">The experts a token uses (top-k).</param>
    /// <param name="shape">The shape.</param>
    /// <returns>This builder.</returns>
    public InventoryBuilder AddExpert(string name, int layer, int experts, int activeExperts, params ReadOnlySpan<long> shape) =>
        Add(new TensorInfo(name, [.. shape], DataType, TensorGroup.Experts) { Layer = layer, ExpertPool = experts, ActiveExperts = activeExperts });

    /// <summary>Adds a prepared tensor.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">A tensor of that name was already added.</exception>
    public InventoryBuilder Add(TensorInfo tensor)
    {
        if (!_names.Add(tensor.Name))
        {
            throw new InvalidOperationException($"Duplicate generated tensor '{tensor.Name}'.");
        }

        _tensors.Add(tensor);
        return this;
    }

    /// <summary>Builds the inventory.</summary>
    /// <returns>The inventory.</returns>
    public TensorInventory Build() => new(_tensors);

    /// <summary>An empty shape list helper for scalars.</summary>
    public static ImmutableArray<long> Scalar => [];
}
