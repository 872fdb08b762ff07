using System.CommandLine;
using System.Globalization;
using LlmSizer.Cli.Output;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Units;
using Spectre.Console;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize memory &lt;MODEL&gt; [workload flags] [--json]</c>: the GPU memory estimate, component by component,
/// with each component's formula, the assumptions and the warnings. All numbers come from
/// <see cref="MemoryEstimator"/>; this class only parses flags and renders.</summary>
internal sealed class MemoryCommand : ICliCommand
{
    private readonly Func<string, ModelInfo> _resolve;
    private readonly Argument<string?> _model = CommonOptions.ModelArgument();
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<bool> _si = new("--si") { Description = "Show GB (10^9) instead of GiB (2^30)." };
    private readonly Option<string?> _mode = Text("--mode", "inference | training (default inference).", "MODE");
    private readonly Option<string?> _dtype = Text("--dtype", "Weight format: f16, bf16, f32, fp8, int8, int4, nf4, gptq-int4, awq, q8_0, q4_k_m ... (default: the checkpoint's, bf16 for a config).", "D");
    private readonly Option<string?> _context = Text("--context", "Tokens per sequence (default 4096 or the model's maximum).", "N");
    private readonly Option<string?> _batch = Text("--batch", "Concurrent sequences (inference) or micro-batch (training); default 1.", "N");
    private readonly Option<string?> _kvDtype = Text("--kv-dtype", "KV cache type: f16, bf16, f32, fp8, q8_0, q4_0 ... (default f16 / the compute dtype).", "D");
    private readonly Option<string?> _gpus = Text("--gpus", "GPUs in total (default 1).", "N");
    private readonly Option<string?> _tp = Text("--tp", "Tensor-parallel size (default 1).", "N");
    private readonly Option<string?> _pp = Text("--pp", "Pipeline-parallel size (default 1).", "N");
    private readonly Option<string?> _zero = Text("--zero", "ZeRO stage 0..3 (3 = FSDP full shard); default 0.", "0..3");
    private readonly Option<string?> _optimizer = Text("--optimizer", "adamw | adamw8bit | sgd | sgd-momentum | adafactor | lion (default adamw).", "NAME");
    private readonly Option<string?> _loraRank = Text("--lora-rank", "LoRA rank (training); adapters on all linear layers unless --lora-targets.", "R");
    private readonly Option<string?> _loraTargets = Text("--lora-targets", "Comma-separated LoRA targets: q,k,v,o,gate,up,down or all.", "LIST");
    private readonly Option<bool> _qlora = new("--qlora") { Description = "QLoRA: NF4 (double-quantized) base + LoRA adapters (training)." };
    private readonly Option<string?> _recompute = Text("--recompute", "Activation recomputation: none | selective | full (default none).", "KIND");
    private readonly Option<string?> _engine = Text("--engine", "vllm | llamacpp | hf (default: llamacpp for GGUF formats, vllm otherwise).", "NAME");
    private readonly Option<string?> _ubatch = Text("--ubatch", "llama.cpp physical batch n_ubatch (default 512).", "N");
    private readonly Option<string?> _flashAttn = Text("--flash-attn", "llama.cpp flash attention: on | off | auto (default auto).", "MODE");
    private readonly Option<bool> _swaFull = new("--swa-full") { Description = "llama.cpp: full-size cache for sliding-window layers." };
    private readonly Option<string?> _gpuUtil = Text("--gpu-util", "vLLM gpu_memory_utilization (default 0.9).", "F");
    private readonly Option<string?> _overhead = Text("--overhead", "Per-GPU runtime overhead, e.g. 512MiB or 1.5GiB (default per engine).", "SIZE");
    private readonly Option<string?> _gpuMemory = Text("--gpu-memory", "Total memory of one GPU, e.g. 24GiB; vLLM: picks the non-torch default (0.35 GiB up to 32 GiB, 1.79 GiB above).", "SIZE");
    private readonly Option<string?> _maxBatchedTokens = Text("--max-batched-tokens", "vLLM max_num_batched_tokens: tokens in one profile/prefill step (default max(context, 2048), as without chunked prefill; vLLM V1 with chunked prefill uses 2048-16384).", "N");
    private readonly Option<string?> _maxSeqs = Text("--max-seqs", "vLLM max_num_seqs: sequences in the profile run's sampler (default 256).", "N");
    private readonly Option<string?> _maxMmTokens = Text("--max-mm-tokens", "vLLM: the most image/multimodal tokens one prompt can carry (multimodal profile run).", "N");

    /// <summary>Creates the command.</summary>
    /// <param name="resolve">Turns MODEL into a model; <see cref="ModelResolver.Resolve"/> by default.</param>
    public MemoryCommand(Func<string, ModelInfo>? resolve = null)
    {
        _resolve = resolve ?? ModelResolver.Resolve;
    }

