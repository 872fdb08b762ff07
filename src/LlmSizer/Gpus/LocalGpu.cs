using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>The tool a local GPU was found with.</summary>
public enum LocalGpuTool
{
    /// <summary><c>nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv</c>.</summary>
    NvidiaSmi,

    /// <summary><c>rocm-smi --showproductname --showmeminfo vram --json</c>.</summary>
    RocmSmi,
}

/// <summary>One GPU found on this machine, as its driver reports it. Cards are never summed: two GPUs are two records.</summary>
public sealed record LocalGpu
{
    /// <summary>The device index (nvidia-smi order, or N of rocm-smi's "cardN").</summary>
    public required int Index { get; init; }

    /// <summary>The name the driver printed, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public required string Name { get; init; }

    /// <summary>The tool that reported it.</summary>
    public required LocalGpuTool Tool { get; init; }

    /// <summary>Total memory, or null where the driver prints "[N/A]" (unified-memory devices such as GB10).</summary>
    public ByteSize? Total { get; init; }

    /// <summary>Used memory, or null where the driver prints "[N/A]".</summary>
    public ByteSize? Used { get; init; }

    /// <summary>Free memory (total − used), or null when either is unknown.</summary>
    public ByteSize? Free { get; init; }

    /// <summary>The catalog entry this device matches (by name and memory), or null.</summary>
    public GpuSpec? CatalogMatch { get; init; }

    /// <summary>The device to size against: its reported total (or free) memory, with the catalog's bandwidth and
    /// TFLOP/s when it matched one.</summary>
    /// <param name="useFreeMemory">True to offer only the memory free now (other processes keep theirs).</param>
    /// <returns>The device, or null when the driver reported no memory figure.</returns>
    public GpuDevice? ToDevice(bool useFreeMemory = false)
    {
        var memory = useFreeMemory ? Free : Total;
        return memory is not ByteSize m || m.Bytes <= 0
            ? null
            : new GpuDevice
            {
                Name = Name,
                UsableMemory = m,
                BandwidthGBps = CatalogMatch?.BandwidthGBps,
                Tflops = CatalogMatch?.Dense16BitTflops,
                Spec = CatalogMatch,
            };
    }
}

/// <summary>System memory as /proc/meminfo reports it.</summary>
/// <param name="Total">MemTotal.</param>
/// <param name="Available">MemAvailable, or null on kernels that do not report it (before 3.14).</param>
public sealed record HostMemory(ByteSize Total, ByteSize? Available);

/// <summary>What local discovery found: one record per GPU (never summed), host memory, and notes on what was
/// missing.</summary>
public sealed record LocalGpuReport
{
    /// <summary>The GPUs, NVIDIA first, then AMD.</summary>
    public required IReadOnlyList<LocalGpu> Gpus { get; init; }

    /// <summary>Host memory from /proc/meminfo, or null when it is absent (not Linux) or was not asked for.</summary>
    public HostMemory? HostMemory { get; init; }

    /// <summary>Notes such as "nvidia-smi: not found on the search path".</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
