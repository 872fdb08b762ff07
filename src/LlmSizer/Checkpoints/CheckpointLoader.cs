using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Checkpoints.Safetensors;
using LlmSizer.Errors;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer.Checkpoints;

/// <summary>Loads models from checkpoint files (safetensors, sharded indexes, GGUF), reading headers only.</summary>
/// <remarks>Accepted paths: a <c>.gguf</c> file (or any file starting with the GGUF magic); a <c>.safetensors</c> file;
/// a <c>*.safetensors.index.json</c>; a model folder (an index, else <c>model.safetensors</c>, else every
/// <c>*.safetensors</c>, else a single <c>.gguf</c>); a Hugging Face cache folder <c>models--org--name</c> (the snapshot
/// that <c>refs/main</c> names, else the newest one). A <c>config.json</c> beside safetensors supplies the architecture
/// and family, so <see cref="InventoryComparison.Compare"/> can check the files against the config.</remarks>
public static class CheckpointLoader
{
    // The largest index.json read (real ones are well under 1 MB).
    private const long MaxIndexBytes = 64L * 1024 * 1024;

    /// <summary>Loads a checkpoint file or a folder of checkpoint files.</summary>
    /// <param name="path">A file or folder.</param>
    /// <returns>The model, or null when the path holds no checkpoint this loader reads (e.g. a plain config.json, or a
    /// folder with only config.json).</returns>
    /// <exception cref="ModelFileFormatException">A checkpoint file is damaged or unsupported.</exception>
    /// <exception cref="ModelConfigException">A config.json beside the weights is invalid.</exception>
    /// <exception cref="UnknownModelException">A folder holds several GGUF files (not one gguf-split set) and no safetensors.</exception>
    public static ModelInfo? TryLoad(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(path))
        {
            if (path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            {
                return LoadIndex(path, DisplayName(Path.GetDirectoryName(Path.GetFullPath(path))!));
            }

            if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                return LoadSafetensors([path], Path.GetFileName(path), Path.GetDirectoryName(Path.GetFullPath(path))!);
            }

            if (path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || StartsWithGgufMagic(path))
            {
                return LoadGguf(path);
            }

            return null;
        }

        if (!Directory.Exists(path))
        {
            return null;
        }

        string folder = ResolveHuggingFaceCache(path);
        string name = DisplayName(path);
        var index = Path.Combine(folder, "model.safetensors.index.json");
        if (!File.Exists(index))
        {
            index = Directory.EnumerateFiles(folder, "*.safetensors.index.json").Order(StringComparer.Ordinal).FirstOrDefault() ?? index;
        }

        if (File.Exists(index))
        {
            return LoadIndex(index, name);
        }

        var single = Path.Combine(folder, "model.safetensors");
        var shards = File.Exists(single) ? [single] : Directory.EnumerateFiles(folder, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (shards.Count > 0)
        {
            return LoadSafetensors(shards, name, folder);
        }

        var ggufs = Directory.EnumerateFiles(folder, "*.gguf").Order(StringComparer.Ordinal).ToList();
        if (ggufs.Count == 1)
        {
            return LoadGguf(ggufs[0]) with { Name = name };
        }

        if (ggufs.Count > 1)
        {
            // One gguf-split set (and nothing else): load it from its first shard.
            var sets = ggufs.Select(g => GgufSplit.TryParse(g, out var sp) ? sp : null).ToList();
            if (sets.All(sp => sp is not null) && sets.Select(sp => sp!.Prefix).Distinct(StringComparer.Ordinal).Count() == 1)
            {
                return LoadGgufSplit(sets[0]!) with { Name = name };
            }

            throw new UnknownModelException(
                $"{path}: expected one .gguf file in the folder; found {ggufs.Count} ({string.Join(", ", ggufs.Select(Path.GetFileName).Take(6))}): name the file.");
        }

        return null;
    }

    /// <summary>Loads a GGUF file: tensors, metadata and the architecture from its hyperparameters. A gguf-split shard
    /// (<c>&lt;name&gt;-00001-of-00003.gguf</c>) loads the whole set: every shard's tensors, shard 1's metadata.</summary>
    /// <param name="path">The file, or any shard of a split set.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFileFormatException">The file is damaged or of an unsupported version, or a split set has a
    /// missing shard or disagreeing <c>split.no</c>/<c>split.count</c>/<c>split.tensors.count</c>.</exception>
    public static ModelInfo LoadGguf(string path)
    {
        if (GgufSplit.TryParse(path, out var split))
        {
            return LoadGgufSplit(split);
        }

        using var source = new FileByteSource(path);
        return LoadGguf(source);
    }

