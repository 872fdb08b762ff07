using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Memory;
using LlmSizer.Seed;
using LlmSizer.Tensors;

namespace LlmSizer.Contract;

/// <summary>Maps typed results onto the JSON contract's documents. Every number is the result's own; nothing is
/// recomputed here beyond grouping and rounding for display.</summary>
public static class ContractMapper
{
    /// <summary>The contract name of a source kind.</summary>
    /// <param name="source">The kind.</param>
    /// <returns>catalog, config, safetensors, gguf, hub or manual.</returns>
    public static string SourceName(ModelSourceKind source) => source switch
    {
        ModelSourceKind.Catalog => "catalog",
        ModelSourceKind.Config => "config",
        ModelSourceKind.Safetensors => "safetensors",
        ModelSourceKind.Gguf => "gguf",
        ModelSourceKind.Hub => "hub",
        ModelSourceKind.Manual => "manual",
        _ => source.ToString().ToLowerInvariant(),
    };

    /// <summary>The contract name of a tensor group.</summary>
    /// <param name="group">The group.</param>
    /// <returns>embedding, attention, mlp, experts, norm, lm_head or other.</returns>
    public static string GroupName(TensorGroup group) => group switch
    {
        TensorGroup.Embedding => "embedding",
        TensorGroup.Attention => "attention",
        TensorGroup.Mlp => "mlp",
        TensorGroup.Experts => "experts",
        TensorGroup.Norm => "norm",
        TensorGroup.LmHead => "lm_head",
        TensorGroup.Other => "other",
        _ => group.ToString().ToLowerInvariant(),
    };

    /// <summary>The contract name of a norm kind.</summary>
    /// <param name="norm">The kind.</param>
    /// <returns>layernorm, layernorm_no_bias or rmsnorm.</returns>
    public static string NormName(NormKind norm) => norm switch
    {
        NormKind.LayerNorm => "layernorm",
        NormKind.LayerNormNoBias => "layernorm_no_bias",
        _ => "rmsnorm",
    };

    /// <summary>The params document of a parameters result.</summary>
    /// <param name="result">The result.</param>
    /// <returns>The document.</returns>
    public static ParamsDocument Params(ParametersResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var model = result.Model;
        var report = result.Report;
        return new ParamsDocument
        {
            Model = model.Name,
            Source = SourceName(model.Source),
            Files = model.Files.Count > 0 ? model.Files : null,
            Architecture = model.Architecture is { } a ? Architecture(a) : null,
            Parameters = new ParametersDocument
            {
                Total = report.Total.Value,
                Active = report.Active.Value,
                ActiveWithoutEmbeddings = report.ActiveWithoutEmbeddings.Value,
                ModelCard = result.CardActive is { } card
                    ? new ModelCardDocument(card.WithEmbeddings ? "with_embeddings" : "without_embeddings", card.Figure, card.Source)
                    : null,
                Groups = Groups(report.Groups),
                Components = Enum.GetValues<ModelComponent>().ToDictionary(ModelComponents.Name, c => report.Components.TryGetValue(c, out var n) ? n.Value : 0),
            },
            Tensors = report.TensorCount,
            ByDtype = report.ByDataType.ToDictionary(p => p.Key.Name, p => p.Value.Value),
            BytesByDtype = report.BytesByDataType.ToDictionary(p => p.Key.Name, p => p.Value.Bytes),
            WeightBytes = report.WeightBytes.Bytes,
            BitsPerWeight = Math.Round(report.BitsPerWeight, 4),
            FileBytes = model.FileBytes?.Bytes,
            Layers = result.Options.LayersDetail ? report.ByLayer.Select(p => new LayerDocument(p.Key, p.Value.Value)).ToList() : null,
            TensorList = result.Options.Tensors ? model.Inventory.Tensors.Select(Tensor).ToList() : null,
            Check = result.Check is { } c ? new CheckDocument
            {
                Match = c.IsMatch,
                Matched = c.Matched,
                Missing = c.Missing.Select(Tensor).ToList(),
                Extra = c.Extra.Select(Tensor).ToList(),
                Misshapen = c.Misshapen.Select(m => new MisshapenDocument
                {
                    Name = m.Name,
                    ExpectedShape = m.Expected.ShapeText(),
                    ActualShape = m.Actual.ShapeText(),
                    ExpectedElements = m.Expected.Elements,
                    ActualElements = m.Actual.Elements,
                }).ToList(),
            } : null,
            Warnings = model.Warnings.Count > 0 ? model.Warnings : null,
        };
    }

