using LlmSizer.Architecture;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Checkpoints.Safetensors;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Checkpoints;

/// <summary>Loads models from checkpoint files (safetensors, sharded indexes, GGUF), reading headers only.</summary>
/// <remarks>Accepted paths: a file whose bytes are GGUF, safetensors or a <c>*.safetensors.index.json</c> (its name does
/// not matter: the format is detected from the first bytes, <see cref="CheckpointFormats"/>); a model folder (an index,
/// else <c>model.safetensors</c>, else every <c>*.safetensors</c>, else a single <c>.gguf</c> or one gguf-split set);
/// a Hugging Face cache folder <c>models--org--name</c> (the snapshot that <c>refs/main</c> names, else the newest one);
/// a pipe or device under <c>/dev</c> (<c>/dev/stdin</c>), read whole up to <see cref="ModelLimits.MaxStreamBytes"/>.
/// A <c>config.json</c> beside safetensors supplies the architecture and family, so <see cref="InventoryComparison.Compare"/>
/// can check the files against the config. FIFOs, sockets and devices inside a model folder are refused, not opened.</remarks>
public static class CheckpointLoader
{
    /// <summary>Loads a checkpoint file or a folder of checkpoint files.</summary>
    /// <param name="path">A file or folder.</param>
    /// <returns>The model, or null when the path holds no checkpoint this loader reads (e.g. a plain config.json, or a
    /// folder with only config.json).</returns>
    /// <exception cref="ModelFileFormatException">A checkpoint file is damaged, unsupported, not a regular file, or a
    /// stream longer than <see cref="ModelLimits.MaxStreamBytes"/>.</exception>
    /// <exception cref="ModelConfigException">A config.json beside the weights is invalid.</exception>
    /// <exception cref="UnknownModelException">A folder holds several GGUF files (not one gguf-split set) and no safetensors.</exception>
    public static ModelInfo? TryLoad(string path) => Load(path, parseConfig: false).Model;