    public Command Create(CliContext context)
    {
        var command = new Command("memory", "Estimate GPU memory for inference or training: every component, its formula and assumptions.");
        command.Arguments.Add(_model);
        foreach (var option in new Option[]
        {
            _json, _si, _mode, _dtype, _context, _batch, _kvDtype, _gpus, _tp, _pp, _zero, _optimizer, _loraRank, _loraTargets, _qlora,
            _recompute, _engine, _ubatch, _flashAttn, _swaFull, _gpuUtil, _overhead, _gpuMemory, _maxMmTokens,
            _maxBatchedTokens, _maxSeqs,
        })
        {
            command.Options.Add(option);
        }

        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult p)
    {
        var modelArg = p.GetValue(_model) ?? throw new UsageException("memory: expected a MODEL (see 'llmsize memory --help').");
        var model = _resolve(modelArg);
        var workload = Workload(p);
        var estimate = MemoryEstimator.Estimate(model, workload);
        bool si = p.GetValue(_si);
        if (p.GetValue(_json))
        {
            JsonOutput.Write(context.Out, w => WriteJson(w, estimate));
        }
        else
        {
            WriteTables(context.Console, estimate, si);
        }

        // Warnings go to stderr in both modes (and into the JSON), so a script reading stdout is never confused.
        foreach (var warning in estimate.Warnings)
        {
            context.Error.WriteLine("warning: " + warning);
        }

        return ExitCodes.Success;
    }

    private Workload Workload(ParseResult p)
    {
        var mode = Choice(p, _mode, ["inference", "training"]) switch { "training" => WorkloadMode.Training, _ => WorkloadMode.Inference };
        int tp = Int(p, _tp) ?? 1, pp = Int(p, _pp) ?? 1;
        var w = new Workload
        {
            Mode = mode,
            Dtype = p.GetValue(_dtype),
            Context = Int(p, _context),
            Batch = Int(p, _batch) ?? 1,
            KvDtype = p.GetValue(_kvDtype),
            // Without --gpus, a user asking for --tp 4 means four GPUs.
            Gpus = Int(p, _gpus) ?? (tp > 0 && pp > 0 ? checked(tp * pp) : 1),
            Tp = tp,
            Pp = pp,
            Zero = Int(p, _zero) ?? 0,
            Optimizer = Choice(p, _optimizer, ["adamw", "adamw8bit", "sgd", "sgd-momentum", "adafactor", "lion"]) switch
            {
                "adamw8bit" => OptimizerKind.AdamW8Bit,
                "sgd" => OptimizerKind.Sgd,
                "sgd-momentum" => OptimizerKind.SgdMomentum,
                "adafactor" => OptimizerKind.Adafactor,
                "lion" => OptimizerKind.Lion,
                _ => OptimizerKind.AdamW,
            },
            LoraRank = Int(p, _loraRank),
            LoraTargets = p.GetValue(_loraTargets)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Qlora = p.GetValue(_qlora),
            Recompute = Choice(p, _recompute, ["none", "selective", "full"]) switch
            {
                "selective" => Recompute.Selective,
                "full" => Recompute.Full,
                _ => Recompute.None,
            },
            Engine = Choice(p, _engine, ["vllm", "llamacpp", "hf"]) switch
            {
                "vllm" => InferenceEngine.Vllm,
                "llamacpp" => InferenceEngine.LlamaCpp,
                "hf" => InferenceEngine.Hf,
                _ => null,
            },
            Ubatch = Int(p, _ubatch) ?? 512,
            FlashAttn = Choice(p, _flashAttn, ["on", "off", "auto"]) switch
            {
                "on" => FlashAttention.On,
                "off" => FlashAttention.Off,
                _ => FlashAttention.Auto,
            },
            SwaFull = p.GetValue(_swaFull),
            GpuUtil = Double(p, _gpuUtil) ?? 0.9,
            OverheadBytes = Size(p, _overhead),
            GpuMemoryBytes = Size(p, _gpuMemory),
            MaxMultimodalTokens = Int(p, _maxMmTokens),
            MaxBatchedTokens = Int(p, _maxBatchedTokens),
            MaxSeqs = Int(p, _maxSeqs) ?? 256,
        };
        return w;
    }