    /// <summary>The architecture document.</summary>
    /// <param name="a">The architecture.</param>
    /// <returns>The document.</returns>
    public static ArchitectureDocument Architecture(ArchitectureSpec a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return new ArchitectureDocument
        {
            Family = a.Family,
            ModelClass = a.ModelClass,
            Layers = a.Layers,
            DecoderLayers = a.DecoderLayers,
            Hidden = a.Hidden,
            Heads = a.Heads,
            KvHeads = a.KvHeads,
            HeadDim = a.HeadDim,
            VHeadDim = a.VHeadDim,
            Intermediate = a.Intermediate,
            Vocab = a.Vocab,
            MaxPositions = a.MaxPositions,
            TiedEmbeddings = a.TiedEmbeddings,
            Mlp = a.Mlp == MlpKind.Gated ? "gated" : "dense",
            Norm = NormName(a.Norm),
            Experts = a.Moe?.Experts,
            ActiveExperts = a.Moe?.ActiveExperts,
            ExpertIntermediate = a.Moe?.ExpertIntermediate,
            SharedExperts = a.Moe?.SharedExperts,
            KvLoraRank = a.Mla?.KvLoraRank,
            QLoraRank = a.Mla?.QLoraRank,
            SlidingWindow = a.SlidingWindow,
            EncoderOnly = a.IsEncoderOnly,
            TorchDtype = a.TorchDtype,
        };
    }

    /// <summary>The document of one tensor.</summary>
    /// <param name="t">The tensor.</param>
    /// <returns>The document.</returns>
    public static TensorDocument Tensor(TensorInfo t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return new TensorDocument
        {
            Name = t.Name,
            Shape = t.Shape,
            Dtype = t.DataType.Name,
            Elements = t.Elements,
            Bytes = t.Bytes.Bytes,
            Group = GroupName(t.Group),
            Kind = t.Kind == TensorKind.Parameter ? null : t.Kind == TensorKind.Buffer ? "buffer" : "quantization_aux",
        };
    }

    /// <summary>The memory document of an estimate.</summary>
    /// <param name="e">The estimate.</param>
    /// <returns>The document.</returns>
    public static MemoryDocument Memory(MemoryEstimate e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var assumptions = new Dictionary<string, object>(StringComparer.Ordinal);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var a in e.Assumptions)
        {
            assumptions[a.Name] = a.Value;
            texts[a.Name] = a.Text;
        }

