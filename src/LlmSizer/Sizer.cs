using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Catalog;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Seed;
using LlmSizer.Tensors;

namespace LlmSizer;

/// <summary>Which model a request is about: exactly one of a model argument (catalog id, file, folder), a model already
/// loaded, or an architecture given by numbers.</summary>
public sealed record ModelRequest
{
    /// <summary>A catalog id (<c>llama-3.1-8b</c>), a config.json, a model folder, a checkpoint file.</summary>
    public string? Model { get; init; }

    /// <summary>A model already loaded (e.g. by <see cref="Sizer.Load(string)"/>).</summary>
    public ModelInfo? Loaded { get; init; }

    /// <summary>An architecture given by numbers.</summary>
    public ManualArchitecture? Manual { get; init; }

    /// <summary>A request for a model argument.</summary>
    /// <param name="model">The argument.</param>
    public static implicit operator ModelRequest(string model) => new() { Model = model };

    /// <summary>A request for a model argument.</summary>
    /// <param name="model">The argument.</param>
    /// <returns>The request.</returns>
    public static ModelRequest FromString(string model) => new() { Model = model };

    internal ModelInfo Resolve()
    {
        int given = (Model is null ? 0 : 1) + (Loaded is null ? 0 : 1) + (Manual is null ? 0 : 1);
        if (given != 1)
        {
            throw new InvalidSettingException(SettingNames.Model,
                $"expected exactly one of a model (catalog id, config.json, folder, checkpoint) or a manual architecture; found {(given == 0 ? "none" : "both")}.");
        }

        return Loaded ?? (Manual is not null ? Sizer.Load(Manual) : Sizer.Load(Model!));
    }
}

/// <summary>A request to count a model's parameters.</summary>
public sealed record ParametersRequest
{
    /// <summary>The model.</summary>
    public required ModelRequest Model { get; init; }

    /// <summary>Compare the checkpoint's tensors with those its config implies.</summary>
    public bool Check { get; init; }

    /// <summary>Include every tensor in the result's documents.</summary>
    public bool Tensors { get; init; }

    /// <summary>Include parameters per layer in the result's documents.</summary>
    public bool LayersDetail { get; init; }

    /// <summary>Count the language model alone (<see cref="ModelInfo.LanguageModelOnly"/>): a multimodal model without its
    /// vision tower, projector and audio encoder.</summary>
    public bool TextOnly { get; init; }
}

/// <summary>What a parameters result shows besides the summary.</summary>
/// <param name="Tensors">Every tensor.</param>
/// <param name="LayersDetail">Parameters per layer.</param>
public sealed record ParametersOptions(bool Tensors, bool LayersDetail);

/// <summary>A model's parameter report, and the checkpoint check when asked for.</summary>
/// <param name="Model">The model.</param>
/// <param name="Report">Its parameters.</param>
/// <param name="Check">The config-versus-checkpoint comparison, when asked for.</param>
/// <param name="Options">What to show besides the summary.</param>
public sealed record ParametersResult(ModelInfo Model, ParameterReport Report, InventoryComparison? Check, ParametersOptions Options)
{
    /// <summary>How the model's card counts active parameters, for a catalog model whose entry records it.</summary>
    public Catalog.ModelCardActive? CardActive { get; init; }
}

/// <summary>A request to estimate memory.</summary>
public sealed record MemoryRequest
{
    /// <summary>The model.</summary>
    public required ModelRequest Model { get; init; }

    /// <summary>The workload (default: inference on one GPU with every engine default).</summary>
    public Workload Workload { get; init; } = new();

    /// <summary>Size the language model alone (<see cref="ModelInfo.LanguageModelOnly"/>): weights without the vision
    /// tower, projector and audio encoder, and no image tokens.</summary>
    public bool TextOnly { get; init; }
}

/// <summary>The front door for callers (the CLI, the web API, NuGet users): load a model, count it, estimate its memory.
/// Each method takes a typed request and returns a typed result; <see cref="Contract.ContractMapper"/> turns results into
/// the JSON contract's documents.</summary>
/// <example><code>
/// var report = Sizer.Parameters("llama-3.1-8b").Report;              // 8,030,261,248 parameters
/// var estimate = Sizer.Memory("llama-3.1-8b", new Workload { Context = 32768 });
/// Console.WriteLine(estimate.PerGpu);                                 // bytes on one GPU
/// </code></example>
public static class Sizer
{
    /// <summary>Loads a model: a catalog id, a config.json, a model folder, a safetensors file or index, or a GGUF file.</summary>
    /// <param name="model">The model argument.</param>
    /// <returns>The model.</returns>
    /// <exception cref="LlmSizerException">The argument names nothing readable, or what it names is invalid.</exception>
    public static ModelInfo Load(string model) => ModelResolver.Resolve(model);

    /// <summary>Builds a model from numbers.</summary>
    /// <param name="manual">The architecture.</param>
    /// <returns>The model, with its generated tensors.</returns>
    /// <exception cref="InvalidSettingException">A number is invalid (the setting is named).</exception>
    public static ModelInfo Load(ManualArchitecture manual)
    {
        ArgumentNullException.ThrowIfNull(manual);
        return ModelResolver.FromSpec("manual", ModelSourceKind.Manual, (manual.ToSpec(), ManualFamily.Instance));
    }

    /// <summary>Counts a model's parameters.</summary>
    /// <param name="model">The model argument.</param>
    /// <returns>The result.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded.</exception>
    public static ParametersResult Parameters(string model) => Parameters(new ParametersRequest { Model = model });

