using System.Collections.Immutable;
using LlmSizer.DataTypes;
using LlmSizer.Units;

namespace LlmSizer.Tensors;

/// <summary>One tensor of a model: its name, shape, storage type and role.</summary>
/// <remarks>Shapes are listed outermost first, as PyTorch and safetensors list them (GGUF lists innermost first; its
/// reader reverses them). <see cref="Elements"/> is the number of logical elements (parameters when
/// <see cref="Kind"/> is <see cref="TensorKind.Parameter"/>); a packed type such as GPTQ's <c>qweight</c> stores more
/// logical elements than its stored shape, which <see cref="LogicalElements"/> carries when set.</remarks>
public sealed record TensorInfo
{
    /// <summary>Creates a tensor.</summary>
    /// <param name="name">The checkpoint name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
    /// <param name="shape">The stored shape, outermost first.</param>
    /// <param name="dataType">The storage type.</param>
    /// <param name="group">The breakdown group.</param>
    public TensorInfo(string name, ImmutableArray<long> shape, DataType dataType, TensorGroup group)
    {
        Name = name;
        Shape = shape;
        DataType = dataType;
        Group = group;
        Component = ModelComponents.FromTensorName(name);
    }

    /// <summary>The checkpoint name.</summary>
    public string Name { get; init; }

    /// <summary>The stored shape, outermost first.</summary>
    public ImmutableArray<long> Shape { get; init; }

    /// <summary>The storage type.</summary>
    public DataType DataType { get; init; }

    /// <summary>The breakdown group.</summary>
    public TensorGroup Group { get; init; }

    /// <summary>The multimodal component (language model, vision tower, projector, audio encoder). The constructor
    /// derives it from the name (<see cref="ModelComponents.FromTensorName"/>), so tensors read from files and
    /// generated ones agree; a generator may set it where the name is not specific.</summary>
    public ModelComponent Component { get; init; }

    /// <summary>Whether the tensor is a parameter, a buffer or quantization side data.</summary>
    public TensorKind Kind { get; init; } = TensorKind.Parameter;

    /// <summary>The tensor's role (embedding, Q/K/V, MLP, router, head ...), when its generator or reader knows it; null
    /// leaves it to the name classifier (<see cref="Quantization.TensorRoles"/>). Copies made with <c>with</c> keep it.</summary>
    public Quantization.TensorRole? Role { get; init; }

    /// <summary>The decoder/encoder layer index, when the tensor belongs to one.</summary>
    public int? Layer { get; init; }

    /// <summary>For routed-expert tensors: how many routed experts the pool holds (E). Zero otherwise.</summary>
    /// <remarks>A tensor of one expert and a fused tensor of all E experts both set this to E; the active share is
    /// <c>elements × <see cref="ActiveExperts"/> / E</c>, summed over the pool.</remarks>
    public int ExpertPool { get; init; }

    /// <summary>For routed-expert tensors: how many experts each token uses (top-k). Zero otherwise.</summary>
    public int ActiveExperts { get; init; }

    /// <summary>Logical elements when they differ from the product of the stored shape (packed int4 in int32).</summary>
    public long? LogicalElements { get; init; }

    /// <summary>The number of stored elements: the product of the shape (1 for a scalar).</summary>
    public long StoredElements
    {
        get
        {
            long n = 1;
            foreach (var d in Shape)
            {
                n = checked(n * d);
            }

            return n;
        }
    }

    /// <summary>The number of logical elements (parameters for a parameter tensor).</summary>
    public long Elements => LogicalElements ?? StoredElements;

    /// <summary>The exact stored bytes: <c>DataType.SizeOf(StoredElements)</c>, or per row for GGML block types.</summary>
    public ByteSize Bytes => BytesOf(DataType, Shape.AsSpan());

    /// <summary>The exact stored bytes of a tensor of <paramref name="dataType"/> and <paramref name="shape"/> (the rule
    /// of <see cref="Bytes"/>, for callers that size a tensor without creating one).</summary>
    internal static ByteSize BytesOf(DataType dataType, ReadOnlySpan<long> shape)
    {
        long elements = 1;
        foreach (var d in shape)
        {
            elements = checked(elements * d);
        }

        // Sub-byte types without a GGML id (safetensors F4, F6_E2M3, F6_E3M2) pack the whole tensor: its byte size
        // is elements × bits / 8 (huggingface/safetensors rejects a tensor where that is not whole). An empty tensor
        // is 0 bytes whatever its row (a row of 2^63 elements would overflow the row size).
        if (dataType.BlockElements == 1 || shape.IsEmpty || dataType.GgmlTypeId is null || elements == 0)
        {
            return dataType.SizeOf(elements);
        }

        // GGML block types are laid out row by row (ggml_row_size × rows): the innermost dimension is the row.
        long rows = elements / Math.Max(1, shape[^1]);
        return dataType.SizeOf(shape[^1]) * rows;
    }

    /// <summary>The shape as text, e.g. "[4096, 128256]".</summary>
    /// <returns>The shape in brackets.</returns>
    public string ShapeText() => "[" + string.Join(", ", Shape) + "]";
}
