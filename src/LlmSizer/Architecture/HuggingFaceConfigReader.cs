using LlmSizer.Errors;

namespace LlmSizer.Architecture;

/// <summary>Reads a Hugging Face <c>config.json</c> onto an <see cref="ArchitectureSpec"/> through the family that its
/// <c>model_type</c> names.</summary>
public static class HuggingFaceConfigReader
{
    /// <summary>Reads a config file.</summary>
    /// <param name="path">The path of config.json.</param>
    /// <param name="registry">The families to use (the built-in ones by default).</param>
    /// <returns>The spec and the family that read it.</returns>
    /// <exception cref="ModelConfigException">The file is missing, not JSON, or has an invalid field.</exception>
    /// <exception cref="UnsupportedArchitectureException">The model_type is not supported.</exception>
    public static (ArchitectureSpec Spec, IArchitectureFamily Family) ReadFile(string path, ArchitectureRegistry? registry = null) =>
        Read(ConfigObject.Load(path), registry);

    /// <summary>Reads a parsed config.</summary>
    /// <param name="config">The config.</param>
    /// <param name="registry">The families to use (the built-in ones by default).</param>
    /// <returns>The spec and the family that read it.</returns>
    /// <exception cref="ModelConfigException">A field (including <c>quantization_config</c>) is missing or invalid, or the model breaks a <see cref="ModelLimits"/>
    /// limit (more layers, experts, hidden units, vocabulary or generated tensors than any real model).</exception>
    /// <exception cref="UnsupportedArchitectureException">The model_type is not supported.</exception>
    public static (ArchitectureSpec Spec, IArchitectureFamily Family) Read(ConfigObject config, ArchitectureRegistry? registry = null) =>
        Read(config, registry, readQuantization: true);

    /// <summary>Reads a parsed config; <paramref name="readQuantization"/> false skips <c>quantization_config</c> (a
    /// safetensors folder, whose files' own tensor types are what is sized).</summary>
    internal static (ArchitectureSpec Spec, IArchitectureFamily Family) Read(ConfigObject config, ArchitectureRegistry? registry, bool readQuantization)
    {
        ArgumentNullException.ThrowIfNull(config);
        registry ??= ArchitectureRegistry.Default;
        var modelType = config.String("model_type")
            ?? throw config.Error("model_type", $"missing; expected one of the supported families ({string.Join(", ", registry.ModelTypes)})");
        var family = registry.Get(modelType, config.FilePath);
        var spec = family.Read(config);
        CheckLimits(config, spec);
        if (readQuantization && Quantization.QuantizationConfig.Read(config) is { } quantization)
        {
            spec = spec with { Quantization = quantization };
        }

        return (spec, family);
    }

    /// <summary>Refuses a spec beyond <see cref="ModelLimits"/> before anything is generated from it, naming the config
    /// key that set the value (looked up at the root and in <c>text_config</c>).</summary>
    private static void CheckLimits(ConfigObject config, ArchitectureSpec spec)
    {
        if (ModelLimits.FirstViolation(spec) is not { } v)
        {
            return;
        }

        var text = config.Object("text_config");
        string key = v.Keys.FirstOrDefault(config.Has) ?? (text is null ? null : v.Keys.Where(text.Has).Select(k => "text_config." + k).FirstOrDefault()) ?? v.Property;
        string what = v.Property == "generated tensors"
            ? $"a model of at most {ModelLimits.MaxGeneratedTensors:N0} tensors (ModelLimits.MaxGeneratedTensors); found about {v.Value:N0} ({spec.Layers:N0} layers × {spec.Moe?.Experts ?? 0:N0} experts)"
            : $"at most {v.Max:N0} {v.Property} (ModelLimits, far above any published model); found {v.Value:N0}";
        throw config.Error(key, "expected " + what);
    }
}
