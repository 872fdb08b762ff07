using System.Collections.Immutable;
using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Explain;

/// <summary>One input of a memory estimate as the explanation shows it: its value and where the value came from.</summary>
/// <param name="Name">The snake_case setting name (<c>context</c>, <c>kv_dtype</c>).</param>
/// <param name="Value">The value as text.</param>
/// <param name="Source">"given", or "default: " and the rule or source of the default.</param>
public sealed record ExplainedAssumption(string Name, string Value, string Source);

/// <summary>The derivation of a memory estimate: each component's formula with the workload's numbers and where its
/// constants come from, the KV cache per token from the architecture, and how the components sum to the per-GPU total.</summary>
public sealed record MemoryExplanation
{
    /// <summary>The model's display name.</summary>
    public required string Model { get; init; }

    /// <summary><c>inference</c> or <c>training</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>The GPUs the estimate spreads over.</summary>
    public required int Gpus { get; init; }

    /// <summary>Every input, with its provenance.</summary>
    public required ImmutableArray<ExplainedAssumption> Assumptions { get; init; }

    /// <summary>One derivation per component, in the estimate's order; <see cref="Derivation.Result"/> is the
    /// component's bytes on one GPU (the estimator's number).</summary>
    public required ImmutableArray<Derivation> Components { get; init; }

    /// <summary>The KV cache bytes of one token over all layers, from the architecture (inference with a KV cache only).</summary>
    public Derivation? KvPerToken { get; init; }

    /// <summary>The KV cache as sequences × tokens held × <see cref="KvPerToken"/>, when the estimate's KV bytes are
    /// exactly that product (every layer holds the same tokens); the tokens held are the context padded to the
    /// engine's blocks, as the component's formula says.</summary>
    public Derivation? KvPerSequence { get; init; }

    /// <summary>The weights of one replica by storage type (elements × bytes per element, or blocks × block bytes), from
    /// the tensors as the estimate stores them; null when that is not the weights component (training keeps its own
    /// compute-dtype copy).</summary>
    public Derivation? WeightsByType { get; init; }

    /// <summary>How the on-device components sum to the per-GPU total.</summary>
    public required DerivationSum PerGpu { get; init; }

    /// <summary>The post's rule for the same workload, for comparison: inference, parameters × bytes per parameter;
    /// training, FP32 parameters + Adam's 2 × parameters (the post's activations and input data are guesses, left
    /// out). Null when it does not apply (no parameters, a mixed quantization).</summary>
    public Derivation? PostRule { get; init; }

    /// <summary>The estimate's warnings.</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];
}

/// <summary>Builds <see cref="MemoryExplanation"/>s from the memory estimator's own results: its components' formulas
/// (built lazily by the estimator, with the workload's numbers), their sources and its typed assumptions.</summary>
public static class MemoryDerivations
{
    /// <summary>Explains an estimate.</summary>
    /// <param name="model">The model the estimate is of (for the KV-per-token derivation).</param>
    /// <param name="estimate">The estimate.</param>
    /// <returns>The explanation.</returns>
    public static MemoryExplanation Explain(ModelInfo model, MemoryEstimate estimate)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(estimate);
        var components = estimate.Components.Select(c => new Derivation
        {
            Name = c.Name,
            Title = Title(c.Name),
            Formula = c.Formula,
            Substituted = null,
            Result = c.PerGpu.Bytes,
            Unit = "bytes",
            Source = c.Source,
            Notes = Notes(c, estimate.Gpus),
        }).ToImmutableArray();

        var device = estimate.Components.Where(c => c.OnDevice).ToList();
        var sum = new DerivationSum("per_gpu",
            device.Count == 0 ? "0" : string.Join(" + ", device.Select(c => c.Name)),
            device.Count == 0 ? "0" : string.Join(" + ", device.Select(c => ParameterDerivations.Raw(c.PerGpu.Bytes))),
            estimate.PerGpu.Bytes);

