using System.Text;
using System.Text.Json;
using LlmSizer.Contract;
using LlmSizer.Errors;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Requests;

namespace LlmSizer.Web;

/// <summary>The JSON API. Every document is the core's (<see cref="ContractMapper"/> serialized by the source-generated
/// <see cref="LlmSizerJsonContext"/>), so a response is byte for byte what <c>llmsize ... --json</c> prints for the same
/// inputs (less the final newline).</summary>
internal static class ApiEndpoints
{
    private const string Json = "application/json";

    private static readonly HashSet<string> ParamsGetFields = new(StringComparer.Ordinal) { SettingNames.Model, "tensors", "layers_detail" };
    private static readonly HashSet<string> ParamsPostFields = new(StringComparer.Ordinal) { "tensors", "layers_detail" };
    private static readonly HashSet<string> MemoryGetFields = new(StringComparer.Ordinal) { SettingNames.Model };
    private static readonly HashSet<string> MemoryPostFields = new(StringComparer.Ordinal) { SettingNames.Model, "config" };
    private static readonly HashSet<string> MaxContextGetFields = new(StringComparer.Ordinal) { SettingNames.Model, "gpu" };
    private static readonly HashSet<string> MaxContextPostFields = new(StringComparer.Ordinal) { SettingNames.Model, "config", "gpu" };
    private static readonly HashSet<string> FitGetFields = new(StringComparer.Ordinal) { SettingNames.Model, "gpu", "budget", "gpu_only", "max_gpus" };
    private static readonly HashSet<string> FitPostFields = new(StringComparer.Ordinal) { SettingNames.Model, "config", "gpu", "budget", "gpu_only", "max_gpus" };

    // The catalogs never change while the process runs: serialize them once.
    private static readonly Lazy<string> ModelsJson = new(() => ContractJson.Serialize(ContractMapper.Models(Sizer.Models())));
    private static readonly Lazy<string> GpusJson = new(() => ContractJson.Serialize(ContractMapper.Gpus(GpuCatalog.All)));
    private static readonly Lazy<string> SeedJson = new(() => ContractJson.Serialize(ContractMapper.Seed(Sizer.Seed())));

