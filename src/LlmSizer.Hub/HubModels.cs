using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Checkpoints.Safetensors;
using LlmSizer.Errors;

namespace LlmSizer.Hub;

/// <summary>How to load a remote model.</summary>
public sealed record HubLoadOptions
{
    /// <summary>The endpoint, token and caches (default: <see cref="HubEnvironment.FromProcess"/>).</summary>
    public HubEnvironment? Environment { get; init; }

    /// <summary>Retries, timeouts, concurrency.</summary>
    public HubClientOptions Client { get; init; } = new();

    /// <summary>Ignore both caches and fetch again (the fetched headers still replace the cached ones).</summary>
    public bool Refresh { get; init; }

    /// <summary>Told after each checkpoint file has been read, when a model has several.</summary>
    public IProgress<HubProgress>? Progress { get; init; }
}

/// <summary>Progress of a multi-file read.</summary>
/// <param name="File">The file just read (a path in the repository).</param>
/// <param name="Done">Files read so far.</param>
/// <param name="Total">Files to read.</param>
public sealed record HubProgress(string File, int Done, int Total);

/// <summary>Where a remote model's bytes came from.</summary>
public enum HubOrigin
{
    /// <summary>At least one file was fetched from the network.</summary>
    Network,

    /// <summary>The Hugging Face cache held the snapshot: nothing was asked of the network.</summary>
    HuggingFaceCache,

    /// <summary>Our header cache held every file; at most the revision was revalidated.</summary>
    HeaderCache,
}

/// <summary>What a load moved over the network.</summary>
/// <param name="Origin">Where the bytes came from.</param>
/// <param name="Requests">HTTP requests sent (redirect hops and retries included).</param>
/// <param name="BytesReceived">Body bytes received (API answers, configs and file headers).</param>
/// <param name="FileBytesReceived">Body bytes of checkpoint files (headers) received.</param>
/// <param name="FilesFromCache">Files whose bytes came from the header cache.</param>
/// <param name="FilesFetched">Files fetched from the network.</param>
public sealed record HubTransfer(HubOrigin Origin, long Requests, long BytesReceived, long FileBytesReceived, int FilesFromCache, int FilesFetched);

/// <summary>A remote model and what loading it cost.</summary>
/// <param name="Model">The model.</param>
/// <param name="Transfer">The network cost.</param>
public sealed record HubLoadResult(ModelInfo Model, HubTransfer Transfer);

/// <summary>Loads models from the Hugging Face Hub (<c>hf:org/name</c> and its forms, see <see cref="HubModelReference"/>)
/// and from http(s) URLs of checkpoint files, reading config.json, the safetensors index and each file's header (or
/// a GGUF file's metadata and tensor infos) with range requests: a 400B model costs kilobytes. The Hugging Face cache is
/// read first (no network when it holds the snapshot), and what is fetched is kept in our own header cache.</summary>
/// <example><code>
/// var result = await HubModels.LoadAsync("hf:Qwen/Qwen3-0.6B");
/// var report = Sizer.Parameters(new ParametersRequest { Model = new ModelRequest { Loaded = result.Model } }).Report;
/// </code></example>
public static class HubModels
{
    /// <summary>True for arguments this reader handles (<c>hf:</c> ids and http(s) URLs).</summary>
    /// <param name="model">The model argument.</param>
    /// <returns>Whether it is remote.</returns>
    public static bool IsRemote(string? model) => HubModelReference.IsRemote(model);