    /// <summary>Loads a path, and when it is a config.json (or unreadable as a checkpoint), parses it as a config: a
    /// pipe can be read only once, so the bytes read to detect the format are the ones parsed.</summary>
    internal static CheckpointLoadResult Load(string path, bool parseConfig)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var resolved = CheckpointSourceResolver.Resolve(path);
        switch (resolved.Kind)
        {
            case SourceKind.Index:
            {
                var index = resolved.Files[0];
                return new(LoadIndex(index, LocalFiles.ReadAll(index, ModelLimits.MaxJsonBytes, scanned: true), resolved.DisplayName, resolved.Folder), null);
            }

            case SourceKind.SafetensorsShards:
                return new(LoadSafetensors(ShardAssembly.ReadShards(resolved.Files), resolved.DisplayName, resolved.Folder, [.. resolved.Files]), null);

            case SourceKind.GgufSplit:
                return new(LoadGguf(resolved.Files[0], scanned: true) with { Name = resolved.DisplayName }, null);

            case SourceKind.File:
                bool scanned = !File.Exists(path);
                var model = LoadFile(resolved.Files[0], scanned, parseConfig, out var config);
                return new(scanned && model is not null ? model with { Name = resolved.DisplayName } : model, config);

            default:
                return new(null, null);
        }
    }

    /// <summary>Loads a GGUF file: tensors, metadata and the architecture from its hyperparameters. A gguf-split shard
    /// (<c>&lt;name&gt;-00001-of-00003.gguf</c>) loads the whole set: every shard's tensors, shard 1's metadata.</summary>
    /// <param name="path">The file, or any shard of a split set.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFileFormatException">The file is damaged or of an unsupported version, or a split set has a
    /// missing shard or disagreeing <c>split.no</c>/<c>split.count</c>/<c>split.tensors.count</c>.</exception>
    public static ModelInfo LoadGguf(string path) => LoadGguf(path, scanned: false);

    private static ModelInfo LoadGguf(string path, bool scanned)
    {
        if (GgufSplit.TryParse(path, out var split))
        {
            return ShardAssembly.LoadGgufSplit(split);
        }

        var source = LocalFiles.Open(path, scanned);
        try
        {
            return LoadGguf(source);
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    /// <summary>Loads a GGUF header from a synchronous byte source (a file or memory).</summary>
    internal static ModelInfo LoadGguf(ISynchronousByteSource source) => ShardAssembly.FromGgufFile(GgufReader.Read(source));

    /// <summary>Loads one checkpoint file (GGUF or safetensors, detected from its first bytes) from any byte source:
    /// a local file, memory, or a remote range reader. No side files are read (no config.json, no other shards).</summary>
    /// <param name="source">The source; a source of unknown length is buffered first, at most <see cref="ModelLimits.MaxStreamBytes"/>.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The model.</returns>
    /// <exception cref="ModelFileFormatException">The bytes are neither GGUF nor safetensors, or are damaged.</exception>
    /// <exception cref="IOException">A read failed.</exception>
    public static async ValueTask<ModelInfo> LoadAsync(IByteSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        source = await ByteSource.BufferAsync(source, ModelLimits.MaxStreamBytes, cancellationToken).ConfigureAwait(false);
        switch (await CheckpointFormats.DetectAsync(source, cancellationToken).ConfigureAwait(false))
        {
            case CheckpointFormat.Gguf:
                return ShardAssembly.FromGgufFile(await GgufReader.ReadAsync(source, null, cancellationToken).ConfigureAwait(false));
            case CheckpointFormat.Safetensors:
                var header = await SafetensorsReader.ReadAsync(source, cancellationToken).ConfigureAwait(false);
                return ShardAssembly.Build(Path.GetFileName(source.Name), SideConfig.None, [header], [source.Name], [], 0);
            default:
                throw new ModelFileFormatException(source.Name, 0,
                    $"{MessageText.Clean(source.Name, 400)}: byte 0: format: expected a GGUF file (magic \"GGUF\") or a safetensors file (an 8-byte header length, then '{{'); found neither.");
        }
    }

    /// <summary>For a Hugging Face cache folder, the snapshot folder to read (see <see cref="CheckpointSourceResolver"/>).</summary>
    internal static string ResolveHuggingFaceCache(string folder) => CheckpointSourceResolver.ResolveHuggingFaceCache(folder);

    private static ModelInfo? LoadFile(string path, bool scanned, bool parseConfig, out ConfigObject? config)
    {
        config = null;
        var source = LocalFiles.Open(path, scanned);
        try
        {
            var format = CheckpointFormats.Detect(source);
            if (format == CheckpointFormat.Unknown)
            {
                // The bytes say nothing: the name decides which reader reports what is wrong with them.
                format = path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? CheckpointFormat.Gguf
                    : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? CheckpointFormat.Safetensors
                    : path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || parseConfig ? CheckpointFormat.Json
                    : CheckpointFormat.Unknown;
            }

            var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
            switch (format)
            {
                case CheckpointFormat.Gguf:
                    if (GgufSplit.TryParse(path, out var split) && source is FileByteSource)
                    {
                        return ShardAssembly.LoadGgufSplit(split);
                    }

                    return LoadGguf(source);

                case CheckpointFormat.Safetensors:
                    var header = SafetensorsReader.Read(source);
                    return LoadSafetensors([header], Path.GetFileName(path), folder, [path]);

                case CheckpointFormat.Json:
                    var bytes = ReadJson(source, path);
                    if (ShardAssembly.LooksLikeIndex(bytes) || path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
                    {
                        return LoadIndex(path, bytes, CheckpointSourceResolver.DisplayName(folder), folder);
                    }

                    if (parseConfig)
                    {
                        config = ConfigObject.Parse(bytes, path);
                    }

                    return null;

                default:
                    return null;
            }
        }
        finally
        {
            (source as IDisposable)?.Dispose();
        }
    }

    private static byte[] ReadJson(ISynchronousByteSource source, string path)
    {
        long length = source.Length ?? 0;
        if (length > ModelLimits.MaxJsonBytes)
        {
            throw new ModelConfigException(path, null,
                $"{MessageText.Clean(path, 400)}: expected a JSON file (config.json or index) of at most {ModelLimits.MaxJsonBytes:N0} bytes; found {length:N0} bytes.");
        }

        var bytes = new byte[length];
        if (!source.TryReadExactly(0, bytes))
        {
            throw new ModelFileFormatException(path, 0, $"{MessageText.Clean(path, 400)}: the file shrank while it was read.");
        }

        return bytes;
    }

    private static ModelInfo LoadSafetensors(List<SafetensorsHeader> headers, string name, string folder, List<string> files) =>
        ShardAssembly.Build(name, SideConfig.Find(folder), headers, files, [], 0);

    private static ModelInfo LoadIndex(string indexPath, byte[] indexBytes, string name, string folder)
    {
        var (headers, shardPaths, warnings) = ShardAssembly.LoadIndexShards(indexPath, indexBytes);
        return ShardAssembly.Build(name, SideConfig.Find(folder), headers, [indexPath, .. shardPaths], warnings, indexBytes.Length);
    }
}

/// <summary>What a path held: a checkpoint model, or (when asked for) the config.json it is.</summary>
internal readonly record struct CheckpointLoadResult(ModelInfo? Model, ConfigObject? Config);
