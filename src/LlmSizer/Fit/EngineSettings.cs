using System.Globalization;
using System.Text;
using System.Text.Json;
using LlmSizer.DataTypes;
using LlmSizer.Memory;
using LlmSizer.Quantization;
using LlmSizer.Units;

namespace LlmSizer.Fit;

/// <summary>Ready-to-paste settings for a plan. Each is null when it does not apply (llama-server for a vLLM plan,
/// DeepSpeed for inference).</summary>
public sealed record EngineSettings
{
    /// <summary>No settings (nothing fits).</summary>
    public static EngineSettings None { get; } = new();

    /// <summary>A <c>vllm serve</c> command line.</summary>
    public string? Vllm { get; init; }

    /// <summary>An SGLang <c>python -m sglang.launch_server</c> command line.</summary>
    public string? Sglang { get; init; }

    /// <summary>A <c>llama-server</c> command line.</summary>
    public string? LlamaCpp { get; init; }

    /// <summary>A DeepSpeed config (JSON) for a training plan.</summary>
    public string? DeepSpeed { get; init; }

    /// <summary>An Accelerate FSDP config (YAML) for a training plan.</summary>
    public string? Fsdp { get; init; }

    /// <summary>A Kubernetes manifest (YAML): Deployment + Service, or a LeaderWorkerSet beyond one node.</summary>
    public string? Kubernetes { get; init; }
}

/// <summary>Builds <see cref="EngineSettings"/> from a plan's numbers. Flag names follow the engines' documented
/// arguments: vLLM Engine Arguments (docs.vllm.ai, v0.8.5), SGLang server_arguments.md, llama.cpp tools/server/README.md
/// (the test data file tests/LlmSizer.Tests/Gpus/engine-flags.json lists them with their sources).</summary>
internal static class EngineSettingsBuilder
{
    public static EngineSettings Serving(string modelName, EstimatePlanView v)
    {
        string I(long x) => x.ToString(CultureInfo.InvariantCulture);
        string F(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);
        if (v.Engine == InferenceEngine.LlamaCpp)
        {
            var sb = new StringBuilder($"llama-server -m {Shell(modelName)} -c {I(v.Context * (long)v.Batch)} -ngl {I(v.GpuLayers)}");
            sb.Append(" -fa ").Append(v.FlashAttention switch { FlashAttention.Off => "off", FlashAttention.On => "on", _ => "auto" });
            if (v.KvType != DataType.F16)
            {
                var t = v.KvType.Name.ToLowerInvariant();
                sb.Append(" -ctk ").Append(t).Append(" -ctv ").Append(t);
            }

            sb.Append(" -np ").Append(I(v.Batch)).Append(" -ub ").Append(I(v.Ubatch));
            if (v.Gpus > 1)
            {
                sb.Append(' ').Append(Flag("llamacpp", "split_mode")).Append(" layer");
            }

            return new EngineSettings { LlamaCpp = sb.ToString(), Kubernetes = Kubernetes(modelName, v, "ghcr.io/ggml-org/llama.cpp:server-cuda", ["/app/llama-server", .. Split(sb.ToString())[1..], Flag("llamacpp", "host"), "0.0.0.0", Flag("llamacpp", "port"), "8080"], 8080, "/health") };
        }

        var vllm = new StringBuilder($"vllm serve {Shell(modelName)} {Flag("vllm", "tensor_parallel")} {I(v.Tp)}");
        if (v.Pp > 1)
        {
            vllm.Append(Opt("vllm", "pipeline_parallel")).Append(I(v.Pp));
        }

        vllm.Append(Opt("vllm", "max_model_len")).Append(I(v.Context)).Append(Opt("vllm", "gpu_memory_utilization")).Append(F(v.GpuUtilization));
        if (VllmDtype(v.Format) is { } dtype)
        {
            vllm.Append(Opt("vllm", "dtype")).Append(dtype);
        }

        if (VllmQuantization(v.Format) is { } q)
        {
            vllm.Append(Opt("vllm", "quantization")).Append(q);
        }

        if (v.KvType == DataType.F8_E4M3 || v.KvType == DataType.F8_E5M2)
        {
            vllm.Append(Opt("vllm", "kv_cache_dtype")).Append(v.KvType == DataType.F8_E5M2 ? "fp8_e5m2" : "fp8");
        }

        // max_num_seqs: only when the user set it or the batch needs more than vLLM's smallest default (256).
        if (v.MaxSeqs is not null || v.Batch > 256)
        {
            vllm.Append(Opt("vllm", "max_num_seqs")).Append(I(Math.Max(v.Batch, v.MaxSeqs ?? 256)));
        }
        if (v.MaxBatchedTokens is { } mbt)
        {
            vllm.Append(Opt("vllm", "max_num_batched_tokens")).Append(I(mbt));
        }

        var sglang = new StringBuilder($"python -m sglang.launch_server {Flag("sglang", "model_path")} {Shell(modelName)} {Flag("sglang", "tensor_parallel")} {I(v.Tp)} {Flag("sglang", "context_length")} {I(v.Context)} {Flag("sglang", "mem_fraction_static")} {F(v.GpuUtilization)}");
        if (VllmQuantization(v.Format) is { } sq && sq is "fp8" or "awq" or "gptq")
        {
            sglang.Append(Opt("sglang", "quantization")).Append(sq);
        }

        if (v.KvType == DataType.F8_E4M3 || v.KvType == DataType.F8_E5M2)
        {
            sglang.Append(Opt("sglang", "kv_cache_dtype")).Append(v.KvType == DataType.F8_E5M2 ? "fp8_e5m2" : "fp8_e4m3");
        }

        if (v.Pp > 1)
        {
            sglang.Append(Opt("sglang", "pipeline_parallel")).Append(I(v.Pp));
        }

        var args = Split(vllm.ToString())[2..];
        return new EngineSettings
        {
            Vllm = vllm.ToString(),
            Sglang = sglang.ToString(),
            Kubernetes = Kubernetes(modelName, v, "vllm/vllm-openai:latest", ["vllm", "serve", modelName, .. args[1..], Flag("vllm", "host"), "0.0.0.0", Flag("vllm", "port"), "8000"], 8000, "/health"),
        };
    }

