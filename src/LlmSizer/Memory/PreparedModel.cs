using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Tensors;

namespace LlmSizer.Memory;

/// <summary>A model made ready for many estimates: the per-tensor work (role, weight-format application, layer and
/// pipeline-stage assignment, KV bytes per layer) is done once per model and format and kept, so each estimate — and
/// every step of a solver or a fit sweep — costs only arithmetic on a few sums.</summary>
/// <remarks>Thread-safe: caches fill concurrently. <see cref="For"/> keeps one prepared model per <see cref="ModelInfo"/>
/// instance for as long as that instance lives.</remarks>
public sealed class PreparedModel
{
    private static readonly ConditionalWeakTable<ModelInfo, PreparedModel> Prepared = [];

    private readonly ConcurrentDictionary<(string Format, string? Unquantized), StoredWeights> _stored = new();
    // Most callers reuse one WeightFormat instance: look it up by reference first (no string building per estimate).
    private readonly ConcurrentDictionary<(WeightFormat Format, DataType? Unquantized), StoredWeights> _storedByInstance = new(ReferenceKeyComparer.Instance);
    private (WeightFormat Format, string Reason)? _defaultFormat;
    private readonly ConcurrentDictionary<(int Tp, InferenceEngine Engine, DataType Kv), KvLayout> _kvPerLayer = new();
    private readonly ConcurrentDictionary<LoraTargets, (long DimensionSum, int Matrices)> _lora = new();
    private long _largestParameter = -1;
    private double? _activeFraction;
    private long? _activeParameters;
    private long _adafactorElements = -1;
    private bool? _safetensorsFloat32;

    private PreparedModel(ModelInfo model)
    {
        Model = model;
        Architecture = model.Architecture;
        Inventory = model.Inventory;
        TotalParameters = model.Inventory.TotalParameters.Value;
        if (TotalParameters == 0 && Architecture is { } spec)
        {
            // A vocab-only GGUF (llama.cpp's test files) has the hyper-parameters but no tensors: size the weights
            // from the architecture instead of reporting zero, and say so.
            if (ArchitectureRegistry.Default.TryGet(spec.Family, out var family))
            {
                try
                {
                    Inventory = family.Generate(spec);
                    WeightsGenerated = true;
                }
                catch (LlmSizerException)
                {
                    // Hyper-parameters too incomplete to generate tensors: the weights stay uncounted (warned below).
                }
            }
        }
    }

    /// <summary>The model.</summary>
    public ModelInfo Model { get; }

    /// <summary>The architecture, when known.</summary>
    public ArchitectureSpec? Architecture { get; }

    /// <summary>The tensors estimates size: the model's own, or generated from its architecture when the file holds no
    /// weights (<see cref="WeightsGenerated"/>).</summary>
    public TensorInventory Inventory { get; }

    /// <summary>True when <see cref="Inventory"/> was generated from the architecture because the model holds no tensors.</summary>
    public bool WeightsGenerated { get; }

    /// <summary>Active parameters per token over all parameters of <see cref="Inventory"/> (1 for dense models).</summary>
    public double ActiveFraction => _activeFraction ??= Inventory.TotalParameters.Value == 0 ? 1 : (double)Inventory.ActiveParameters.Value / Inventory.TotalParameters.Value;

    /// <summary>Active parameters per token of <see cref="Inventory"/>.</summary>
    public long ActiveParameters => _activeParameters ??= Inventory.ActiveParameters.Value;

    /// <summary>The parameters of the model's own tensors.</summary>
    public long TotalParameters { get; }

    /// <summary>The prepared model of <paramref name="model"/>, made on first use and kept while the model lives.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The prepared model.</returns>
    public static PreparedModel For(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Prepared.GetValue(model, m => new PreparedModel(m));
    }

