using System.CommandLine;
using System.Globalization;
using LlmSizer.Cli.Output;
using LlmSizer.Contract;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Requests;
using LlmSizer.Units;
using Spectre.Console;
using static LlmSizer.Cli.Commands.CliSettings;

namespace LlmSizer.Cli.Commands;

/// <summary><c>llmsize fit MODEL [--gpu NAME|local] [workload flags]</c>: which GPUs, how many, how long a context, how
/// many users, how fast — and the settings to deploy it. Flags go to the core (<see cref="Sizer.Fit"/>); this class
/// renders.</summary>
internal sealed class FitCommand : ICliCommand
{
    private static readonly string[] Formats = ["vllm", "sglang", "llamacpp", "deepspeed", "fsdp", "k8s"];

    private readonly Func<string, ModelInfo>? _resolve;
    private readonly Option<bool> _refresh = CommonOptions.Refresh();
    private readonly Func<LocalGpuReport> _discover;
    private readonly Argument<string?> _model = CommonOptions.ModelArgument();
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<string?> _gpu = Text("--gpu", "A catalog GPU (id or alias: rtx-4090, 4090, h100, a100-80, mi300x; see 'llmsize gpus') or 'local' (nvidia-smi/rocm-smi). Default: every catalog GPU.", "NAME");
    private readonly Option<string?> _budget = Text("--budget", "Usable memory per GPU, e.g. 24GiB: best weight format and context for that budget.", "SIZE");
    private readonly Option<string?> _gpuMemory = Text("--gpu-memory", "A custom GPU: its usable memory as the driver reports it, e.g. 48GiB.", "SIZE");
    private readonly Option<string?> _gpuBandwidth = Text("--gpu-bandwidth", "A custom GPU's memory bandwidth, e.g. 960GB/s (for tokens/s).", "RATE");
    private readonly Option<string?> _gpuTflops = Text("--gpu-tflops", "A custom GPU's dense 16-bit TFLOP/s, e.g. 150 (for prefill and training time).", "N");
    private readonly Option<bool> _gpuOnly = new("--gpu-only") { Description = "Keep plans that run fully on GPUs (no llama.cpp partial offload or CPU)." };
    private readonly Option<string?> _maxGpus = Text("--max-gpus", "The most GPUs a plan may use (default 64: eight nodes of eight).", "N");
    private readonly Option<string?> _format = Text("--format", "Print only one setting: vllm | sglang | llamacpp | deepspeed | fsdp | k8s.", "NAME");
    private readonly Option<string?> _decodeEfficiency = Text("--decode-efficiency", "Fraction of peak bandwidth a decode step reaches (default 0.7).", "F");
    private readonly Option<string?> _sweep = Text("--sweep", "'context': memory at 1k, 2k, 4k … tokens up to the model's maximum against the GPU (one GPU or budget).", "WHAT");
    private readonly Option<string?> _mfu = Text("--mfu", "Model FLOPs utilization for prefill and training (default 0.4).", "F");
    private readonly WorkloadFlags _flags = new();

    /// <summary>Creates the command.</summary>
    /// <param name="resolve">Turns MODEL into a model (tests pass fakes).</param>
    /// <param name="discover">Finds the local GPUs (tests pass fakes).</param>
    public FitCommand(Func<string, ModelInfo>? resolve = null, Func<LocalGpuReport>? discover = null)
    {
        _resolve = resolve;
        _discover = discover ?? (() => LocalGpuDiscovery.Discover());
    }

    public Command Create(CliContext context)
    {
        var command = new Command("fit", "Which GPUs, how many, the longest context, concurrent users and tokens/s — and the engine settings to deploy.");
        command.Arguments.Add(_model);
        foreach (var option in new Option[] { _json, _refresh, _gpu, _budget, _gpuMemory, _gpuBandwidth, _gpuTflops, _gpuOnly, _maxGpus, _format, _sweep, _decodeEfficiency, _mfu })
        {
            command.Options.Add(option);
        }

        _flags.AddTo(command, includeGpuMemory: false);
        CommonOptions.AddExamples(command,
            "llmsize fit llama-3.1-8b --gpu rtx-4090 --context 8192",
            "llmsize fit llama-3.1-70b --dtype fp8",
            "llmsize fit qwen3-8b --gpu local --engine llamacpp --dtype q4_k_m",
            "llmsize fit llama-3.1-8b --gpu h100 --format k8s");
        command.SetAction(parseResult => Execute(context, parseResult));
        return command;
    }