    /// <summary>Maps every endpoint.</summary>
    /// <param name="app">The application.</param>
    public static void Map(WebApplication app)
    {
        app.MapGet("/healthz", () => Results.Text("ok", "text/plain", Encoding.UTF8))
            .WithSummary("Liveness: answers ok.").Produces<string>(200, "text/plain");

        // The seed page under its short name.
        app.MapGet("/seed", (IWebHostEnvironment env) => Results.File(Path.Combine(env.WebRootPath, "seed.html"), "text/html; charset=utf-8"))
            .ExcludeFromDescription();

        var api = app.MapGroup("/api").WithTags("api");
        api.MapGet("/models", () => JsonText(ModelsJson.Value))
            .WithSummary("The built-in model catalog (llmsize models --json).").Produces<ModelsDocument>(200, Json);
        api.MapGet("/gpus", () => JsonText(GpusJson.Value))
            .WithSummary("The built-in GPU catalog, with the usable memory of each device.").Produces<GpuListDocument>(200, Json);
        api.MapGet("/seed", () => JsonText(SeedJson.Value))
            .WithSummary("The post \"Sizing an LLM: Parameters\" reproduced, with errata and exact figures (llmsize seed --json).")
            .Produces<SeedDocument>(200, Json);

        api.MapGet("/params", (HttpContext ctx) => Guard(SettingNames.Model, () =>
            {
                var fields = RequestInputs.FromQuery(ctx.Request.Query, ParamsGetFields, workload: false);
                return Params(RequestInputs.CatalogModel(fields.GetValueOrDefault(SettingNames.Model)), fields);
            }))
            .WithSummary("Count a catalog model's parameters (llmsize params MODEL --json [--tensors] [--layers-detail]).")
            .Produces<ParamsDocument>(200, Json).ProducesProblem(400).RequireRateLimiting(WebApp.ExpensivePolicy)
            .AddOpenApiOperationTransformer(OpenApiQuery.Add([.. ParamsGetFields]));

        api.MapPost("/params", async (HttpContext ctx) =>
            {
                var text = await ReadBody(ctx).ConfigureAwait(false);
                return Guard("config", () =>
                {
                    var fields = RequestInputs.FromQuery(ctx.Request.Query, ParamsPostFields, workload: false);
                    if (text.Error is not null)
                    {
                        return text.Error;
                    }

                    using (RequestInputs.ParseBody(text.Text!))
                    {
                        // Parsed once with the depth limit; the core's reader then reads the same text.
                    }

                    return Params(RequestInputs.ConfigModel(text.Text!, "config"), fields);
                });
            })
            .WithSummary("Count the parameters of a config.json sent as the body (llmsize params config.json --json).")
            .Accepts<JsonElement>(Json).Produces<ParamsDocument>(200, Json).ProducesProblem(400).ProducesProblem(413)
            .RequireRateLimiting(WebApp.ExpensivePolicy).AddOpenApiOperationTransformer(OpenApiQuery.Add([.. ParamsPostFields]));

        api.MapGet("/memory", (HttpContext ctx) => Guard(SettingNames.Model, () =>
            {
                var fields = RequestInputs.FromQuery(ctx.Request.Query, MemoryGetFields, workload: true);
                var workload = WorkloadParser.Parse(RequestInputs.Workload(fields));
                return Memory(RequestInputs.CatalogModel(fields.GetValueOrDefault(SettingNames.Model)), workload);
            }))
            .WithSummary("Estimate GPU memory (llmsize memory MODEL --json with the same settings, by logical name).")
            .Produces<MemoryDocument>(200, Json).ProducesProblem(400).RequireRateLimiting(WebApp.ExpensivePolicy)
            .AddOpenApiOperationTransformer(OpenApiQuery.Add([.. MemoryGetFields, .. RequestInputs.WorkloadFields.Keys]));

        api.MapPost("/memory", async (HttpContext ctx) =>
            {
                var body = await ReadBody(ctx).ConfigureAwait(false);
                return Guard(SettingNames.Model, () => body.Error ?? WithBody(body.Text!, MemoryPostFields, (fields, model) =>
                    Memory(model, WorkloadParser.Parse(RequestInputs.Workload(fields)))));
            })
            .WithSummary("Estimate GPU memory from a JSON body: {\"model\": id} or {\"config\": {config.json}}, plus workload fields.")
            .Accepts<JsonElement>(Json).Produces<MemoryDocument>(200, Json).ProducesProblem(400).ProducesProblem(413)
            .RequireRateLimiting(WebApp.ExpensivePolicy);

        api.MapGet("/max_context", (HttpContext ctx) => Guard(SettingNames.Model, () =>
            {
                var fields = RequestInputs.FromQuery(ctx.Request.Query, MaxContextGetFields, workload: true);
                var workload = WorkloadParser.Parse(RequestInputs.Workload(fields));
                var gpu = Gpu(fields);
                return MaxContext(RequestInputs.CatalogModel(fields.GetValueOrDefault(SettingNames.Model)), workload, gpu);
            }))
            .WithSummary("The longest context whose per-GPU estimate fits the GPU's usable memory (MemorySolver.MaxContext).")
            .Produces<MaxContextDocument>(200, Json).ProducesProblem(400).RequireRateLimiting(WebApp.ExpensivePolicy)
            .AddOpenApiOperationTransformer(OpenApiQuery.Add([.. MaxContextGetFields, .. RequestInputs.WorkloadFields.Keys]));

        api.MapPost("/max_context", async (HttpContext ctx) =>
            {
                var body = await ReadBody(ctx).ConfigureAwait(false);
                return Guard(SettingNames.Model, () => body.Error ?? WithBody(body.Text!, MaxContextPostFields, (fields, model) =>
                    MaxContext(model, WorkloadParser.Parse(RequestInputs.Workload(fields)), Gpu(fields))));
            })
            .WithSummary("The longest fitting context, from a JSON body like POST /api/memory's plus \"gpu\".")
            .Accepts<JsonElement>(Json).Produces<MaxContextDocument>(200, Json).ProducesProblem(400).ProducesProblem(413)
            .RequireRateLimiting(WebApp.ExpensivePolicy);

        MapFit(api);
    }

