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

/// <summary>Builds one model from checkpoint headers: a GGUF file or gguf-split set, and safetensors files (one, the
/// shards of a folder, or those an index names), checking that the parts agree.</summary>
internal static class ShardAssembly
{
    /// <summary>A model from one GGUF header (a byte source, or a shard read alone: then with a warning).</summary>
    public static ModelInfo FromGgufFile(GgufFile file)
    {
        var model = FromGguf(file, [file.Path]);
        if (file.Get(GgufSplit.CountKey) is { } countValue && countValue.TryGetInt64(out long count) && count > 1)
        {
            // Read alone (a byte source, or a shard not named <name>-0000N-of-0000M.gguf), a shard holds part of the tensors.
            return model with
            {
                Warnings = [.. model.Warnings, MessageText.Clean(string.Create(CultureInfo.InvariantCulture,
                    $"{file.Path}: split.count is {count}: only this shard's {file.Tensors.Count} tensors are counted; load the set from its first shard named <name>-00001-of-{count:D5}.gguf."), 600)],
            };
        }

        return model;
    }

    /// <summary>Loads every shard of a gguf-split set: one inventory, the metadata and architecture of shard 1.</summary>
    public static ModelInfo LoadGgufSplit(GgufSplit split)
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

            GgufFile f;
            var source = LocalFiles.Open(shardPath, scanned: true);
            try
            {
                f = GgufReader.Read(source);
            }
            finally
            {
                (source as IDisposable)?.Dispose();
            }

            long no = SplitInt(f, GgufSplit.NoKey);
            if (no != i - 1)
            {
                throw GgufThrowHelper.Error(shardPath, f.OffsetOf(GgufSplit.NoKey), GgufSplit.NoKey, (i - 1).ToString(CultureInfo.InvariantCulture) + " (0-based, from the file name)",
                    no.ToString(CultureInfo.InvariantCulture));
            }

            long count = SplitInt(f, GgufSplit.CountKey);
            if (count != split.Count)
            {
                throw GgufThrowHelper.Error(shardPath, f.OffsetOf(GgufSplit.CountKey), GgufSplit.CountKey, split.Count.ToString(CultureInfo.InvariantCulture) + " (from the file name)",
                    count.ToString(CultureInfo.InvariantCulture));
            }