    public static EngineSettings Training(EstimatePlanView v, TrainingSettings t)
    {
        string I(long x) => x.ToString(CultureInfo.InvariantCulture);
        bool bf16 = v.ComputeType == DataType.BF16, fp16 = v.ComputeType == DataType.F16;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            // DeepSpeed config keys: deepspeed.ai/docs/config-json (train_micro_batch_size_per_gpu, zero_optimization.stage, bf16.enabled).
            w.WriteStartObject();
            w.WriteNumber("train_micro_batch_size_per_gpu", v.Batch);
            w.WriteNumber("gradient_accumulation_steps", t.GradientAccumulation);
            w.WriteNumber("gradient_clipping", 1.0);
            w.WriteStartObject("bf16");
            w.WriteBoolean("enabled", bf16);
            w.WriteEndObject();
            w.WriteStartObject("fp16");
            w.WriteBoolean("enabled", fp16);
            w.WriteEndObject();
            w.WriteStartObject("zero_optimization");
            w.WriteNumber("stage", t.ZeroStage);
            w.WriteBoolean("overlap_comm", true);
            w.WriteBoolean("contiguous_gradients", true);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        string strategy = t.ZeroStage switch { 3 => "FULL_SHARD", 2 => "SHARD_GRAD_OP", _ => "NO_SHARD" };
        // Accelerate's config file keys (huggingface/accelerate docs "FSDP"): distributed_type, fsdp_config.*, mixed_precision.
        var fsdp = new StringBuilder()
            .AppendLine("compute_environment: LOCAL_MACHINE")
            .AppendLine("distributed_type: FSDP")
            .AppendLine("fsdp_config:")
            .AppendLine("  fsdp_auto_wrap_policy: TRANSFORMER_BASED_WRAP")
            .AppendLine("  fsdp_backward_prefetch: BACKWARD_PRE")
            .AppendLine("  fsdp_sharding_strategy: " + strategy)
            .AppendLine("  fsdp_state_dict_type: SHARDED_STATE_DICT")
            .AppendLine("  fsdp_activation_checkpointing: " + (t.Recompute == Recompute.Full ? "true" : "false"))
            .AppendLine("  fsdp_use_orig_params: true")
            .AppendLine("machine_rank: 0")
            .AppendLine("main_training_function: main")
            .AppendLine("mixed_precision: " + (bf16 ? "bf16" : fp16 ? "fp16" : "no"))
            .AppendLine("num_machines: " + I(v.Nodes))
            .AppendLine("num_processes: " + I(v.Gpus))
            .AppendLine("use_cpu: false");
        return new EngineSettings { DeepSpeed = Encoding.UTF8.GetString(stream.ToArray()), Fsdp = fsdp.ToString() };
    }

