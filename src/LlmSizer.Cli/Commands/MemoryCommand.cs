using System.CommandLine;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Memory;
using LlmSizer.Requests;
using LlmSizer.Units;
using Spectre.Console;
using static LlmSizer.Cli.Commands.CliSettings;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize memory &lt;MODEL&gt; [workload flags] [--json]</c>: the GPU memory estimate, component by component,
/// with each component's formula, the assumptions and the warnings. Flags become <see cref="WorkloadOptions"/> (text),
/// the core parses them (<see cref="WorkloadParser"/>) and estimates (<see cref="Sizer.Memory(MemoryRequest)"/>); this
/// class only maps flags and renders.</summary>
internal sealed class MemoryCommand : ICliCommand
{
    private readonly Func<string, ModelInfo> _resolve;
    private readonly Argument<string?> _model = CommonOptions.ModelArgument();
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<bool> _si = new("--si") { Description = "Show GB (10^9) instead of GiB (2^30)." };
    private readonly Option<string?> _mode = Text("--mode", "inference | training (default inference).", "MODE");
    private readonly Option<string?> _dtype = Text("--dtype", "Weight format: f16, bf16, f32, fp8, int8, int4, nf4, gptq-int4, awq, q8_0, q4_k_m ... (default: the checkpoint's, the config's torch_dtype otherwise).", "D");
    private readonly Option<string?> _context = Text("--context", "Tokens per sequence, e.g. 8192 or 32k (default 4096 or the model's maximum).", "N");
    private readonly Option<string?> _batch = Text("--batch", "Concurrent sequences (inference) or micro-batch (training); default 1.", "N");
    private readonly Option<string?> _kvDtype = Text("--kv-dtype", "KV cache type: f16, bf16, f32, fp8, q8_0, q4_0 ... (default f16 / the compute dtype).", "D");
    private readonly Option<string?> _gpus = Text("--gpus", "GPUs in total (default tp × pp).", "N");
    private readonly Option<string?> _tp = Text("--tp", "Tensor-parallel size (default 1).", "N");
    private readonly Option<string?> _pp = Text("--pp", "Pipeline-parallel size (default 1).", "N");
    private readonly Option<string?> _zero = Text("--zero", "Training: ZeRO stage 0..3 (3 = FSDP full shard); default 0.", "0..3");
    private readonly Option<string?> _optimizer = Text("--optimizer", "Training: adamw | adamw8bit | sgd | sgd-momentum | adafactor | lion (default adamw).", "NAME");
    private readonly Option<string?> _loraRank = Text("--lora-rank", "Training: LoRA rank; adapters on all linear layers unless --lora-targets.", "R");
    private readonly Option<string?> _loraTargets = Text("--lora-targets", "Training: comma-separated LoRA targets: q,k,v,o,gate,up,down or all.", "LIST");
    private readonly Option<bool> _qlora = new("--qlora") { Description = "Training: QLoRA, an NF4 (double-quantized) base + LoRA adapters." };
    private readonly Option<string?> _recompute = Text("--recompute", "Training: activation recomputation none | selective | full (default none).", "KIND");
    private readonly Option<string?> _attn = Text("--attn", "Attention kernel of PyTorch runs (training, --engine hf): flash | sdpa | eager (default flash/sdpa: no s×s scores kept).", "KIND");
    private readonly Option<string?> _engine = Text("--engine", "vllm | llamacpp | hf (default: llamacpp for GGUF formats, vllm otherwise).", "NAME");
    private readonly Option<string?> _ubatch = Text("--ubatch", "llama.cpp physical batch n_ubatch (default 512).", "N");
    private readonly Option<string?> _flashAttn = Text("--flash-attn", "llama.cpp flash attention: on | off | auto (default auto).", "MODE");
    private readonly Option<bool> _swaFull = new("--swa-full") { Description = "llama.cpp: full-size cache for sliding-window layers." };
    private readonly Option<string?> _gpuUtil = Text("--gpu-util", "vLLM gpu_memory_utilization (default 0.9).", "F");
    private readonly Option<string?> _overhead = Text("--overhead", "Per-GPU runtime overhead, e.g. 512MiB or 1.5GiB (default per engine).", "SIZE");
    private readonly Option<string?> _gpuMemory = Text("--gpu-memory", "Memory of one GPU with a unit, e.g. 24GiB; vLLM: picks the non-torch default (0.35 GiB up to 32 GiB, 1.79 GiB above).", "SIZE");
    private readonly Option<string?> _maxBatchedTokens = Text("--max-batched-tokens", "vLLM max_num_batched_tokens: tokens in one profile/prefill step (default max(context, 2048), as without chunked prefill; vLLM V1 with chunked prefill uses 2048-16384).", "N");
    private readonly Option<string?> _maxSeqs = Text("--max-seqs", "vLLM max_num_seqs: sequences in the profile run's sampler (default 256).", "N");
    private readonly Option<string?> _maxMmTokens = Text("--max-mm-tokens", "vLLM: the most image/multimodal tokens one prompt can carry (multimodal profile run).", "N");

