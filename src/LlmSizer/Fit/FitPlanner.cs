using LlmSizer.Catalog;
using LlmSizer.Errors;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Fit;

/// <summary>Answers "what do I need to run this, and how do I configure it?": per GPU type, the fewest GPUs (with the
/// tensor- and pipeline-parallel sizes the engine accepts), the longest context, vLLM's KV budget and concurrency,
/// llama.cpp's partial offload, roofline throughput, and engine settings. No memory formula lives here: every number is
/// a question asked of <see cref="MemoryEstimator"/> and <see cref="MemorySolver"/> on a prepared model.</summary>
public static class FitPlanner
{
    private static readonly int[] TensorParallelSizes = [1, 2, 4, 8];

    /// <summary>Plans for one GPU (<see cref="FitRequest.Gpu"/>), a budget (<see cref="FitRequest.Budget"/>), or every
    /// catalog GPU, best first.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The plans.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded or a setting is invalid.</exception>
    public static FitResult Plan(FitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Gpu is not null && request.Budget is not null)
        {
            throw new InvalidSettingException("budget", "expected either a GPU or a budget, not both; found both.");
        }

        if (request.MaxGpus is < 1 or > 4096)
        {
            throw new InvalidSettingException("max_gpus", $"expected an integer from 1 to 4,096; found {request.MaxGpus}.");
        }

        var model = PreparedModel.For(request.Model.Resolve());
        _ = model.Architecture ?? throw new ModelConfigException(model.Model.Name, null,
            $"{model.Model.Name}: architecture: expected layers, heads and head_dim to plan a deployment; found none.");
        // Validate the workload once, on one GPU, so a bad setting is one error rather than one per GPU type.
        MemoryEstimator.Estimate(model, request.Workload with { TensorParallel = request.Workload.TensorParallel, Gpus = request.Workload.Gpus });
        var devices = request.Gpu is { } g ? [g]
            : request.Budget is { } b ? [GpuDevice.Custom(b)]
            : GpuCatalog.All.Select(GpuDevice.FromSpec).ToArray();
        var plans = devices.Select(d => PlanFor(model, d, request))
            .Where(p => !request.GpuOnly || p.FitType is FitType.FullGpu or FitType.None)
            .OrderBy(p => p.FitType == FitType.None ? 1 : 0)
            .ThenBy(p => p.FitType == FitType.FullGpu ? 0 : 1)
            .ThenBy(p => p.GpusNeeded)
            .ThenByDescending(p => p.Budget.Bytes == 0 ? 0 : (double)p.HeadroomBytes / p.Budget.Bytes)
            .ToList();
        var result = new FitResult(model.Model.Name, plans);
        if (devices.Length == 1)
        {
            result = result with { Formats = Formats(model, devices[0], request) };
            if (request.SweepContext && plans[0].FitType == FitType.FullGpu && plans[0].Estimate is not null)
            {
                result = result with { Sweep = Sweep(model, request, plans[0]) };
            }
        }