    private int Execute(CliContext context, ParseResult p)
    {
        var modelArg = p.GetValue(_model) ?? throw new UsageException("fit: expected a MODEL (see 'llmsize fit --help').");
        var gpuName = p.GetValue(_gpu);
        var budgetText = p.GetValue(_budget);
        var memoryText = p.GetValue(_gpuMemory);
        if (gpuName is not null && (budgetText is not null || memoryText is not null))
        {
            throw new UsageException($"fit: give --gpu or {(budgetText is not null ? "--budget" : "--gpu-memory")}, not both.");
        }

        if (budgetText is not null && memoryText is not null)
        {
            throw new UsageException("fit: give --budget or --gpu-memory, not both.");
        }

        string? format = p.GetValue(_format) is { } f
            ? Formats.FirstOrDefault(x => x.Equals(f.Trim(), StringComparison.OrdinalIgnoreCase))
              ?? throw new UsageException($"--format: expected one of {string.Join(", ", Formats)}; found \"{f}\".")
            : null;
        var workload = WorkloadParser.Parse(_flags.Options(p, includeGpuMemory: false));
        var throughput = new ThroughputAssumptions
        {
            DecodeBandwidthEfficiency = p.GetValue(_decodeEfficiency) is { } de ? SettingParser.ParseFraction("decode_efficiency", de) : ThroughputAssumptions.Default.DecodeBandwidthEfficiency,
            Mfu = p.GetValue(_mfu) is { } mfu ? SettingParser.ParseFraction("mfu", mfu) : ThroughputAssumptions.Default.Mfu,
        };
        var request = new FitRequest
        {
            Model = new ModelRequest { Loaded = _resolve?.Invoke(modelArg) ?? CliModels.Load(context, modelArg, p.GetValue(_refresh), p.GetValue(_json)) },
            Workload = workload,
            GpuOnly = p.GetValue(_gpuOnly),
            MaxGpus = p.GetValue(_maxGpus) is { } mg ? SettingParser.ParseInt("max_gpus", mg, 1, 4096) : 64,
            Throughput = throughput,
            Budget = budgetText is null ? null : SettingParser.ParseSize("budget", budgetText),
            Gpu = memoryText is not null ? GpuDevice.ParseCustom(memoryText, p.GetValue(_gpuBandwidth), p.GetValue(_gpuTflops)) : null,
            SweepContext = Sweep(p.GetValue(_sweep), gpuName is not null || budgetText is not null || memoryText is not null),
        };

        FitResult result;
        if (gpuName is { } name && name.Trim().Equals("local", StringComparison.OrdinalIgnoreCase))
        {
            result = Local(context, request);
        }
        else
        {
            if (gpuName is not null)
            {
                request = request with { Gpu = GpuDevice.FromSpec(GpuCatalog.Find(gpuName)) };
            }

            result = Sizer.Fit(request);
        }

        if (format is not null)
        {
            var plan = result.Plans.FirstOrDefault(x => x.FitType != FitType.None);
            var text = plan is null ? null : format switch
            {
                "vllm" => plan.Settings.Vllm,
                "sglang" => plan.Settings.Sglang,
                "llamacpp" => plan.Settings.LlamaCpp,
                "deepspeed" => plan.Settings.DeepSpeed,
                "fsdp" => plan.Settings.Fsdp,
                _ => plan.Settings.Kubernetes,
            };
            if (text is null)
            {
                context.Error.WriteLine(plan is null
                    ? "error: nothing fits, so there are no settings to print."
                    : $"error: --format {format}: the best plan ({plan.Gpu}, {Engine(plan)}) has no {format} settings.");
                return plan is null ? ExitCodes.DoesNotFit : ExitCodes.InputError;
            }

            context.Out.WriteLine(text.TrimEnd());
            return ExitCodes.Success;
        }

        if (p.GetValue(_json))
        {
            JsonOutput.Write(context.Out, ContractJson.Serialize(ContractMapper.Fit(result)));
        }
        else if (result.Plans.Count == 1)
        {
            WritePlan(context.Console, result.Model, result.Plans[0]);
            WriteFormats(context.Console, result);
            WriteSweep(context.Console, result);
        }
        else
        {
            WriteTable(context.Console, result);
        }

        return result.AnyFits ? ExitCodes.Success : ExitCodes.DoesNotFit;
    }