    /// <summary>Loads a GGUF header from any byte source (a file, memory, or a remote range reader).</summary>
    internal static ModelInfo LoadGguf(IByteSource source)
    {
        var file = GgufReader.Read(source);
        var model = FromGguf(file, [file.Path]);
        if (file.Get(GgufSplit.CountKey) is { } countValue && countValue.TryGetInt64(out long count) && count > 1)
        {
            // Read alone (a byte source, or a shard not named <name>-0000N-of-0000M.gguf), a shard holds part of the tensors.
            return model with
            {
                Warnings = [string.Create(CultureInfo.InvariantCulture,
                    $"{file.Path}: split.count is {count}: only this shard's {file.Tensors.Count} tensors are counted; load the set from its first shard named <name>-00001-of-{count:D5}.gguf.")],
            };
        }

        return model;
    }

    /// <summary>Loads every shard of a gguf-split set: one inventory, the metadata and architecture of shard 1.</summary>
    private static ModelInfo LoadGgufSplit(GgufSplit split)
    {
        // llama.cpp gguf-split (tools/gguf-split/gguf-split.cpp) writes split.no (u16, 0-based), split.count (u16) and
        // split.tensors.count (i32, tensors in all shards) into every shard; shard 1 alone holds the model's metadata.
        var files = new List<GgufFile>(split.Count);
        var paths = new List<string>(split.Count);
        for (int i = 1; i <= split.Count; i++)
        {
            var shardPath = split.PathOf(i);
            if (!File.Exists(shardPath))
            {
                throw GgufThrowHelper.Error(split.PathOf(1), 0, GgufSplit.CountKey, $"{split.Count} shards, including {Path.GetFileName(shardPath)}", "no such file");
            }

            var f = GgufReader.Read(shardPath);
            long no = SplitInt(f, GgufSplit.NoKey);
            if (no != i - 1)
            {
                throw GgufThrowHelper.Error(shardPath, 0, GgufSplit.NoKey, (i - 1).ToString(CultureInfo.InvariantCulture) + " (0-based, from the file name)",
                    no.ToString(CultureInfo.InvariantCulture));
            }

            long count = SplitInt(f, GgufSplit.CountKey);
            if (count != split.Count)
            {
                throw GgufThrowHelper.Error(shardPath, 0, GgufSplit.CountKey, split.Count.ToString(CultureInfo.InvariantCulture) + " (from the file name)",
                    count.ToString(CultureInfo.InvariantCulture));
            }

            files.Add(f);
            paths.Add(shardPath);
        }

        var first = files[0];
        long declared = SplitInt(first, GgufSplit.TensorsCountKey);
        var tensors = new List<GgufTensor>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        long bytes = 0;
        foreach (var f in files)
        {
            bytes = checked(bytes + f.FileLength);
            foreach (var t in f.Tensors)
            {
                if (!seen.TryAdd(t.Name, f.Path))
                {
                    throw GgufThrowHelper.Error(f.Path, 0, $"tensor '{t.Name}'", "a name held by one shard only", $"it also in {seen[t.Name]}");
                }

                tensors.Add(t);
            }
        }

        if (tensors.Count != declared)
        {
            throw GgufThrowHelper.Error(first.Path, 0, GgufSplit.TensorsCountKey, declared.ToString(CultureInfo.InvariantCulture) + " tensors in all shards",
                tensors.Count.ToString(CultureInfo.InvariantCulture));
        }

        var merged = new GgufFile
        {
            Path = first.Path,
            Version = first.Version,
            FileLength = bytes,
            Metadata = first.Metadata,
            Tensors = tensors,
            Alignment = first.Alignment,
            HeaderLength = first.HeaderLength,
            DataStart = first.DataStart,
        };
        return FromGguf(merged, paths) with { Name = split.DisplayName };
    }

    private static long SplitInt(GgufFile file, string key)
    {
        if (file.Get(key) is not { } value || value.IsArray || !value.TryGetInt64(out long v) || v < 0)
        {
            throw GgufThrowHelper.Error(file.Path, 0, key, "a non-negative integer (a gguf-split shard)", file.Get(key)?.ToString() ?? "none");
        }

        return v;
    }

