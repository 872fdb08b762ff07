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
    /// <exception cref="ModelConfigException">A field is missing or invalid.</exception>
    /// <exception cref="UnsupportedArchitectureException">The model_type is not supported.</exception>
    public static (ArchitectureSpec Spec, IArchitectureFamily Family) Read(ConfigObject config, ArchitectureRegistry? registry = null)
    {
        registry ??= ArchitectureRegistry.Default;
        var modelType = config.String("model_type")
            ?? throw config.Error("model_type", $"missing; expected one of the supported families ({string.Join(", ", registry.ModelTypes)})");
        var family = registry.Get(modelType, config.FilePath);
        return (family.Read(config), family);
    }
}