    /// <summary>Maps /api/fit (llmsize fit MODEL [--gpu NAME | --budget SIZE] --json). A whole-catalog plan is the most
    /// expensive request, so it shares the expensive endpoints' concurrency limit.</summary>
    /// <param name="api">The /api group.</param>
    public static void MapFit(RouteGroupBuilder api)
    {
        api.MapGet("/fit", (HttpContext ctx) => Guard(SettingNames.Model, () =>
            {
                var fields = RequestInputs.FromQuery(ctx.Request.Query, FitGetFields, workload: true);
                return Fit(RequestInputs.CatalogModel(fields.GetValueOrDefault(SettingNames.Model)), fields);
            }))
            .WithSummary("Deployment plans: GPUs needed, longest context, vLLM KV budget and concurrency, llama.cpp offload, tokens/s, engine settings (llmsize fit MODEL --json).")
            .Produces<FitDocument>(200, Json).ProducesProblem(400).RequireRateLimiting(WebApp.ExpensivePolicy)
            .AddOpenApiOperationTransformer(OpenApiQuery.Add([.. FitGetFields, .. RequestInputs.WorkloadFields.Keys]));

        api.MapPost("/fit", async (HttpContext ctx) =>
            {
                var body = await ReadBody(ctx).ConfigureAwait(false);
                return Guard(SettingNames.Model, () => body.Error ?? WithBody(body.Text!, FitPostFields, (fields, model) => Fit(model, fields)));
            })
            .WithSummary("Deployment plans from a JSON body like POST /api/memory's plus \"gpu\" or \"budget\".")
            .Accepts<JsonElement>(Json).Produces<FitDocument>(200, Json).ProducesProblem(400).ProducesProblem(413)
            .RequireRateLimiting(WebApp.ExpensivePolicy);
    }

    private static IResult Fit(ModelInfo model, IReadOnlyDictionary<string, string> fields)
    {
        var workload = WorkloadParser.Parse(RequestInputs.Workload(fields));
        var gpuName = fields.GetValueOrDefault("gpu");
        var budget = fields.GetValueOrDefault("budget");
        if (gpuName is not null && budget is not null)
        {
            throw new RequestException("budget", "expected either gpu or budget, not both; found both.");
        }

        var result = Sizer.Fit(new LlmSizer.Fit.FitRequest
        {
            Model = new ModelRequest { Loaded = model },
            Workload = workload,
            Gpu = gpuName is null ? null : GpuDevice.FromSpec(Gpu(fields)),
            Budget = budget is null ? null : SettingParser.ParseSize("budget", budget),
            GpuOnly = RequestInputs.Flag(fields, "gpu_only"),
            MaxGpus = fields.GetValueOrDefault("max_gpus") is { } m ? SettingParser.ParseInt("max_gpus", m, 1, 4096) : 64,
        });
        return JsonText(ContractJson.Serialize(ContractMapper.Fit(result)));
    }

    private static IResult Params(ModelInfo model, IReadOnlyDictionary<string, string> fields)
    {
        var result = Sizer.Parameters(new ParametersRequest
        {
            Model = new ModelRequest { Loaded = model },
            Tensors = RequestInputs.Flag(fields, "tensors"),
            LayersDetail = RequestInputs.Flag(fields, "layers_detail"),
        });
        return JsonText(ContractJson.Serialize(ContractMapper.Params(result)));
    }

    private static IResult Memory(ModelInfo model, Workload workload)
    {
        var estimate = Sizer.Memory(new MemoryRequest { Model = new ModelRequest { Loaded = model }, Workload = workload });
        return JsonText(ContractJson.Serialize(ContractMapper.Memory(estimate)));
    }