        return result;
    }

    /// <summary>The engines' quality ladders on one GPU, best first: vLLM bf16 › fp8 › int8 › int4 (GPTQ) › nf4 with a
    /// 16-bit and an fp8 cache; llama.cpp f16 › q8_0 › q6_k › q5_k_m › q4_k_m › q3_k_m › q2_k with an f16, q8_0 and q4_0
    /// cache (<see cref="MemorySolver.Ladder"/>). Only the engine of the workload when it names one.</summary>
    private static List<FormatOption> Formats(PreparedModel model, GpuDevice device, FitRequest r)
    {
        var list = new List<FormatOption>();
        if (r.Workload.Training is not null || r.Workload.Format is not null)
        {
            return list; // the user chose the format (or it is a training plan): no ladder to walk
        }

        var engines = r.Workload.Engine is { } e ? [e] : new[] { InferenceEngine.Vllm, InferenceEngine.LlamaCpp };
        foreach (var engine in engines)
        {
            var kvTypes = engine == InferenceEngine.LlamaCpp
                ? new[] { DataTypes.DataType.F16, DataTypes.DataType.Q8_0, DataTypes.DataType.Q4_0 }
                : new[] { (DataTypes.DataType?)null, DataTypes.DataType.F8_E4M3 }.Select(t => t!).ToArray();
            double util = engine == InferenceEngine.Vllm ? r.Workload.Vllm.GpuUtilization : 1.0;
            var budget = new ByteSize((long)(device.UsableMemory.Bytes * util));
            foreach (var format in MemorySolver.Ladder(engine))
            {
                foreach (var kv in kvTypes)
                {
                    var w = r.Workload with
                    {
                        Engine = engine, Format = format, KvType = kv, Gpus = 1, TensorParallel = 1, PipelineParallel = 1,
                        GpuMemory = r.Workload.GpuMemory ?? device.UsableMemory,
                        Vllm = OnDevice(r.Workload, device).Vllm,
                        // llama.cpp needs flash attention for a quantized V cache.
                        LlamaCpp = kv is not null && kv.BlockElements > 1 && r.Workload.LlamaCpp.FlashAttention == FlashAttention.Off
                            ? r.Workload.LlamaCpp with { FlashAttention = FlashAttention.On } : r.Workload.LlamaCpp,
                    };
                    MemoryEstimate est;
                    try
                    {
                        est = MemoryEstimator.Estimate(model, w);
                    }
                    catch (InvalidSettingException)
                    {
                        continue;
                    }

                    var kvType = est.Assumption("kv_dtype")?.ValueText is { } text && DataTypes.DataType.TryParse(text, out var t) ? t : DataTypes.DataType.F16;
                    list.Add(new FormatOption(engine, format, kvType, est.PerGpu, budget, est.PerGpu <= budget,
                        Cap(MemorySolver.MaxContext(model, w with { Context = null }, budget), model)));
                }
            }
        }

        return list;
    }

    /// <summary>Memory at 1k, 2k, 4k … tokens (up to the model's maximum, at most 2^24) for the plan's configuration.</summary>
    private static List<ContextPoint> Sweep(PreparedModel model, FitRequest r, FitPlan plan)
    {
        var spec = model.Architecture!;
        var w = r.Workload with
        {
            Engine = plan.Engine,
            TensorParallel = plan.Engine == InferenceEngine.LlamaCpp ? 1 : plan.TensorParallel,
            PipelineParallel = plan.Engine == InferenceEngine.LlamaCpp ? 1 : plan.PipelineParallel,
            Gpus = plan.GpusNeeded,
        };
        w = OnDevice(w, plan.Device);
        int max = Math.Min(spec.MaxPositions is > 0 ? spec.MaxPositions.Value : 131_072, MemorySolver.MaxContextSearched);
        var points = new List<ContextPoint>();
        for (int ctx = 1024; ctx <= max; ctx *= 2)
        {
            var e = MemoryEstimator.Estimate(model, w with { Context = ctx });
            points.Add(new ContextPoint(ctx, e.PerGpu, e.PerGpu <= plan.Budget));
            if (ctx > max / 2)
            {
                break;
            }
        }

        if (points.Count == 0 || points[^1].Context != max)
        {
            var e = MemoryEstimator.Estimate(model, w with { Context = max });
            points.Add(new ContextPoint(max, e.PerGpu, e.PerGpu <= plan.Budget));
        }

        return points;
    }

    /// <summary>The workload on <paramref name="device"/>: its memory, vLLM V1's batch defaults for that GPU, which
    /// depend on its name as well (an A100 keeps the small defaults, <see cref="VllmDefaults"/>), and its interconnect.</summary>
    private static Workload OnDevice(Workload w, GpuDevice device)
    {
        var memory = w.GpuMemory ?? device.UsableMemory;
        var vllm = w.Vllm;
        if (vllm.Profile == VllmProfile.V1 && vllm.MaxBatchedTokens is null && vllm.MaxSeqs is null &&
            device.Name.Contains("a100", StringComparison.OrdinalIgnoreCase))
        {
            vllm = vllm with
            {
                MaxBatchedTokens = VllmDefaults.MaxBatchedTokens(VllmProfile.V1, 0, memory.Bytes, device.Name),
                MaxSeqs = VllmDefaults.MaxSeqs(VllmProfile.V1, memory.Bytes, device.Name),
            };
        }

        // The link between the GPUs sets NCCL's and the custom all-reduce's memory at TP > 1 (VllmRuntimeMemory).
        if (vllm.Interconnect is null && VllmRuntimeMemory.LinkOf(device.Spec?.Interconnect, w.TensorParallel) is { } link)
        {
            vllm = vllm with { Interconnect = link };
        }

        return w with { GpuMemory = memory, Vllm = vllm };
    }

    /// <summary>The plan for one device.</summary>
    /// <param name="model">The prepared model.</param>
    /// <param name="device">The device.</param>
    /// <param name="request">The request (workload, limits, throughput factors).</param>
    /// <returns>The plan (fit type none when nothing fits).</returns>
    public static FitPlan PlanFor(PreparedModel model, GpuDevice device, FitRequest request)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(request);
        var w = OnDevice(request.Workload, device);
        string id = device.Spec?.Id ?? "custom";
        if (w.Training is not null)
        {
            return Training(model, device, id, w, request);
        }

        var spec = model.Architecture!;
        var format = w.Format ?? model.DefaultFormat(spec).Format;
        var engine = w.Engine ?? EngineDefaults.Engine(format, model.Model.Source);
        return engine == InferenceEngine.LlamaCpp
            ? LlamaCpp(model, device, id, w with { Engine = engine }, request)
            : Torch(model, device, id, w with { Engine = engine }, engine, request);
    }

    private static FitPlan Torch(PreparedModel model, GpuDevice device, string id, Workload w, InferenceEngine engine, FitRequest r)
    {
        var spec = model.Architecture!;
        double util = engine == InferenceEngine.Vllm ? w.Vllm.GpuUtilization : 1.0;
        var budget = new ByteSize((long)(device.UsableMemory.Bytes * util));
        MemoryEstimate? best = null, smallest = null;
        Workload? chosen = null;
        int perNode = Math.Min(r.GpusPerNode, r.MaxGpus);
        // Candidates: TP in powers of two within a node (vLLM: TP must divide the attention heads; KV heads are replicated
        // beyond their count), then pipeline stages across nodes with full-node TP.
        var candidates = TensorParallelSizes.Where(t => t <= perNode).Select(t => (Tp: t, Pp: 1)).ToList();
        int nodeTp = TensorParallelSizes.Where(t => t <= perNode && spec.Heads % t == 0).DefaultIfEmpty(1).Max();
        for (int pp = 2; nodeTp * pp <= r.MaxGpus && pp <= spec.Layers; pp++)
        {
            candidates.Add((nodeTp, pp));
        }

        foreach (var (tp, pp) in candidates)
        {
            var cw = w with { TensorParallel = tp, PipelineParallel = pp, Gpus = tp * pp };
            if (r.Workload.Vllm.Interconnect is null && VllmRuntimeMemory.LinkOf(device.Spec?.Interconnect, tp) is { } link)
            {
                cw = cw with { Vllm = cw.Vllm with { Interconnect = link } }; // a two-GPU bridge is NVLink only for a pair
            }

            MemoryEstimate e;
            try
            {
                e = MemoryEstimator.Estimate(model, cw);
            }
            catch (InvalidSettingException)
            {
                continue; // this TP/PP does not divide the heads or layers: the engine would refuse it
            }

            if (smallest is null || e.PerGpu < smallest.PerGpu)
            {
                smallest = e;
            }

            if (e.PerGpu <= budget)
            {
                best = e;
                chosen = cw;
                break;
            }
        }

        var assumptions = new List<Assumption>
        {
            new("usable_memory", device.UsableMemory.Bytes, false, device.Spec?.UsableMemoryRule ?? device.Spec?.UsableMemoryEvidence ?? "given"),
            new("budget_rule", engine == InferenceEngine.Vllm ? "gpu_memory_utilization × usable memory (vLLM pre-allocates that fraction)" : "usable memory"),
            new("max_gpus", (long)r.MaxGpus, r.MaxGpus == 64),
            new("gpus_per_node", (long)r.GpusPerNode, r.GpusPerNode == 8),
        };
        if (best is null || chosen is null)
        {
            long need = smallest?.PerGpu.Bytes ?? 0;
            return None(id, device, engine, budget, need, assumptions,
                smallest is null ? "no tensor/pipeline-parallel size the engine accepts fits within the GPU limit"
                    : $"needs {smallest.PerGpu} per GPU even at the largest split tried; the budget is {budget}");
        }

        int ctx = w.Context ?? EngineDefaults.Context(spec);
        if (device.Spec?.Vendor == GpuVendor.Apple && engine == InferenceEngine.Vllm)
        {
            assumptions.Add(new("apple_runtime", "vLLM has no Metal backend: these are PyTorch-style figures; for llama.cpp on a Mac use a GGUF dtype (e.g. q4_k_m)"));
        }

        int maxContext = Cap(MemorySolver.MaxContext(model, chosen with { Context = null }, budget), model);
        long? kvBytes = null, kvTokens = null;
        double? concurrency = null;
        if (engine == InferenceEngine.Vllm)
        {
            var (available, tokens) = MemorySolver.VllmKvCapacity(model, chosen with { Batch = 1 }, device.UsableMemory);
            kvBytes = available.Bytes;
            kvTokens = tokens;
            concurrency = ctx == 0 ? null : (double)tokens / ctx;
        }

        int nodes = (chosen.GpuCount + r.GpusPerNode - 1) / r.GpusPerNode;
        var (decode, aggregate, prefill, ttft) = Throughput(model, device, best, chosen, ctx, assumptions, r.Throughput);
        var view = View(model, chosen, best, ctx, nodes, device, format: chosen.Format ?? model.DefaultFormat(spec).Format);
        return new FitPlan
        {
            Gpu = id,
            Device = device,
            Engine = engine,
            FitType = FitType.FullGpu,
            GpusNeeded = chosen.GpuCount,
            TensorParallel = chosen.TensorParallel,
            PipelineParallel = chosen.PipelineParallel,
            Nodes = nodes,
            PerGpu = best.PerGpu,
            HeadroomBytes = budget.Bytes - best.PerGpu.Bytes,
            Budget = budget,
            MaxContext = maxContext,
            KvCacheBytesPerGpu = kvBytes,
            KvCacheTokens = kvTokens,
            MaxConcurrency = concurrency,
            DecodeTokensPerSecond = decode,
            AggregateDecodeTokensPerSecond = aggregate,
            PrefillTokensPerSecond = prefill,
            TimeToFirstTokenSeconds = ttft,
            Estimate = best,
            Assumptions = assumptions,
            Settings = EngineSettingsBuilder.Serving(ModelName(model.Model), view),
        };
    }

    private static FitPlan LlamaCpp(PreparedModel model, GpuDevice device, string id, Workload w, FitRequest r)
    {
        var spec = model.Architecture!;
        var budget = device.UsableMemory;
        var assumptions = new List<Assumption>
        {
            new("usable_memory", device.UsableMemory.Bytes, false, device.Spec?.UsableMemoryRule ?? device.Spec?.UsableMemoryEvidence ?? "given"),
            new("budget_rule", "usable memory (llama.cpp allocates exactly its buffers)"),
            new("layer_split", "llama.cpp layer split mode: contiguous layer ranges per GPU; token_embd stays in host memory"),
        };
        int ctx = w.Context ?? EngineDefaults.Context(spec);
        int maxGpus = Math.Min(r.GpusPerNode, r.MaxGpus);
        MemoryEstimate? one = null;
        for (int n = 1; n <= maxGpus; n++)
        {
            var cw = w with { Gpus = n, PipelineParallel = 1, TensorParallel = 1 };
            MemoryEstimate e;
            try
            {
                e = MemoryEstimator.Estimate(model, cw);
            }
            catch (InvalidSettingException)
            {
                break; // more GPUs than layers
            }

            one ??= e;
            if (e.PerGpu > budget)
            {
                continue;
            }

            int maxContext = Cap(MemorySolver.MaxContext(model, cw with { Context = null }, budget), model);
            var (decode, aggregate, prefill, ttft) = Throughput(model, device, e, cw with { PipelineParallel = n }, ctx, assumptions, r.Throughput);
            var view = View(model, cw, e, ctx, 1, device, cw.Format ?? model.DefaultFormat(spec, InferenceEngine.LlamaCpp)) with { GpuLayers = spec.Layers + 1, Gpus = n };
            return new FitPlan
            {
                Gpu = id,
                Device = device,
                Engine = InferenceEngine.LlamaCpp,
                FitType = FitType.FullGpu,
                GpusNeeded = n,
                TensorParallel = 1,
                PipelineParallel = n,
                Nodes = 1,
                PerGpu = e.PerGpu,
                HeadroomBytes = budget.Bytes - e.PerGpu.Bytes,
                Budget = budget,
                MaxContext = maxContext,
                GpuLayers = spec.Layers + 1,
                HostBytes = HostBytes(e),
                DecodeTokensPerSecond = decode,
                AggregateDecodeTokensPerSecond = aggregate,
                PrefillTokensPerSecond = prefill,
                TimeToFirstTokenSeconds = ttft,
                Estimate = e,
                Assumptions = assumptions,
                Settings = EngineSettingsBuilder.Serving(ModelName(model.Model), view),
            };
        }

        if (one is null)
        {
            return None(id, device, InferenceEngine.LlamaCpp, budget, 0, assumptions, "the workload is invalid for llama.cpp");
        }

        // Partial offload on one GPU: llama.cpp puts layers [n_layer − ngl, n_layer) on the GPU and the output layer too
        // when ngl = n_layer + 1 (src/llama-model.cpp load_tensors: i_gpu_start = max(n_layer − n_gpu_layers, 0); the output
        // layer is layer index n_layer). KV rows live with their layer (offload_kqv); the compute buffer stays on the GPU.
        var offload = Offload(model, w, one, budget);
        long host = HostBytes(one) + offload.HostLayerBytes;
        if (r.HostMemory is { } ram && host > ram.Bytes)
        {
            return None(id, device, InferenceEngine.LlamaCpp, budget, one.PerGpu.Bytes, assumptions,
                $"one GPU holds {offload.Layers} layers and the rest needs {new ByteSize(host)} of host RAM; {ram} is available");
        }

        assumptions.Add(new("offload", $"{offload.Layers} of {spec.Layers} layers on the GPU{(offload.Layers > spec.Layers ? " + output layer" : "")}; the rest in host RAM"));
        var fit = offload.Layers == 0 ? FitType.CpuOnly : FitType.PartialOffload;
        var pview = View(model, w with { Gpus = 1 }, one, ctx, 1, device, w.Format ?? model.DefaultFormat(spec, InferenceEngine.LlamaCpp)) with { GpuLayers = offload.Layers, HostBytes = host };
        return new FitPlan
        {
            Gpu = id,
            Device = device,
            Engine = InferenceEngine.LlamaCpp,
            FitType = fit,
            GpusNeeded = fit == FitType.CpuOnly ? 0 : 1,
            TensorParallel = 1,
            PipelineParallel = 1,
            Nodes = 1,
            PerGpu = new ByteSize(offload.GpuBytes),
            HeadroomBytes = budget.Bytes - offload.GpuBytes,
            Budget = budget,
            MaxContext = 0,
            GpuLayers = offload.Layers,
            HostBytes = host,
            Estimate = one,
            Assumptions = assumptions,
            Settings = EngineSettingsBuilder.Serving(ModelName(model.Model), pview),
            Reason = $"the whole model needs {one.PerGpu} on one GPU; {offload.Layers} of {spec.Layers + 1} offload units fit in {budget}",
        };
    }

    /// <summary>A CPU-only llama.cpp plan: every buffer in host RAM (no GPU found).</summary>
    /// <param name="request">The request (its workload; <see cref="FitRequest.HostMemory"/> is the RAM available).</param>
    /// <returns>The result with one plan.</returns>
    /// <exception cref="LlmSizerException">The model cannot be loaded or a setting is invalid.</exception>
    public static FitResult CpuOnly(FitRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var model = PreparedModel.For(request.Model.Resolve());
        var spec = model.Architecture ?? throw new ModelConfigException(model.Model.Name, null,
            $"{model.Model.Name}: architecture: expected layers, heads and head_dim to plan a deployment; found none.");
        var w = request.Workload with { Engine = InferenceEngine.LlamaCpp, Overhead = request.Workload.Overhead ?? ByteSize.Zero };
        var e = MemoryEstimator.Estimate(model, w);
        long total = e.Components.Sum(c => c.PerGpu.Bytes);
        var ram = request.HostMemory ?? ByteSize.Zero;
        int ctx = w.Context ?? EngineDefaults.Context(spec);
        var assumptions = new List<Assumption>
        {
            new("host_memory", ram.Bytes, false, "MemAvailable from /proc/meminfo"),
            new("budget_rule", "every llama.cpp buffer in host RAM (-ngl 0); no CUDA context"),
        };
        bool fits = total <= ram.Bytes;
        var device = new GpuDevice { Name = "cpu", UsableMemory = ram };
        var view = View(model, w with { Gpus = 1 }, e, ctx, 1, device, w.Format ?? model.DefaultFormat(spec, InferenceEngine.LlamaCpp)) with { GpuLayers = 0, HostBytes = total };
        var plan = new FitPlan
        {
            Gpu = "cpu",
            Device = device,
            Engine = InferenceEngine.LlamaCpp,
            FitType = fits ? FitType.CpuOnly : FitType.None,
            GpusNeeded = 0,
            TensorParallel = 1,
            PipelineParallel = 1,
            Nodes = 1,
            PerGpu = ByteSize.Zero,
            HeadroomBytes = ram.Bytes - total,
            Budget = ram,
            MaxContext = 0,
            GpuLayers = 0,
            HostBytes = total,
            Estimate = e,
            Assumptions = assumptions,
            Settings = fits ? EngineSettingsBuilder.Serving(ModelName(model.Model), view) : EngineSettings.None,
            Reason = fits ? "no GPU found: llama.cpp on the CPU" : $"no GPU found, and the model needs {new ByteSize(total)} of host RAM; {ram} is available",
        };
        return new FitResult(model.Model.Name, [plan]);
    }

    /// <summary>The most layers one GPU holds under llama.cpp's offload rule.</summary>
    internal static (int Layers, long GpuBytes, long HostLayerBytes) Offload(PreparedModel model, Workload w, MemoryEstimate whole, ByteSize budget)
    {
        var spec = model.Architecture!;
        var format = w.Format ?? model.DefaultFormat(spec, InferenceEngine.LlamaCpp);
        var (perLayer, outputLayer) = model.Stored(format, w.UnquantizedType).LlamaCppLayerBytes();
        long kvTotal = whole["kv_cache"].Bytes;
        long fixedGpu = whole["compute_buffer"].Bytes + whole["overhead"].Bytes;
        long weightTotal = perLayer.Sum() + outputLayer;
        // KV per layer in proportion to its per-token bytes (exact when every layer caches the same cells).
        var layout = model.KvBytesPerLayer(spec, 1, InferenceEngine.LlamaCpp, whole.Assumption("kv_dtype")?.ValueText is { } kv && DataTypes.DataType.TryParse(kv, out var t) ? t : DataTypes.DataType.F16);
        long perTokenSum = layout.FullSum + layout.SlidingSum;
        long KvOf(int l) => perTokenSum == 0 || l >= layout.PerLayer.Length ? 0 : (long)((double)kvTotal * layout.PerLayer[l] / perTokenSum);
        int n = spec.Layers;
        long gpu = fixedGpu;
        int layers = 0;
        for (int k = 1; k <= n + 1; k++)
        {
            long add = k <= n ? perLayer[n - k] + KvOf(n - k) : outputLayer;
            if (gpu + add > budget.Bytes)
            {
                break;
            }

            gpu += add;
            layers = k;
        }

        long onGpuWeightsAndKv = gpu - fixedGpu;
        long host = Math.Max(0, weightTotal + kvTotal - onGpuWeightsAndKv);
        return (layers, layers == 0 ? 0 : gpu, host);
    }

    private static FitPlan Training(PreparedModel model, GpuDevice device, string id, Workload w, FitRequest r)
    {
        var spec = model.Architecture!;
        var budget = device.UsableMemory;
        var t = w.Training!;
        var assumptions = new List<Assumption>
        {
            new("usable_memory", device.UsableMemory.Bytes, false, device.Spec?.UsableMemoryRule ?? device.Spec?.UsableMemoryEvidence ?? "given"),
            new("budget_rule", "usable memory (PyTorch's caching allocator needs headroom above the allocated peak)"),
            new("data_parallel", "GPUs beyond tp × pp are data-parallel replicas; ZeRO shards states over them"),
        };
        int unit = checked(w.TensorParallel * w.PipelineParallel);
        MemoryEstimate? smallest = null;
        for (int n = unit; n <= r.MaxGpus; n *= 2)
        {
            var cw = w with { Gpus = n };
            MemoryEstimate e;
            try
            {
                e = MemoryEstimator.Estimate(model, cw);
            }
            catch (InvalidSettingException)
            {
                break;
            }

            smallest = smallest is null || e.PerGpu < smallest.PerGpu ? e : smallest;
            if (e.PerGpu > budget)
            {
                continue;
            }

            int ctx = w.Context ?? EngineDefaults.Context(spec);
            int nodes = (n + r.GpusPerNode - 1) / r.GpusPerNode;
            double? step = null, hours = null;
            if (device.Tflops is { } tf)
            {
                // 6·N·D FLOPs per token trained (forward 2·N·D + backward 4·N·D; Kaplan et al. 2020 §2.1), 8·N·D with full
                // recomputation (one more forward); N = active parameters for MoE.
                long tokensPerStep = checked((long)ctx * w.Batch * (n / unit) * t.GradientAccumulation);
                double flops = (t.Recompute == Recompute.Full ? 8.0 : 6.0) * model.ActiveParameters * tokensPerStep;
                step = flops / (r.Throughput.Mfu * tf * 1e12 * n);
                hours = step * r.Throughput.TrainingTokens / tokensPerStep / 3600;
                assumptions.Add(new("mfu", r.Throughput.Mfu, r.Throughput.Mfu == ThroughputAssumptions.Default.Mfu, "model FLOPs utilization"));
                assumptions.Add(new("training_flops", t.Recompute == Recompute.Full ? "8·N·D (full recompute)" : "6·N·D"));
                assumptions.Add(new("training_tokens", r.Throughput.TrainingTokens));
            }

            var view = View(model, cw, e, ctx, nodes, device, cw.Format ?? model.DefaultFormat(spec, InferenceEngine.Vllm, cw.Training));
            return new FitPlan
            {
                Gpu = id,
                Device = device,
                Engine = null,
                FitType = FitType.FullGpu,
                GpusNeeded = n,
                TensorParallel = w.TensorParallel,
                PipelineParallel = w.PipelineParallel,
                Nodes = nodes,
                PerGpu = e.PerGpu,
                HeadroomBytes = budget.Bytes - e.PerGpu.Bytes,
                Budget = budget,
                MaxContext = Cap(MemorySolver.MaxContext(model, cw with { Context = null }, budget), model),
                StepSeconds = step,
                TrainingHours = hours,
                Estimate = e,
                Assumptions = assumptions,
                Settings = EngineSettingsBuilder.Training(view, t),
            };
        }

        return None(id, device, null, budget, smallest?.PerGpu.Bytes ?? 0, assumptions,
            smallest is null ? "the training workload is invalid" : $"needs {smallest.PerGpu} per GPU even on {r.MaxGpus} GPUs; {budget} is usable");
    }

    /// <summary>Roofline throughput: decode is memory-bound (each step reads the active weights and the batch's KV once per
    /// GPU, stages one after another), prefill compute-bound (2 FLOPs per active parameter per token at the stated MFU).</summary>
    private static (double? Decode, double? Aggregate, double? Prefill, double? Ttft) Throughput(PreparedModel model, GpuDevice device,
        MemoryEstimate e, Workload w, int context, List<Assumption> assumptions, ThroughputAssumptions t)
    {
        double? decode = null, aggregate = null, prefill = null, ttft = null;
        if (device.BandwidthGBps is { } bw)
        {
            double weightBytes = e["weights"].Bytes * model.ActiveFraction;
            double kvBytes = e["kv_cache"].Bytes;
            double step = w.PipelineParallel * (weightBytes + kvBytes) / (bw * 1e9 * t.DecodeBandwidthEfficiency);
            decode = step > 0 ? 1 / step : null;
            aggregate = step > 0 ? w.Batch / step : null;
            assumptions.Add(new("decode_efficiency", t.DecodeBandwidthEfficiency, t.DecodeBandwidthEfficiency == ThroughputAssumptions.Default.DecodeBandwidthEfficiency,
                "fraction of peak bandwidth; a step reads the active weights (MoE: active experts only) and the KV cache at the full context"));
        }

        if (device.Tflops is { } tf && model.ActiveParameters > 0)
        {
            prefill = t.Mfu * tf * 1e12 * w.TensorParallel / (2.0 * model.ActiveParameters);
            ttft = context / prefill;
            assumptions.Add(new("mfu", t.Mfu, t.Mfu == ThroughputAssumptions.Default.Mfu, "prefill at 2 FLOPs per active parameter per token"));
        }

        return (decode, aggregate, prefill, ttft);
    }

    /// <summary>The longest context is reported up to the model's trained maximum (max_position_embeddings): beyond it
    /// quality degrades without RoPE scaling, so "fits" would mislead.</summary>
    private static int Cap(int context, PreparedModel model) =>
        model.Architecture?.MaxPositions is int max && max > 0 ? Math.Min(context, max) : context;

    private static long HostBytes(MemoryEstimate e) => e.Components.Where(c => !c.OnDevice).Sum(c => c.PerGpu.Bytes);

    private static EstimatePlanView View(PreparedModel model, Workload w, MemoryEstimate e, int context, int nodes, GpuDevice device, Quantization.WeightFormat format) => new()
    {
        Engine = w.Engine,
        Format = format,
        KvType = e.Assumption("kv_dtype")?.ValueText is { } kv && DataTypes.DataType.TryParse(kv, out var t) ? t : DataTypes.DataType.F16,
        ComputeType = model.Stored(format, w.UnquantizedType).ComputeType,
        Context = context,
        Batch = w.Batch,
        Tp = w.TensorParallel,
        Pp = w.PipelineParallel,
        Gpus = w.GpuCount,
        Nodes = nodes,
        GpuUtilization = w.Vllm.GpuUtilization,
        MaxBatchedTokens = w.Vllm.MaxBatchedTokens,
        MaxSeqs = w.Vllm.MaxSeqs,
        FlashAttention = w.LlamaCpp.FlashAttention,
        Ubatch = w.LlamaCpp.Ubatch,
        HostBytes = HostBytes(e),
        GpuProduct = device.Spec?.SmiNames is { Count: > 0 } smi ? smi[0] : null,
    };

    private static FitPlan None(string id, GpuDevice device, InferenceEngine? engine, ByteSize budget, long need, List<Assumption> assumptions, string reason) => new()
    {
        Gpu = id,
        Device = device,
        Engine = engine,
        FitType = FitType.None,
        GpusNeeded = 0,
        TensorParallel = 0,
        PipelineParallel = 0,
        Nodes = 0,
        PerGpu = new ByteSize(need),
        HeadroomBytes = budget.Bytes - need,
        Budget = budget,
        MaxContext = 0,
        Assumptions = assumptions,
        Settings = EngineSettings.None,
        Reason = reason,
    };

    /// <summary>The name engines load the model by: the catalog entry's Hub repository, else the file or folder.</summary>
    private static string ModelName(ModelInfo model) =>
        model.Source == ModelSourceKind.Catalog && ModelCatalog.TryGet(model.Name, out var entry) ? entry.Repository
        : model.Files.Count > 0 ? model.Files[0] : model.Name;
}