        var kvPerToken = estimate.Mode == WorkloadMode.Inference && model.Architecture is { } spec ? KvPerToken(spec, estimate) : null;
        return new MemoryExplanation
        {
            Model = estimate.Model,
            Mode = WorkloadNames.Name(estimate.Mode),
            Gpus = estimate.Gpus,
            Assumptions = [.. estimate.Assumptions.Select(a => new ExplainedAssumption(a.Name, a.ValueText,
                a.IsDefault ? "default" + (a.Reason is null ? "" : ": " + a.Reason) : a.Reason ?? "given"))],
            Components = components,
            KvPerToken = kvPerToken,
            WeightsByType = estimate.Mode == WorkloadMode.Inference ? WeightsByType(estimate) : null,
            KvPerSequence = kvPerToken is null ? null : KvPerSequence(kvPerToken, estimate),
            PerGpu = sum,
            PostRule = PostRule(model, estimate),
            Warnings = [.. estimate.Warnings],
        };
    }

    /// <summary>KV bytes per token over all layers, layer kind by layer kind, with the estimator's own per-layer rule
    /// (MLA caches r_kv + d_R as one head; GQA caches n_kv heads; recurrent layers cache nothing).</summary>
    private static Derivation? KvPerToken(ArchitectureSpec spec, MemoryEstimate estimate)
    {
        if (estimate.Component("kv_cache") is null
            || !DataType.TryParse(estimate.Assumption("kv_dtype")?.ValueText, out var kvType)
            || !WorkloadNames.TryParse(estimate.Assumption("engine")?.ValueText, out InferenceEngine engine))
        {
            return null;
        }

        int tp = estimate.Assumption("tp")?.Value is long t ? checked((int)t) : estimate.Assumption("tp")?.Value is int ti ? ti : 1;
        var groups = new List<(string Kind, long K, long V, long Bytes, int Count)>();
        for (int layer = 0; layer < spec.CachedLayers; layer++)
        {
            var (k, v) = KvCache.ElementsPerToken(spec, layer, tp, engine);
            long bytes = KvCache.BytesPerToken(spec, layer, tp, engine, kvType);
            var kind = spec.LayerKind(layer) switch
            {
                AttentionLayerKind.Sliding => "sliding",
                AttentionLayerKind.None => "no cache",
                _ => "full",
            };
            int i = groups.FindIndex(g => g.Kind == kind && g.K == k && g.V == v && g.Bytes == bytes);
            if (i < 0)
            {
                groups.Add((kind, k, v, bytes, 1));
            }
            else
            {
                groups[i] = groups[i] with { Count = groups[i].Count + 1 };
            }
        }

        var live = groups.Where(g => g.Bytes > 0).ToList();
        if (live.Count == 0)
        {
            return null;
        }

        long total = live.Aggregate(0L, (s, g) => checked(s + (g.Bytes * g.Count)));
        string Elem(long n) => kvType.BlockElements == 1 ? $"{n}·{kvType.SizeOf(1).Bytes}" : ParameterDerivations.Raw(kvType.SizeOf(n).Bytes);
        string Layer((string Kind, long K, long V, long Bytes, int Count) g) =>
            g.V == 0 ? Elem(g.K) : $"({Elem(g.K)} + {Elem(g.V)})";
        var formula = spec.Mla is not null && engine != InferenceEngine.Hf
            ? "L·(r_kv + d_R)·b"
            : "Σ layers (n_kv·d_h for K + n_kv·d_v for V)·b";
        var substituted = string.Join(" + ", live.Select(g => $"{g.Count}·{Layer(g)}"));
        var notes = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"b = {kvType.Name}: {(kvType.BlockElements == 1 ? $"{kvType.SizeOf(1).Bytes} B per element" : $"{kvType.BlockBytes} B per block of {kvType.BlockElements} elements")}; tp = {tp} (KV heads per GPU: n_kv / tp)."),
        };
        foreach (var g in groups)
        {
            notes.Add($"{g.Count} {g.Kind} layer(s): K {ParameterDerivations.Num(g.K)} + V {ParameterDerivations.Num(g.V)} elements = {ParameterDerivations.Num(g.Bytes)} B per token");
        }

        if (spec.SlidingWindow is { } window && groups.Any(g => g.Kind == "sliding"))
        {
            notes.Add($"sliding-window layers keep at most the window (w = {ParameterDerivations.Num(window)} tokens plus the engine's blocks), global layers the whole context: see kv_cache above.");
        }

        if (spec.Mla is not null && engine != InferenceEngine.Hf)
        {
            notes.Add("MLA: the engine caches the compressed latent r_kv and the shared rotary key d_R, one 'head' per layer, not 2·n_q·d_h.");
        }

        return new Derivation
        {
            Name = "kv_per_token",
            Title = "KV cache per token (all layers, one GPU)",
            Formula = formula,
            Substituted = substituted,
            Result = total,
            Unit = "bytes",
            Source = "KvCache.BytesPerToken (the estimator's rule); memory-physics.md §1.1",
            Notes = [.. notes],
        };
    }

    /// <summary>Σ over storage types of the stored tensors' bytes; each type as elements × bytes (or elements / block ×
    /// block bytes), written only when that product is exactly the tensors' own byte sum.</summary>
    private static Derivation? WeightsByType(MemoryEstimate estimate)
    {
        if (estimate.StoredWeights is not { } stored || estimate.Component("weights") is not { } weights)
        {
            return null;
        }

        var types = stored.Tensors.GroupBy(t => t.DataType)
            .Select(g => (Type: g.Key, Elements: g.Aggregate(0L, (s, t) => checked(s + t.StoredElements)), Bytes: g.Aggregate(0L, (s, t) => checked(s + t.Bytes.Bytes))))
            .OrderByDescending(t => t.Bytes)
            .ToList();
        long total = types.Aggregate(0L, (s, t) => checked(s + t.Bytes));
        var notes = new List<string>();
        string Term((DataTypes.DataType Type, long Elements, long Bytes) t)
        {
            var dt = t.Type;
            if (dt.BlockElements == 1 && dt.BlockBytes >= 1 && checked(t.Elements * dt.BlockBytes) == t.Bytes)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{dt.Name}: {ParameterDerivations.Num(t.Elements)} elements × {dt.BlockBytes} B"));
                return $"{t.Elements}·{dt.BlockBytes}";
            }

            if (dt.BlockElements > 1 && t.Elements % dt.BlockElements == 0 && checked(t.Elements / dt.BlockElements * dt.BlockBytes) == t.Bytes)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{dt.Name}: {ParameterDerivations.Num(t.Elements)} elements in blocks of {dt.BlockElements}, {dt.BlockBytes} B per block ({dt.BitsPerElement:0.###} bits per weight)"));
                return $"{t.Elements}/{dt.BlockElements}·{dt.BlockBytes}";
            }

            notes.Add($"{dt.Name}: {ParameterDerivations.Num(t.Elements)} elements, {ParameterDerivations.Num(t.Bytes)} B (sub-byte packing per tensor)");
            return ParameterDerivations.Raw(t.Bytes);
        }

        var substituted = string.Join(" + ", types.Select(Term));
        long host = estimate.Component("host_weights")?.Total.Bytes ?? 0;
        if (total != weights.PerGpu.Bytes && host > 0 && checked(total - host) == weights.PerGpu.Bytes)
        {
            notes.Add($"the token embedding stays in host memory (host_weights): {ParameterDerivations.Num(total)} − {ParameterDerivations.Num(host)} = {ParameterDerivations.Num(weights.PerGpu.Bytes)} B on the GPU.");
        }
        else if (total != weights.PerGpu.Bytes)
        {
            notes.Add($"one replica; the weights row above is the share of one GPU ({ParameterDerivations.Num(weights.PerGpu.Bytes)} B).");
        }

        return new Derivation
        {
            Name = "weights_by_type",
            Title = "weights of one replica by storage type (tensor sizes, scales included)",
            Formula = "Σ types (elements × bytes per element, or elements / block × bytes per block)",
            Substituted = substituted,
            Result = total,
            Unit = "bytes",
            Notes = [.. notes],
            Source = "DataType table (GGML block sizes: ggml.c type_traits; safetensors dtypes)",
        };
    }

    private static Derivation? PostRule(ModelInfo model, MemoryEstimate estimate)
    {
        long n = model.Inventory.TotalParameters.Value;
        if (n == 0)
        {
            return null;
        }

        if (estimate.Mode == WorkloadMode.Training)
        {
            return new Derivation
            {
                Name = "post_rule",
                Title = "the post's rule of thumb: FP32 parameters + optimizer states (2 × parameters), without its guessed activations and input",
                Formula = "N·4 + 2·N·4",
                Substituted = $"{n}·4 + 2·{n}·4",
                Result = checked(n * 12),
                Unit = "bytes",
                Notes = [$"the post leaves out the gradients (N·4 = {ParameterDerivations.Num(checked(n * 4))} more in FP32) and has no activations formula; the estimate above has both, on {estimate.Gpus} GPU(s)."],
            };
        }

        if (!DataType.TryParse(estimate.Assumption("dtype")?.ValueText, out var type) || (type.BlockElements > 1 && n % type.BlockElements != 0))
        {
            return null;
        }

        bool whole = type.BlockElements == 1;
        return new Derivation
        {
            Name = "post_rule",
            Title = "the post's parameter storage: parameters × bytes per parameter (weights only)",
            Formula = whole ? "N·bytes" : "N/block·block bytes",
            Substituted = whole ? $"{n}·{type.BlockBytes}" : $"{n}/{type.BlockElements}·{type.BlockBytes}",
            Result = whole ? checked(n * type.BlockBytes) : checked(n / type.BlockElements * type.BlockBytes),
            Unit = "bytes",
            Notes = ["the post stops at the weights; the KV cache, activations and the engine's overhead above are what it calls \"additional memory\"."],
        };
    }

    private static Derivation? KvPerSequence(Derivation perToken, MemoryEstimate estimate)
    {
        long kv = estimate["kv_cache"].Bytes;
        long batch = estimate.Assumption("batch")?.Value is long b ? b : estimate.Assumption("batch")?.Value is int bi ? bi : 0;
        // Only when every caching layer holds the same tokens: with sliding-window layers the tokens differ by layer kind.
        if (perToken.Notes.Any(n => n.Contains(" sliding layer", StringComparison.Ordinal))
            || batch <= 0 || perToken.Result <= 0 || kv % checked(batch * perToken.Result) != 0)
        {
            return null;
        }

        long tokens = kv / (batch * perToken.Result);
        return new Derivation
        {
            Name = "kv_cache",
            Title = $"T = {ParameterDerivations.Num(tokens)} tokens held per sequence in every layer (the context padded to the engine's blocks, as the formula above says)",
            Formula = "seqs·T·kv_per_token",
            Substituted = $"{batch}·{tokens}·{perToken.Result}",
            Result = kv,
            Unit = "bytes",
        };
    }

    private static ImmutableArray<string> Notes(MemoryComponent c, int gpus)
    {
        var notes = new List<string>();
        if (!c.OnDevice)
        {
            notes.Add("host memory: not in the GPU totals.");
        }

        if (gpus > 1)
        {
            notes.Add($"over {gpus} GPUs: {c.Total} in all.");
        }

        return [.. notes];
    }

    private static string Title(string name) => name switch
    {
        "weights" => "Weights (every tensor at its storage format)",
        "kv_cache" => "KV cache",
        "activations" => "Activations",
        "logits" => "Logits",
        "overhead" => "Engine and CUDA overhead",
        "gradients" => "Gradients",
        "optimizer_states" => "Optimizer states",
        "master_weights" => "Master weights (fp32)",
        "adapter_weights" => "Adapter weights (LoRA)",
        "output_buffer" => "Output buffer",
        "compute_buffer" => "Compute buffer",
        _ => name.Replace('_', ' '),
    };
}
