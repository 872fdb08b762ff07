using System.Globalization;
using LlmSizer.Errors;
using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>The device a fit is computed for: a catalog GPU, a GPU found on this machine, or one described by its
/// numbers (<c>gpu_memory</c>, <c>gpu_bandwidth</c>, <c>gpu_tflops</c>).</summary>
public sealed record GpuDevice
{
    /// <summary>The name to show ("NVIDIA H100 SXM 80GB", "custom").</summary>
    public required string Name { get; init; }

    /// <summary>The memory one device offers to the engine (its driver-reported total).</summary>
    public required ByteSize UsableMemory { get; init; }

    /// <summary>Peak memory bandwidth in GB/s, when known.</summary>
    public double? BandwidthGBps { get; init; }

    /// <summary>Dense 16-bit tensor TFLOP/s (BF16, or FP16), when known.</summary>
    public double? Tflops { get; init; }

    /// <summary>The catalog entry it comes from or matched, when any.</summary>
    public GpuSpec? Spec { get; init; }

    /// <summary>The device of a catalog entry.</summary>
    /// <param name="spec">The catalog entry.</param>
    /// <returns>Its usable memory, bandwidth and dense 16-bit TFLOP/s.</returns>
    public static GpuDevice FromSpec(GpuSpec spec) => new()
    {
        Name = spec.Name,
        UsableMemory = spec.UsableMemory,
        BandwidthGBps = spec.BandwidthGBps,
        Tflops = spec.Dense16BitTflops,
        Spec = spec,
    };

    /// <summary>A device described by its numbers.</summary>
    /// <param name="usableMemory">The usable memory of one device; must be positive.</param>
    /// <param name="bandwidthGBps">Peak memory bandwidth in GB/s, or null; must be positive and finite.</param>
    /// <param name="tflops">Dense 16-bit TFLOP/s, or null; must be positive and finite.</param>
    /// <param name="name">The name to show.</param>
    /// <returns>The device.</returns>
    /// <exception cref="InvalidSettingException">A value is out of range; the message names <c>gpu_memory</c>,
    /// <c>gpu_bandwidth</c> or <c>gpu_tflops</c>.</exception>
    public static GpuDevice Custom(ByteSize usableMemory, double? bandwidthGBps = null, double? tflops = null, string name = "custom")
    {
        if (usableMemory.Bytes <= 0)
        {
            throw GpuErrorMessages.Setting(GpuRates.MemorySetting, "a positive size such as 48GiB", usableMemory.Bytes.ToString("N0", CultureInfo.InvariantCulture) + " bytes");
        }

        if (bandwidthGBps is double b && !GpuRates.IsPlausible(b))
        {
            throw GpuErrorMessages.Setting(GpuRates.BandwidthSetting, "a positive bandwidth below 1,000,000 GB/s", b.ToString(CultureInfo.InvariantCulture) + " GB/s");
        }

        if (tflops is double t && !GpuRates.IsPlausible(t))
        {
            throw GpuErrorMessages.Setting(GpuRates.TflopsSetting, "a positive TFLOP/s figure below 1,000,000", t.ToString(CultureInfo.InvariantCulture));
        }

        return new GpuDevice { Name = name, UsableMemory = usableMemory, BandwidthGBps = bandwidthGBps, Tflops = tflops };
    }

    /// <summary>A device described by user-typed values: "48GiB", "960GB/s", "150".</summary>
    /// <param name="memory">The usable memory (required), e.g. "48GiB" or "80GB".</param>
    /// <param name="bandwidth">The bandwidth, e.g. "960GB/s" or "3.35TB/s", or null.</param>
    /// <param name="tflops">Dense 16-bit TFLOP/s, e.g. "150" or "1.5PFLOPS", or null.</param>
    /// <returns>The device.</returns>
    /// <exception cref="InvalidSettingException">A value does not parse or is out of range; the message names the
    /// setting (<c>gpu_memory</c>, <c>gpu_bandwidth</c>, <c>gpu_tflops</c>) and quotes the text.</exception>
    public static GpuDevice ParseCustom(string? memory, string? bandwidth = null, string? tflops = null)
    {
        if (!ByteSize.TryParse(memory, out var size) || size.Bytes <= 0)
        {
            throw GpuErrorMessages.Setting(GpuRates.MemorySetting, "a positive size such as 48GiB or 80GB", GpuErrorMessages.Quote(memory));
        }

        double? b = bandwidth is null ? null : GpuRates.ParseBandwidth(bandwidth);
        double? t = tflops is null ? null : GpuRates.ParseTflops(tflops);
        return Custom(size, b, t);
    }
}