        return new MemoryDocument
        {
            Model = e.Model,
            Mode = WorkloadNames.Name(e.Mode),
            Assumptions = assumptions,
            AssumptionsText = texts,
            AssumptionDetails = e.Assumptions.Select(a => new AssumptionDocument { Name = a.Name, Value = a.Value, Default = a.IsDefault, Reason = a.Reason }).ToList(),
            Gpus = e.Gpus,
            PerGpuBytes = e.PerGpu.Bytes,
            TotalBytes = e.Total.Bytes,
            Components = e.Components.Select(c => new ComponentDocument
            {
                Name = c.Name,
                Bytes = c.Total.Bytes,
                PerGpuBytes = c.PerGpu.Bytes,
                Formula = c.Formula,
                Source = c.Source,
                OnDevice = c.OnDevice,
                SharePercent = Math.Round(e.SharePercent(c), 2),
            }).ToList(),
            Warnings = e.Warnings,
        };
    }

    /// <summary>The models document of the catalog.</summary>
    /// <param name="rows">The catalog summaries (<see cref="ModelCatalog.Summaries"/>).</param>
    /// <returns>The document.</returns>
    public static ModelsDocument Models(IEnumerable<CatalogSummary> rows) => new(rows.Select(r => new ModelEntryDocument
    {
        Id = r.Entry.Id,
        Repository = r.Entry.Repository,
        Source = r.Entry.Source,
        Family = r.Family,
        Parameters = r.Total?.Value,
        Active = r.Active?.Value,
        Error = r.Error,
    }).ToList());

    /// <summary>The seed document.</summary>
    /// <param name="r">The seed result.</param>
    /// <returns>The document.</returns>
    public static SeedDocument Seed(SeedPostResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var t = r.ExactTraining;
        return new SeedDocument
        {
            Inputs = new(SeedPostMethod.EmbeddingSize, SeedPostMethod.Layers, SeedPostMethod.Heads, SeedPostMethod.Vocab),
            Parameters = new(r.Embedding, r.Attention, r.FeedForward, r.Output, r.Total),
            Published = new(r.PublishedAttention, r.PublishedTotal),
            VramBytes = new(r.VramBytesFp32, r.VramBytesFp16, r.VramBytesInt8),
            VramMib = new(Math.Round(SeedPostResult.MiB(r.VramBytesFp32), 1), Math.Round(SeedPostResult.MiB(r.VramBytesFp16), 1), Math.Round(SeedPostResult.MiB(r.VramBytesInt8), 1)),
            TrainingEstimateMib = new(r.TrainingParametersMiB, r.TrainingActivationsMiB, r.TrainingOptimizerMiB, r.TrainingInputMiB, r.TrainingTotalMiB,
                r.TrainingGradientsMiB, r.TrainingTotalWithGradientsMiB),
            Errata = r.Errata,
            Exact = new SeedExactDocument
            {
                Model = SeedPostMethod.ExactModelDescription,
                Positions = SeedPostMethod.AssumedPositions,
                Intermediate = SeedPostMethod.ExactIntermediate,
                Tied = Exact(r.ExactTied),
                Untied = Exact(r.ExactUntied),
                Training = new SeedExactTrainingDocument
                {
                    Method = SeedPostMethod.ExactTrainingMethod,
                    BytesPerParameter = t.BytesPerParameter,
                    ModelStatesBytesTied = t.ModelStatesBytesTied,
                    ModelStatesBytesUntied = t.ModelStatesBytesUntied,
                    ActivationBytes = t.ActivationBytes,
                    SequenceLength = t.SequenceLength,
                    Batch = t.Batch,
                    TotalBytesTied = t.TotalBytesTied,
                    TotalBytesUntied = t.TotalBytesUntied,
                },
            },
        };
    }

    /// <summary>The contract name of a fit type.</summary>
    /// <param name="type">The type.</param>
    /// <returns>full_gpu, partial_offload, cpu_only or none.</returns>
    public static string FitTypeName(LlmSizer.Fit.FitType type) => type switch
    {
        LlmSizer.Fit.FitType.FullGpu => "full_gpu",
        LlmSizer.Fit.FitType.PartialOffload => "partial_offload",
        LlmSizer.Fit.FitType.CpuOnly => "cpu_only",
        _ => "none",
    };

    /// <summary>The fit document of a fit result.</summary>
    /// <param name="result">The result.</param>
    /// <returns>The document.</returns>
    public static FitDocument Fit(LlmSizer.Fit.FitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new FitDocument(result.Model, result.AnyFits, result.Plans.Select(p =>
        {
            var assumptions = new Dictionary<string, object>(StringComparer.Ordinal);
            foreach (var a in (p.Estimate?.Assumptions ?? []).Concat(p.Assumptions))
            {
                assumptions[a.Name] = a.Value;
            }

            return new FitPlanDocument
            {
                Gpu = p.Gpu,
                GpuName = p.Device.Name,
                Engine = p.Engine is { } e ? WorkloadNames.Name(e) : null,
                FitsOnOne = p.FitsOnOne,
                FitType = FitTypeName(p.FitType),
                GpusNeeded = p.GpusNeeded,
                TensorParallel = p.TensorParallel,
                PipelineParallel = p.PipelineParallel,
                Nodes = p.Nodes,
                PerGpuBytes = p.PerGpu.Bytes,
                BudgetBytes = p.Budget.Bytes,
                HeadroomBytes = p.HeadroomBytes,
                MaxContext = p.MaxContext,
                KvCacheBytesPerGpu = p.KvCacheBytesPerGpu,
                KvCacheTokens = p.KvCacheTokens,
                MaxConcurrency = p.MaxConcurrency is { } c ? Math.Round(c, 2) : null,
                GpuLayers = p.GpuLayers,
                HostBytes = p.HostBytes,
                DecodeTokensPerS = Round(p.DecodeTokensPerSecond),
                AggregateDecodeTokensPerS = Round(p.AggregateDecodeTokensPerSecond),
                PrefillTokensPerS = Round(p.PrefillTokensPerSecond),
                TimeToFirstTokenS = p.TimeToFirstTokenSeconds is { } t ? Math.Round(t, 4) : null,
                StepSeconds = p.StepSeconds is { } s ? Math.Round(s, 4) : null,
                TrainingHours = Round(p.TrainingHours),
                Reason = p.Reason,
                Assumptions = assumptions,
                EngineSettings = new EngineSettingsDocument
                {
                    Vllm = p.Settings.Vllm,
                    Sglang = p.Settings.Sglang,
                    Llamacpp = p.Settings.LlamaCpp,
                    Deepspeed = p.Settings.DeepSpeed is { } ds ? System.Text.Json.JsonDocument.Parse(ds).RootElement.Clone() : null,
                    Fsdp = p.Settings.Fsdp,
                    K8s = p.Settings.Kubernetes,
                },
            };
        }).ToList())
        {
            Formats = result.Formats.Count == 0 ? null : result.Formats.Select(f => new FormatOptionDocument(
                WorkloadNames.Name(f.Engine), f.Format.Name, f.KvType.Name.ToLowerInvariant(), f.PerGpu.Bytes, f.Budget.Bytes, f.Fits, f.MaxContext)).ToList(),
            Sweep = result.Sweep.Count == 0 ? null : result.Sweep.Select(x => new ContextPointDocument(x.Context, x.PerGpu.Bytes, x.Fits)).ToList(),
        };
    }

    /// <summary>The GPU list document of the catalog.</summary>
    /// <param name="gpus">The GPUs.</param>
    /// <returns>The document.</returns>
    public static GpuListDocument Gpus(IEnumerable<Gpus.GpuSpec> gpus) => new(gpus.Select(g => new GpuEntryDocument
    {
        Id = g.Id,
        Name = g.Name,
        Vendor = g.Vendor.ToString().ToLowerInvariant(),
        Category = g.Category switch { LlmSizer.Gpus.GpuCategory.DataCenter => "data_center", var c => c.ToString().ToLowerInvariant() },
        Architecture = g.Architecture,
        MemoryType = g.MemoryType,
        MarketedMemoryBytes = g.MarketedMemory.Bytes,
        UsableMemoryBytes = g.UsableMemory.Bytes,
        UsableMemoryVerified = g.UsableMemoryVerified,
        UsableMemoryRule = g.UsableMemoryRule ?? g.UsableMemoryEvidence,
        BandwidthGbps = g.BandwidthGBps,
        Bf16Tflops = g.Bf16Tflops,
        Fp16Tflops = g.Fp16Tflops,
        Fp8Tflops = g.Fp8Tflops,
        Int8Tops = g.Int8Tops,
        Interconnect = g.Interconnect,
        SmiNames = g.SmiNames,
        Aliases = g.Aliases,
        Sources = g.Sources,
    }).ToList());

    private static double? Round(double? v) => v is { } x ? Math.Round(x, 1) : null;

    private static SeedExactModelDocument Exact(SeedExactModel m) => new(m.Total.Value, m.Tensors, Groups(m.Groups), m.Fp32Bytes);

    private static Dictionary<string, long> Groups(IReadOnlyDictionary<TensorGroup, Units.ParameterCount> groups)
    {
        var map = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var g in Enum.GetValues<TensorGroup>())
        {
            map[GroupName(g)] = groups.TryGetValue(g, out var c) ? c.Value : 0;
        }

        return map;
    }
}
