using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>Who makes an accelerator.</summary>
public enum GpuVendor
{
    /// <summary>NVIDIA (CUDA; nvidia-smi).</summary>
    Nvidia,

    /// <summary>AMD (ROCm; rocm-smi).</summary>
    Amd,

    /// <summary>Intel (Gaudi; hl-smi).</summary>
    Intel,

    /// <summary>Apple silicon (Metal; unified memory).</summary>
    Apple,
}

/// <summary>The market an accelerator is sold into.</summary>
public enum GpuCategory
{
    /// <summary>Consumer (GeForce) cards.</summary>
    Consumer,

    /// <summary>Workstation (RTX professional) cards.</summary>
    Workstation,

    /// <summary>Data-centre accelerators.</summary>
    DataCenter,

    /// <summary>Unified-memory machines whose GPU shares system RAM (Apple silicon).</summary>
    Unified,
}

/// <summary>One accelerator of the built-in catalog: vendor specifications with their sources, and the memory the
/// driver actually reports.</summary>
/// <remarks>Every size, bandwidth and TFLOP/s figure is per device as the runtime exposes it (an MI250X package is two
/// devices; see <see cref="DevicesPerPackage"/>). TFLOP/s are dense: vendors' "with sparsity" figures are halved.</remarks>
public sealed record GpuSpec
{
    /// <summary>The id users type, e.g. "h100-sxm-80gb" or "rtx-4090".</summary>
    public required string Id { get; init; }

    /// <summary>The display name, e.g. "NVIDIA H100 SXM 80GB".</summary>
    public required string Name { get; init; }

    /// <summary>The vendor.</summary>
    public required GpuVendor Vendor { get; init; }

    /// <summary>Consumer, workstation, data centre or unified memory.</summary>
    public required GpuCategory Category { get; init; }

    /// <summary>The GPU architecture, e.g. "Hopper".</summary>
    public required string Architecture { get; init; }

    /// <summary>The memory technology, e.g. "HBM3" or "GDDR6X".</summary>
    public required string MemoryType { get; init; }

    /// <summary>The marketed memory of one package, the vendor's "GB" read as GiB.</summary>
    /// <remarks>Memory capacities are binary: an "80 GB" H100 carries 80 GiB of HBM3, which is why nvidia-smi can show
    /// 81,559 MiB (more than 80 × 10^9 bytes).</remarks>
    public required ByteSize MarketedMemory { get; init; }

    /// <summary>How many runtime devices one package shows (2 for an MI250X, else 1).</summary>
    public int DevicesPerPackage { get; init; } = 1;

    /// <summary>The memory one device reports as its total to the driver (nvidia-smi <c>memory.total</c>, rocm-smi
    /// <c>VRAM Total Memory</c>, Metal <c>recommendedMaxWorkingSetSize</c>).</summary>
    public required ByteSize UsableMemory { get; init; }

    /// <summary>True when <see cref="UsableMemory"/> comes from a real log (see <see cref="UsableMemorySource"/>);
    /// false when it follows <see cref="UsableMemoryRule"/>.</summary>
    public required bool UsableMemoryVerified { get; init; }

    /// <summary>What the log shows, quoted, when there is one.</summary>
    public string? UsableMemoryEvidence { get; init; }

    /// <summary>The https URL of the log, when there is one.</summary>
    public string? UsableMemorySource { get; init; }

    /// <summary>The rule used when no log was found (or to carry a figure over from a sibling card).</summary>
    public string? UsableMemoryRule { get; init; }

    /// <summary>For unified memory: the fraction of RAM the GPU may use by default (0.75 on Apple silicon above 36 GB).</summary>
    public double? GpuMemoryFraction { get; init; }

    /// <summary>Peak memory bandwidth in GB/s (10^9 bytes per second).</summary>
    public required double BandwidthGBps { get; init; }

    /// <summary>Dense BF16 tensor TFLOP/s; null where unsupported or unpublished.</summary>
    public double? Bf16Tflops { get; init; }

    /// <summary>Dense FP16 tensor TFLOP/s; null where unpublished.</summary>
    public double? Fp16Tflops { get; init; }

    /// <summary>Dense FP8 tensor TFLOP/s; null where unsupported or unpublished.</summary>
    public double? Fp8Tflops { get; init; }

    /// <summary>Dense INT8 tensor TOP/s; null where unsupported or unpublished.</summary>
    public double? Int8Tops { get; init; }

    /// <summary>The GPU-to-GPU link, described ("NVLink 4 900 GB/s", "PCIe 4.0 x16").</summary>
    public required string Interconnect { get; init; }

    /// <summary>The GPU-to-GPU link bandwidth in GB/s as the vendor states it (NVLink: total bidirectional); null for PCIe only.</summary>
    public double? InterconnectGBps { get; init; }

    /// <summary>The PCIe generation of the host link, when it has one.</summary>
    public int? PcieGeneration { get; init; }

    /// <summary>The names nvidia-smi, rocm-smi, hl-smi or Metal print for this device.</summary>
    public IReadOnlyList<string> SmiNames { get; init; } = [];

    /// <summary>Other accepted ids ("4090", "h100", "a100-80").</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>Vendor datasheets and spec pages (https URLs).</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>How figures were derived and other caveats.</summary>
    public string? Notes { get; init; }

    /// <summary>The dense 16-bit tensor TFLOP/s to use for compute estimates: BF16, or FP16 where BF16 is unsupported.</summary>
    public double? Dense16BitTflops => Bf16Tflops ?? Fp16Tflops;
}
