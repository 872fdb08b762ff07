using System.Text;
using System.Text.Json;
using LlmSizer.Memory;
using LlmSizer.Quantization;
using LlmSizer.Requests;

namespace LlmSizer.Mcp;

/// <summary>The JSON type a tool field accepts.</summary>
internal enum FieldKind
{
    /// <summary>Text.</summary>
    Text,

    /// <summary>A whole number, or text with a suffix (<c>32k</c>).</summary>
    Count,

    /// <summary>A number, or text.</summary>
    Number,

    /// <summary>A boolean (or the text true/false/on/off/1/0).</summary>
    Flag,
}

/// <summary>One input of a tool: its logical name (<see cref="SettingNames"/>, snake_case), what it accepts and what it
/// means, written for the agent that reads the schema.</summary>
/// <param name="Name">The logical name.</param>
/// <param name="Kind">The JSON type.</param>
/// <param name="Description">Meaning, units, accepted values, default.</param>
/// <param name="Choices">The accepted names, when the value is one of a list (case-insensitive).</param>
/// <param name="MaxLength">The longest value accepted, in characters.</param>
internal sealed record ToolField(string Name, FieldKind Kind, string Description, IReadOnlyList<string>? Choices = null, int MaxLength = ToolField.DefaultMaxLength)
{
    /// <summary>The longest value of an ordinary field.</summary>
    public const int DefaultMaxLength = 256;

    /// <summary>The longest config.json text (1 MiB, as the web API's body limit).</summary>
    public const int MaxConfigLength = 1 << 20;
}

/// <summary>The fields every tool shares, and the JSON Schema built from them.</summary>
internal static class ToolFields
{
    /// <summary>The field that carries a config.json's text.</summary>
    public const string ConfigJson = "config_json";

    /// <summary>The model, as a catalog id or an allowed path.</summary>
    public static readonly ToolField Model = new(SettingNames.Model, FieldKind.Text,
        "The model to size: a catalog id or alias, case-insensitive (e.g. llama-3.1-8b, qwen3-8b, meta-llama/Llama-3.1-8B; " +
        "the models tool lists them). A file or folder path (config.json, model folder, .safetensors, index, .gguf) is read only " +
        "when the server was started with --allow-path covering it; hf: ids (hf:org/name, hf:org/name@rev, hf:org/name-GGUF:Q4_K_M) and http(s) URLs of .gguf/.safetensors files are read " +
        "(configs and headers only) when the server was started with --allow-hub, and refused otherwise (no network). " +
        "Give exactly one of model or config_json.", MaxLength: 4096);

    /// <summary>A config.json given as text.</summary>
    public static readonly ToolField Config = new(ConfigJson, FieldKind.Text,
        "The full text of a Hugging Face config.json (a JSON object with model_type, hidden_size, num_hidden_layers, ...), " +
        "for a model not in the catalog. At most 1 MiB. The model is then named \"config\". Give exactly one of model or config_json.",
        MaxLength: ToolField.MaxConfigLength);