    private static ModelInfo FromGguf(GgufFile file, List<string> files)
    {
        string path = file.Path;
        bool? tied = file.Tensors.Count == 0 ? null : !file.Tensors.Any(t => t.Name == "output.weight");
        var spec = GgufArchitecture.TryRead(file, tied);
        var tensors = new TensorInfo[file.Tensors.Count];
        var shapes = new ShapeCache();
        Span<long> dims = stackalloc long[8];
        for (int i = 0; i < tensors.Length; i++)
        {
            // GGUF lists dimensions innermost first; TensorInfo lists them outermost first (the reader allows at most 4).
            var t = file.Tensors[i];
            int n = t.Dims.Length;
            for (int d = 0; d < n; d++)
            {
                dims[d] = t.Dims[n - 1 - d];
            }

            tensors[i] = TensorClassifier.Classify(t.Name, shapes.Get(dims[..n]), t.DataType);
        }

        return new ModelInfo
        {
            Name = Path.GetFileName(path),
            Source = ModelSourceKind.Gguf,
            Architecture = spec,
            Inventory = Inventory(TensorClassifier.Finish(tensors, spec)),
            Files = files,
            FileBytes = new ByteSize(file.FileLength),
            Metadata = GgufArchitecture.DisplayMetadata(file),
            FormatVersion = (int)file.Version,
            Alignment = (int)file.Alignment,
        };
    }

    private static ModelInfo LoadSafetensors(List<string> files, string name, string folder)
    {
        var headers = new List<SafetensorsHeader>(files.Count);
        foreach (var f in files)
        {
            headers.Add(SafetensorsReader.Read(f));
        }

        return Build(name, folder, headers, [.. files], []);
    }