            files.Add(f);
            paths.Add(shardPath);
        }

        return FromGgufShards(files, paths, split.DisplayName);
    }

    /// <summary>Merges the shards of a gguf-split set already read and checked in order (split.no 0, 1, ...): one
    /// inventory, the metadata of shard 1, tensor names unique across shards and split.tensors.count right.</summary>
    public static ModelInfo FromGgufShards(List<GgufFile> files, List<string> paths, string displayName)
    {
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
            throw GgufThrowHelper.Error(first.Path, first.OffsetOf(GgufSplit.TensorsCountKey), GgufSplit.TensorsCountKey, declared.ToString(CultureInfo.InvariantCulture) + " tensors in all shards",
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
        return FromGguf(merged, paths) with { Name = displayName };
    }

    /// <summary>A non-negative integer gguf-split key of a shard (split.no, split.count, split.tensors.count).</summary>
    public static long SplitInt(GgufFile file, string key)
    {
        if (file.Get(key) is not { } value || value.IsArray || !value.TryGetInt64(out long v) || v < 0)
        {
            throw GgufThrowHelper.Error(file.Path, file.OffsetOf(key), key, "a non-negative integer (a gguf-split shard)", file.Get(key)?.ToString() ?? "none");
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

        // An architecture we have no family for is still counted exactly from its tensors; say which parts are generic.
        var warnings = new List<string>();
        // (An mmproj file, architecture "clip", is the vision part of a model: MmprojNote says so.)
        if (file.Architecture is { Length: > 0 } arch && arch != "clip")
        {
            string a = MessageText.Clean(arch, 80);
            if (spec is null)
            {
                warnings.Add(MessageText.Clean($"{path}: general.architecture '{a}' has no {a}.block_count, {a}.embedding_length or {a}.attention.head_count: parameters come from the tensors; memory cannot be estimated without them.", 600));
            }
            else if (GgufArchitecture.GenericGeometryNote(arch, spec, ArchitectureRegistry.Default.TryGet(spec.Family, out _)) is { } note)
            {
                warnings.Add(MessageText.Clean($"{path}: architecture '{a}' {note}", 600));
            }
        }

        return new ModelInfo
        {
            Name = Path.GetFileName(path),
            Source = ModelSourceKind.Gguf,
            Architecture = spec,
            Warnings = [.. MmprojNote(file), .. warnings],
            Inventory = Inventory(TensorClassifier.Finish(tensors, spec)),
            Files = files,
            FileBytes = new ByteSize(file.FileLength),
            Metadata = GgufArchitecture.DisplayMetadata(file),
            FormatVersion = (int)file.Version,
            Alignment = (int)file.Alignment,
        };
    }

    /// <summary>A note for a llama.cpp multimodal projector file (mmproj, <c>general.architecture</c> "clip"): its tensors
    /// are the vision tower (<c>v.</c>), audio encoder (<c>a.</c>) and projector (<c>mm.</c>) of a model whose language model
    /// is another GGUF file (tools/mtmd/clip-impl.h <c>KEY_PROJ_TYPE</c> "clip.projector_type", <c>KEY_HAS_VISION_ENC</c>
    /// "clip.has_vision_encoder", <c>KEY_HAS_AUDIO_ENC</c> "clip.has_audio_encoder").</summary>
    private static IReadOnlyList<string> MmprojNote(GgufFile file)
    {
        if (!string.Equals(file.Architecture, "clip", StringComparison.Ordinal))
        {
            return [];
        }

        var type = (file.Get("clip.projector_type") ?? file.Get("clip.vision.projector_type"))?.Scalar as string;
        var parts = new List<string>(3);
        if (file.Get("clip.has_vision_encoder")?.Scalar is not false)
        {
            parts.Add("vision tower");
        }

        if (file.Get("clip.has_audio_encoder")?.Scalar is true)
        {
            parts.Add("audio encoder");
        }

        parts.Add("projector");
        return [MessageText.Clean(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(file.Path)} is a multimodal projector file (mmproj{(type is null ? "" : $", clip.projector_type '{type}'")}): the {string.Join(", ", parts)} of a model whose language model is a separate GGUF; memory needs that file."), 600)];
    }

    /// <summary>Reads safetensors files found in a folder (never a FIFO or device; see <see cref="LocalFiles"/>).</summary>
    public static List<SafetensorsHeader> ReadShards(IEnumerable<string> files)
    {
        var headers = new List<SafetensorsHeader>();
        foreach (var f in files)
        {
            var source = LocalFiles.Open(f, scanned: true);
            try
            {
                headers.Add(SafetensorsReader.Read(source));
            }
            finally
            {
                (source as IDisposable)?.Dispose();
            }
        }

        return headers;
    }

    /// <summary>Loads the shards an index names, checking that each tensor of its weight_map is in the shard it names.</summary>
    public static (List<SafetensorsHeader> Headers, List<string> ShardPaths, List<string> Warnings) LoadIndexShards(string indexPath, ReadOnlySpan<byte> indexBytes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;
        var (weightMap, totalSize) = ReadIndex(indexPath, indexBytes);
        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var shardPaths = new List<string>(shardNames.Count);
        foreach (var shard in shardNames)
        {
            var shardPath = Path.Combine(folder, shard);
            if (!File.Exists(shardPath))
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, $"weight_map shard '{shard}'", "a file beside the index", "no such file");
            }

            shardPaths.Add(shardPath);
        }

        var headers = ReadShards(shardPaths);
        return (headers, shardPaths, CheckIndex(indexPath, weightMap, totalSize, headers));
    }

    /// <summary>Checks shards read against the index that named them: each tensor of the weight_map in the shard it
    /// names (shards are matched by file name), and <c>metadata.total_size</c> against the tensor bytes (a warning).</summary>
    /// <returns>The warnings.</returns>
    public static List<string> CheckIndex(string indexPath, Dictionary<string, string> weightMap, long? totalSize, List<SafetensorsHeader> headers)
    {
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
            warnings.Add(MessageText.Clean(string.Create(CultureInfo.InvariantCulture,
                $"{indexPath}: metadata.total_size is {declared:N0} bytes but the shards hold {dataBytes:N0} bytes of tensors."), 600));
        }

        return warnings;
    }

    /// <summary>Merges headers into one model, with the architecture of a side config when there is one.</summary>
    public static ModelInfo Build(string name, SideConfig side, List<SafetensorsHeader> headers, List<string> files, List<string> warnings, long extraBytes)
    {
        if (side.Warning is { } w)
        {
            warnings.Add(w);
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

        // Shard sizes come from the opened files (a Hugging Face snapshot holds symlinks to blobs); the index adds its own.
        long bytes = extraBytes;
        foreach (var h in headers)
        {
            bytes = checked(bytes + h.FileLength);
        }

        return new ModelInfo
        {
            Name = name,
            Source = ModelSourceKind.Safetensors,
            Architecture = side.Read?.Spec ?? side.Generic,
            Family = side.Read?.Family,
            Inventory = Inventory(TensorClassifier.Finish(tensors, side.Read?.Spec ?? side.Generic, side.PackedBits)),
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

    /// <summary>True when a JSON document's root object has a <c>weight_map</c> key: an index, not a config.</summary>
    public static bool LooksLikeIndex(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("weight_map"u8))
                {
                    return true;
                }

                reader.Read();
                reader.Skip();
            }
        }
        catch (JsonException)
        {
            // Not valid JSON: the config reader gives the message.
        }
        catch (InvalidOperationException)
        {
            // An invalid escape: likewise.
        }

        return false;
    }

    /// <summary>Parses an index: its weight_map (tensor to shard file name, checked to be plain file names) and total_size.</summary>
    public static (Dictionary<string, string> WeightMap, long? TotalSize) ReadIndex(string indexPath, ReadOnlySpan<byte> bytes)
    {
        if (JsonText.FindInvalidUtf8(bytes) is { } bad)
        {
            throw SafetensorsThrowHelper.Error(indexPath, bad, "index", "UTF-8 JSON", "invalid UTF-8 bytes");
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
            var root = doc.RootElement;
            if (JsonText.FindInvalidString(root) is { } badPath)
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, badPath.Length == 0 ? "index" : badPath, "valid JSON strings", "an invalid escape (a lone UTF-16 surrogate such as \\ud800)");
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw SafetensorsThrowHelper.Error(indexPath, null, "weight_map", "an object mapping tensor names to shard files", "none");
            }

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                var shard = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : "";
                if (shard.Length == 0 || Path.GetFileName(shard) != shard || shard is "." or ".." || shard.Contains('\0', StringComparison.Ordinal))
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
}