    /// <summary>The workload settings, by logical name, in the order of <see cref="WorkloadOptions"/>.</summary>
    public static readonly IReadOnlyList<(ToolField Field, Func<WorkloadOptions, string, WorkloadOptions> Set)> Workload =
    [
        (new(SettingNames.Mode, FieldKind.Text, "What to size: inference (serving) or training. Default inference.", WorkloadNames.ModeNames), (o, v) => o with { Mode = v }),
        (new(SettingNames.Dtype, FieldKind.Text, "Weight format: f16, bf16, f32, fp8, int8, int4, nf4, gptq-int4, awq, or a GGUF type such as q8_0, q4_k_m. " +
            "Default: the checkpoint's format, else the config's torch_dtype.", WeightFormat.KnownNames), (o, v) => o with { Dtype = v }),
        (new(SettingNames.UnquantizedDtype, FieldKind.Text, "Data type of the tensors a quantized format leaves unquantized (embeddings, norms), e.g. bf16. Default: the format's own rule."), (o, v) => o with { UnquantizedDtype = v }),
        (new(SettingNames.Context, FieldKind.Count, "Tokens per sequence (prompt plus output), e.g. 8192 or \"32k\" (k = 1024). 1 to 16,777,216. Default 4096, or the model's maximum if smaller."), (o, v) => o with { Context = v }),
        (new(SettingNames.Batch, FieldKind.Count, "Concurrent sequences (inference) or the micro-batch size (training). Default 1."), (o, v) => o with { Batch = v }),
        (new(SettingNames.KvDtype, FieldKind.Text, "KV-cache data type (inference only): auto, f16, bf16, f32, fp8, q8_0, q4_0, ... Default: the compute dtype (auto)."), (o, v) => o with { KvDtype = v }),
        (new(SettingNames.Gpus, FieldKind.Count, "GPUs in total. Default tensor_parallel × pipeline_parallel."), (o, v) => o with { Gpus = v }),
        (new(SettingNames.TensorParallel, FieldKind.Count, "Tensor-parallel size (the model's layers split across this many GPUs). 1 to 1024. Default 1."), (o, v) => o with { TensorParallel = v }),
        (new(SettingNames.PipelineParallel, FieldKind.Count, "Pipeline-parallel size (layers in this many stages). 1 to 1024. Default 1."), (o, v) => o with { PipelineParallel = v }),
        (new(SettingNames.Engine, FieldKind.Text, "Inference engine whose memory rules apply (inference only): vllm (V1), vllm-v0, llamacpp or hf (transformers). " +
            "Default: llamacpp for GGUF formats, vllm otherwise.", WorkloadNames.EngineNames), (o, v) => o with { Engine = v }),
        (new(SettingNames.Attention, FieldKind.Text, "Attention kernel of a PyTorch run (training, or engine hf): flash, sdpa or eager (eager keeps the seq×seq scores). Default flash/sdpa.", WorkloadNames.AttentionNames), (o, v) => o with { Attention = v }),
        (new(SettingNames.GpuMemory, FieldKind.Text, "Memory of one GPU with a unit, e.g. \"24GiB\" or \"80GB\" (GiB = 2^30 bytes). Only sets the engine's runtime overhead (vLLM: 0.35 GiB up to 32 GiB, 1.79 GiB above). Default: unknown."), (o, v) => o with { GpuMemory = v }),
        (new(SettingNames.Overhead, FieldKind.Text, "Per-GPU runtime overhead with a unit, e.g. \"512MiB\" or \"1.5GiB\"; 0 allowed. Default: the engine's."), (o, v) => o with { Overhead = v }),
        (new(SettingNames.ZeroStage, FieldKind.Count, "Training only: DeepSpeed ZeRO stage 0 to 3 (3 = FSDP full shard). Default 0."), (o, v) => o with { ZeroStage = v }),
        (new(SettingNames.Optimizer, FieldKind.Text, "Training only: the optimizer whose states are sized. Default adamw.", WorkloadNames.OptimizerNames), (o, v) => o with { Optimizer = v }),
        (new(SettingNames.LoraRank, FieldKind.Count, "Training only: LoRA rank (1 to 65536); adapters on every linear layer unless lora_targets. Default: full fine-tuning."), (o, v) => o with { LoraRank = v }),
        (new(SettingNames.LoraTargets, FieldKind.Text, "Training only, with lora_rank or qlora: comma-separated LoRA targets from q,k,v,o,gate,up,down, or all."), (o, v) => o with { LoraTargets = v }),
        (new(SettingNames.Qlora, FieldKind.Flag, "Training only: QLoRA (4-bit NF4 base weights plus LoRA adapters). Default false."), (o, v) => o with { Qlora = v }),
        (new(SettingNames.Recompute, FieldKind.Text, "Training only: activation recomputation. Default none.", WorkloadNames.RecomputeNames), (o, v) => o with { Recompute = v }),
        (new(SettingNames.SequenceParallel, FieldKind.Flag, "Training only: Megatron sequence parallelism (activations split across tensor_parallel). Default false."), (o, v) => o with { SequenceParallel = v }),
        (new(SettingNames.GradientAccumulation, FieldKind.Count, "Training only: gradient-accumulation steps (time, not memory). Default 1."), (o, v) => o with { GradientAccumulation = v }),
        (new(SettingNames.Ubatch, FieldKind.Count, "llama.cpp only: physical batch n_ubatch. Default 512."), (o, v) => o with { Ubatch = v }),
        (new(SettingNames.FlashAttention, FieldKind.Text, "llama.cpp only: flash attention on, off or auto. Default auto.", WorkloadNames.FlashAttentionNames), (o, v) => o with { FlashAttention = v }),
        (new(SettingNames.SwaFull, FieldKind.Flag, "llama.cpp only: keep a full-size KV cache for sliding-window layers (--swa-full). Default false."), (o, v) => o with { SwaFull = v }),
        (new(SettingNames.GpuUtilization, FieldKind.Number, "vLLM only: gpu_memory_utilization, the fraction of GPU memory vLLM may use, greater than 0 and at most 1. Default 0.9."), (o, v) => o with { GpuUtilization = v }),
        (new(SettingNames.MaxBatchedTokens, FieldKind.Count, "vLLM only: max_num_batched_tokens, tokens in one prefill/profile step. Default (vLLM V1, vllm serve): 2048 on GPUs under 70 GiB, 8192 from 70 GiB (not A100); vllm-v0: max(context, 2048)."), (o, v) => o with { MaxBatchedTokens = v }),
        (new(SettingNames.MaxSeqs, FieldKind.Count, "vLLM only: max_num_seqs, sequences in the profile run's sampler. Default 256 (V1 on GPUs of 70 GiB or more, not A100: 1024)."), (o, v) => o with { MaxSeqs = v }),
        (new(SettingNames.MaxMultimodalTokens, FieldKind.Count, "vLLM only: the most image/multimodal tokens one prompt can carry (multimodal profile run). Default: none."), (o, v) => o with { MaxMultimodalTokens = v }),
        (new(SettingNames.Interconnect, FieldKind.Text, "vLLM only, tensor parallel: nvlink or pcie, the link between the GPUs (NCCL and custom all-reduce memory). Default nvlink."), (o, v) => o with { Interconnect = v }),
        (new(SettingNames.Images, FieldKind.Count, "Images per sequence for a vision-language model: each image's tokens (from the vision config) join the context; Llama 3.2 Vision caches them in its cross-attention layers. Default 0."), (o, v) => o with { Images = v }),
    ];

