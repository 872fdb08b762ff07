using System.Collections.Immutable;
using LlmSizer.DataTypes;
using LlmSizer.Units;

namespace LlmSizer.Tensors;

/// <summary>The list of a model's tensors, generated from an architecture or read from checkpoint files. Counting,
/// grouping and byte sizes are computed here, once, whichever the source.</summary>
public sealed class TensorInventory
{
    /// <summary>Creates an inventory.</summary>
    /// <param name="tensors">The tensors.</param>
    public TensorInventory(IEnumerable<TensorInfo> tensors)
    {
        Tensors = tensors.ToImmutableArray();
    }

    /// <summary>The tensors, in checkpoint order.</summary>
    public ImmutableArray<TensorInfo> Tensors { get; }

    /// <summary>The parameter tensors only (no buffers, no quantization side data).</summary>
    public IEnumerable<TensorInfo> Parameters => Tensors.Where(t => t.Kind == TensorKind.Parameter);

    /// <summary>The total number of parameters (logical elements of parameter tensors).</summary>
    public ParameterCount TotalParameters
    {
        get
        {
            long total = 0;
            foreach (var t in Parameters)
            {
                total = checked(total + t.Elements);
            }

            return new ParameterCount(total);
        }
    }

    /// <summary>The parameters used per token: everything except the routed experts a token does not visit.</summary>
    /// <remarks>For each expert pool (E experts, top-k), the routed tensors contribute <c>elements × k / E</c>. The input
    /// token and position embeddings are counted (a lookup, not a matmul); <see cref="ActiveParametersWithoutEmbeddings"/>
    /// leaves them out, as some model cards do.</remarks>
    public ParameterCount ActiveParameters => Active(withEmbeddings: true);

    /// <summary>The active parameters without the input token and position embeddings (a tied output head, being the
    /// embedding matrix, goes with it): the figure model cards such as gpt-oss's quote as "active".</summary>
    public ParameterCount ActiveParametersWithoutEmbeddings => Active(withEmbeddings: false);

    private ParameterCount Active(bool withEmbeddings)
    {
        long dense = 0;
        var pools = new Dictionary<(int Pool, int Active), long>();
        foreach (var t in Parameters)
        {
            if (!withEmbeddings && Quantization.TensorRoles.Of(t) is Quantization.TensorRole.TokenEmbedding or Quantization.TensorRole.PositionEmbedding)
            {
                continue;
            }

            if (t.ExpertPool > 0)
            {
                pools[(t.ExpertPool, t.ActiveExperts)] = checked(pools.GetValueOrDefault((t.ExpertPool, t.ActiveExperts)) + t.Elements);
            }
            else
            {
                dense = checked(dense + t.Elements);
            }
        }

        foreach (var ((pool, active), elements) in pools)
        {
            // Multiply first: elements is a multiple of the pool size for any complete set of experts.
            dense = checked(dense + (long)((Int128)elements * active / pool));
        }

        return new ParameterCount(dense);
    }

    /// <summary>Parameters per breakdown group (every group present, zero when empty).</summary>
    /// <returns>A map from group to parameter count.</returns>
    public IReadOnlyDictionary<TensorGroup, ParameterCount> ByGroup()
    {
        var map = Enum.GetValues<TensorGroup>().ToDictionary(g => g, _ => ParameterCount.Zero);
        foreach (var t in Parameters)
        {
            map[t.Group] += new ParameterCount(t.Elements);
        }

        return map;
    }

    /// <summary>Parameters per multimodal component (every component present, zero when empty); the values sum to
    /// <see cref="TotalParameters"/>.</summary>
    /// <returns>A map from component to parameter count.</returns>
    public IReadOnlyDictionary<ModelComponent, ParameterCount> ByComponent()
    {
        var map = Enum.GetValues<ModelComponent>().ToDictionary(c => c, _ => ParameterCount.Zero);
        foreach (var t in Parameters)
        {
            map[t.Component] += new ParameterCount(t.Elements);
        }

        return map;
    }

    /// <summary>Parameters per storage type, in first-seen order.</summary>
    /// <returns>A map from data type to parameter count.</returns>
    public IReadOnlyList<KeyValuePair<DataType, ParameterCount>> ByDataType()
    {
        var order = new List<DataType>();
        var map = new Dictionary<DataType, long>();
        foreach (var t in Parameters)
        {
            if (!map.TryGetValue(t.DataType, out var sum))
            {
                order.Add(t.DataType);
                sum = 0;
            }

            map[t.DataType] = checked(sum + t.Elements);
        }

        return order.Select(d => new KeyValuePair<DataType, ParameterCount>(d, new ParameterCount(map[d]))).ToList();
    }

    /// <summary>Parameters per layer index (tensors outside layers are left out).</summary>
    /// <returns>A sorted map from layer index to parameter count.</returns>
    public IReadOnlyList<KeyValuePair<int, ParameterCount>> ByLayer() =>
        Parameters.Where(t => t.Layer is not null)
            .GroupBy(t => t.Layer!.Value)
            .OrderBy(g => g.Key)
            .Select(g => new KeyValuePair<int, ParameterCount>(g.Key, new ParameterCount(g.Sum(t => t.Elements))))
            .ToList();

    /// <summary>The exact bytes of all stored tensors (parameters, buffers and quantization side data).</summary>
    public ByteSize TotalBytes => Tensors.Aggregate(ByteSize.Zero, (sum, t) => sum + t.Bytes);

    /// <summary>The exact bytes of parameter tensors only.</summary>
    public ByteSize ParameterBytes => Parameters.Aggregate(ByteSize.Zero, (sum, t) => sum + t.Bytes);

    /// <summary>Returns a copy with every parameter tensor stored as <paramref name="dataType"/>.</summary>
    /// <param name="dataType">The new storage type.</param>
    /// <returns>The converted inventory.</returns>
    public TensorInventory WithDataType(DataType dataType) =>
        new(Tensors.Select(t => t.Kind == TensorKind.Parameter ? t with { DataType = dataType } : t));
}
