using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Contract;
using LlmSizer.Errors;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Requests;

namespace LlmSizer.Mcp;

/// <summary>What a tool returns: the contract document as JSON text (what <c>llmsize ... --json</c> prints, less the
/// final newline) and a one-line summary with the key number first.</summary>
/// <param name="Json">The document.</param>
/// <param name="Summary">The summary.</param>
internal sealed record ToolOutput(string Json, string Summary);

/// <summary>One tool: its name, what it is for, its inputs, and what it runs.</summary>
/// <param name="Name">The tool name.</param>
/// <param name="Title">A short human title.</param>
/// <param name="Description">What it answers, for the agent choosing a tool.</param>
/// <param name="Fields">Its inputs.</param>
/// <param name="Required">The names of the required inputs.</param>
/// <param name="Run">Computes the output from the inputs given.</param>
internal sealed record ToolDefinition(string Name, string Title, string Description, IReadOnlyList<ToolField> Fields,
    IReadOnlyList<string> Required, Func<IReadOnlyDictionary<string, string>, ToolOutput> Run)
{
    /// <summary>The input schema.</summary>
    public JsonElement Schema { get; } = ToolFields.Schema(Fields, Required);
}

/// <summary>The tools <c>params</c>, <c>memory</c>, <c>fit</c>, <c>gpus</c>, <c>models</c>: each maps its inputs to the
/// core's request types (workload fields through <see cref="WorkloadParser.Parse"/>) and answers with the core's
/// contract document, so the JSON equals <c>llmsize ... --json</c> for the same inputs.</summary>
internal sealed class SizerTools
{
    private static readonly ToolField Tensors = new("tensors", FieldKind.Flag, "Also list every tensor (name, shape, dtype, parameters). Can be thousands of entries. Default false.");
    private static readonly ToolField LayersDetail = new("layers_detail", FieldKind.Flag, "Also give the parameters of each layer. Default false.");
    private static readonly ToolField Check = new("check", FieldKind.Flag, "Compare a checkpoint's tensors (safetensors or GGUF files, so model must be an allowed path) with those its config implies. Default false.");
    private static readonly ToolField Gpu = new("gpu", FieldKind.Text, "A catalog GPU id or alias (rtx-4090, 4090, h100, a100-80, mi300x; the gpus tool lists them): plan for that GPU only. Give at most one of gpu, budget, gpu_memory. Default: every catalog GPU.");
    private static readonly ToolField Budget = new("budget", FieldKind.Text, "Usable memory per GPU with a unit, e.g. \"24GiB\": the best weight format and context for that budget. Give at most one of gpu, budget, gpu_memory.");
    private static readonly ToolField CustomMemory = new(SettingNames.GpuMemory, FieldKind.Text, "A custom GPU not in the catalog: its usable memory as the driver reports it, e.g. \"48GiB\". Give at most one of gpu, budget, gpu_memory.");
    private static readonly ToolField CustomBandwidth = new("gpu_bandwidth", FieldKind.Text, "With gpu_memory: the custom GPU's memory bandwidth, e.g. \"960GB/s\" (for tokens/s). Default: none (no throughput).");
    private static readonly ToolField CustomTflops = new("gpu_tflops", FieldKind.Number, "With gpu_memory: the custom GPU's dense 16-bit TFLOP/s, e.g. 150 (for prefill and training time). Default: none.");
    private static readonly ToolField GpuOnly = new("gpu_only", FieldKind.Flag, "Keep only plans that run fully on GPUs (no llama.cpp partial offload to the CPU). Default false.");
    private static readonly ToolField MaxGpus = new("max_gpus", FieldKind.Count, "The most GPUs a plan may use, 1 to 4096. Default 64 (eight nodes of eight).");
    private static readonly ToolField DecodeEfficiency = new("decode_efficiency", FieldKind.Number, "Fraction of peak memory bandwidth a decode step reaches, greater than 0 and at most 1. Default 0.7.");
    private static readonly ToolField Mfu = new("mfu", FieldKind.Number, "Model FLOPs utilization for prefill and training time, greater than 0 and at most 1. Default 0.4.");
    private static readonly ToolField Query = new("query", FieldKind.Text, "Keep only models whose id, repository or family contains this text (case-insensitive), e.g. \"llama\" or \"qwen3\". Default: the whole catalog.");

    private readonly ServerSettings _settings;
    private readonly ConcurrentDictionary<string, ModelInfo> _catalogModels = new(StringComparer.Ordinal);
    private readonly Lazy<string> _gpusJson = new(() => ContractJson.Serialize(ContractMapper.Gpus(GpuCatalog.All)));

