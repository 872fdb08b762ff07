using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>One part of the memory estimate.</summary>
/// <param name="Name">A stable snake_case name: weights, kv_cache, activations, logits, overhead, gradients,
/// optimizer_states, master_weights, adapter_weights, output_buffer, compute_buffer ...</param>
/// <param name="PerGpu">Bytes on one GPU (the largest share when shares differ).</param>
/// <param name="Total">Bytes over all GPUs.</param>
/// <param name="Formula">How the number was computed, in words with the numbers used.</param>
/// <param name="Source">Where the formula comes from (paper section, repository path, issue).</param>
/// <param name="OnDevice">False for host-memory buffers (llama.cpp's output buffer); those are not in the GPU totals.</param>
public sealed record MemoryComponent(string Name, ByteSize PerGpu, ByteSize Total, string Formula, string Source, bool OnDevice = true);

/// <summary>The result of a memory estimate: components, per-GPU and total bytes, assumptions and warnings.</summary>
public sealed record MemoryEstimate
{
    /// <summary>The model's display name.</summary>
    public required string Model { get; init; }

    /// <summary>Inference or training.</summary>
    public required WorkloadMode Mode { get; init; }

    /// <summary>The GPUs the estimate spreads over.</summary>
    public required int Gpus { get; init; }

    /// <summary>The components, in display order.</summary>
    public required IReadOnlyList<MemoryComponent> Components { get; init; }

    /// <summary>Every input the estimate used, defaults included, as name → value text.</summary>
    public required IReadOnlyList<KeyValuePair<string, string>> Assumptions { get; init; }

    /// <summary>Warnings (context beyond the trained length, engine fallbacks ...).</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>Device bytes on one GPU: the sum of the on-device components' per-GPU bytes.</summary>
    public ByteSize PerGpu => Components.Where(c => c.OnDevice).Aggregate(ByteSize.Zero, (s, c) => s + c.PerGpu);

    /// <summary>Device bytes over all GPUs.</summary>
    public ByteSize Total => Components.Where(c => c.OnDevice).Aggregate(ByteSize.Zero, (s, c) => s + c.Total);

    /// <summary>The component of that name, or null.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <returns>The component, or null.</returns>
    public MemoryComponent? Component(string name) => Components.FirstOrDefault(c => c.Name == name);

    /// <summary>The per-GPU bytes of a component, zero when absent.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <returns>The bytes.</returns>
    public ByteSize this[string name] => Component(name)?.PerGpu ?? ByteSize.Zero;
}