    private static ModelInfo LoadIndex(string indexPath, string name)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var (weightMap, totalSize) = ReadIndex(indexPath);
        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var headers = new List<SafetensorsHeader>(shardNames.Count);
        var shardPaths = new List<string>(shardNames.Count);
        foreach (var shard in shardNames)
        {
            var shardPath = Path.Combine(folder, shard);
            if (!File.Exists(shardPath))
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, $"weight_map shard '{shard}'", "a file beside the index", "no such file");
            }

            shardPaths.Add(shardPath);
            headers.Add(SafetensorsReader.Read(shardPath));
        }

        var byShard = headers.ToDictionary(h => Path.GetFileName(h.Path), h => h.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (!byShard[shard].Contains(tensor))
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, $"weight_map '{tensor}'", $"a tensor in '{shard}'", "none of that name in the shard");
            }
        }

        var warnings = new List<string>();
        long dataBytes = headers.Sum(h => h.DataBytes);
        if (totalSize is { } declared && declared != dataBytes)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{indexPath}: metadata.total_size is {declared:N0} bytes but the shards hold {dataBytes:N0} bytes of tensors."));
        }

        return Build(name, folder, headers, [indexPath, .. shardPaths], warnings);
    }

    private static ModelInfo Build(string name, string folder, List<SafetensorsHeader> headers, List<string> files, List<string> warnings)
    {
        (ArchitectureSpec Spec, IArchitectureFamily Family)? read = null;
        var config = Path.Combine(folder, "config.json");
        int? packedBits = null;
        if (File.Exists(config))
        {
            var parsed = ConfigObject.Load(config);

            // Bits per packed weight: GPTQ/AWQ quantization_config.bits, MLX quantization.bits (both pack into 32-bit words).
            packedBits = parsed.Object("quantization_config")?.OptionalInt("bits") ?? parsed.Object("quantization")?.OptionalInt("bits");
            try
            {
                read = HuggingFaceConfigReader.Read(parsed);
            }
            catch (UnsupportedArchitectureException e)
            {
                warnings.Add(e.Message + " Counting the tensors in the files only.");
            }
        }

        TensorInfo[] tensors;
        if (headers.Count == 1)
        {
            // One file: its array becomes the inventory's (no copy).
            tensors = headers[0].Tensors;
        }
        else
        {
            int total = 0;
            foreach (var h in headers)
            {
                total = checked(total + h.Tensors.Length);
            }

            tensors = new TensorInfo[total];

            // Names are unique within a file (the reader checks); across shards they must be unique too.
            var seen = new Dictionary<string, string>(total, StringComparer.Ordinal);
            int at = 0;
            foreach (var h in headers)
            {
                foreach (var t in h.Tensors)
                {
                    if (!seen.TryAdd(t.Name, h.Path))
                    {
                        throw SafetensorsThrowHelper.Error(h.Path, null, $"tensor '{t.Name}'", "a name held by one shard only", $"it also in {seen[t.Name]}");
                    }

                    tensors[at++] = t;
                }
            }
        }

        // Shard sizes come from the opened files (a Hugging Face snapshot holds symlinks to blobs); the index is stat'ed.
        long bytes = 0;
        foreach (var h in headers)
        {
            bytes = checked(bytes + h.FileLength);
        }

        foreach (var f in files)
        {
            if (f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                bytes = checked(bytes + new FileInfo(f).Length);
            }
        }

        return new ModelInfo
        {
            Name = name,
            Source = ModelSourceKind.Safetensors,
            Architecture = read?.Spec,
            Family = read?.Family,
            Inventory = Inventory(TensorClassifier.Finish(tensors, read?.Spec, packedBits)),
            Files = files,
            FileBytes = new ByteSize(bytes),
            Metadata = FirstMetadata(headers),
            Warnings = warnings,
        };
    }

    private static IReadOnlyDictionary<string, string>? FirstMetadata(List<SafetensorsHeader> headers)
    {
        foreach (var h in headers)
        {
            if (h.Metadata is not null)
            {
                return h.Metadata;
            }
        }

        return null;
    }

    // The inventory takes the array as is: ToImmutableArray returns a boxed ImmutableArray without copying it.
    private static TensorInventory Inventory(TensorInfo[] tensors) => new(ImmutableCollectionsMarshal.AsImmutableArray(tensors));

    private static (Dictionary<string, string> WeightMap, long? TotalSize) ReadIndex(string indexPath)
    {
        var length = new FileInfo(indexPath).Length;
        if (length > MaxIndexBytes)
        {
            throw SafetensorsThrowHelper.Error(indexPath, 0, "index", $"at most {MaxIndexBytes:N0} bytes", $"{length:N0}");
        }

        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 8 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, "weight_map", "an object mapping tensor names to shard files", "none");
            }

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                var shard = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : "";
                if (shard.Length == 0 || Path.GetFileName(shard) != shard || shard is "." or "..")
                {
                    throw SafetensorsThrowHelper.Error(indexPath, null, $"weight_map '{p.Name}'", "a shard file name in the same folder", $"'{p.Value}'");
                }

                weightMap[p.Name] = shard;
            }

            long? total = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("total_size", out var ts))
            {
                if (ts.ValueKind == JsonValueKind.Number && ts.TryGetInt64(out var v))
                {
                    total = v;
                }
                else if (ts.ValueKind == JsonValueKind.String && long.TryParse(ts.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var sv))
                {
                    total = sv;
                }
            }

            return (weightMap, total);
        }
        catch (JsonException e)
        {
            throw SafetensorsThrowHelper.Error(indexPath, e.BytePositionInLine, "index", "valid JSON", e.Message.ReplaceLineEndings(" "));
        }
    }

    /// <summary>For a Hugging Face cache folder (<c>models--org--name</c> with <c>snapshots/</c>), the snapshot folder
    /// that <c>refs/main</c> names, else the most recently written one; any other folder is returned as is.</summary>
    internal static string ResolveHuggingFaceCache(string folder)
    {
        var snapshots = Path.Combine(folder, "snapshots");
        if (!Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))).StartsWith("models--", StringComparison.Ordinal) || !Directory.Exists(snapshots))
        {
            return folder;
        }

        var refMain = Path.Combine(folder, "refs", "main");
        if (File.Exists(refMain))
        {
            var rev = File.ReadAllText(refMain).Trim();
            var candidate = Path.Combine(snapshots, rev);
            if (rev.Length > 0 && Path.GetFileName(rev) == rev && Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return Directory.EnumerateDirectories(snapshots).OrderByDescending(Directory.GetLastWriteTimeUtc).FirstOrDefault() ?? folder;
    }

    private static string DisplayName(string folder)
    {
        var leaf = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder)));
        if (leaf.StartsWith("models--", StringComparison.Ordinal))
        {
            var parts = leaf["models--".Length..].Split("--");
            return string.Join('/', parts);
        }

        return leaf;
    }

    private static bool StartsWithGgufMagic(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var handle = File.OpenHandle(path);
        return RandomAccess.Read(handle, magic, 0) == 4 && magic.SequenceEqual("GGUF"u8);
    }
}
