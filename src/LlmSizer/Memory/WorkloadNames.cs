using System.Diagnostics.CodeAnalysis;

namespace LlmSizer.Memory;

/// <summary>The user-facing names of the workload's enumerations, in one table each: every front end parses and prints
/// them through here, so <c>sgd-momentum</c> goes in and comes back as <c>sgd-momentum</c>.</summary>
public static class WorkloadNames
{
    private static readonly (string Name, WorkloadMode Value)[] Modes = [("inference", WorkloadMode.Inference), ("training", WorkloadMode.Training)];

    private static readonly (string Name, InferenceEngine Value)[] Engines =
        [("vllm", InferenceEngine.Vllm), ("vllm-v0", InferenceEngine.Vllm), ("llamacpp", InferenceEngine.LlamaCpp), ("hf", InferenceEngine.Hf)];

    private static readonly (string Name, OptimizerKind Value)[] Optimizers =
    [
        ("adamw", OptimizerKind.AdamW), ("adamw8bit", OptimizerKind.AdamW8Bit), ("sgd", OptimizerKind.Sgd),
        ("sgd-momentum", OptimizerKind.SgdMomentum), ("adafactor", OptimizerKind.Adafactor), ("lion", OptimizerKind.Lion),
    ];

    private static readonly (string Name, Recompute Value)[] Recomputes =
        [("none", Recompute.None), ("selective", Recompute.Selective), ("full", Recompute.Full)];

    private static readonly (string Name, FlashAttention Value)[] FlashModes =
        [("auto", FlashAttention.Auto), ("on", FlashAttention.On), ("off", FlashAttention.Off)];

    private static readonly (string Name, GpuInterconnect Value)[] Links = [("nvlink", GpuInterconnect.NvLink), ("pcie", GpuInterconnect.Pcie)];

    private static readonly (string Name, AttentionKernel Value)[] Kernels =
        [("flash", AttentionKernel.Flash), ("sdpa", AttentionKernel.Sdpa), ("eager", AttentionKernel.Eager)];

