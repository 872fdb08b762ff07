using System.Diagnostics;
using System.Text;
using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.Errors;
using LlmSizer.Memory;

namespace LlmSizer.Fuzz.Engine;

/// <summary>Settings of one fuzz run.</summary>
internal sealed record FuzzOptions
{
    /// <summary>The seed: a run with the same seed and <see cref="MaxExecs"/> makes the same inputs.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Stop after this long.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Stop after this many executions (null: only the duration bounds the run).</summary>
    public long? MaxExecs { get; init; }

    /// <summary>A call that runs longer is a failure (a hang or work sized by an untrusted field).</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A call that allocates more (on its thread) is a failure (memory sized by an untrusted field).</summary>
    public long AllocationCeiling { get; init; } = 256L * 1024 * 1024;

    /// <summary>Where the folder inputs are written (a fresh temporary folder by default).</summary>
    public string? WorkDir { get; init; }

    /// <summary>Where the first input of each distinct failure is saved (null: not saved).</summary>
    public string? SaveDir { get; init; }

    /// <summary>Only these families (all when empty).</summary>
    public IReadOnlyList<InputFamily> Families { get; init; } = [];

    /// <summary>Also draw workloads with extreme settings (an overhead or GPU memory of <c>long.MaxValue</c> bytes).</summary>
    public bool ExtremeWorkloads { get; init; } = true;

    /// <summary>Also generate valid tensors with a zero dimension (a <c>[16, 0]</c> q_proj).</summary>
    public bool ZeroSizedTensors { get; init; } = true;

    /// <summary>Estimates (random workloads) per loaded model with an architecture.</summary>
    public int WorkloadsPerModel { get; init; } = 2;
}

/// <summary>One distinct failure: exception type and top frame (or timeout / allocation), how often, and an example.</summary>
internal sealed class FuzzFailure(string key, InputFamily family, string message)
{
    public string Key { get; } = key;

    /// <summary>The family of the first input that showed it.</summary>
    public InputFamily Family { get; } = family;

    /// <summary>Every family that showed it.</summary>
    public HashSet<InputFamily> Families { get; } = [family];

    public string Message { get; } = message;

    public long Count { get; set; }

    public string? SavedInput { get; set; }
}

/// <summary>What a run did.</summary>
internal sealed class FuzzReport
{
    public Dictionary<InputFamily, long> Execs { get; } = [];

    /// <summary>Inputs that loaded (valid, or mutated and still accepted).</summary>
    public Dictionary<InputFamily, long> Loaded { get; } = [];

    /// <summary>Inputs refused with an <see cref="LlmSizerException"/> (the contract).</summary>
    public Dictionary<InputFamily, long> Rejected { get; } = [];

    public Dictionary<string, FuzzFailure> Failures { get; } = new(StringComparer.Ordinal);

    public long Estimates { get; set; }

    public TimeSpan Elapsed { get; set; }

    public long TotalExecs => Execs.Values.Sum();

    public double ExecsPerSecond => TotalExecs / Math.Max(Elapsed.TotalSeconds, 1e-9);

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{TotalExecs:N0} inputs in {Elapsed.TotalSeconds:N1} s ({ExecsPerSecond:N0} exec/s), {Estimates:N0} estimates; {Failures.Count} distinct failures");
        foreach (var f in Enum.GetValues<InputFamily>())
        {
            sb.AppendLine($"  {f,-12} {Execs.GetValueOrDefault(f),10:N0} inputs  {Loaded.GetValueOrDefault(f),10:N0} loaded  {Rejected.GetValueOrDefault(f),10:N0} rejected");
        }

        foreach (var fail in Failures.Values.OrderByDescending(f => f.Count))
        {
            sb.AppendLine($"  FAIL x{fail.Count:N0} [{string.Join(",", fail.Families)}] {fail.Key}: {Short(fail.Message)}{(fail.SavedInput is null ? "" : " -> " + fail.SavedInput)}");
        }

