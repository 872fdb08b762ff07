using System.Collections.Concurrent;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Requests;

namespace LlmSizer.Web;

/// <summary>A request error that is not a core setting error: an unknown field, a duplicated field, a body that is not
/// JSON, a model that is not a catalog id. Becomes a problem-details response naming <see cref="Field"/>.</summary>
/// <param name="field">The query or body field at fault (<c>model</c>, <c>body</c>, <c>contxt</c>).</param>
/// <param name="detail">What was expected and what was found.</param>
/// <param name="status">The HTTP status (400 unless said otherwise).</param>
internal sealed class RequestException(string field, string detail, int status = StatusCodes.Status400BadRequest) : Exception(detail)
{
    public string Field { get; } = field;

    public int Status { get; } = status;
}

/// <summary>Turns query strings and JSON bodies into the core's text requests. Every workload value is passed on as
/// text to <see cref="WorkloadParser.Parse"/>, so <c>?context=32k</c> means what <c>--context 32k</c> means; nothing
/// here interprets a value beyond its JSON type.</summary>
internal static class RequestInputs
{
    /// <summary>The longest value accepted for any field (longer text is refused before it reaches a parser).</summary>
    public const int MaxValueLength = 256;

    /// <summary>The deepest JSON accepted in a request body (a config.json is 3–4 levels deep).</summary>
    public const int MaxJsonDepth = 32;

    /// <summary>The workload fields, by logical name (<see cref="SettingNames"/>), and how each sets its option.</summary>
    public static readonly IReadOnlyDictionary<string, Func<WorkloadOptions, string, WorkloadOptions>> WorkloadFields =
        new Dictionary<string, Func<WorkloadOptions, string, WorkloadOptions>>(StringComparer.Ordinal)
        {
            [SettingNames.Mode] = (o, v) => o with { Mode = v },
            [SettingNames.Dtype] = (o, v) => o with { Dtype = v },
            [SettingNames.UnquantizedDtype] = (o, v) => o with { UnquantizedDtype = v },
            [SettingNames.Context] = (o, v) => o with { Context = v },
            [SettingNames.Batch] = (o, v) => o with { Batch = v },
            [SettingNames.KvDtype] = (o, v) => o with { KvDtype = v },
            [SettingNames.Gpus] = (o, v) => o with { Gpus = v },
            [SettingNames.TensorParallel] = (o, v) => o with { TensorParallel = v },
            [SettingNames.PipelineParallel] = (o, v) => o with { PipelineParallel = v },
            [SettingNames.Engine] = (o, v) => o with { Engine = v },
            [SettingNames.Attention] = (o, v) => o with { Attention = v },
            [SettingNames.GpuMemory] = (o, v) => o with { GpuMemory = v },
            [SettingNames.Overhead] = (o, v) => o with { Overhead = v },
            [SettingNames.ZeroStage] = (o, v) => o with { ZeroStage = v },
            [SettingNames.Optimizer] = (o, v) => o with { Optimizer = v },
            [SettingNames.LoraRank] = (o, v) => o with { LoraRank = v },
            [SettingNames.LoraTargets] = (o, v) => o with { LoraTargets = v },
            [SettingNames.Qlora] = (o, v) => o with { Qlora = v },
            [SettingNames.Recompute] = (o, v) => o with { Recompute = v },
            [SettingNames.SequenceParallel] = (o, v) => o with { SequenceParallel = v },
            [SettingNames.GradientAccumulation] = (o, v) => o with { GradientAccumulation = v },
            [SettingNames.Ubatch] = (o, v) => o with { Ubatch = v },
            [SettingNames.FlashAttention] = (o, v) => o with { FlashAttention = v },
            [SettingNames.SwaFull] = (o, v) => o with { SwaFull = v },
            [SettingNames.GpuUtilization] = (o, v) => o with { GpuUtilization = v },
            [SettingNames.MaxBatchedTokens] = (o, v) => o with { MaxBatchedTokens = v },
            [SettingNames.MaxSeqs] = (o, v) => o with { MaxSeqs = v },
            [SettingNames.MaxMultimodalTokens] = (o, v) => o with { MaxMultimodalTokens = v },
            [SettingNames.Interconnect] = (o, v) => o with { Interconnect = v },
            [SettingNames.Images] = (o, v) => o with { Images = v },
        };

    private static readonly ConcurrentDictionary<string, ModelInfo> Models = new(StringComparer.Ordinal);

