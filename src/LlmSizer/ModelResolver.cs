using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Checkpoints;
using LlmSizer.Errors;

namespace LlmSizer;

/// <summary>Turns a model argument (catalog id, config.json, model folder, checkpoint file) into a <see cref="ModelInfo"/>.</summary>
public static class ModelResolver
{
    /// <summary>Resolves a model argument.</summary>
    /// <param name="model">A catalog id, a path to config.json, a folder, a .safetensors, an index, or a .gguf file.</param>
    /// <returns>The model.</returns>
    /// <exception cref="LlmSizerException">The argument names nothing readable, or what it names is invalid.</exception>
    public static ModelInfo Resolve(string model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            throw new UnknownModelException("MODEL: expected a catalog id, a config.json, a model folder or a checkpoint file; found an empty argument.");
        }

        if (ModelCatalog.TryGet(model, out var entry))
        {
            return FromSpec(entry.Id, ModelSourceKind.Catalog, HuggingFaceConfigReader.Read(entry.Config));
        }

        if (File.Exists(model) || Directory.Exists(model))
        {
            // One read of the path: a pipe (/dev/stdin) can be read only once, so a config comes back parsed.
            var loaded = CheckpointLoader.Load(model, parseConfig: true);
            if (loaded.Model is { } fromFiles)
            {
                return fromFiles;
            }

            var configPath = Directory.Exists(model) ? Path.Combine(model, "config.json") : model;
            if (Directory.Exists(model) && !File.Exists(configPath))
            {
                throw new UnknownModelException($"{MessageText.Clean(model, 400)}: expected a model folder with config.json, *.safetensors or *.gguf; found none.");
            }

            var config = loaded.Config ?? ConfigObject.Load(configPath, scanned: Directory.Exists(model));
            var read = HuggingFaceConfigReader.Read(config);
            var name = LocalFiles.IsStreamPath(model) && !Directory.Exists(model)
                ? Path.GetFileName(model) // /dev/stdin: "stdin", not "dev"
                : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(Directory.Exists(model) ? model : Path.GetDirectoryName(Path.GetFullPath(model))!)));
            return FromSpec(name, ModelSourceKind.Config, read) with { Files = [configPath] };
        }

        if (ModelCatalog.TryGetFineTuneBase(model, out var baseEntry))
        {
            return FromSpec(baseEntry.Id, ModelSourceKind.Catalog, HuggingFaceConfigReader.Read(baseEntry.Config)) with
            {
                Warnings = [$"'{MessageText.Clean(model, 200)}' is not in the catalog; sized as {baseEntry.Id} ({baseEntry.Repository}): an instruct or chat fine-tune has its base model's tensor shapes."],
            };
        }

        if (model.StartsWith("hf:", StringComparison.OrdinalIgnoreCase) || model.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || model.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            // The core never touches the network: the Hub reader is the LlmSizer.Hub package (the CLI uses it).
            throw new UnknownModelException($"MODEL: '{MessageText.Clean(model, 300)}': hf: ids and URLs are read by LlmSizer.Hub (HubModels.LoadAsync, which the llmsize CLI uses); Sizer.Load reads the catalog and local files only.");
        }

        var suggestions = ModelCatalog.Suggest(model);
        throw new UnknownModelException(suggestions.Count > 0
            ? $"MODEL: '{MessageText.Clean(model, 300)}' is not a catalog id nor an existing file or folder; did you mean {string.Join(", ", suggestions)}? (see 'llmsize models')"
            : $"MODEL: '{MessageText.Clean(model, 300)}' is not a catalog id nor an existing file or folder (see 'llmsize models' for the {ModelCatalog.All.Count} built-in models).");
    }

    /// <summary>Builds a model from a spec read by a family.</summary>
    /// <param name="name">The display name.</param>
    /// <param name="source">The source kind.</param>
    /// <param name="read">The spec and its family.</param>
    /// <returns>The model, with a generated inventory.</returns>
    /// <exception cref="InvalidSettingException">A manual spec breaks a <see cref="ModelLimits"/> limit (more layers,
    /// experts or generated tensors than any real model); the setting is named.</exception>
    /// <exception cref="ModelConfigException">Another spec breaks a limit.</exception>
    public static ModelInfo FromSpec(string name, ModelSourceKind source, (ArchitectureSpec Spec, IArchitectureFamily Family) read)
    {
        ArgumentNullException.ThrowIfNull(read.Spec);
        ArgumentNullException.ThrowIfNull(read.Family);

        // Checked before generating: the inventory (and every estimate made from it) is sized by these numbers.
        if (ModelLimits.FirstViolation(read.Spec) is { } v)
        {
            string setting = v.Property == "generated tensors" ? "experts" : v.Property;
            string message = v.Property == "generated tensors"
                ? $"{setting}: expected a model of at most {ModelLimits.MaxGeneratedTensors:N0} tensors (ModelLimits.MaxGeneratedTensors); found about {v.Value:N0} ({read.Spec.Layers:N0} layers × {read.Spec.Moe?.Experts ?? 0:N0} experts)."
                : $"{setting}: expected at most {v.Max:N0} (ModelLimits, far above any published model); found {v.Value:N0}.";
            throw source == ModelSourceKind.Manual
                ? new InvalidSettingException(setting, message)
                : new ModelConfigException(name, setting, $"{MessageText.Clean(name, 400)}: {message}");
        }

        return new()
        {
            Name = name,
            Source = source,
            Architecture = read.Spec,
            Family = read.Family,
            Inventory = read.Family.Generate(read.Spec),
        };
    }
}