    private static bool Sweep(string? sweep, bool oneGpu)
    {
        if (sweep is null)
        {
            return false;
        }

        if (!sweep.Trim().Equals("context", StringComparison.OrdinalIgnoreCase))
        {
            throw new UsageException($"--sweep: expected 'context'; found \"{sweep}\".");
        }

        return oneGpu ? true : throw new UsageException("--sweep context: give one GPU (--gpu, --budget or --gpu-memory).");
    }

    private FitResult Local(CliContext context, FitRequest request)
    {
        var report = _discover();
        foreach (var note in report.Notes)
        {
            context.Error.WriteLine("note: " + note);
        }

        var ram = report.HostMemory?.Available ?? report.HostMemory?.Total;
        if (report.Gpus.Count == 0)
        {
            return FitPlanner.CpuOnly(request with { HostMemory = ram ?? ByteSize.Zero });
        }

        // Plan for the first card's type with what is free on it; several identical cards allow tensor parallelism.
        var first = report.Gpus[0];
        var device = first.ToDevice(useFreeMemory: true)
            ?? throw new UsageException($"--gpu local: {first.Name} reported no memory size; use --gpu-memory SIZE.");
        int same = report.Gpus.Count(g => g.Name == first.Name);
        return Sizer.Fit(request with { Gpu = device, MaxGpus = Math.Min(request.MaxGpus, same), GpusPerNode = same, HostMemory = ram });
    }

    private static string Engine(FitPlan plan) => plan.Engine is { } e ? WorkloadNames.Name(e) : "training";

    private static string Bytes(long b) => b < 0 ? "-" + new ByteSize(-b) : new ByteSize(b).ToString();

    private static string Rate(double? v) => v is { } x ? x.ToString("N1", CultureInfo.InvariantCulture) : "-";