    /// <summary>Loads a remote model.</summary>
    /// <param name="model">An <c>hf:</c> id or an http(s) URL.</param>
    /// <param name="options">Environment, caches, progress.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>The model and the transfer it took.</returns>
    /// <exception cref="UnknownModelException">The argument is malformed, or names several GGUF models without a choice.</exception>
    /// <exception cref="RemoteModelException">The server refused (401/403), has no such repository, revision or file (404),
    /// failed, timed out or cannot be reached, or the network is off (<c>HF_HUB_OFFLINE</c>) and the caches lack the model.</exception>
    /// <exception cref="ModelFileFormatException">A checkpoint header is damaged or hostile.</exception>
    /// <exception cref="ModelConfigException">The config.json or index is invalid.</exception>
    public static async Task<HubLoadResult> LoadAsync(string model, HubLoadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new HubLoadOptions();
        var environment = options.Environment ?? HubEnvironment.FromProcess();
        var reference = HubModelReference.Parse(model);
        using var http = new HubHttp(environment, options.Client);
        var loader = new Loader(http, new HeaderCache(environment.HeaderCache, options.Client.MaxHeaderBytes), environment, options, reference);
        var loaded = await loader.LoadAsync(cancellationToken).ConfigureAwait(false);
        var origin = loader.FromHuggingFaceCache ? HubOrigin.HuggingFaceCache : loader.Fetched == 0 ? HubOrigin.HeaderCache : HubOrigin.Network;
        return new HubLoadResult(loaded, new HubTransfer(origin, http.Counter.Requests, http.Counter.Bytes, http.Counter.FileBytes, loader.FromCache, loader.Fetched));
    }

    private sealed class Loader(HubHttp http, HeaderCache cache, HubEnvironment environment, HubLoadOptions options, HubModelReference reference)
    {
        private readonly string _what = reference.Repo is null ? HubHttp.Safe(reference.Url!) : HubModelReference.Prefix + reference.DisplayName;
        private int _fromCache;
        private int _fetched;

        public bool FromHuggingFaceCache { get; private set; }

        public int FromCache => _fromCache;

        public int Fetched => _fetched;

        public async Task<ModelInfo> LoadAsync(CancellationToken cancellationToken)
        {
            if (reference.Url is { } url)
            {
                return await LoadUrlAsync(url, cancellationToken).ConfigureAwait(false);
            }

            string repo = reference.Repo!;
            string? missing = null;
            if (!options.Refresh)
            {
                var local = HuggingFaceCache.TryLoad(environment.HuggingFaceCache, reference, _what, out missing);
                if (local is not null)
                {
                    FromHuggingFaceCache = true;
                    return local with { Name = reference.DisplayName };
                }
            }

            var (commit, files) = await ResolveRevisionAsync(repo, missing, cancellationToken).ConfigureAwait(false);
            if (reference.FilePath is null && reference.Quant is null
                && await TryLoadComponentsAsync(repo, commit, files, cancellationToken).ConfigureAwait(false) is { } pipeline)
            {
                return pipeline with { Name = reference.DisplayName };
            }

            var selection = HubFileSelector.Select(files, reference, _what);
            var warnings = new List<string>();
            if (selection.Kind == SelectionKind.Gguf && reference.FilePath is null)
            {
                foreach (var projector in files.Where(f => f.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && HubFileSelector.IsProjector(f)).Order(StringComparer.Ordinal).Take(4))
                {
                    warnings.Add($"{_what}: {MessageText.Clean(projector, 200)} (a vision projector) is not counted with the language model; size it with hf:{repo}/{MessageText.Clean(projector, 200)}.");
                }
            }

            var model = selection.Kind == SelectionKind.Gguf
                ? await LoadGgufAsync(repo, commit, selection.Files, cancellationToken).ConfigureAwait(false)
                : await LoadSafetensorsAsync(repo, commit, selection, cancellationToken).ConfigureAwait(false);
            return model with { Name = reference.DisplayName, Warnings = [.. model.Warnings, .. warnings] };
        }