    /// <summary>The flat fields of a request: one text value per name, from a query string.</summary>
    /// <param name="query">The query.</param>
    /// <param name="allowed">The names accepted besides the workload fields.</param>
    /// <param name="workload">Whether the workload fields are accepted.</param>
    /// <returns>The values by name.</returns>
    /// <exception cref="RequestException">An unknown or repeated name, or an overlong value.</exception>
    public static Dictionary<string, string> FromQuery(IQueryCollection query, IReadOnlySet<string> allowed, bool workload)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, values) in query)
        {
            Check(name, allowed, workload);
            if (values.Count != 1)
            {
                throw new RequestException(name, $"expected one value; found {values.Count}.");
            }

            fields[name] = Value(name, values[0] ?? "");
        }

        return fields;
    }

    /// <summary>The flat fields of a JSON object body: strings as given, numbers as their JSON text, booleans as
    /// true/false, null as absent. <c>config</c> (an object) is returned apart.</summary>
    /// <param name="body">The parsed body.</param>
    /// <param name="allowed">The names accepted besides the workload fields.</param>
    /// <param name="workload">Whether the workload fields are accepted.</param>
    /// <returns>The values by name and the <c>config</c> object, if any.</returns>
    /// <exception cref="RequestException">Not an object, an unknown or repeated name, or a value of the wrong JSON type.</exception>
    public static (Dictionary<string, string> Fields, JsonElement? Config) FromBody(JsonElement body, IReadOnlySet<string> allowed, bool workload)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new RequestException("body", $"expected a JSON object; found {Kind(body.ValueKind)}.");
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonElement? config = null;
        foreach (var p in body.EnumerateObject())
        {
            Check(p.Name, allowed, workload);
            if (fields.ContainsKey(p.Name) || (p.Name == "config" && config is not null))
            {
                throw new RequestException(p.Name, "expected one value; found the field twice.");
            }

            if (p.Name == "config")
            {
                if (p.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new RequestException("config", $"expected a config.json object; found {Kind(p.Value.ValueKind)}.");
                }

                config = p.Value;
                continue;
            }

            switch (p.Value.ValueKind)
            {
                case JsonValueKind.String:
                    fields[p.Name] = Value(p.Name, p.Value.GetString()!);
                    break;
                case JsonValueKind.Number:
                    fields[p.Name] = Value(p.Name, p.Value.GetRawText());
                    break;
                case JsonValueKind.True:
                    fields[p.Name] = "true";
                    break;
                case JsonValueKind.False:
                    fields[p.Name] = "false";
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    throw new RequestException(p.Name, $"expected a string, number or boolean; found {Kind(p.Value.ValueKind)}.");
            }
        }

        return (fields, config);
    }

    /// <summary>The workload options of the fields (those that are workload settings).</summary>
    /// <param name="fields">The fields.</param>
    /// <returns>The options, every value as text.</returns>
    public static WorkloadOptions Workload(IReadOnlyDictionary<string, string> fields)
    {
        var options = new WorkloadOptions();
        foreach (var (name, value) in fields)
        {
            if (WorkloadFields.TryGetValue(name, out var set))
            {
                options = set(options, value);
            }
        }

        return options;
    }

    /// <summary>A catalog model, and nothing else: the API never opens a path or a URL from a request.</summary>
    /// <param name="id">The <c>model</c> field.</param>
    /// <returns>The model, loaded once per catalog id.</returns>
    /// <exception cref="RequestException">Missing, or not a catalog id or alias.</exception>
    public static ModelInfo CatalogModel(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            throw new RequestException(SettingNames.Model, "expected a catalog id (see /api/models); found none.");
        }

        if (!ModelCatalog.TryGet(id, out var entry))
        {
            throw new RequestException(SettingNames.Model,
                $"expected a catalog id (see /api/models); found {SettingParser.Quote(id)}. File paths and URLs are not accepted by the web API.");
        }

        // The same model ModelResolver.Resolve builds for a catalog id, kept so its PreparedModel is reused.
        return Models.GetOrAdd(entry.Id, _ => ModelResolver.FromSpec(entry.Id, ModelSourceKind.Catalog, HuggingFaceConfigReader.Read(entry.Config)));
    }

    /// <summary>A model from config.json text (a request body or a <c>config</c> field).</summary>
    /// <param name="json">The config text.</param>
    /// <param name="name">The model's display name.</param>
    /// <returns>The model.</returns>
    /// <exception cref="LlmSizerException">The config is invalid (the core's message names the field).</exception>
    public static ModelInfo ConfigModel(string json, string name)
    {
        var read = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "config"));
        return ModelResolver.FromSpec(name, ModelSourceKind.Config, read);
    }

    /// <summary>A boolean field (<c>tensors</c>, <c>layers_detail</c>), read as the workload parser reads booleans.</summary>
    /// <param name="fields">The fields.</param>
    /// <param name="name">The field.</param>
    /// <returns>The value; false when absent.</returns>
    public static bool Flag(IReadOnlyDictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var v) && WorkloadParser.ParseBool(name, v);

    /// <summary>Parses a JSON body with the depth limit.</summary>
    /// <param name="text">The body text.</param>
    /// <returns>The document (dispose it).</returns>
    /// <exception cref="RequestException">Empty, invalid or too deep.</exception>
    public static JsonDocument ParseBody(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new RequestException("body", "expected a JSON object; found an empty body.");
        }

        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            var depth = ex.Message.Contains("depth", StringComparison.OrdinalIgnoreCase) ? $" (nested deeper than {MaxJsonDepth} levels)" : "";
            throw new RequestException("body", $"expected valid JSON; found invalid JSON{where}{depth}.");
        }
    }

    private static void Check(string name, IReadOnlySet<string> allowed, bool workload)
    {
        if (!allowed.Contains(name) && !(workload && WorkloadFields.ContainsKey(name)))
        {
            var known = string.Join(", ", allowed.Concat(workload ? WorkloadFields.Keys : []));
            throw new RequestException(Cut(name), $"is not a known field; expected one of {known}.");
        }
    }

    private static string Value(string name, string value) => value.Length > MaxValueLength
        ? throw new RequestException(name, $"expected at most {MaxValueLength} characters; found {value.Length:N0}.")
        : value;

    private static string Cut(string name) => name.Length > 64 ? name[..64] + "…" : name;

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Null => "null",
        _ => "a boolean",
    };
}