        return sb.ToString();
    }

    private static string Short(string s) => (s.Length > 200 ? s[..200] + "..." : s).ReplaceLineEndings(" ");
}

/// <summary>Generates, mutates and runs inputs through the public API: <see cref="CheckpointLoader"/> (bytes and files),
/// <see cref="ModelResolver"/>, the parameter report and <see cref="MemoryEstimator.Estimate"/> with random workloads.
/// Only <see cref="LlmSizerException"/> may come out; anything else, a call past the deadline or past the
/// allocation ceiling is a failure, deduplicated by exception type and top frame.</summary>
internal sealed class FuzzRunner
{
    private readonly FuzzOptions _options;
    private readonly Random _random;
    private readonly Mutator _mutator;
    private readonly Corpus _corpus;
    private readonly string _work;
    private readonly FuzzReport _report = new();
    private int _folderSeq;

    public FuzzRunner(FuzzOptions options)
    {
        _options = options;
        _random = new Random(options.Seed);
        _mutator = new Mutator(_random);
        _corpus = new Corpus(_random, options.ZeroSizedTensors);
        _work = options.WorkDir ?? Directory.CreateTempSubdirectory("llmsizer-fuzz-").FullName;
        Directory.CreateDirectory(_work);
    }

    public FuzzReport Run(Action<FuzzReport>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = clock.Elapsed;
        var families = _options.Families.Count > 0 ? [.. _options.Families] : Enum.GetValues<InputFamily>();

        // Seeds: a pool of valid inputs per family, regenerated now and then (generating costs more than mutating).
        try
        {
            long n = 0;
            while (clock.Elapsed < _options.Duration && (_options.MaxExecs is not { } max || n < max))
            {
                var family = families[(int)(n % families.Length)];
                RunOne(family, mutate: n % 16 != 0);
                n++;
                if (progress is not null && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(10))
                {
                    _report.Elapsed = clock.Elapsed;
                    progress(_report);
                    lastProgress = clock.Elapsed;
                }
            }
        }
        finally
        {
            _report.Elapsed = clock.Elapsed;
            if (_options.WorkDir is null)
            {
                try
                {
                    Directory.Delete(_work, recursive: true);
                }
                catch (IOException)
                {
                    // A call past its deadline may still hold a file.
                }
            }
        }

        return _report;
    }

    private readonly Dictionary<InputFamily, List<object>> _seeds = [];

    private object Seed(InputFamily family)
    {
        if (!_seeds.TryGetValue(family, out var pool))
        {
            _seeds[family] = pool = [];
        }

        if (pool.Count < 24 || _random.Next(64) == 0)
        {
            object fresh = family switch
            {
                InputFamily.Gguf => _corpus.Gguf(),
                InputFamily.GgufSplit => _corpus.GgufSplit(),
                InputFamily.Safetensors => _corpus.SafetensorsWriter(layers: 1 + _random.Next(2)),
                InputFamily.IndexFolder => _corpus.IndexFolder(),
                _ => _corpus.Config(),
            };
            if (pool.Count < 24)
            {
                pool.Add(fresh);
            }
            else
            {
                pool[_random.Next(pool.Count)] = fresh;
            }

            return fresh;
        }

        return pool[_random.Next(pool.Count)];
    }