    private static string Flag(string program, string key) => EngineCommandLines.Flag(program, key);

    /// <summary>" FLAG " for appending an option and its value.</summary>
    private static string Opt(string program, string key) => " " + Flag(program, key) + " ";

    private static string? VllmDtype(WeightFormat f) => f.UniformType is { } u
        ? u == DataType.BF16 ? "bfloat16" : u == DataType.F16 ? "float16" : u == DataType.F32 ? "float32" : null
        : null;

    private static string? VllmQuantization(WeightFormat f) => f.Kind switch
    {
        WeightFormatKind.Fp8 => "fp8",
        WeightFormatKind.Awq => "awq",
        WeightFormatKind.Gptq => "gptq",
        WeightFormatKind.BnbInt8 or WeightFormatKind.Bnb4 => "bitsandbytes",
        _ => null,
    };

    /// <summary>A Kubernetes manifest: Deployment + Service on one node, a LeaderWorkerSet across nodes. Every scalar is
    /// written as a JSON string (valid YAML double-quoted), so no model name or flag can break the document.</summary>
    private static string Kubernetes(string modelName, EstimatePlanView v, string image, IReadOnlyList<string> command, int port, string health)
    {
        string Q(string s) => JsonSerializer.Serialize(s, Contract.LlmSizerJsonContext.Contract.String);
        string name = Slug(modelName);
        int gpusPerPod = v.Nodes > 1 ? v.Gpus / v.Nodes : v.Gpus;
        long hostGiB = Math.Max(16, (long)Math.Ceiling((v.HostBytes + 4.0 * ByteSize.GiB) / ByteSize.GiB));
        var sb = new StringBuilder();
        void Container(string indent)
        {
            sb.AppendLine($"{indent}- name: {Q("server")}");
            sb.AppendLine($"{indent}  image: {Q(image)}");
            sb.AppendLine($"{indent}  command:");
            foreach (var c in command)
            {
                sb.AppendLine($"{indent}    - {Q(c)}");
            }

            sb.AppendLine($"{indent}  ports:");
            sb.AppendLine($"{indent}    - containerPort: {port}");
            sb.AppendLine($"{indent}  resources:");
            sb.AppendLine($"{indent}    limits:");
            sb.AppendLine($"{indent}      nvidia.com/gpu: {gpusPerPod}");
            sb.AppendLine($"{indent}      memory: {Q(hostGiB + "Gi")}");
            sb.AppendLine($"{indent}    requests:");
            sb.AppendLine($"{indent}      nvidia.com/gpu: {gpusPerPod}");
            sb.AppendLine($"{indent}      memory: {Q(hostGiB + "Gi")}");
            sb.AppendLine($"{indent}  readinessProbe:");
            sb.AppendLine($"{indent}    httpGet:");
            sb.AppendLine($"{indent}      path: {Q(health)}");
            sb.AppendLine($"{indent}      port: {port}");
            sb.AppendLine($"{indent}    initialDelaySeconds: 60");
            sb.AppendLine($"{indent}    periodSeconds: 10");
            sb.AppendLine($"{indent}  volumeMounts:");
            sb.AppendLine($"{indent}    - name: {Q("dshm")}");
            sb.AppendLine($"{indent}      mountPath: {Q("/dev/shm")}");
        }

        void PodSpec(string indent)
        {
            if (v.GpuProduct is { } product)
            {
                // GPU feature discovery's product label (nvidia.com/gpu.product), nvidia-smi's name with dashes.
                sb.AppendLine($"{indent}nodeSelector:");
                sb.AppendLine($"{indent}  nvidia.com/gpu.product: {Q(product.Replace(' ', '-'))}");
            }

            sb.AppendLine($"{indent}containers:");
            Container(indent + "  ");
            sb.AppendLine($"{indent}volumes:");
            sb.AppendLine($"{indent}  - name: {Q("dshm")}");
            sb.AppendLine($"{indent}    emptyDir:");
            sb.AppendLine($"{indent}      medium: {Q("Memory")}");
            sb.AppendLine($"{indent}      sizeLimit: {Q("16Gi")}");
        }

        if (v.Nodes > 1)
        {
            // One pod per node; the engine's multi-node launcher (Ray for vLLM) joins them (lws.sigs.k8s.io).
            sb.AppendLine("# Multi-node plan: a LeaderWorkerSet starts one pod per node; the engine still needs its multi-node");
            sb.AppendLine("# launcher (for vLLM: a Ray cluster across the group) — see the LeaderWorkerSet vLLM example.");
            sb.AppendLine("apiVersion: leaderworkerset.x-k8s.io/v1");
            sb.AppendLine("kind: LeaderWorkerSet");
            sb.AppendLine("metadata:");
            sb.AppendLine($"  name: {Q(name)}");
            sb.AppendLine("spec:");
            sb.AppendLine("  replicas: 1");
            sb.AppendLine("  leaderWorkerTemplate:");
            sb.AppendLine($"    size: {v.Nodes}");
            sb.AppendLine("    leaderTemplate:");
            sb.AppendLine("      spec:");
            PodSpec("        ");
            sb.AppendLine("    workerTemplate:");
            sb.AppendLine("      spec:");
            PodSpec("        ");
        }
        else
        {
            sb.AppendLine("apiVersion: apps/v1");
            sb.AppendLine("kind: Deployment");
            sb.AppendLine("metadata:");
            sb.AppendLine($"  name: {Q(name)}");
            sb.AppendLine("spec:");
            sb.AppendLine("  replicas: 1");
            sb.AppendLine("  selector:");
            sb.AppendLine("    matchLabels:");
            sb.AppendLine($"      app: {Q(name)}");
            sb.AppendLine("  template:");
            sb.AppendLine("    metadata:");
            sb.AppendLine("      labels:");
            sb.AppendLine($"        app: {Q(name)}");
            sb.AppendLine("    spec:");
            PodSpec("      ");
        }

        sb.AppendLine("---");
        sb.AppendLine("apiVersion: v1");
        sb.AppendLine("kind: Service");
        sb.AppendLine("metadata:");
        sb.AppendLine($"  name: {Q(name)}");
        sb.AppendLine("spec:");
        sb.AppendLine("  selector:");
        sb.AppendLine(v.Nodes > 1 ? $"    leaderworkerset.sigs.k8s.io/name: {Q(name)}" : $"    app: {Q(name)}");
        sb.AppendLine("  ports:");
        sb.AppendLine($"    - port: {port}");
        sb.AppendLine($"      targetPort: {port}");
        return sb.ToString();
    }