    // Aliases users type: "llama.cpp", "llama-cpp", "transformers", "flash_attention_2", "adamw_8bit", "sgd_momentum".
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["llama.cpp"] = "llamacpp", ["llama-cpp"] = "llamacpp", ["llama_cpp"] = "llamacpp", ["transformers"] = "hf",
        ["huggingface"] = "hf", ["vllm_v0"] = "vllm-v0", ["vllm-v1"] = "vllm", ["vllm_v1"] = "vllm", ["flash_attention_2"] = "flash", ["flash-attention-2"] = "flash", ["fa2"] = "flash",
        ["adamw_8bit"] = "adamw8bit", ["adamw-8bit"] = "adamw8bit", ["paged_adamw_8bit"] = "adamw8bit",
        ["sgd_momentum"] = "sgd-momentum", ["sgdmomentum"] = "sgd-momentum", ["adam"] = "adamw",
        ["nvswitch"] = "nvlink", ["infinity-fabric"] = "nvlink", ["xgmi"] = "nvlink", ["pci"] = "pcie",
        ["true"] = "on", ["false"] = "off", ["1"] = "on", ["0"] = "off", ["infer"] = "inference", ["train"] = "training",
    };

    /// <summary>The accepted names of the modes.</summary>
    public static IReadOnlyList<string> ModeNames { get; } = Modes.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of the engines.</summary>
    public static IReadOnlyList<string> EngineNames { get; } = Engines.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of the optimizers.</summary>
    public static IReadOnlyList<string> OptimizerNames { get; } = Optimizers.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of the recompute kinds.</summary>
    public static IReadOnlyList<string> RecomputeNames { get; } = Recomputes.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of llama.cpp's flash-attention modes.</summary>
    public static IReadOnlyList<string> FlashAttentionNames { get; } = FlashModes.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of the GPU interconnects.</summary>
    public static IReadOnlyList<string> InterconnectNames { get; } = Links.Select(m => m.Name).ToArray();

    /// <summary>The accepted names of the attention kernels.</summary>
    public static IReadOnlyList<string> AttentionNames { get; } = Kernels.Select(m => m.Name).ToArray();

    /// <summary>Parses a mode name.</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The mode.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out WorkloadMode value) => Find(Modes, text, out value);

    /// <summary>Parses an engine name (also <c>llama.cpp</c>, <c>transformers</c>).</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The engine.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out InferenceEngine value) => Find(Engines, text, out value);

    /// <summary>Parses an optimizer name.</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The optimizer.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out OptimizerKind value) => Find(Optimizers, text, out value);

    /// <summary>Parses a recompute name.</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The kind.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out Recompute value) => Find(Recomputes, text, out value);

    /// <summary>Parses a llama.cpp flash-attention mode.</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The mode.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out FlashAttention value) => Find(FlashModes, text, out value);

    /// <summary>Parses a GPU interconnect (nvlink, pcie).</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The interconnect.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out GpuInterconnect value) => Find(Links, text, out value);

    /// <summary>Parses an attention kernel (transformers' <c>attn_implementation</c> names).</summary>
    /// <param name="text">The name.</param>
    /// <param name="value">The kernel.</param>
    /// <returns>True when known.</returns>
    public static bool TryParse(string? text, out AttentionKernel value) => Find(Kernels, text, out value);

    /// <summary>The canonical name of a mode.</summary>
    /// <param name="value">The mode.</param>
    /// <returns>The name.</returns>
    public static string Name(WorkloadMode value) => NameOf(Modes, value);

    /// <summary>The canonical name of an engine.</summary>
    /// <param name="value">The engine.</param>
    /// <returns>The name.</returns>
    public static string Name(InferenceEngine value) => NameOf(Engines, value);

    /// <summary>The canonical name of an optimizer.</summary>
    /// <param name="value">The optimizer.</param>
    /// <returns>The name.</returns>
    public static string Name(OptimizerKind value) => NameOf(Optimizers, value);

    /// <summary>The canonical name of a recompute kind.</summary>
    /// <param name="value">The kind.</param>
    /// <returns>The name.</returns>
    public static string Name(Recompute value) => NameOf(Recomputes, value);

    /// <summary>The canonical name of a flash-attention mode.</summary>
    /// <param name="value">The mode.</param>
    /// <returns>The name.</returns>
    public static string Name(FlashAttention value) => NameOf(FlashModes, value);

    /// <summary>The canonical name of a GPU interconnect.</summary>
    /// <param name="value">The interconnect.</param>
    /// <returns>The name.</returns>
    public static string Name(GpuInterconnect value) => NameOf(Links, value);

    /// <summary>The canonical name of an attention kernel.</summary>
    /// <param name="value">The kernel.</param>
    /// <returns>The name.</returns>
    public static string Name(AttentionKernel value) => NameOf(Kernels, value);

    /// <summary>Whether an engine name asks for vLLM's V0 memory profile (<c>vllm-v0</c> or an alias of it).</summary>
    /// <param name="text">The engine name as given.</param>
    /// <returns>True for vllm-v0.</returns>
    public static bool IsVllmV0(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var key = text.Trim();
        return string.Equals(Aliases.TryGetValue(key, out var canonical) ? canonical : key, "vllm-v0", StringComparison.OrdinalIgnoreCase);
    }

    private static bool Find<T>((string Name, T Value)[] table, string? text, [MaybeNullWhen(false)] out T value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var key = text.Trim();
        if (Aliases.TryGetValue(key, out var canonical))
        {
            key = canonical;
        }

        foreach (var (name, v) in table)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }

        return false;
    }

    private static string NameOf<T>((string Name, T Value)[] table, T value)
        where T : struct, Enum
    {
        foreach (var (name, v) in table)
        {
            if (EqualityComparer<T>.Default.Equals(v, value))
            {
                return name;
            }
        }

        return value.ToString().ToLowerInvariant();
    }
}