    /// <summary>The workload fields by name.</summary>
    public static readonly IReadOnlyDictionary<string, Func<WorkloadOptions, string, WorkloadOptions>> WorkloadSetters =
        Workload.ToDictionary(w => w.Field.Name, w => w.Set, StringComparer.Ordinal);

    /// <summary>Builds the JSON Schema of a tool's input.</summary>
    /// <param name="fields">The fields.</param>
    /// <param name="required">The names of the required fields.</param>
    /// <returns>The schema (an object schema; unknown properties are not allowed).</returns>
    public static JsonElement Schema(IEnumerable<ToolField> fields, IReadOnlyList<string>? required = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("type", "object");
            w.WriteStartObject("properties");
            foreach (var f in fields)
            {
                w.WriteStartObject(f.Name);
                switch (f.Kind)
                {
                    case FieldKind.Flag:
                        w.WriteString("type", "boolean");
                        break;
                    case FieldKind.Count:
                        w.WriteStartArray("type");
                        w.WriteStringValue("integer");
                        w.WriteStringValue("string");
                        w.WriteEndArray();
                        break;
                    case FieldKind.Number:
                        w.WriteStartArray("type");
                        w.WriteStringValue("number");
                        w.WriteStringValue("string");
                        w.WriteEndArray();
                        break;
                    default:
                        w.WriteString("type", "string");
                        w.WriteNumber("maxLength", f.MaxLength);
                        break;
                }

                var description = f.Choices is { Count: > 0 } choices
                    ? f.Description + " Accepted: " + string.Join(", ", choices) + "."
                    : f.Description;
                w.WriteString("description", description);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            if (required is { Count: > 0 })
            {
                w.WriteStartArray("required");
                foreach (var r in required)
                {
                    w.WriteStringValue(r);
                }

                w.WriteEndArray();
            }

            w.WriteBoolean("additionalProperties", false);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(stream.ToArray());
        return doc.RootElement.Clone();
    }

    /// <summary>Reads a tool call's arguments as text, field by field, as the CLI reads flags: a string as it is, a number
    /// as its JSON text (so 1.5 for context is refused as <c>--context 1.5</c> is), a boolean as true/false; null is
    /// "not given".</summary>
    /// <param name="arguments">The arguments (may be null).</param>
    /// <param name="fields">The fields the tool accepts.</param>
    /// <returns>The values given, by field name.</returns>
    /// <exception cref="ToolInputException">An unknown field, a value of the wrong JSON type, or a value too long; the
    /// field is named.</exception>
    public static Dictionary<string, string> Read(IEnumerable<KeyValuePair<string, JsonElement>>? arguments, IReadOnlyList<ToolField> fields)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (arguments is null)
        {
            return values;
        }

        var known = fields.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var (name, value) in arguments)
        {
            if (!known.TryGetValue(name, out var field))
            {
                throw new ToolInputException(Cut(name), $"is not an input of this tool; expected one of {string.Join(", ", fields.Select(f => f.Name))}.");
            }

            string? text = value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number when field.Kind is FieldKind.Count or FieldKind.Number => value.GetRawText(),
                JsonValueKind.True when field.Kind == FieldKind.Flag => "true",
                JsonValueKind.False when field.Kind == FieldKind.Flag => "false",
                // A config.json may be given as the object itself rather than its text.
                JsonValueKind.Object when field.Name == ConfigJson => value.GetRawText(),
                JsonValueKind.Null or JsonValueKind.Undefined => null,
                _ => throw new ToolInputException(name, $"expected {Expected(field.Kind)}; found {Kind(value.ValueKind)}."),
            };
            if (text is null)
            {
                continue;
            }

