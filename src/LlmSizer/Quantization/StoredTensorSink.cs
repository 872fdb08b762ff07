using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Quantization;

/// <summary>Receives the tensors of a model as a weight format stores them (<see cref="WeightFormat"/>'s one rule),
/// one call per stored tensor, so a caller that needs only sizes need not build a re-typed inventory.</summary>
internal interface IStoredTensorSink
{
    /// <summary>The tensor is stored as it is.</summary>
    void Kept(TensorInfo tensor);

    /// <summary>The tensor is stored in <paramref name="dataType"/>.</summary>
    void Retyped(TensorInfo tensor, DataType dataType);

    /// <summary>Side data of <paramref name="owner"/> (scales, zeros, indices): a <see cref="TensorKind.QuantizationAux"/>
    /// tensor named owner name + <paramref name="suffix"/>.</summary>
    void Aux(TensorInfo owner, string suffix, DataType dataType, params ReadOnlySpan<long> shape);
}

/// <summary>Builds the stored inventory (the public <see cref="WeightFormat.Apply(TensorInventory, Architecture.ArchitectureSpec?, DataType?)"/>).</summary>
internal sealed class MaterializingSink(int capacity) : IStoredTensorSink
{
    private readonly List<TensorInfo> _tensors = new(capacity);

    public void Kept(TensorInfo tensor) => _tensors.Add(tensor);

    public void Retyped(TensorInfo tensor, DataType dataType) => _tensors.Add(tensor with { DataType = dataType });

    public void Aux(TensorInfo owner, string suffix, DataType dataType, params ReadOnlySpan<long> shape) =>
        _tensors.Add(new(owner.Name + suffix, [.. shape], dataType, owner.Group) { Kind = TensorKind.QuantizationAux, Layer = owner.Layer });

    public TensorInventory Build() => new(_tensors);
}