    internal static void WriteJson(System.Text.Json.Utf8JsonWriter w, MemoryEstimate e)
    {
        w.WriteStartObject();
        w.WriteString("model", e.Model);
        w.WriteString("mode", e.Mode == WorkloadMode.Training ? "training" : "inference");
        w.WriteStartObject("assumptions");
        foreach (var (key, value) in e.Assumptions)
        {
            w.WriteString(key, value);
        }

        w.WriteEndObject();
        w.WriteNumber("gpus", e.Gpus);
        w.WriteNumber("per_gpu_bytes", e.PerGpu.Bytes);
        w.WriteNumber("total_bytes", e.Total.Bytes);
        w.WriteStartArray("components");
        foreach (var c in e.Components)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteNumber("bytes", c.Total.Bytes);
            w.WriteNumber("per_gpu_bytes", c.PerGpu.Bytes);
            w.WriteString("formula", c.Formula);
            w.WriteString("source", c.Source);
            w.WriteBoolean("on_device", c.OnDevice);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("warnings");
        foreach (var warning in e.Warnings)
        {
            w.WriteStringValue(warning);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTables(IAnsiConsole console, MemoryEstimate e, bool si)
    {
        string Fmt(ByteSize b) => b.Format(binary: !si);
        console.MarkupLine($"[bold]{Markup.Escape(e.Model)}[/]: {(e.Mode == WorkloadMode.Training ? "training" : "inference")} on {e.Gpus} GPU{(e.Gpus == 1 ? "" : "s")}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("component");
        table.AddColumn(new TableColumn("per GPU").RightAligned());
        table.AddColumn(new TableColumn("total").RightAligned());
        table.AddColumn("formula");
        foreach (var c in e.Components)
        {
            var name = c.OnDevice ? c.Name : c.Name + " (host)";
            table.AddRow(Markup.Escape(name), Fmt(c.PerGpu), Fmt(c.Total), Markup.Escape(c.Formula));
        }

        table.AddRow("[bold]total (device)[/]", $"[bold]{Fmt(e.PerGpu)}[/]", $"[bold]{Fmt(e.Total)}[/]", "Σ on-device components");
        console.Write(table);

        var device = e.Components.Where(c => c.OnDevice && c.PerGpu.Bytes > 0).ToList();
        if (device.Count > 0)
        {
            var chart = new BreakdownChart().Width(Math.Min(100, console.Profile.Width)).HideTagValues();
            double sum = device.Sum(c => (double)c.PerGpu.Bytes);
            var colors = new[] { Color.Blue, Color.Green, Color.Yellow, Color.Red, Color.Aqua, Color.Fuchsia, Color.Orange1, Color.Grey, Color.Purple, Color.Teal };
            for (int i = 0; i < device.Count; i++)
            {
                var c = device[i];
                var label = string.Create(CultureInfo.InvariantCulture, $"{c.Name} {Fmt(c.PerGpu)} ({c.PerGpu.Bytes / sum * 100:0.#}%)");
                chart.AddItem(Markup.Escape(label), c.PerGpu.Bytes / sum * 100, colors[i % colors.Length]);
            }

            console.WriteLine();
            console.MarkupLine("per GPU breakdown:");
            console.Write(chart);
        }

        var assumptions = new Table().Border(TableBorder.Rounded).AddColumn("assumption").AddColumn("value");
        foreach (var (key, value) in e.Assumptions)
        {
            assumptions.AddRow(Markup.Escape(key), Markup.Escape(value));
        }

        console.WriteLine();
        console.Write(assumptions);
    }

    private static Option<string?> Text(string name, string description, string helpName) => new(name) { Description = description, HelpName = helpName };

    private static string? Choice(ParseResult p, Option<string?> option, string[] allowed)
    {
        var text = p.GetValue(option);
        if (text is null)
        {
            return null;
        }

        var v = text.Trim().ToLowerInvariant();
        return allowed.Contains(v)
            ? v
            : throw new InvalidSettingException(option.Name, $"{option.Name}: expected one of {string.Join(", ", allowed)}; found \"{text}\".");
    }

    private static int? Int(ParseResult p, Option<string?> option)
    {
        var text = p.GetValue(option);
        if (text is null)
        {
            return null;
        }

        var t = text.Replace("_", "", StringComparison.Ordinal).Trim();
        long multiplier = 1;
        if (t.EndsWith('k') || t.EndsWith('K'))
        {
            multiplier = 1024;
            t = t[..^1];
        }

        return long.TryParse(t, NumberStyles.AllowLeadingSign | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var v) && v * multiplier is >= int.MinValue and <= int.MaxValue
            ? (int)(v * multiplier)
            : throw new InvalidSettingException(option.Name, $"{option.Name}: expected an integer; found \"{text}\".");
    }

    private static double? Double(ParseResult p, Option<string?> option)
    {
        var text = p.GetValue(option);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new InvalidSettingException(option.Name, $"{option.Name}: expected a number; found \"{text}\".");
    }

    private static long? Size(ParseResult p, Option<string?> option)
    {
        var text = p.GetValue(option);
        if (text is null)
        {
            return null;
        }

        return ByteSize.TryParse(text, out var size)
            ? size.Bytes
            : throw new InvalidSettingException(option.Name, $"{option.Name}: expected a size such as 512MiB or 1.5GiB; found \"{text}\".");
    }
}