    /// <summary>The tensors as <paramref name="format"/> stores them, with their per-tensor placement data.</summary>
    internal StoredWeights Stored(WeightFormat format, DataType? unquantized) =>
        _storedByInstance.TryGetValue((format, unquantized), out var hit) ? hit : _storedByInstance.GetOrAdd((format, unquantized), StoredByName(format, unquantized));

    /// <summary>The default weight format of this model (<see cref="EngineDefaults.Format"/>), computed once.</summary>
    internal (WeightFormat Format, string Reason) DefaultFormat(ArchitectureSpec spec) => _defaultFormat ??= EngineDefaults.Format(spec, Model.Source);

    /// <summary>The default weight format as <paramref name="engine"/> (and training, when given) uses it
    /// (<see cref="EngineDefaults.Usable"/>).</summary>
    internal WeightFormat DefaultFormat(ArchitectureSpec spec, InferenceEngine engine, TrainingSettings? training = null) =>
        EngineDefaults.Usable(spec, DefaultFormat(spec), engine, training, SafetensorsFloat32).Format;

    /// <summary>Whether the model is a safetensors checkpoint whose parameters are mostly float32 (what an engine's
    /// float32 rule applies to when the format is the checkpoint's own).</summary>
    internal bool SafetensorsFloat32 => _safetensorsFloat32 ??= Model.Source == ModelSourceKind.Safetensors &&
        Inventory.ByDataType().OrderByDescending(p => p.Value.Value).FirstOrDefault().Key == DataType.F32;

    private StoredWeights StoredByName(WeightFormat format, DataType? unquantized) =>
        _stored.GetOrAdd((format.Name + "|" + format.Description, unquantized?.Name),
            static (_, arg) => new StoredWeights(arg.Self, arg.Format, arg.Unquantized),
            (Self: this, Format: format, Unquantized: unquantized));

    /// <summary>KV bytes per token of each cached layer on one tensor-parallel rank, and their sums by layer kind.</summary>
    internal KvLayout KvBytesPerLayer(ArchitectureSpec spec, int tp, InferenceEngine engine, DataType kvType) =>
        _kvPerLayer.GetOrAdd((tp, engine, kvType), static (key, s) =>
        {
            var bytes = new long[s.CachedLayers];
            var sliding = new bool[bytes.Length];
            long full = 0, swa = 0;
            for (int l = 0; l < bytes.Length; l++)
            {
                bytes[l] = KvCache.BytesPerToken(s, l, key.Tp, key.Engine, key.Kv);
                sliding[l] = s.LayerKind(l) == AttentionLayerKind.Sliding;
                if (sliding[l])
                {
                    swa = checked(swa + bytes[l]);
                }
                else
                {
                    full = checked(full + bytes[l]);
                }
            }

            return new KvLayout(bytes, sliding, full, swa);
        }, spec);

    /// <summary>The largest parameter tensor's elements (the one gradient alive with the optimizer in backward).</summary>
    internal long LargestParameterElements
    {
        get
        {
            if (_largestParameter < 0)
            {
                long max = 0;
                foreach (var t in Model.Inventory.Tensors)
                {
                    if (t.Kind == TensorKind.Parameter)
                    {
                        max = Math.Max(max, t.Elements);
                    }
                }

                _largestParameter = max;
            }

            return _largestParameter;
        }
    }

    /// <summary>Adafactor's factored second-moment values: Σ (rows + cols) per matrix, full size per vector.</summary>
    internal long AdafactorElements
    {
        get
        {
            if (_adafactorElements < 0)
            {
                long elems = 0;
                foreach (var t in Model.Inventory.Tensors)
                {
                    if (t.Kind == TensorKind.Parameter)
                    {
                        // A zero-sized dimension (a hostile or empty tensor) holds no state.
                        elems = checked(elems + (t.Shape.Length >= 2 ? (t.Shape[^1] == 0 ? 0 : t.StoredElements / t.Shape[^1] + t.Shape[^1]) : t.Elements));
                    }
                }

                _adafactorElements = elems;
            }

            return _adafactorElements;
        }
    }

