using System.Collections.Immutable;

namespace LlmSizer.Checkpoints;

/// <summary>Shares shape arrays between the tensors of one header: a model has a handful of distinct shapes repeated
/// once per layer, so each is allocated once. Shapes are immutable, so sharing is safe.</summary>
internal sealed class ShapeCache
{
    // Recently seen distinct shapes, replaced round-robin when full (a model rarely has more than a dozen).
    private const int Capacity = 16;

    private readonly ImmutableArray<long>[] _shapes = new ImmutableArray<long>[Capacity];
    private int _count;
    private int _next;

    /// <summary>Returns a shape equal to <paramref name="dims"/>, allocated only the first time it is seen.</summary>
    public ImmutableArray<long> Get(ReadOnlySpan<long> dims)
    {
        if (dims.IsEmpty)
        {
            return ImmutableArray<long>.Empty;
        }

        for (int i = 0; i < _count; i++)
        {
            if (_shapes[i].AsSpan().SequenceEqual(dims))
            {
                return _shapes[i];
            }
        }

        var shape = ImmutableArray.Create(dims);
        _shapes[_next] = shape;
        _next = (_next + 1) % Capacity;
        _count = Math.Min(_count + 1, Capacity);
        return shape;
    }
}