    private static IResult MaxContext(ModelInfo model, Workload workload, GpuSpec gpu)
    {
        // The GPU's size picks the engine's runtime overhead unless the request gave gpu_memory itself.
        var w = workload.GpuMemory is null ? workload with { GpuMemory = gpu.UsableMemory } : workload;
        var max = MemorySolver.MaxContext(Sizer.Prepare(model), w, gpu.UsableMemory);
        var doc = new MaxContextDocument
        {
            Model = model.Name,
            Gpu = gpu.Id,
            BudgetBytes = gpu.UsableMemory.Bytes,
            MaxContext = max,
            MaxPositions = model.Architecture?.MaxPositions,
        };
        return JsonText(JsonSerializer.Serialize(doc, WebJsonContext.Contract.MaxContextDocument));
    }

    private static GpuSpec Gpu(IReadOnlyDictionary<string, string> fields)
    {
        var name = fields.GetValueOrDefault("gpu");
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new RequestException("gpu", "expected a GPU id (see /api/gpus); found none.");
        }

        if (GpuCatalog.TryFind(name, out var gpu))
        {
            return gpu;
        }

        var near = GpuCatalog.Suggest(name).Select(g => g.Id).ToList();
        throw new RequestException("gpu", $"expected a GPU id (see /api/gpus); found {SettingParser.Quote(name)}" +
            (near.Count > 0 ? $"; did you mean {string.Join(", ", near)}?" : "."));
    }

    /// <summary>A body of fields with exactly one of <c>model</c> (a catalog id) or <c>config</c> (a config.json object).</summary>
    private static IResult WithBody(string text, IReadOnlySet<string> allowed, Func<Dictionary<string, string>, ModelInfo, IResult> run)
    {
        using var doc = RequestInputs.ParseBody(text);
        var (fields, config) = RequestInputs.FromBody(doc.RootElement, allowed, workload: true);
        var hasModel = fields.ContainsKey(SettingNames.Model);
        if (hasModel == config is not null)
        {
            throw new RequestException(SettingNames.Model, hasModel
                ? "expected one of model (a catalog id) or config (a config.json object); found both."
                : "expected model (a catalog id) or config (a config.json object); found neither.");
        }

        // A config is validated before the workload, as the CLI loads the model after checking its flags: both orders
        // answer 400; this one reports the config first.
        var model = config is { } c ? Guarded("config", () => RequestInputs.ConfigModel(c.GetRawText(), "config")) : RequestInputs.CatalogModel(fields[SettingNames.Model]);
        return run(fields, model);
    }

    private static T Guarded<T>(string setting, Func<T> f)
    {
        try
        {
            return f();
        }
        catch (LlmSizerException ex) when (ex is not InvalidSettingException)
        {
            throw new RequestException(setting, ex.Message);
        }
    }

    private readonly record struct Body(string? Text, IResult? Error);

    private static async Task<Body> ReadBody(HttpContext ctx)
    {
        var request = ctx.Request;
        if (request.ContentLength > WebApp.MaxBodyBytes)
        {
            return new Body(null, TooLarge());
        }

        if (request.ContentType is { } type && !type.StartsWith(Json, StringComparison.OrdinalIgnoreCase) && !type.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase))
        {
            return new Body(null, Problems.Result(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                $"expected {Json}; found {SettingParser.Quote(type)}.", "body"));
        }

        try
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            var buffer = new char[8192];
            var text = new StringBuilder();
            int n;
            while ((n = await reader.ReadAsync(buffer, ctx.RequestAborted).ConfigureAwait(false)) > 0)
            {
                text.Append(buffer, 0, n);
                if (text.Length > WebApp.MaxBodyBytes)
                {
                    return new Body(null, TooLarge());
                }
            }

            return new Body(text.ToString(), null);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new Body(null, TooLarge());
        }
    }

    private static IResult TooLarge() => Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request body too large",
        $"expected a body of at most {WebApp.MaxBodyBytes:N0} bytes.", "body");

    private static IResult Guard(string defaultSetting, Func<IResult> handler)
    {
        try
        {
            return handler();
        }
        catch (RequestException ex)
        {
            return Problems.Result(ex.Status, "Invalid request", ex.Message, ex.Field);
        }
        catch (InvalidSettingException ex)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid setting", ex.Detail, ex.Setting);
        }
        catch (LlmSizerException ex)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Invalid model", ex.Message, defaultSetting);
        }
    }

    private static IResult JsonText(string json) => Results.Text(json, Json, Encoding.UTF8);
}