        /// <summary>A repository of several weighted components, counted together with tensors named by component: a
        /// Diffusers pipeline (<c>model_index.json</c>; each folder with a config.json and safetensors weights) or a
        /// sentence-transformers model (<c>modules.json</c>; the transformer at the root plus its Dense modules). Null
        /// for any other layout.</summary>
        private async Task<ModelInfo?> TryLoadComponentsAsync(string repo, string commit, IReadOnlyCollection<string> files, CancellationToken cancellationToken)
        {
            var set = new HashSet<string>(files, StringComparer.Ordinal);
            var parts = new List<(string Name, string Folder)>();
            string kind;
            if (set.Contains("model_index.json"))
            {
                kind = "a Diffusers pipeline";
                foreach (var folder in files.Where(f => f.Count(c => c == '/') == 1 && f.EndsWith("/config.json", StringComparison.Ordinal))
                    .Select(f => f[..f.IndexOf('/', StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                {
                    if (ComponentSelection(set, folder) is not null)
                    {
                        parts.Add((folder, folder));
                    }
                }
            }
            else if (set.Contains("modules.json"))
            {
                kind = "a sentence-transformers model";
                var modules = await FetchJsonAsync(repo, commit, "modules.json", cancellationToken).ConfigureAwait(false);
                try
                {
                    using var doc = JsonDocument.Parse(modules, new JsonDocumentOptions { MaxDepth = 8 });
                    if (doc.RootElement.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var m in doc.RootElement.EnumerateArray().Take(64))
                        {
                            if (m.ValueKind == JsonValueKind.Object && m.TryGetProperty("type", out var t) && t.GetString() is { } type
                                && type.EndsWith("Dense", StringComparison.Ordinal) && m.TryGetProperty("path", out var p) && p.GetString() is { Length: > 0 } path
                                && !path.Split('/').Any(x => x is "" or "." or "..") && ComponentSelection(set, path) is not null)
                            {
                                parts.Add(("Dense " + path, path));
                            }
                        }
                    }
                }
                catch (JsonException)
                {
                    return null;
                }

                if (parts.Count == 0)
                {
                    return null; // the transformer alone: the usual root selection
                }

                parts.Insert(0, ("transformer", ""));
            }
            else
            {
                return null;
            }

            if (parts.Count == 0)
            {
                return null;
            }

            var loaded = new List<(string Name, string Folder, ModelInfo Model)>();
            foreach (var (name, folder) in parts)
            {
                var selection = folder.Length == 0 ? HubFileSelector.Select(files, reference, _what) : ComponentSelection(set, folder)!;
                loaded.Add((name, folder, await LoadSafetensorsAsync(repo, commit, selection, cancellationToken).ConfigureAwait(false)));
            }

            // The tensors keep the roles their own names gave them; names get the component's folder in front.
            var tensors = loaded.SelectMany(l => l.Folder.Length == 0 ? l.Model.Inventory.Tensors : [.. l.Model.Inventory.Tensors.Select(t => t with { Name = l.Folder + "/" + t.Name })]);
            var inventory = new Tensors.TensorInventory(tensors);
            var main = loaded[0].Folder.Length == 0 ? loaded[0].Model : loaded.MaxBy(l => l.Model.Parameters().Total.Value).Model;
            long fileBytes = loaded.Sum(l => l.Model.FileBytes?.Bytes ?? 0);
            string list = string.Join(", ", loaded.Select(l => string.Create(CultureInfo.InvariantCulture, $"{MessageText.Clean(l.Name, 80)} {l.Model.Parameters().Total.Value:N0}")));
            return main with
            {
                Family = null,
                Architecture = main.Architecture,
                Inventory = inventory,
                Files = [.. loaded.SelectMany(l => l.Model.Files)],
                FileBytes = new Units.ByteSize(fileBytes),
                Warnings = [.. loaded.SelectMany(l => l.Model.Warnings),
                    string.Create(CultureInfo.InvariantCulture, $"{_what} is {kind}: {list} parameters, {inventory.TotalParameters.Value:N0} in all; every component is counted (tensors named <component>/<tensor>), and the architecture shown is the {(loaded[0].Folder.Length == 0 ? "transformer's" : "largest component's")}.")],
            };
        }

        /// <summary>The weights of a component folder: its index, model.safetensors, diffusion_pytorch_model.safetensors,
        /// or its only safetensors file; with the folder's config.json. Null when it has none.</summary>
        private static HubSelection? ComponentSelection(HashSet<string> set, string folder)
        {
            // A component's config.json is not a transformers config (a UNet's or a Dense layer's has no model_type): the
            // component's tensors are counted from its headers alone.
            string prefix = folder + "/";
            string? config = null;
            foreach (var index in new[] { "model.safetensors.index.json", "diffusion_pytorch_model.safetensors.index.json" })
            {
                if (set.Contains(prefix + index))
                {
                    return new HubSelection(SelectionKind.SafetensorsIndex, [prefix + index], config);
                }
            }

            foreach (var single in new[] { "model.safetensors", "diffusion_pytorch_model.safetensors" })
            {
                if (set.Contains(prefix + single))
                {
                    return new HubSelection(SelectionKind.Safetensors, [prefix + single], config);
                }
            }

            var any = set.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.IndexOf('/', prefix.Length) < 0 && f.EndsWith(".safetensors", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
            return any.Count == 1 ? new HubSelection(SelectionKind.Safetensors, any, config) : null;
        }

        private async Task<ModelInfo> LoadUrlAsync(Uri url, CancellationToken cancellationToken)
        {
            var key = cache.UrlFile(url);
            var cached = options.Refresh ? null : cache.TryRead(key);
            RemoteFile? file = null;
            if (cached is not null && (environment.Offline || cached.ETag is not null))
            {
                file = environment.Offline ? null : await RemoteFile.OpenAsync(http, url, _what, cached.ETag, cancellationToken).ConfigureAwait(false);
                if (file is null)
                {
                    Interlocked.Increment(ref _fromCache);
                    file = RemoteFile.FromCache(http, url, _what, cached.Prefix, cached.Length, cached.ETag);
                }
                else
                {
                    Interlocked.Increment(ref _fetched);
                }
            }
            else
            {
                file = await RemoteFile.OpenAsync(http, url, _what, null, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _fetched);
            }

            ArgumentNullException.ThrowIfNull(file); // OpenAsync returns null only for a 304 to If-None-Match
            var model = await CheckpointLoader.LoadAsync(file, cancellationToken).ConfigureAwait(false);
            Store(key, file, null, cached);
            return model with { Name = reference.DisplayName, Files = [HubHttp.Safe(url)] };
        }

        private async Task<(string Commit, IReadOnlyCollection<string> Files)> ResolveRevisionAsync(string repo, string? missing, CancellationToken cancellationToken)
        {
            var key = cache.RevisionFile(repo, reference.Revision);
            var cached = options.Refresh ? null : cache.TryRead(key);
            if (cached is not null && cached.Prefix.Length == cached.Length && (reference.RevisionIsCommit || environment.Offline))
            {
                return ParseRevision(cached.Prefix, repo);
            }

            if (environment.Offline)
            {
                throw new RemoteModelException(RemoteErrorKind.Offline, _what,
                    $"{_what}: HF_HUB_OFFLINE is set and no local cache holds revision {reference.Revision}: the Hugging Face cache ({MessageText.Clean(environment.HuggingFaceCache, 200)}) {missing ?? "does not have it"}; the llmsize cache ({MessageText.Clean(environment.HeaderCache, 200)}) has no answer for it. Unset HF_HUB_OFFLINE, or download the model first (hf download {repo}).");
            }

            var url = new Uri(environment.Endpoint, $"api/models/{repo}/revision/{Uri.EscapeDataString(reference.Revision)}");
            var response = await http.GetAsync(url, _what, request =>
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                if (cached?.ETag is { } etag && EntityTagHeaderValue.TryParse(etag, out var tag))
                {
                    request.Headers.IfNoneMatch.Add(tag);
                }
            }, cancellationToken).ConfigureAwait(false);
            using (response)
            {
                if ((int)response.StatusCode == 304 && cached is not null)
                {
                    return ParseRevision(cached.Prefix, repo);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw http.StatusError(response, url, _what, $"no repository {repo} or no revision '{MessageText.Clean(reference.Revision, 100)}' at {environment.Endpoint}");
                }

                var body = await ReadSmallAsync(response, url, "the model API's answer", fileBytes: false, cancellationToken).ConfigureAwait(false);
                var parsed = ParseRevision(body, repo);
                cache.Write(key, new CachedEntry(body, body.Length, response.Headers.ETag?.ToString(), parsed.Commit));
                return parsed;
            }
        }

        private (string Commit, IReadOnlyCollection<string> Files) ParseRevision(byte[] body, string repo)
        {
            try
            {
                using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String
                    || sha.GetString() is not { Length: >= 7 and <= 64 } commit || !commit.All(char.IsAsciiHexDigit))
                {
                    throw Protocol("the model API's answer has no commit 'sha'");
                }

                var files = new List<string>();
                if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
                {
                    foreach (var s in siblings.EnumerateArray())
                    {
                        if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("rfilename", out var f) && f.ValueKind == JsonValueKind.String
                            && f.GetString() is { Length: > 0 and < 1024 } name && !name.StartsWith('/') && !name.Split('/').Any(p => p is "" or "." or ".."))
                        {
                            files.Add(name);
                        }
                    }
                }

                return (commit, files);
            }
            catch (JsonException e)
            {
                throw Protocol($"the model API's answer for {repo} is not valid JSON ({MessageText.Clean(e.Message, 120)})");
            }
        }

        private RemoteModelException Protocol(string detail) => new(RemoteErrorKind.Protocol, _what, $"{_what}: {detail}.");

        private Uri FileUrl(string repo, string commit, string path) =>
            new(environment.Endpoint, $"{repo}/resolve/{commit}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

        private async Task<byte[]> FetchJsonAsync(string repo, string commit, string path, CancellationToken cancellationToken)
        {
            var key = cache.RepoFile(repo, commit, path);
            if (!options.Refresh && cache.TryRead(key) is { } cached && cached.Prefix.Length == cached.Length)
            {
                Interlocked.Increment(ref _fromCache);
                return cached.Prefix;
            }

            var url = FileUrl(repo, commit, path);
            var response = await http.GetAsync(url, _what, null, cancellationToken).ConfigureAwait(false);
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw http.StatusError(response, url, _what, $"no file '{MessageText.Clean(path, 200)}' in {repo} at commit {commit}");
                }

                var body = await ReadSmallAsync(response, url, path, fileBytes: true, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _fetched);
                cache.Write(key, new CachedEntry(body, body.Length, response.Headers.ETag?.ToString(), commit));
                return body;
            }
        }