/// <summary>The config.json beside checkpoint files: the architecture and family it names, and the bits of packed
/// weights (GPTQ/AWQ <c>quantization_config.bits</c>, MLX <c>quantization.bits</c>).</summary>
/// <param name="Read">The spec and family, when the config is there and its family supported.</param>
/// <param name="PackedBits">Bits per packed weight, when the config says.</param>
/// <param name="Warning">Why the config was not used (an unsupported family), when it was not.</param>
internal sealed record SideConfig((ArchitectureSpec Spec, IArchitectureFamily Family)? Read, int? PackedBits, string? Warning)
{
    /// <summary>For a config whose family has no reader: the generic attention geometry (no family, no generator).</summary>
    public ArchitectureSpec? Generic { get; init; }

    public static SideConfig None { get; } = new(null, null, null);

    /// <summary>Reads <c>config.json</c> in <paramref name="folder"/>, if there is one.</summary>
    /// <exception cref="ModelConfigException">It is there but invalid.</exception>
    public static SideConfig Find(string folder)
    {
        var config = Path.Combine(folder, "config.json");
        if (!File.Exists(config))
        {
            return None;
        }

        return FromConfig(ConfigObject.Load(config, scanned: true));
    }

    /// <summary>Reads a parsed config.json (a local one, or one fetched from the Hub). A <c>model_type</c> without a
    /// family reader still gives the generic attention geometry of <see cref="GenericGeometry"/> when the standard
    /// fields are there, so memory can be estimated; the parameters stay those of the files.</summary>
    /// <exception cref="ModelConfigException">The config is invalid.</exception>
    public static SideConfig FromConfig(ConfigObject parsed)
    {
        // Both quantizers pack into 32-bit words.
        int? packedBits = parsed.Object("quantization_config")?.OptionalInt("bits") ?? parsed.Object("quantization")?.OptionalInt("bits");
        try
        {
            // The files' own tensor types are sized, so the config's quantization_config is not read (an unknown
            // quant_method does not stop a checkpoint from loading).
            return new SideConfig(HuggingFaceConfigReader.Read(parsed, null, readQuantization: false), packedBits, null);
        }
        catch (UnsupportedArchitectureException e)
        {
            var modelType = parsed.String("model_type") ?? "unknown";
            if (GenericGeometry.TryRead(parsed, modelType, out var described) is { } generic)
            {
                return new SideConfig(null, packedBits,
                    e.Message + $" Parameters, dtypes and weight bytes are exact from the files' headers; memory uses a generic attention geometry from config.json ({described}): family-specific layouts (sliding windows, MLA, SSM layers) are not seen.")
                {
                    Generic = generic,
                };
            }

            return new SideConfig(null, packedBits, e.Message + " Counting the tensors in the files only.");
        }
    }
}