    private void RunOne(InputFamily family, bool mutate)
    {
        _report.Execs[family] = _report.Execs.GetValueOrDefault(family) + 1;
        var seed = Seed(family);
        var workloads = Enumerable.Range(0, _options.WorkloadsPerModel).Select(_ => RandomWorkload()).ToList();
        Func<ModelInfo?> target;
        Func<string> save;
        switch (family)
        {
            case InputFamily.Gguf:
            {
                var bytes = mutate ? _mutator.Bytes((byte[])seed) : (byte[])seed;
                bool onDisk = _random.Next(8) == 0;
                string? path = onDisk ? WriteFile("m.gguf", bytes) : null;
                target = () => path is null ? Load(bytes, "fuzz.gguf") : ModelResolver.Resolve(path);
                save = () => SaveBytes(bytes, ".gguf");
                break;
            }

            case InputFamily.Safetensors:
            {
                var w = (Tests.Fixtures.SafetensorsWriter)seed;
                byte[] bytes;
                if (mutate && _random.Next(2) == 0)
                {
                    // JSON-aware: mutate the header, keep (or not) a consistent length prefix and the data.
                    var header = _mutator.Json(w.HeaderJson());
                    w.RawHeader = header;
                    try
                    {
                        bytes = w.ToArray();
                    }
                    finally
                    {
                        w.RawHeader = null;
                    }

                    if (_random.Next(4) == 0)
                    {
                        bytes = _mutator.Bytes(bytes);
                    }
                }
                else
                {
                    bytes = mutate ? _mutator.Bytes(w.ToArray()) : w.ToArray();
                }

                bool onDisk = _random.Next(8) == 0;
                string? path = onDisk ? WriteFile("model.safetensors", bytes) : null;
                if (path is not null && _random.Next(2) == 0)
                {
                    // With the config beside it the model has an architecture, so estimates run on the file's tensors.
                    File.WriteAllText(Path.Combine(Path.GetDirectoryName(path)!, "config.json"), Corpus.TinyLlamaConfig(1));
                }

                target = () => path is null ? Load(bytes, "fuzz.safetensors") : ModelResolver.Resolve(path);
                save = () => SaveBytes(bytes, ".safetensors");
                break;
            }

            case InputFamily.GgufSplit:
            {
                var shards = ((byte[][])seed).Select(s => s).ToArray();
                if (mutate)
                {
                    int k = _random.Next(shards.Length);
                    shards[k] = _mutator.Bytes(shards[k]);
                }

                var folder = NewFolder();
                for (int i = 0; i < shards.Length; i++)
                {
                    File.WriteAllBytes(Path.Combine(folder, $"m-{i + 1:D5}-of-{shards.Length:D5}.gguf"), shards[i]);
                }

                string entry = _random.Next(2) == 0 ? folder : Path.Combine(folder, $"m-{1 + _random.Next(shards.Length):D5}-of-{shards.Length:D5}.gguf");
                target = () => ModelResolver.Resolve(entry);
                save = () => SaveFolder(folder);
                break;
            }

            case InputFamily.IndexFolder:
            {
                var (config, index, shards) = ((string, string, byte[][]))seed;
                shards = [.. shards];
                if (mutate)
                {
                    switch (_random.Next(4))
                    {
                        case 0: config = _mutator.Json(config); break;
                        case 1: index = _mutator.Json(index); break;
                        case 2: shards[0] = _mutator.Bytes(shards[0]); break;
                        default: shards[1] = _mutator.Bytes(shards[1]); break;
                    }
                }

                var folder = NewFolder();
                File.WriteAllText(Path.Combine(folder, "config.json"), config);
                File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), index);
                File.WriteAllBytes(Path.Combine(folder, "model-00001-of-00002.safetensors"), shards[0]);
                File.WriteAllBytes(Path.Combine(folder, "model-00002-of-00002.safetensors"), shards[1]);
                target = () => ModelResolver.Resolve(folder);
                save = () => SaveFolder(folder);
                break;
            }

