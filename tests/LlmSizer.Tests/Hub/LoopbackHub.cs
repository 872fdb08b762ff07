using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace LlmSizer.Tests.Hub;

/// <summary>A file served by <see cref="LoopbackHub"/>: its first bytes (a header) and its full length; the rest reads
/// as zeros, so a "70 GB" checkpoint costs only its header in memory.</summary>
internal sealed record VirtualFile(byte[] Head, long Length)
{
    public static VirtualFile Whole(byte[] bytes) => new(bytes, bytes.Length);

    public static VirtualFile Text(string text) => Whole(Encoding.UTF8.GetBytes(text));

    public byte At(long i) => i < Head.Length ? Head[i] : (byte)0;
}

/// <summary>One request the server saw.</summary>
internal sealed record SeenRequest(string Host, string Path, string? Range, string? Authorization, int Status, long BodyBytes);

/// <summary>A Hugging Face Hub look-alike on loopback, started by the tests (never the real network): the model API
/// (<c>/api/models/{repo}/revision/{rev}</c> with <c>sha</c> and <c>siblings</c>, ETag and 304), <c>resolve/{rev}/{path}</c>
/// file URLs with Range semantics (206, Content-Range, ETag, If-None-Match), optional redirects of files to another host
/// (<c>localhost</c> instead of <c>127.0.0.1</c>: same socket, another authority), gated repos (401 without the right
/// bearer token), 404s, 429s with Retry-After, a mode without range support (200 and the whole body, streamed) and slow
/// answers. It counts requests and the body bytes it sent.</summary>
internal sealed class LoopbackHub : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, Repo> _repos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, VirtualFile> _urls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<SeenRequest> _seen = new();
    private readonly CancellationTokenSource _stop = new();
    private int _tooManyLeft;
    private int _inFlight;

    public LoopbackHub()
    {
        // HttpListener needs a fixed port: take a free one from the OS, then listen on it under two host names.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Prefixes.Add($"http://localhost:{Port}/");
        _listener.Start();
        _ = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    /// <summary>The Hub's address (give it as HF_ENDPOINT).</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}/");

    /// <summary>The "CDN": another authority on the same server.</summary>
    public Uri OtherHost => new($"http://localhost:{Port}/");

    /// <summary>Answer Range requests (false: 200 with the whole body, as a server without Accept-Ranges does).</summary>
    public bool RangeSupport { get; set; } = true;

    /// <summary>Redirect file downloads (302) to <see cref="OtherHost"/>, as the Hub does to its CDN.</summary>
    public bool RedirectFilesToOtherHost { get; set; }

    /// <summary>Answer an unknown repository as the real Hub does to a caller without a token: 401 with
    /// <c>X-Error-Code: RepoNotFound</c> (so that private repositories are not revealed).</summary>
    public bool UnknownRepoIs401 { get; set; }

    /// <summary>A delay before every answer.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Answer the next N requests with 429 and Retry-After: 1.</summary>
    public int TooManyRequests { set => Volatile.Write(ref _tooManyLeft, value); }

    /// <summary>The requests seen, once every answer has been recorded (a client can have its answer before the
    /// handler that sent it has logged it).</summary>
    public IReadOnlyList<SeenRequest> Seen
    {
        get
        {
            Quiesce();
            return [.. _seen];
        }
    }

    /// <summary>Body bytes sent for files (resolve, CDN and plain URLs), not API answers.</summary>
    public long FileBytesSent => Seen.Where(r => IsFilePath(r.Path)).Sum(r => r.BodyBytes);

    public int Requests => Seen.Count;

    public void ResetCounters()
    {
        Quiesce();
        _seen.Clear();
    }

    private void Quiesce() => SpinWait.SpinUntil(() => Volatile.Read(ref _inFlight) == 0, TimeSpan.FromSeconds(10));

    /// <summary>Adds a repository at one commit; <paramref name="gatedToken"/> makes it answer 401 without that token.</summary>
    public void AddRepo(string repo, string commit, IReadOnlyDictionary<string, VirtualFile> files, string? gatedToken = null) =>
        _repos[repo] = new Repo(commit, files, gatedToken);

    /// <summary>Serves a file at <c>/files/{name}</c> (a plain URL, not a repository).</summary>
    public Uri AddUrl(string name, VirtualFile file)
    {
        _urls[name] = file;
        return new Uri(Endpoint, "files/" + name);
    }

    private sealed record Repo(string Commit, IReadOnlyDictionary<string, VirtualFile> Files, string? GatedToken);

    private static bool IsFilePath(string path) => path.Contains("/resolve/", StringComparison.Ordinal) || path.StartsWith("/cdn/", StringComparison.Ordinal) || path.StartsWith("/files/", StringComparison.Ordinal);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }

            Interlocked.Increment(ref _inFlight);
            _ = Task.Run(async () =>
            {
                try
                {
                    await Handle(context).ConfigureAwait(false);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            });
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        string path = request.Url!.AbsolutePath;
        string host = request.Url.Authority;
        string? range = request.Headers["Range"];
        string? auth = request.Headers["Authorization"];
        int status = 200;
        long sent = 0;
        try
        {
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, _stop.Token).ConfigureAwait(false);
            }

            if (Interlocked.Decrement(ref _tooManyLeft) >= 0)
            {
                status = 429;
                response.StatusCode = 429;
                response.AddHeader("Retry-After", "1");
                response.Close();
                return;
            }

            (status, sent) = await Route(request, response, path, auth).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The client went away (a bounded streaming read closes the connection after the header): count what was sent.
        }
        finally
        {
            _seen.Enqueue(new SeenRequest(host, path, range, auth, status, sent));
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }
    }

    private async Task<(int Status, long Sent)> Route(HttpListenerRequest request, HttpListenerResponse response, string path, string? auth)
    {
        var parts = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        if (parts.Length >= 6 && parts[0] == "api" && parts[1] == "models" && parts[4] == "revision")
        {
            return await Api($"{parts[2]}/{parts[3]}", parts[5], request, response, auth).ConfigureAwait(false);
        }

        if (parts.Length >= 5 && parts[2] == "resolve")
        {
            var repoId = $"{parts[0]}/{parts[1]}";
            if (!_repos.TryGetValue(repoId, out var repo) || (parts[3] != "main" && parts[3] != repo.Commit))
            {
                return Error(response, 404, "Repository or revision not found");
            }

            if (repo.GatedToken is { } token && auth != "Bearer " + token)
            {
                return Error(response, 401, "Access to this model is restricted");
            }

            var file = string.Join('/', parts[4..]);
            if (!repo.Files.TryGetValue(file, out var content))
            {
                return Error(response, 404, "Entry not found", "EntryNotFound");
            }

            if (RedirectFilesToOtherHost)
            {
                response.StatusCode = 302;
                response.RedirectLocation = new Uri(OtherHost, $"cdn/{repoId}/{repo.Commit}/{file}?X-Amz-Signature=signed").ToString();
                response.AddHeader("X-Repo-Commit", repo.Commit);
                return (302, 0);
            }

            return await Serve(request, response, content, $"\"{repo.Commit[..8]}-{file}\"").ConfigureAwait(false);
        }

        if (parts.Length >= 5 && parts[0] == "cdn")
        {
            var repoId = $"{parts[1]}/{parts[2]}";
            var file = string.Join('/', parts[4..]);
            return _repos.TryGetValue(repoId, out var repo) && repo.Files.TryGetValue(file, out var content)
                ? await Serve(request, response, content, $"\"{repo.Commit[..8]}-{file}\"").ConfigureAwait(false)
                : Error(response, 404, "Entry not found");
        }

        if (parts.Length == 2 && parts[0] == "files" && _urls.TryGetValue(parts[1], out var plain))
        {
            return await Serve(request, response, plain, $"\"url-{parts[1]}-{plain.Length}\"").ConfigureAwait(false);
        }

        return Error(response, 404, "Not found");
    }

    private async Task<(int, long)> Api(string repoId, string revision, HttpListenerRequest request, HttpListenerResponse response, string? auth)
    {
        if (!_repos.TryGetValue(repoId, out var repo))
        {
            return Error(response, UnknownRepoIs401 && auth is null ? 401 : 404, "Repository not found", "RepoNotFound");
        }

        if (revision != "main" && revision != repo.Commit)
        {
            return Error(response, 404, "Revision not found", "RevisionNotFound");
        }

        if (repo.GatedToken is { } token && auth != "Bearer " + token)
        {
            return Error(response, 401, "Access to model " + repoId + " is restricted.", "GatedRepo");
        }

        string etag = $"\"api-{repo.Commit[..12]}\"";
        if (request.Headers["If-None-Match"] == etag)
        {
            response.StatusCode = 304;
            response.AddHeader("ETag", etag);
            return (304, 0);
        }

        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["id"] = repoId,
            ["sha"] = repo.Commit,
            ["siblings"] = repo.Files.Keys.Order(StringComparer.Ordinal).Select(f => new Dictionary<string, string> { ["rfilename"] = f }).ToArray(),
        });
        var body = Encoding.UTF8.GetBytes(json);
        response.AddHeader("ETag", etag);
        response.ContentType = "application/json";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body).ConfigureAwait(false);
        return (200, body.Length);
    }

    private static (int, long) Error(HttpListenerResponse response, int status, string message, string? code = null)
    {
        response.StatusCode = status;
        response.AddHeader("X-Error-Message", message);
        if (code is not null)
        {
            response.AddHeader("X-Error-Code", code);
        }

        return (status, 0);
    }

    private async Task<(int, long)> Serve(HttpListenerRequest request, HttpListenerResponse response, VirtualFile file, string etag)
    {
        response.AddHeader("ETag", etag);
        if (request.Headers["If-None-Match"] == etag)
        {
            response.StatusCode = 304;
            return (304, 0);
        }

        long from = 0, to = file.Length - 1;
        bool partial = false;
        if (RangeSupport)
        {
            response.AddHeader("Accept-Ranges", "bytes");
            if (request.Headers["Range"] is { } r && r.StartsWith("bytes=", StringComparison.Ordinal))
            {
                var spec = r["bytes=".Length..].Split('-');
                from = long.Parse(spec[0], CultureInfo.InvariantCulture);
                to = spec[1].Length == 0 ? file.Length - 1 : Math.Min(long.Parse(spec[1], CultureInfo.InvariantCulture), file.Length - 1);
                if (from >= file.Length)
                {
                    response.StatusCode = 416;
                    response.AddHeader("Content-Range", $"bytes */{file.Length}");
                    return (416, 0);
                }

                partial = true;
            }
        }

        long count = to - from + 1;
        response.StatusCode = partial ? 206 : 200;
        if (partial)
        {
            response.AddHeader("Content-Range", $"bytes {from}-{to}/{file.Length}");
        }

        response.ContentLength64 = count;
        var chunk = new byte[64 * 1024];
        long sent = 0;
        try
        {
            while (sent < count)
            {
                int n = (int)Math.Min(chunk.Length, count - sent);
                for (int i = 0; i < n; i++)
                {
                    chunk[i] = file.At(from + sent + i);
                }

                await response.OutputStream.WriteAsync(chunk.AsMemory(0, n), _stop.Token).ConfigureAwait(false);
                sent += n;
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client closed the connection.
        }

        return (response.StatusCode, sent);
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}