    private static void WritePlan(IAnsiConsole console, string model, FitPlan plan)
    {
        console.MarkupLine($"[bold]{Markup.Escape(model)}[/] on [bold]{Markup.Escape(plan.Device.Name)}[/] ({Markup.Escape(plan.Gpu)}): {ContractMapper.FitTypeName(plan.FitType)}");
        var t = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        t.AddRow("engine", Engine(plan));
        if (plan.FitType == FitType.None)
        {
            t.AddRow("needs per GPU", plan.PerGpu.ToString());
            t.AddRow("budget per GPU", plan.Budget.ToString());
            t.AddRow("shortfall", Bytes(-plan.HeadroomBytes));
            t.AddRow("why", Markup.Escape(plan.Reason ?? ""));
        }
        else
        {
            t.AddRow("GPUs", $"{plan.GpusNeeded} (tp {plan.TensorParallel} × pp {plan.PipelineParallel}, {plan.Nodes} node{(plan.Nodes == 1 ? "" : "s")})");
            t.AddRow("per GPU / budget", $"{plan.PerGpu} / {plan.Budget} (headroom {Bytes(plan.HeadroomBytes)})");
            if (plan.MaxContext > 0)
            {
                t.AddRow("longest context", plan.MaxContext.ToString("N0", CultureInfo.InvariantCulture));
            }

            if (plan.KvCacheTokens is { } tokens)
            {
                t.AddRow("KV cache (vLLM)", $"{new ByteSize(plan.KvCacheBytesPerGpu ?? 0)} per GPU = {tokens.ToString("N0", CultureInfo.InvariantCulture)} tokens; max concurrency {plan.MaxConcurrency?.ToString("0.##", CultureInfo.InvariantCulture)}x");
            }

            if (plan.GpuLayers is { } ngl)
            {
                t.AddRow("GPU layers (-ngl)", ngl.ToString(CultureInfo.InvariantCulture) + (plan.HostBytes is { } hb && hb > 0 ? $"; host RAM {new ByteSize(hb)}" : ""));
            }

            if (plan.DecodeTokensPerSecond is not null)
            {
                t.AddRow("decode tokens/s", $"{Rate(plan.DecodeTokensPerSecond)} per sequence, {Rate(plan.AggregateDecodeTokensPerSecond)} at the batch");
            }

            if (plan.PrefillTokensPerSecond is not null)
            {
                t.AddRow("prefill tokens/s", $"{Rate(plan.PrefillTokensPerSecond)}; time to first token {plan.TimeToFirstTokenSeconds?.ToString("0.###", CultureInfo.InvariantCulture)} s");
            }

            if (plan.StepSeconds is { } step)
            {
                t.AddRow("training", $"{step.ToString("0.###", CultureInfo.InvariantCulture)} s/step; {Rate(plan.TrainingHours)} h per 1B tokens");
            }

            if (plan.Reason is { } reason)
            {
                t.AddRow("note", Markup.Escape(reason));
            }
        }

        console.Write(t);
        var a = new Table().Border(TableBorder.Rounded).AddColumn("assumption").AddColumn("value");
        foreach (var x in plan.Assumptions)
        {
            a.AddRow(Markup.Escape(x.Name), Markup.Escape(x.Text));
        }

        console.Write(a);
        WriteSettings(console, plan);
    }

    private static void WriteTable(IAnsiConsole console, FitResult result)
    {
        var t = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(result.Model)}: plans over {result.Plans.Count} GPU types (best first)");
        foreach (var c in new[] { "GPU", "fit", "GPUs", "per GPU", "headroom", "max ctx", "concurrency", "decode tok/s" })
        {
            t.AddColumn(c == "GPU" || c == "fit" ? new TableColumn(c) : new TableColumn(c).RightAligned());
        }

        foreach (var p in result.Plans)
        {
            t.AddRow(
                Markup.Escape(p.Gpu),
                ContractMapper.FitTypeName(p.FitType),
                p.FitType == FitType.None ? "-" : $"{p.GpusNeeded} ({p.TensorParallel}×{p.PipelineParallel})",
                p.PerGpu.ToString(),
                Bytes(p.HeadroomBytes),
                p.MaxContext > 0 ? p.MaxContext.ToString("N0", CultureInfo.InvariantCulture) : "-",
                p.MaxConcurrency?.ToString("0.#", CultureInfo.InvariantCulture) ?? "-",
                Rate(p.DecodeTokensPerSecond));
        }

        console.Write(t);
        if (result.Plans.FirstOrDefault(p => p.FitType != FitType.None) is { } best)
        {
            console.MarkupLine($"best: [bold]{Markup.Escape(best.Gpu)}[/] × {best.GpusNeeded}");
            WriteSettings(console, best);
        }
        else
        {
            console.MarkupLine("[bold]does not fit[/] on any catalog GPU within the GPU limit (shortfall per GPU type above).");
        }
    }

    private static void WriteFormats(IAnsiConsole console, FitResult result)
    {
        if (result.Formats.Count == 0)
        {
            return;
        }

        var t = new Table().Border(TableBorder.Rounded).Title("weight formats on one GPU, best quality first");
        foreach (var c in new[] { "engine", "dtype", "kv", "per GPU", "budget", "fits", "max context" })
        {
            t.AddColumn(c is "per GPU" or "budget" or "max context" ? new TableColumn(c).RightAligned() : new TableColumn(c));
        }

        foreach (var f in result.Formats)
        {
            t.AddRow(WorkloadNames.Name(f.Engine), Markup.Escape(f.Format.Name), f.KvType.Name.ToLowerInvariant(), f.PerGpu.ToString(), f.Budget.ToString(),
                f.Fits ? "yes" : "no", f.MaxContext > 0 ? f.MaxContext.ToString("N0", CultureInfo.InvariantCulture) : "-");
        }

        console.Write(t);
        if (result.Formats.FirstOrDefault(f => f.Fits) is { } best)
        {
            console.MarkupLine($"best fitting format: [bold]{Markup.Escape(best.Format.Name)}[/] with a {best.KvType.Name.ToLowerInvariant()} cache on {WorkloadNames.Name(best.Engine)}");
        }
    }

    private static void WriteSweep(IAnsiConsole console, FitResult result)
    {
        if (result.Sweep.Count == 0)
        {
            return;
        }

        var t = new Table().Border(TableBorder.Rounded).Title("memory against context").AddColumn(new TableColumn("context").RightAligned())
            .AddColumn(new TableColumn("per GPU").RightAligned()).AddColumn("fits");
        foreach (var x in result.Sweep)
        {
            t.AddRow(x.Context.ToString("N0", CultureInfo.InvariantCulture), x.PerGpu.ToString(), x.Fits ? "yes" : "no");
        }

        console.Write(t);
    }

    private static void WriteSettings(IAnsiConsole console, FitPlan plan)
    {
        foreach (var (label, text) in new[] { ("vllm", plan.Settings.Vllm), ("sglang", plan.Settings.Sglang), ("llama.cpp", plan.Settings.LlamaCpp), ("deepspeed", plan.Settings.DeepSpeed) })
        {
            if (text is not null)
            {
                console.WriteLine($"{label}: {text.ReplaceLineEndings(" ")}");
            }
        }

        if (plan.Settings.Kubernetes is not null)
        {
            console.WriteLine("kubernetes: llmsize fit ... --format k8s");
        }
    }
}