    private static string Slug(string name)
    {
        var sb = new StringBuilder();
        foreach (var c in name.ToLowerInvariant())
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var s = sb.ToString().Trim('-');
        while (s.Contains("--", StringComparison.Ordinal))
        {
            s = s.Replace("--", "-", StringComparison.Ordinal);
        }

        s = s.Length > 50 ? s[..50].TrimEnd('-') : s;
        return s.Length == 0 ? "llm" : s;
    }

    private static string Shell(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or ':') ? s : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string[] Split(string commandLine) => commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The numbers of a plan that its settings need.</summary>
internal sealed record EstimatePlanView
{
    public required InferenceEngine? Engine { get; init; }

    public required WeightFormat Format { get; init; }

    public required DataType KvType { get; init; }

    public required DataType ComputeType { get; init; }

    public required int Context { get; init; }

    public required int Batch { get; init; }

    public required int Tp { get; init; }

    public required int Pp { get; init; }

    public required int Gpus { get; init; }

    public required int Nodes { get; init; }

    public double GpuUtilization { get; init; } = 0.9;

    public int? MaxBatchedTokens { get; init; }

    public int? MaxSeqs { get; init; }

    public int GpuLayers { get; init; }

    public FlashAttention FlashAttention { get; init; }

    public int Ubatch { get; init; } = 512;

    public long HostBytes { get; init; }

    public string? GpuProduct { get; init; }
}