    /// <summary>Counts a model's parameters, optionally checking its checkpoint against its config.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The result.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded, or a check was asked of a model without checkpoint
    /// files and a config.</exception>
    public static ParametersResult Parameters(ParametersRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.Model.Resolve();
        if (request.TextOnly)
        {
            model = model.LanguageModelOnly();
        }

        InventoryComparison? check = null;
        if (request.Check)
        {
            if (model.Family is null || model.Architecture is null || model.Source is not (ModelSourceKind.Safetensors or ModelSourceKind.Gguf))
            {
                // Say what is missing for this model, not a list that includes what the user gave.
                string found = model.Source switch
                {
                    ModelSourceKind.Gguf => "a GGUF file, whose tensors follow llama.cpp's names (blk.N.*) and whose architecture comes from those same metadata, so there is no independent config to compare with",
                    ModelSourceKind.Safetensors when model.Architecture is null => "safetensors without a config.json beside them",
                    ModelSourceKind.Safetensors => $"safetensors whose config ({Errors.MessageText.Clean(model.Architecture?.Family ?? "?", 60)}) has no tensor generator",
                    _ => $"a {Contract.ContractMapper.SourceName(model.Source)} model with no checkpoint files",
                };
                throw new InvalidSettingException(SettingNames.Check,
                    $"expected a safetensors checkpoint with its config.json (a model folder or a Hugging Face snapshot) to compare; found {found}.");
            }

            check = InventoryComparison.Compare(model.Family.Generate(model.Architecture), model.Inventory);
        }

        var report = model.Parameters();
        if (report.Total.Value == 0 && model.Architecture is { } spec)
        {
            // Say it the same way memory does: a vocab-only GGUF has hyper-parameters but no tensors.
            model = model with
            {
                Warnings = [.. model.Warnings, $"{model.Name} holds no weight tensors (0 parameters here); memory estimates generate the weights from its architecture ({spec.Family})."],
            };
        }

        return new ParametersResult(model, report, check, new ParametersOptions(request.Tensors, request.LayersDetail))
        {
            CardActive = model.Source == ModelSourceKind.Catalog && Catalog.ModelCatalog.TryGet(model.Name, out var entry) ? entry.CardActive : null,
        };
    }

    /// <summary>Derives a model's parameter count group by group, the way the post "Sizing an LLM: Parameters" does, for
    /// its real architecture: formulas in symbols, the values and their sources, the products, the sum, the traps.</summary>
    /// <param name="result">A parameters result (from <see cref="Parameters(ParametersRequest)"/>).</param>
    /// <returns>The explanation; its numbers are the result's own.</returns>
    public static Explain.ParameterExplanation Explain(ParametersResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return LlmSizer.Explain.ParameterDerivations.Explain(result.Model);
    }

    /// <summary>Estimates a model's memory.</summary>
    /// <param name="model">The model argument.</param>
    /// <param name="workload">The workload (default: inference with every engine default).</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded, or a setting is invalid for it.</exception>
    public static MemoryEstimate Memory(string model, Workload? workload = null) =>
        Memory(new MemoryRequest { Model = model, Workload = workload ?? new Workload() });

    /// <summary>Estimates memory.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The estimate.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded, or a setting is invalid for it.</exception>
    public static MemoryEstimate Memory(MemoryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = request.Model.Resolve();
        return MemoryEstimator.Estimate(PreparedModel.For(request.TextOnly ? model.LanguageModelOnly() : model), request.Workload);
    }

    /// <summary>Estimates a model's memory and derives every component: its formula with the workload's numbers, where
    /// its constants come from, the KV cache per token from the architecture, and the per-GPU sum.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The explanation; its numbers are the estimate's own.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded, or a setting is invalid for it.</exception>
    public static Explain.MemoryExplanation ExplainMemory(MemoryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var resolved = request.Model.Resolve();
        var model = request.TextOnly ? resolved.LanguageModelOnly() : resolved;
        return LlmSizer.Explain.MemoryDerivations.Explain(model, MemoryEstimator.Estimate(PreparedModel.For(model), request.Workload));
    }

    /// <summary>Plans deployments: which GPUs, how many, the longest context, vLLM's KV budget and concurrency,
    /// llama.cpp's offload, throughput and engine settings.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The plans, best first.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded, or a setting is invalid for it.</exception>
    public static Fit.FitResult Fit(Fit.FitRequest request) => LlmSizer.Fit.FitPlanner.Plan(request);

    /// <summary>Prepares a model for many estimates (a sweep, a solver, a fit plan).</summary>
    /// <param name="model">The model.</param>
    /// <returns>The prepared model.</returns>
    public static PreparedModel Prepare(ModelInfo model) => PreparedModel.For(model);

    /// <summary>The built-in catalog, each model counted.</summary>
    /// <returns>The summaries, sorted by id.</returns>
    public static IReadOnlyList<CatalogSummary> Models() => ModelCatalog.Summaries();

    /// <summary>The worked example of the post "Sizing an LLM: Parameters", with errata and exact figures.</summary>
    /// <returns>The result.</returns>
    public static SeedPostResult Seed() => SeedPostMethod.Compute();

    /// <summary>The post "Sizing an LLM: Parameters" line by line: each figure as printed, its formula evaluated, the
    /// erratum at the line it affects, and the exact method beside it.</summary>
    /// <returns>The explanation.</returns>
    public static Explain.SeedExplanation ExplainSeed() => LlmSizer.Explain.SeedDerivations.Explain();
}