    /// <summary>LoRA: Σ (d_in + d_out) over the adapted matrices (the trainable count is rank × this; Hu et al. 2021 §4),
    /// and the number of adapted matrices.</summary>
    internal (long DimensionSum, int Matrices) Lora(LoraTargets targets) =>
        _lora.GetOrAdd(targets, static (set, inv) =>
        {
            long total = 0;
            int count = 0;
            foreach (var t in inv.Tensors)
            {
                if (t.Kind != TensorKind.Parameter || t.Shape.Length < 2 || t.Layer is null || !set.Roles.Contains(TensorRoles.Of(t)) ||
                    !t.Name.EndsWith("weight", StringComparison.Ordinal))
                {
                    continue;
                }

                long dIn = t.Shape[^1];
                if (dIn == 0)
                {
                    continue; // an empty matrix takes no adapter
                }

                long dOut = t.Elements / dIn; // stacked expert tensors count each expert's output rows
                total = checked(total + dIn + dOut);
                count++;
            }

            return (total, count);
        }, Model.Inventory);
}

/// <summary>Compares (format, type) keys by reference: the same instances hit, equal copies fall back to the name cache.</summary>
internal sealed class ReferenceKeyComparer : IEqualityComparer<(WeightFormat Format, DataType? Unquantized)>
{
    public static ReferenceKeyComparer Instance { get; } = new();

    public bool Equals((WeightFormat Format, DataType? Unquantized) x, (WeightFormat Format, DataType? Unquantized) y) =>
        ReferenceEquals(x.Format, y.Format) && ReferenceEquals(x.Unquantized, y.Unquantized);

    public int GetHashCode((WeightFormat Format, DataType? Unquantized) obj) =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(obj.Format), obj.Unquantized is null ? 0 : RuntimeHelpers.GetHashCode(obj.Unquantized));
}

/// <summary>A model's tensors in one weight format, with each tensor's bytes, layer and role in flat arrays and the
/// per-parallelism sums cached.</summary>
internal sealed class StoredWeights : IStoredTensorSink
{
    // One column per stored tensor, sized once for the format's most side data (filled by the sink calls, never copied:
    // a model near the tensor bound would otherwise allocate each column twice).
    private readonly List<long> _bytes;
    private readonly List<int> _layer;
    private readonly List<TensorRole> _role;
    private readonly List<bool> _matrix;

    private readonly List<(DataType Type, long Elements, long Bytes)> _byType = [];
    private readonly ConcurrentDictionary<(int Tp, int Pp), (long PerGpu, long Replica)> _shares = new();
    private readonly ConcurrentDictionary<int, (long HostEmbedding, long LargestStage, long Device)> _llamaCpp = new();
    private readonly int _layers;
    private readonly PreparedModel _model;
    private readonly DataType? _unquantized;
    private long _largestLayerMatrix;
    private string? _formula;

    /// <summary>Sizes <paramref name="model"/>'s tensors as <paramref name="format"/> stores them, straight from the
    /// format's rule (<see cref="WeightFormat.Apply(TensorInventory, ArchitectureSpec?, DataType?, IStoredTensorSink)"/>):
    /// no re-typed inventory is built, so a format costs a few flat arrays, not a copy of every tensor and side-data name.</summary>
    public StoredWeights(PreparedModel model, WeightFormat format, DataType? unquantized)
    {
        _model = model;
        _unquantized = unquantized;
        Format = format;
        _layers = model.Architecture?.Layers ?? 1;
        int n = checked(model.Inventory.Tensors.Length * (1 + format.MaxAuxPerWeight));
        _bytes = new(n);
        _layer = new(n);
        _role = new(n);
        _matrix = new(n);
        format.Apply(model.Inventory, model.Architecture, unquantized, this);

        // Largest type first; a stable sort keeps the first-seen order among equals.
        DataTypeTotals = [.. _byType.OrderByDescending(x => x.Bytes)];
        ComputeType = ComputeTypeOf(format, model.Inventory);
    }

