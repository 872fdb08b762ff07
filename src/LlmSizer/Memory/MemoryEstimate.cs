using System.Globalization;
using LlmSizer.Units;

namespace LlmSizer.Memory;

/// <summary>One part of the memory estimate.</summary>
/// <remarks>The bytes are computed with the estimate; the formula text is built only when first read, so sweeps and
/// solvers that look at numbers alone never pay for formatting.</remarks>
public sealed class MemoryComponent
{
    private readonly Func<string>? _formulaBuilder;
    private string? _formula;

    /// <summary>Creates a component.</summary>
    /// <param name="name">A stable snake_case name: weights, kv_cache, activations, logits, overhead, gradients,
    /// optimizer_states, master_weights, adapter_weights, output_buffer, compute_buffer ...</param>
    /// <param name="perGpu">Bytes on one GPU (the largest share when shares differ).</param>
    /// <param name="total">Bytes over all GPUs.</param>
    /// <param name="formula">How the number was computed, in words with the numbers used.</param>
    /// <param name="source">Where the formula comes from (paper section, repository path, issue).</param>
    /// <param name="onDevice">False for host-memory buffers; those are not in the GPU totals.</param>
    public MemoryComponent(string name, ByteSize perGpu, ByteSize total, string formula, string source, bool onDevice = true)
        : this(name, perGpu, total, source, onDevice)
    {
        _formula = formula;
    }

    internal MemoryComponent(string name, long perGpu, long total, Func<string> formula, string source, bool onDevice)
        : this(name, new ByteSize(perGpu), new ByteSize(total), source, onDevice)
    {
        _formulaBuilder = formula;
    }

    private MemoryComponent(string name, ByteSize perGpu, ByteSize total, string source, bool onDevice)
    {
        Name = name;
        PerGpu = perGpu;
        Total = total;
        Source = source;
        OnDevice = onDevice;
    }

    /// <summary>The stable snake_case name.</summary>
    public string Name { get; }

    /// <summary>Bytes on one GPU (the largest share when shares differ).</summary>
    public ByteSize PerGpu { get; }

    /// <summary>Bytes over all GPUs.</summary>
    public ByteSize Total { get; }

    /// <summary>How the number was computed, with the numbers used.</summary>
    public string Formula => _formula ??= _formulaBuilder!();

    /// <summary>Where the formula comes from.</summary>
    public string Source { get; }

    /// <summary>False for host-memory buffers (llama.cpp's output buffer); those are not in the GPU totals.</summary>
    public bool OnDevice { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {PerGpu} per GPU";
}

/// <summary>One input an estimate rests on: its value, whether it was defaulted, and why it has that value.</summary>
/// <param name="Name">The snake_case name (<c>context</c>, <c>dtype</c>, <c>engine</c> ...).</param>
/// <param name="Value">The value: a <see cref="long"/>, <see cref="double"/>, <see cref="bool"/> or <see cref="string"/>.</param>
/// <param name="IsDefault">True when the user did not give it and the estimator chose it.</param>
/// <param name="Reason">Why it has that value (the rule or source of a default), when there is more to say.</param>
public sealed record Assumption(string Name, object Value, bool IsDefault = false, string? Reason = null)
{
    /// <summary>The value as text: numbers in invariant culture, booleans and enums lower case.</summary>
    public string ValueText => Value switch
    {
        bool b => b ? "true" : "false",
        double d => d.ToString("0.####", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString() ?? "",
    };

    /// <summary>The value with its provenance, as one line: <c>4096 (default)</c>, <c>bf16 (default: config torch_dtype)</c>.</summary>
    public string Text => ValueText + (IsDefault ? Reason is null ? " (default)" : $" (default: {Reason})" : Reason is null ? "" : $" ({Reason})");
}

/// <summary>The result of a memory estimate: components, per-GPU and total bytes, assumptions and warnings.</summary>
public sealed class MemoryEstimate
{
    private readonly Func<IReadOnlyList<Assumption>> _assumptionsBuilder;
    private IReadOnlyList<Assumption>? _assumptions;

    // Built only when a derivation asks for it (a re-typed copy of every tensor; estimates never need it).
    private readonly Lazy<Tensors.TensorInventory>? _storedWeights;

    internal MemoryEstimate(string model, WorkloadMode mode, int gpus, IReadOnlyList<MemoryComponent> components,
        IReadOnlyList<string> warnings, Func<IReadOnlyList<Assumption>> assumptions, Func<Tensors.TensorInventory>? storedWeights = null)
    {
        _storedWeights = storedWeights is null ? null : new Lazy<Tensors.TensorInventory>(storedWeights);
        Model = model;
        Mode = mode;
        Gpus = gpus;
        Components = components;
        Warnings = warnings;
        _assumptionsBuilder = assumptions;
        long perGpu = 0, total = 0;
        foreach (var c in components)
        {
            if (c.OnDevice)
            {
                perGpu = checked(perGpu + c.PerGpu.Bytes);
                total = checked(total + c.Total.Bytes);
            }
        }

        PerGpu = new ByteSize(perGpu);
        Total = new ByteSize(total);
    }

    /// <summary>The model's display name.</summary>
    public string Model { get; }

    /// <summary>The tensors as the estimate stores them (the weight format applied, scales included), for the weights
    /// derivation of <c>--explain</c>; null when the estimator did not say.</summary>
    internal Tensors.TensorInventory? StoredWeights => _storedWeights?.Value;

    /// <summary>Inference or training.</summary>
    public WorkloadMode Mode { get; }

    /// <summary>The GPUs the estimate spreads over.</summary>
    public int Gpus { get; }

    /// <summary>The components, in display order.</summary>
    public IReadOnlyList<MemoryComponent> Components { get; }

    /// <summary>Every input the estimate used, defaults included, typed (built when first read).</summary>
    public IReadOnlyList<Assumption> Assumptions => _assumptions ??= _assumptionsBuilder();

    /// <summary>Warnings (context beyond the trained length, engine fallbacks ...).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Device bytes on one GPU: the sum of the on-device components' per-GPU bytes.</summary>
    public ByteSize PerGpu { get; }

    /// <summary>Device bytes over all GPUs.</summary>
    public ByteSize Total { get; }

    /// <summary>The component of that name, or null.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <returns>The component, or null.</returns>
    public MemoryComponent? Component(string name)
    {
        foreach (var c in Components)
        {
            if (c.Name == name)
            {
                return c;
            }
        }

        return null;
    }

    /// <summary>The assumption of that name, or null.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <returns>The assumption, or null.</returns>
    public Assumption? Assumption(string name) => Assumptions.FirstOrDefault(a => a.Name == name);

    /// <summary>The share of one GPU's device bytes that a component takes, in percent (0 when the estimate is empty).</summary>
    /// <param name="component">A component of this estimate.</param>
    /// <returns>The percentage.</returns>
    public double SharePercent(MemoryComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        return PerGpu.Bytes == 0 || !component.OnDevice ? 0 : component.PerGpu.Bytes * 100.0 / PerGpu.Bytes;
    }

    /// <summary>The per-GPU bytes of a component, zero when absent.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <returns>The bytes.</returns>
    public ByteSize this[string name] => Component(name)?.PerGpu ?? ByteSize.Zero;
}