            default:
            {
                var json = mutate ? _mutator.Json((string)seed) : (string)seed;
                var bytes = Encoding.UTF8.GetBytes(json);
                bool onDisk = _random.Next(8) == 0;
                string? path = onDisk ? WriteFile("config.json", bytes) : null;
                target = () =>
                {
                    if (path is not null)
                    {
                        return ModelResolver.Resolve(path);
                    }

                    var parsed = ConfigObject.Parse(bytes, "fuzz/config.json");
                    return ModelResolver.FromSpec("fuzz", ModelSourceKind.Config, HuggingFaceConfigReader.Read(parsed));
                };
                save = () => SaveBytes(bytes, ".json");
                break;
            }
        }

        Execute(family, () =>
        {
            var model = target();
            if (model is null)
            {
                return false;
            }

            _ = model.Parameters();
            _ = model.Inventory.TotalBytes;
            if (model.Architecture is not null)
            {
                foreach (var w in workloads)
                {
                    try
                    {
                        var estimate = MemoryEstimator.Estimate(model, w);
                        _ = estimate.PerGpu; // summed lazily: part of the contract too
                        _ = estimate.Total;
                        _report.Estimates++;
                    }
                    catch (LlmSizerException)
                    {
                        // A workload the model cannot take (an invalid setting): fine.
                    }
                }
            }

            return true;
        }, save);
    }

    private static ModelInfo Load(byte[] bytes, string name) =>
        CheckpointLoader.LoadAsync(new MemoryByteSource(bytes, name)).AsTask().GetAwaiter().GetResult();

    private void Execute(InputFamily family, Func<bool> call, Func<string> save)
    {
        long allocated = 0;
        var task = Task.Run(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                return call();
            }
            finally
            {
                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            }
        });

        string? key = null;
        string message = "";
        try
        {
            if (!task.Wait(_options.CallDeadline))
            {
                key = "timeout";
                message = $"no answer within {_options.CallDeadline.TotalSeconds:N0} s";
            }
            else
            {
                if (task.Result)
                {
                    _report.Loaded[family] = _report.Loaded.GetValueOrDefault(family) + 1;
                }

                if (allocated > _options.AllocationCeiling)
                {
                    key = "allocation";
                    message = $"{allocated:N0} bytes allocated by one call";
                }
            }
        }
        catch (AggregateException ae) when (ae.InnerException is LlmSizerException le)
        {
            _report.Rejected[family] = _report.Rejected.GetValueOrDefault(family) + 1;
            if (le.Message.Contains('\n', StringComparison.Ordinal) || le.Message.Contains('\u001b', StringComparison.Ordinal) || le.Message.Length == 0)
            {
                key = "message not one clean line";
                message = le.Message;
            }
            else if (allocated > _options.AllocationCeiling)
            {
                key = "allocation (rejected)";
                message = $"{allocated:N0} bytes allocated before: {le.Message}";
            }
        }
        catch (AggregateException ae)
        {
            var e = ae.InnerException ?? ae;
            key = $"{e.GetType().Name} at {TopFrame(e)}";
            message = e.Message;
        }

        if (key is null)
        {
            return;
        }

        if (!_report.Failures.TryGetValue(key, out var failure))
        {
            _report.Failures[key] = failure = new FuzzFailure(key, family, message);
            if (_options.SaveDir is not null)
            {
                failure.SavedInput = save();
            }
        }

        failure.Count++;
        failure.Families.Add(family);
    }

    /// <summary>The frame that names a failure: the first one outside the runtime's throw helpers, and the first one in
    /// the library (they differ when the runtime throws on the library's behalf, e.g. checked arithmetic).</summary>
    internal static string TopFrame(Exception e)
    {
        var frames = new StackTrace(e, false).GetFrames();
        static Type? TypeOf(StackFrame f)
        {
            var t = f.GetMethod()?.DeclaringType;
            while (t is not null && t.Name.StartsWith('<') && t.DeclaringType is not null)
            {
                t = t.DeclaringType; // a lambda's or iterator's compiler-made class: name its outer type
            }

            return t;
        }

        static string Name(StackFrame f) => $"{TypeOf(f)?.Name}.{f.GetMethod()?.Name}";
        var top = frames.FirstOrDefault(f => TypeOf(f)?.Name is not ("ThrowHelper" or "ThrowHelpers"));
        if (top is null)
        {
            return "?";
        }

        // The first library frame of another type than the top one (ByteSize.op_Addition overflowing says little alone).
        var ours = frames.FirstOrDefault(f => TypeOf(f) is { Namespace: { } ns } t && t != TypeOf(top) &&
            ns.StartsWith("LlmSizer", StringComparison.Ordinal) && !ns.StartsWith("LlmSizer.Fuzz", StringComparison.Ordinal));

        return ours is null || Name(ours) == Name(top) ? Name(top) : $"{Name(top)} (in {Name(ours)})";
    }

    private Workload RandomWorkload()
    {
        T Pick<T>(params T[] items) => items[_random.Next(items.Length)];
        bool training = _random.Next(4) == 0;
        var dtype = Pick<string?>(null, "bf16", "fp16", "q4_k_m", "q8_0", "int4", "fp8", "nf4");
        var kv = Pick<string?>(null, "fp8", "q8_0", "f16");
        return new Workload
        {
            Context = Pick<int?>(null, 1, 512, 4096, 32_768, 131_072, 1 << 20),
            Batch = Pick(1, 2, 16, 256),
            Format = dtype is null ? null : LlmSizer.Quantization.WeightFormat.Parse(dtype),
            KvType = kv is null ? null : LlmSizer.DataTypes.DataType.Parse(kv),
            Engine = training ? null : Pick<InferenceEngine?>(null, InferenceEngine.Vllm, InferenceEngine.LlamaCpp, InferenceEngine.Hf),
            Gpus = Pick<int?>(null, 1, 2, 8),
            TensorParallel = Pick(1, 2),
            Attention = Pick<AttentionKernel?>(null, AttentionKernel.Eager, AttentionKernel.Flash),
            GpuMemory = Pick<long?>(null, 80L << 30, 1 << 20) is { } g ? new LlmSizer.Units.ByteSize(g) : null,
            Overhead = _random.Next(8) == 0
                ? new LlmSizer.Units.ByteSize(_options.ExtremeWorkloads ? Pick(0, 1L << 40, long.MaxValue, long.MaxValue / 2) : Pick(0, 1L << 30))
                : null,
            Vllm = new VllmSettings { GpuUtilization = Pick(0.9, 1.0, 0.01), MaxSeqs = Pick(256, 1), MaxBatchedTokens = Pick<int?>(null, 1, 8192) },
            LlamaCpp = new LlamaCppSettings { FlashAttention = Pick(Enum.GetValues<FlashAttention>()), Ubatch = Pick(512, 1, 4096) },
            Training = training
                ? new TrainingSettings
                {
                    ZeroStage = _random.Next(4),
                    Optimizer = Pick(Enum.GetValues<OptimizerKind>()),
                    LoraRank = Pick<int?>(null, 8, 64),
                    Qlora = _random.Next(4) == 0,
                    Recompute = Pick(Enum.GetValues<Recompute>()),
                }
                : null,
        };
    }

    private string NewFolder()
    {
        // Folders are reused round-robin so a long run does not fill the disk.
        var folder = Path.Combine(_work, "f" + (_folderSeq++ % 64).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        return folder;
    }

    private string WriteFile(string name, byte[] bytes)
    {
        var path = Path.Combine(NewFolder(), name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string SaveFolder(string folder)
    {
        var target = Path.Combine(_options.SaveDir!, $"failure-{_report.Failures.Count:D3}");
        Directory.CreateDirectory(target);
        foreach (var f in Directory.EnumerateFiles(folder))
        {
            File.Copy(f, Path.Combine(target, Path.GetFileName(f)), overwrite: true);
        }

        return target;
    }

    private string SaveBytes(byte[] bytes, string extension)
    {
        Directory.CreateDirectory(_options.SaveDir!);
        var path = Path.Combine(_options.SaveDir!, $"failure-{_report.Failures.Count:D3}{extension}");
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