    /// <summary>The stored tensors as an inventory (names included), built on request — for derivations that list them;
    /// the estimate itself needs only the columns above.</summary>
    /// <returns>The re-typed inventory with its side data.</returns>
    public TensorInventory Materialize() => Format.Apply(_model.Inventory, _model.Architecture, _unquantized);

    /// <summary>Each stored type's elements and bytes (parameters, buffers and side data), the largest first.</summary>
    public IReadOnlyList<(DataType Type, long Elements, long Bytes)> DataTypeTotals { get; }

    void IStoredTensorSink.Kept(TensorInfo tensor) => Add(tensor, tensor.DataType, tensor.Bytes.Bytes);

    void IStoredTensorSink.Retyped(TensorInfo tensor, DataType dataType) =>
        Add(tensor, dataType, TensorInfo.BytesOf(dataType, tensor.Shape.AsSpan()).Bytes);

    void IStoredTensorSink.Aux(TensorInfo owner, string suffix, DataType dataType, params ReadOnlySpan<long> shape)
    {
        long elements = 1;
        foreach (var d in shape)
        {
            elements = checked(elements * d);
        }

        // Side data is never an embedding, so its role only has to keep it out of the embedding rules.
        Append(TensorInfo.BytesOf(dataType, shape).Bytes, owner.Layer ?? -1, TensorRole.OtherVector, shape.Length >= 2, dataType, elements);
    }

    private void Add(TensorInfo t, DataType type, long bytes)
    {
        if (t.Kind == TensorKind.Parameter && t.Shape.Length >= 2 && t.Layer is not null)
        {
            _largestLayerMatrix = Math.Max(_largestLayerMatrix, t.Elements);
        }

        Append(bytes, t.Layer ?? -1, TensorRoles.Of(t), t.Shape.Length >= 2, type, t.Elements);
    }

    private void Append(long bytes, int layer, TensorRole role, bool matrix, DataType type, long elements)
    {
        _bytes.Add(bytes);
        _layer.Add(layer);
        _role.Add(role);
        _matrix.Add(matrix);
        int i = 0;
        while (i < _byType.Count && _byType[i].Type != type)
        {
            i++;
        }

        if (i == _byType.Count)
        {
            _byType.Add((type, elements, bytes));
        }
        else
        {
            var x = _byType[i];
            _byType[i] = (type, checked(x.Elements + elements), checked(x.Bytes + bytes));
        }
    }

    public WeightFormat Format { get; }

    /// <summary>The type activations and the default KV cache use (the 16-bit type of the weights, or f32).</summary>
    public DataType ComputeType { get; }

    /// <summary>The largest layer matrix's elements (one dequantized weight alive in QLoRA's forward).</summary>
    public long LargestLayerMatrix => _largestLayerMatrix;

    /// <summary>Weight bytes per GPU (the largest stage's TP shard) and over one model replica (tp × pp GPUs).</summary>
    /// <remarks>TP shards every matrix (column/row-parallel linears, vocab-parallel embedding and head; Megatron-LM §3)
    /// and replicates vectors; PP puts the input embedding on the first stage, the final norm and head on the last.</remarks>
    public (long PerGpu, long Replica) Shares(int tp, int pp) => _shares.GetOrAdd((tp, pp), static (key, self) =>
    {
        var stage = new long[key.Pp];
        long replica = 0;
        for (int i = 0; i < self._bytes.Count; i++)
        {
            long bytes = self._bytes[i];
            int s = self._layer[i] >= 0 ? PipelineStages.StageOf(Math.Min(self._layer[i], self._layers - 1), self._layers, key.Pp)
                : self._role[i] is TensorRole.TokenEmbedding or TensorRole.PositionEmbedding ? 0 : key.Pp - 1;
            long shard = self._matrix[i] ? KvCache.CeilDiv(bytes, key.Tp) : bytes;
            stage[s] = checked(stage[s] + shard);
            replica = checked(replica + shard * key.Tp);
        }

        return (stage.Max(), replica);
    }, this);