    /// <summary>Creates the tools.</summary>
    /// <param name="settings">What the server was started with.</param>
    public SizerTools(ServerSettings settings)
    {
        _settings = settings;
        var workload = ToolFields.Workload.Select(w => w.Field).ToList();
        All =
        [
            new("params", "Count parameters",
                "Exact parameter count of an LLM, tensor by tensor as the official checkpoint stores them, split into embedding, attention, " +
                "mlp, experts, norm and lm_head, with the architecture (layers, hidden size, heads, vocab, context) and bytes per dtype. " +
                "Returns the same JSON document as `llmsize params MODEL --json`.",
                [ToolFields.Model, ToolFields.Config, Tensors, LayersDetail, Check], [], Params),
            new("memory", "Estimate GPU memory",
                "GPU memory needed to serve (vLLM, llama.cpp, transformers) or train (full, LoRA, QLoRA, ZeRO) a model, per GPU and in total, " +
                "component by component (weights, KV cache, activations, optimizer, overhead) with every assumption and default stated. " +
                "Sizes in bytes (per_gpu_bytes is the headline). Returns the same JSON as `llmsize memory MODEL --json` with the same settings.",
                [ToolFields.Model, ToolFields.Config, .. workload], [], Memory),
            new("fit", "Plan a deployment",
                "Which GPUs and how many a model needs, the longest context that fits, vLLM's KV-cache budget and concurrency, llama.cpp offload, " +
                "decode and prefill tokens/s, and the engine command lines (vllm, sglang, llama.cpp, DeepSpeed, FSDP, Kubernetes); plans best first. " +
                "With gpu: one GPU type; with budget: a memory budget; neither: every catalog GPU. Same JSON as `llmsize fit MODEL --json`.",
                [ToolFields.Model, ToolFields.Config, Gpu, Budget, CustomMemory, CustomBandwidth, CustomTflops, GpuOnly, MaxGpus, DecodeEfficiency, Mfu,
                 .. workload.Where(f => f.Name != SettingNames.GpuMemory)], [], Fit),
            new("gpus", "List GPUs",
                "The built-in GPU catalog: id, name, vendor, marketed and usable memory in bytes, bandwidth, TFLOP/s, interconnect. " +
                "Use an id as the gpu input of fit. Same JSON as `llmsize gpus --json`.", [], [], _ => Gpus()),
            new("models", "List catalog models",
                "The built-in model catalog: id, Hugging Face repository, family and exact parameter count of each model; use an id as the model " +
                "input of the other tools. Same JSON as `llmsize models --json` (filtered by query when given).", [Query], [], Models),
        ];
        ByName = All.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Every tool, in listing order.</summary>
    public IReadOnlyList<ToolDefinition> All { get; }

    /// <summary>The tools by name.</summary>
    public IReadOnlyDictionary<string, ToolDefinition> ByName { get; }

    private ToolOutput Params(IReadOnlyDictionary<string, string> v)
    {
        var model = ResolveModel(v);
        var result = Sizer.Parameters(new ParametersRequest
        {
            Model = new ModelRequest { Loaded = model },
            Tensors = FlagOf(v, Tensors.Name),
            LayersDetail = FlagOf(v, LayersDetail.Name),
            Check = FlagOf(v, Check.Name),
        });
        var doc = ContractMapper.Params(result);
        var total = doc.Parameters.Total;
        var active = doc.Parameters.Active != total ? $", {doc.Parameters.Active.ToString("N0", CultureInfo.InvariantCulture)} active per token" : "";
        return new(ContractJson.Serialize(doc),
            $"{total.ToString("N0", CultureInfo.InvariantCulture)} parameters ({Short(total)}{active}): {doc.Model} ({doc.Source}), {doc.Tensors:N0} tensors.");
    }

    private ToolOutput Memory(IReadOnlyDictionary<string, string> v)
    {
        var workload = WorkloadParser.Parse(ToolFields.Options(v));
        var model = ResolveModel(v);
        var estimate = Sizer.Memory(new MemoryRequest { Model = new ModelRequest { Loaded = model }, Workload = workload });
        var doc = ContractMapper.Memory(estimate);
        var total = doc.Gpus > 1 ? $" ({Gib(doc.TotalBytes)} on {doc.Gpus} GPUs)" : "";
        return new(ContractJson.Serialize(doc), $"{Gib(doc.PerGpuBytes)} per GPU{total}: {doc.Model}, {doc.Mode}.");
    }

    private ToolOutput Fit(IReadOnlyDictionary<string, string> v)
    {
        var gpuName = v.GetValueOrDefault(Gpu.Name);
        var budget = v.GetValueOrDefault(Budget.Name);
        var custom = v.GetValueOrDefault(CustomMemory.Name);
        var given = new[] { (Gpu.Name, gpuName), (Budget.Name, budget), (CustomMemory.Name, custom) }.Where(x => x.Item2 is not null).ToList();
        if (given.Count > 1)
        {
            throw new ToolInputException(given[1].Item1, $"expected at most one of gpu, budget, gpu_memory; found {string.Join(" and ", given.Select(g => g.Item1))}.");
        }

        if (custom is null && (v.ContainsKey(CustomBandwidth.Name) || v.ContainsKey(CustomTflops.Name)))
        {
            throw new ToolInputException(v.ContainsKey(CustomBandwidth.Name) ? CustomBandwidth.Name : CustomTflops.Name, "applies to a custom GPU; expected gpu_memory with it; found none.");
        }

        if (gpuName is not null && gpuName.Trim().Equals("local", StringComparison.OrdinalIgnoreCase))
        {
            throw new ToolInputException(Gpu.Name, "expected a catalog GPU id (see the gpus tool); found \"local\": this server does not probe the machine's GPUs.");
        }

        var workload = WorkloadParser.Parse(ToolFields.Options(v));
        var throughput = new ThroughputAssumptions
        {
            DecodeBandwidthEfficiency = v.GetValueOrDefault(DecodeEfficiency.Name) is { } de ? SettingParser.ParseFraction(DecodeEfficiency.Name, de) : ThroughputAssumptions.Default.DecodeBandwidthEfficiency,
            Mfu = v.GetValueOrDefault(Mfu.Name) is { } mfu ? SettingParser.ParseFraction(Mfu.Name, mfu) : ThroughputAssumptions.Default.Mfu,
        };
        var request = new FitRequest
        {
            Model = new ModelRequest { Loaded = ResolveModel(v) },
            Workload = workload,
            GpuOnly = FlagOf(v, GpuOnly.Name),
            MaxGpus = v.GetValueOrDefault(MaxGpus.Name) is { } mg ? SettingParser.ParseInt(MaxGpus.Name, mg, 1, 4096) : 64,
            Throughput = throughput,
            Budget = budget is null ? null : SettingParser.ParseSize(Budget.Name, budget),
            Gpu = custom is not null ? GpuDevice.ParseCustom(custom, v.GetValueOrDefault(CustomBandwidth.Name), v.GetValueOrDefault(CustomTflops.Name))
                : gpuName is not null ? GpuDevice.FromSpec(GpuCatalog.Find(gpuName)) : null,
        };
        var doc = ContractMapper.Fit(Sizer.Fit(request));
        var best = doc.Results.FirstOrDefault(p => p.FitType != "none");
        var summary = best is null
            ? $"does not fit: {doc.Model} on {(doc.Results.Count == 1 ? doc.Results[0].GpuName : $"any of {doc.Results.Count} GPU types")}" +
              ((doc.Results.Count > 0 ? doc.Results[0].Reason : null) is { } why ? $" ({why})" : "") + "."
            : $"{best.GpusNeeded} × {best.GpuName} ({best.FitType}{(best.Engine is { } e ? ", " + e : "")}): {Gib(best.PerGpuBytes)} of {Gib(best.BudgetBytes)} per GPU, " +
              $"longest context {best.MaxContext.ToString("N0", CultureInfo.InvariantCulture)}: {doc.Model}" +
              (doc.Results.Count > 1 ? $"; {doc.Results.Count} plans, best first." : ".");
        return new(ContractJson.Serialize(doc), summary);
    }

    private ToolOutput Gpus() => new(_gpusJson.Value, $"{GpuCatalog.All.Count} GPUs in the catalog.");

    private static ToolOutput Models(IReadOnlyDictionary<string, string> v)
    {
        var query = v.GetValueOrDefault(Query.Name)?.Trim();
        var rows = Sizer.Models().Where(r => string.IsNullOrEmpty(query)
            || r.Entry.Id.Contains(query, StringComparison.OrdinalIgnoreCase)
            || r.Entry.Repository.Contains(query, StringComparison.OrdinalIgnoreCase)
            || (r.Family?.Contains(query, StringComparison.OrdinalIgnoreCase) ?? false)).ToList();
        var doc = ContractMapper.Models(rows);
        return new(ContractJson.Serialize(doc), string.IsNullOrEmpty(query)
            ? $"{rows.Count} models in the catalog."
            : $"{rows.Count} catalog models match {SettingParser.Quote(query)}.");
    }

    /// <summary>The model of a call: exactly one of <c>model</c> (catalog id, or a path under an allowed folder) and
    /// <c>config_json</c>. Never opens a path outside <see cref="ServerSettings.AllowedRoots"/>, never the network.</summary>
    private ModelInfo ResolveModel(IReadOnlyDictionary<string, string> v)
    {
        var model = v.GetValueOrDefault(SettingNames.Model);
        var config = v.GetValueOrDefault(ToolFields.ConfigJson);
        if ((model is null) == (config is null))
        {
            throw new ToolInputException(SettingNames.Model, model is null
                ? "expected model (a catalog id; see the models tool) or config_json (a config.json's text); found neither."
                : "expected one of model or config_json; found both.");
        }

        if (config is not null)
        {
            return FromConfig(config);
        }

        var id = model!.Trim();
        if (id.Length == 0)
        {
            throw new ToolInputException(SettingNames.Model, "expected a catalog id (see the models tool); found an empty value.");
        }

        if (ModelCatalog.TryGet(id, out var entry))
        {
            return _catalogModels.GetOrAdd(entry.Id, _ => Sizer.Load(entry.Id));
        }

        if (_settings.AllowHub && Hub.HubModels.IsRemote(id))
        {
            // --allow-hub: configs and headers by range requests (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and the caches
            // from this process's environment); the call's timeout still bounds the whole read.
            return Hub.HubModels.LoadAsync(id, new Hub.HubLoadOptions { Environment = Hub.HubEnvironment.FromProcess() }).GetAwaiter().GetResult().Model;
        }

        if (id.StartsWith("hf:", StringComparison.OrdinalIgnoreCase))
        {
            throw new ToolInputException(SettingNames.Model,
                $"{SettingParser.Quote(id)} names a Hugging Face Hub model, and the Hub is not available: this server was started without --allow-hub, so it has no network access" +
                ". Use a catalog id (see the models tool), or pass the model's config.json text as config_json.");
        }

        if (id.Contains("://", StringComparison.Ordinal))
        {
            throw new ToolInputException(SettingNames.Model, $"expected a catalog id; found the URL {SettingParser.Quote(id)}: this server has no network access. Pass the config.json text as config_json instead.");
        }

        if (LooksLikePath(id) || File.Exists(id) || Directory.Exists(id))
        {
            if (!PathPolicy.IsAllowed(id, _settings.AllowedRoots))
            {
                throw new ToolInputException(SettingNames.Model, _settings.AllowedRoots.Count == 0
                    ? $"expected a catalog id; found the path {SettingParser.Quote(id)}, and this server reads no files (start it with --allow-path DIR to allow a folder). Pass the config.json text as config_json instead."
                    : $"expected a catalog id or a path under an allowed folder ({string.Join(", ", _settings.AllowedRoots)}); found {SettingParser.Quote(id)}, which is outside them.");
            }

            return Sizer.Load(PathPolicy.RealPath(Path.GetFullPath(id)));
        }

        // Not a path and not in the catalog: the core's own answer (an instruct fine-tune of a catalog model, or "did you mean").
        return Sizer.Load(id);
    }

    private static ModelInfo FromConfig(string json)
    {
        try
        {
            using (JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 32 }))
            {
                // Checked once with a depth limit; the core's reader then reads the same text.
            }
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            throw new ToolInputException(ToolFields.ConfigJson, $"expected the text of a config.json (a JSON object); found invalid JSON{where} (or nested deeper than 32 levels).");
        }

        try
        {
            return ModelResolver.FromSpec("config", ModelSourceKind.Config, HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "config")));
        }
        catch (LlmSizerException ex) when (ex is not InvalidSettingException)
        {
            throw new ToolInputException(ToolFields.ConfigJson, ex.Message);
        }
    }

    private static bool LooksLikePath(string text) =>
        text.StartsWith('/') || text.StartsWith('.') || text.StartsWith('~') || text.Contains('\\', StringComparison.Ordinal)
        || (text.Length > 1 && text[1] == ':')
        || text.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || text.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
        || text.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    private static bool FlagOf(IReadOnlyDictionary<string, string> v, string name) =>
        v.TryGetValue(name, out var text) && WorkloadParser.ParseBool(name, text);

    private static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("N2", CultureInfo.InvariantCulture) + " GiB";

    private static string Short(long n) => n switch
    {
        >= 1_000_000_000_000 => (n / 1e12).ToString("0.##", CultureInfo.InvariantCulture) + " T",
        >= 1_000_000_000 => (n / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + " B",
        >= 1_000_000 => (n / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + " M",
        _ => n.ToString("N0", CultureInfo.InvariantCulture),
    };
}