        private async Task<byte[]> ReadSmallAsync(HttpResponseMessage response, Uri url, string what, bool fileBytes, CancellationToken cancellationToken)
        {
            long max = ModelLimits.MaxJsonBytes;
            if (response.Content.Headers.ContentLength is > ModelLimits.MaxJsonBytes)
            {
                throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), string.Create(CultureInfo.InvariantCulture,
                    $"{_what}: {HubHttp.Safe(url)}: expected {what} of at most {max:N0} bytes; the server announces {response.Content.Headers.ContentLength:N0}."));
            }

            var buffer = new byte[(int)Math.Min(max + 1, response.Content.Headers.ContentLength ?? 64 * 1024) + 1];
            int have = 0;
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    if (have == buffer.Length)
                    {
                        if (buffer.Length > max)
                        {
                            throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), string.Create(CultureInfo.InvariantCulture,
                                $"{_what}: {HubHttp.Safe(url)}: expected {what} of at most {max:N0} bytes; found more."));
                        }

                        Array.Resize(ref buffer, (int)Math.Min(max + 1, 2L * buffer.Length));
                    }

                    int n = await http.ReadBodyAsync(body, buffer.AsMemory(have), url, _what, fileBytes, cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        break;
                    }

                    have += n;
                }
            }

            if (have > max)
            {
                throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), string.Create(CultureInfo.InvariantCulture,
                    $"{_what}: {HubHttp.Safe(url)}: expected {what} of at most {max:N0} bytes; found more."));
            }

            return buffer.AsSpan(0, have).ToArray();
        }

        private async Task<RemoteFile> OpenCheckpointAsync(string repo, string commit, string path, CachedEntry? cached, CancellationToken cancellationToken)
        {
            var url = FileUrl(repo, commit, path);
            if (cached is not null)
            {
                Interlocked.Increment(ref _fromCache);
                return RemoteFile.FromCache(http, url, _what, cached.Prefix, cached.Length, cached.ETag);
            }

            Interlocked.Increment(ref _fetched);
            return (await RemoteFile.OpenAsync(http, url, _what, null, cancellationToken).ConfigureAwait(false))!;
        }

        private void Store(string key, RemoteFile file, string? commit, CachedEntry? cached)
        {
            if (cached is null || cached.Prefix.Length < file.Prefix.Length || cached.ETag != file.ETag)
            {
                cache.Write(key, new CachedEntry(file.Prefix.ToArray(), file.FileLength, file.ETag, commit));
            }
        }

        /// <summary>Reads each file with <paramref name="read"/>, at most <see cref="HubClientOptions.MaxConcurrentFiles"/>
        /// at a time, keeping their order; caches each prefix read.</summary>
        private async Task<T[]> ReadAllAsync<T>(string repo, string commit, IReadOnlyList<string> paths, Func<RemoteFile, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken)
        {
            var results = new T[paths.Count];
            int done = 0;
            await Parallel.ForEachAsync(Enumerable.Range(0, paths.Count),
                new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Client.MaxConcurrentFiles), CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var key = cache.RepoFile(repo, commit, paths[i]);
                    var cached = options.Refresh ? null : cache.TryRead(key);
                    var file = await OpenCheckpointAsync(repo, commit, paths[i], cached, ct).ConfigureAwait(false);
                    results[i] = await read(file, ct).ConfigureAwait(false);
                    Store(key, file, commit, cached);
                    int n = Interlocked.Increment(ref done);
                    if (paths.Count > 1)
                    {
                        options.Progress?.Report(new HubProgress(paths[i], n, paths.Count));
                    }
                }).ConfigureAwait(false);
            return results;
        }

        private async Task<ModelInfo> LoadSafetensorsAsync(string repo, string commit, HubSelection selection, CancellationToken cancellationToken)
        {
            IReadOnlyList<string> shards = selection.Files;
            byte[]? indexBytes = null;
            Dictionary<string, string>? weightMap = null;
            long? totalSize = null;
            string indexName = "";
            var configTask = selection.Config is { } configPath ? FetchJsonAsync(repo, commit, configPath, cancellationToken) : null;
            if (selection.Kind == SelectionKind.SafetensorsIndex)
            {
                var indexPath = selection.Files[0];
                indexBytes = await FetchJsonAsync(repo, commit, indexPath, cancellationToken).ConfigureAwait(false);
                indexName = HubHttp.Safe(FileUrl(repo, commit, indexPath));
                (weightMap, totalSize) = ShardAssembly.ReadIndex(indexName, indexBytes);
                string folder = indexPath.Contains('/', StringComparison.Ordinal) ? indexPath[..(indexPath.LastIndexOf('/') + 1)] : "";
                shards = [.. weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(s => folder + s)];
            }

            var side = SideConfig.None;
            if (configTask is not null)
            {
                var configBytes = await configTask.ConfigureAwait(false);
                side = SideConfig.FromConfig(ConfigObject.Parse(configBytes, HubHttp.Safe(FileUrl(repo, commit, selection.Config!))));
            }

            var headers = await ReadAllAsync(repo, commit, shards, (file, ct) => SafetensorsReader.ReadAsync(file, ct), cancellationToken).ConfigureAwait(false);
            var list = headers.ToList();
            var warnings = weightMap is null ? [] : ShardAssembly.CheckIndex(indexName, weightMap, totalSize, list);
            var files = new List<string>();
            if (indexBytes is not null)
            {
                files.Add(indexName);
            }

            files.AddRange(shards.Select(s => HubHttp.Safe(FileUrl(repo, commit, s))));
            var model = ShardAssembly.Build(reference.DisplayName, side, list, files, warnings, indexBytes?.Length ?? 0);
            if (selection.AdapterConfig is { } adapterPath)
            {
                var adapter = DescribeAdapter(await FetchJsonAsync(repo, commit, adapterPath, cancellationToken).ConfigureAwait(false), model.Parameters().Total.Value);
                model = model with { Warnings = [.. model.Warnings, adapter] };
            }

            return model;
        }

        /// <summary>A PEFT adapter_config.json as a sentence: its kind, rank and targets, and the base model to size.</summary>
        private string DescribeAdapter(byte[] json, long parameters)
        {
            string kind = "adapter", baseModel = "", details = "";
            try
            {
                using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Object)
                {
                    if (root.TryGetProperty("peft_type", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        kind = MessageText.Clean(t.GetString(), 40) + " adapter";
                    }

                    if (root.TryGetProperty("base_model_name_or_path", out var b) && b.ValueKind == JsonValueKind.String)
                    {
                        baseModel = MessageText.Clean(b.GetString(), 200);
                    }

                    var parts = new List<string>();
                    if (root.TryGetProperty("r", out var r) && r.ValueKind == JsonValueKind.Number)
                    {
                        parts.Add("rank " + r.GetRawText());
                    }

                    if (root.TryGetProperty("lora_alpha", out var a) && a.ValueKind == JsonValueKind.Number)
                    {
                        parts.Add("alpha " + a.GetRawText());
                    }

                    if (root.TryGetProperty("target_modules", out var m) && m.ValueKind == JsonValueKind.Array)
                    {
                        parts.Add("targets " + string.Join(", ", m.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Take(12).Select(e => MessageText.Clean(e.GetString(), 40))));
                    }

                    details = parts.Count > 0 ? " (" + string.Join("; ", parts) + ")" : "";
                }
            }
            catch (JsonException)
            {
                // An unreadable adapter config: still say what the files are.
            }

            string onBase = baseModel.Length > 0 ? $" on base model {baseModel}" : "";
            string sizeBase = baseModel.Length > 0 && baseModel.Contains('/', StringComparison.Ordinal) && !baseModel.StartsWith('/') ? $"; size the base with hf:{baseModel}" : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{_what} is a {kind}{details}{onBase}: the {parameters:N0} parameters counted are the adapter's own, not the base model's{sizeBase}.");
        }

        private async Task<ModelInfo> LoadGgufAsync(string repo, string commit, IReadOnlyList<string> paths, CancellationToken cancellationToken)
        {
            var files = await ReadAllAsync(repo, commit, paths, (file, ct) => GgufReader.ReadAsync(file, null, ct), cancellationToken).ConfigureAwait(false);
            if (files.Length == 1)
            {
                return ShardAssembly.FromGgufFile(files[0]);
            }

            for (int i = 0; i < files.Length; i++)
            {
                var f = files[i];
                long no = ShardAssembly.SplitInt(f, GgufSplit.NoKey);
                long count = ShardAssembly.SplitInt(f, GgufSplit.CountKey);
                if (no != i || count != files.Length)
                {
                    throw new ModelFileFormatException(f.Path, f.OffsetOf(GgufSplit.NoKey), string.Create(CultureInfo.InvariantCulture,
                        $"{MessageText.Clean(f.Path, 400)}: split.no/split.count: expected {i}/{files.Length} (from the file name); found {no}/{count}."));
                }
            }

            return ShardAssembly.FromGgufShards([.. files], [.. files.Select(f => f.Path)], reference.DisplayName);
        }
    }
}