            if (text.Length > field.MaxLength)
            {
                throw new ToolInputException(name, $"expected at most {field.MaxLength:N0} characters; found {text.Length:N0}.");
            }

            values[name] = text;
        }

        return values;
    }

    /// <summary>The workload options of the workload fields among <paramref name="values"/>.</summary>
    /// <param name="values">The values read by <see cref="Read"/>.</param>
    /// <returns>The options, for <see cref="WorkloadParser.Parse"/>.</returns>
    public static WorkloadOptions Options(IReadOnlyDictionary<string, string> values)
    {
        var options = new WorkloadOptions();
        foreach (var (name, value) in values)
        {
            if (WorkloadSetters.TryGetValue(name, out var set))
            {
                options = set(options, value);
            }
        }

        return options;
    }

    private static string Expected(FieldKind kind) => kind switch
    {
        FieldKind.Flag => "a boolean",
        FieldKind.Count => "an integer or a string",
        FieldKind.Number => "a number or a string",
        _ => "a string",
    };

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    private static string Cut(string name)
    {
        var clean = new StringBuilder();
        foreach (var c in name.Length > 64 ? name[..64] : name)
        {
            clean.Append(char.IsControl(c) ? '?' : c);
        }

        return name.Length > 64 ? clean + "…" : clean.ToString();
    }
}

/// <summary>A tool input the server refuses; <see cref="Field"/> names it.</summary>
/// <param name="field">The field.</param>
/// <param name="detail">What was expected and found.</param>
internal sealed class ToolInputException(string field, string detail) : Exception(detail)
{
    /// <summary>The field.</summary>
    public string Field { get; } = field;
}