    /// <summary>llama.cpp's split: token_embd stays in host memory (the input layer is always on the CPU; llama.cpp PR
    /// #6122), every other tensor on the GPU of its layer's stage, non-layer tensors (output, final norm) on the last.</summary>
    public (long HostEmbedding, long LargestStage, long Device) LlamaCppShares(int pp) => _llamaCpp.GetOrAdd(pp, static (stages, self) =>
    {
        long embd = 0, device = 0;
        var stage = new long[stages];
        for (int i = 0; i < self._bytes.Count; i++)
        {
            if (self._role[i] == TensorRole.TokenEmbedding)
            {
                embd = checked(embd + self._bytes[i]);
                continue;
            }

            int s = self._layer[i] >= 0 ? PipelineStages.StageOf(Math.Min(self._layer[i], self._layers - 1), self._layers, stages) : stages - 1;
            stage[s] = checked(stage[s] + self._bytes[i]);
            device = checked(device + self._bytes[i]);
        }

        return (embd, stage.Max(), device);
    }, this);

    /// <summary>llama.cpp offload units: the stored bytes of each layer's tensors, and the bytes of the non-layer tensors
    /// that go with the output layer (output head, final norm); the token embedding (host memory) is in neither.</summary>
    public (long[] PerLayer, long OutputLayer) LlamaCppLayerBytes()
    {
        var perLayer = new long[_layers];
        long output = 0;
        for (int i = 0; i < _bytes.Count; i++)
        {
            if (_role[i] == TensorRole.TokenEmbedding)
            {
                continue;
            }

            if (_layer[i] >= 0)
            {
                int l = Math.Min(_layer[i], _layers - 1);
                perLayer[l] = checked(perLayer[l] + _bytes[i]);
            }
            else
            {
                output = checked(output + _bytes[i]);
            }
        }

        return (perLayer, output);
    }

    /// <summary>"Σ tensors: N × BF16 (16 bit) + …", the largest type first (built once, on first use).</summary>
    public string Formula => _formula ??= "Σ tensors: " + string.Join(" + ", DataTypeTotals
        .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Elements:N0} × {g.Type.Name} ({g.Type.BitsPerElement:0.###} bit)")));

    private static DataType ComputeTypeOf(WeightFormat format, TensorInventory native)
    {
        if (format.UniformType is { } u && (u == DataType.F32 || u == DataType.F16 || u == DataType.BF16))
        {
            return u;
        }

        if (format.Kind == WeightFormatKind.Native)
        {
            // Native: the stored tensors are the model's own; its main parameter type decides.
            var main = native.ByDataType().OrderByDescending(p => p.Value.Value).FirstOrDefault().Key;
            if (main == DataType.F32 || main == DataType.F16)
            {
                return main;
            }
        }

        return format.UnquantizedType == DataType.F16 ? DataType.F16 : DataType.BF16;
    }
}

/// <summary>KV bytes per token of each cached layer (one TP rank), whether each layer slides, and the sums over full and
/// sliding-window layers (the whole answer when there is one pipeline stage).</summary>
internal sealed record KvLayout(long[] PerLayer, bool[] Sliding, long FullSum, long SlidingSum);

/// <summary>The one pipeline-stage assignment: contiguous layer ranges, stage = ⌊layer × pp / layers⌋ (vLLM
/// <c>get_pp_indices</c> and llama.cpp's even split agree on it for divisible counts).</summary>
internal static class PipelineStages
{
    /// <summary>The stage of <paramref name="layer"/> of <paramref name="layers"/> split over <paramref name="pp"/> stages.</summary>
    public static int StageOf(int layer, int layers, int pp) => layers <= 0 ? 0 : (int)((long)layer * pp / layers);
}