    /// <summary>Creates the command.</summary>
    /// <param name="resolve">Turns MODEL into a model; <see cref="Sizer.Load(string)"/> by default.</param>
    public MemoryCommand(Func<string, ModelInfo>? resolve = null)
    {
        _resolve = resolve ?? Sizer.Load;
    }

    public Command Create(CliContext context)
    {
        var command = new Command("memory", "Estimate GPU memory for inference or training: every component, its formula and assumptions.");
        command.Arguments.Add(_model);
        foreach (var option in new Option[]
        {
            _json, _si, _mode, _dtype, _context, _batch, _kvDtype, _gpus, _tp, _pp, _zero, _optimizer, _loraRank, _loraTargets, _qlora,
            _recompute, _attn, _engine, _ubatch, _flashAttn, _swaFull, _gpuUtil, _overhead, _gpuMemory, _maxMmTokens,
            _maxBatchedTokens, _maxSeqs,
        })
        {
            command.Options.Add(option);
        }

        CommonOptions.AddExamples(command,
            "llmsize memory llama-3.1-8b --context 32k --batch 4",
            "llmsize memory qwen3-8b --engine llamacpp --dtype q4_k_m --kv-dtype q8_0 --flash-attn on",
            "llmsize memory llama-3.1-70b --tp 4 --dtype fp8 --json",
            "llmsize memory llama-3.1-8b --mode training --qlora --lora-rank 16 --context 2048");
        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult p)
    {
        var modelArg = p.GetValue(_model) ?? throw new UsageException("memory: expected a MODEL (see 'llmsize memory --help').");
        // Flags are checked before the model is loaded: a bad flag costs nothing.
        var workload = WorkloadParser.Parse(Options(p));
        var estimate = Sizer.Memory(new MemoryRequest { Model = new ModelRequest { Loaded = _resolve(modelArg) }, Workload = workload });
        if (p.GetValue(_json))
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Memory(estimate)));
        }
        else
        {
            WriteTables(context.Console, estimate, p.GetValue(_si));
        }

        // Warnings go to stderr in both modes (and into the JSON), so a script reading stdout is never confused.
        foreach (var warning in estimate.Warnings)
        {
            context.Error.WriteLine("warning: " + warning);
        }

        return ExitCodes.Success;
    }

    /// <summary>The flags as the core's text options: each flag's value is passed on as typed.</summary>
    private WorkloadOptions Options(ParseResult p) => new()
    {
        Mode = p.GetValue(_mode),
        Dtype = p.GetValue(_dtype),
        Context = p.GetValue(_context),
        Batch = p.GetValue(_batch),
        KvDtype = p.GetValue(_kvDtype),
        Gpus = p.GetValue(_gpus),
        TensorParallel = p.GetValue(_tp),
        PipelineParallel = p.GetValue(_pp),
        ZeroStage = p.GetValue(_zero),
        Optimizer = p.GetValue(_optimizer),
        LoraRank = p.GetValue(_loraRank),
        LoraTargets = p.GetValue(_loraTargets),
        Qlora = Switch(p, _qlora),
        Recompute = p.GetValue(_recompute),
        Attention = p.GetValue(_attn),
        Engine = p.GetValue(_engine),
        Ubatch = p.GetValue(_ubatch),
        FlashAttention = p.GetValue(_flashAttn),
        SwaFull = Switch(p, _swaFull),
        GpuUtilization = p.GetValue(_gpuUtil),
        Overhead = p.GetValue(_overhead),
        GpuMemory = p.GetValue(_gpuMemory),
        MaxMultimodalTokens = p.GetValue(_maxMmTokens),
        MaxBatchedTokens = p.GetValue(_maxBatchedTokens),
        MaxSeqs = p.GetValue(_maxSeqs),
    };

    private static void WriteTables(IAnsiConsole console, MemoryEstimate e, bool si)
    {
        string Fmt(ByteSize b) => b.Format(binary: !si);
        console.MarkupLine($"[bold]{Markup.Escape(e.Model)}[/]: {WorkloadNames.Name(e.Mode)} on {e.Gpus} GPU{(e.Gpus == 1 ? "" : "s")}");
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
            var colors = new[] { Color.Blue, Color.Green, Color.Yellow, Color.Red, Color.Aqua, Color.Fuchsia, Color.Orange1, Color.Grey, Color.Purple, Color.Teal };
            var palette = Enumerable.Repeat(colors, device.Count).SelectMany(c => c);
            foreach (var (c, color) in device.Zip(palette))
            {
                double share = e.SharePercent(c);
                var label = FormattableString.Invariant($"{c.Name} {Fmt(c.PerGpu)} ({share:0.#}%)");
                chart.AddItem(Markup.Escape(label), share, color);
            }

            console.WriteLine();
            console.MarkupLine("per GPU breakdown:");
            console.Write(chart);
        }

        var assumptions = new Table().Border(TableBorder.Rounded).AddColumn("assumption").AddColumn("value");
        foreach (var a in e.Assumptions)
        {
            assumptions.AddRow(Markup.Escape(a.Name), Markup.Escape(a.Text));
        }

        console.WriteLine();
        console.Write(assumptions);
    }
}
