using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using LlmSizer.Errors;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace LlmSizer.Hub;

/// <summary>Counts what the reader moved over the network.</summary>
internal sealed class TransferCounter
{
    private long _requests;
    private long _bytes;
    private long _fileBytes;

    public long Requests => Interlocked.Read(ref _requests);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long FileBytes => Interlocked.Read(ref _fileBytes);

    public void Request() => Interlocked.Increment(ref _requests);

    public void Received(long n, bool fileBytes)
    {
        Interlocked.Add(ref _bytes, n);
        if (fileBytes)
        {
            Interlocked.Add(ref _fileBytes, n);
        }
    }
}

/// <summary>HTTP for the Hub reader: one <see cref="HttpClient"/> whose retries (408/429/5xx, timeouts, failed
/// connections; exponential backoff with jitter, <c>Retry-After</c> honoured) and per-try timeouts come from a
/// <see cref="ResilienceHandler"/>; redirects are followed here, so the token goes to the Hub's own host only.</summary>
internal sealed class HubHttp : IDisposable
{
    private readonly HttpClient _client;
    private readonly HubEnvironment _environment;

    public HubHttp(HubEnvironment environment, HubClientOptions options)
    {
        _environment = environment;
        Options = options;
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldRetryAfterHeader = true,
            })
            .AddTimeout(options.AttemptTimeout)
            .Build();
        var sockets = new SocketsHttpHandler
        {
            // Redirects are followed by SendAsync below: it decides per hop whether the token goes along.
            AllowAutoRedirect = false,
            ConnectTimeout = options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,

            // A body left unread (a server without range support streaming a whole checkpoint) is cut, not drained.
            MaxResponseDrainSize = 0,
        };
        _client = new HttpClient(new ResilienceHandler(pipeline) { InnerHandler = sockets })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("llmsize", "0.1"));
    }

    public HubClientOptions Options { get; }

    public TransferCounter Counter { get; } = new();

    public bool Offline => _environment.Offline;

    /// <summary>Sends a GET, following redirects (relative ones, and those to CDN hosts), with the bearer token only
    /// while the request goes to the endpoint's host. Returns the final response (any status but a redirect).</summary>
    /// <param name="url">The URL.</param>
    /// <param name="what">What is fetched, for messages (<c>hf:org/name</c>, a file).</param>
    /// <param name="configure">Adds headers (Range, If-None-Match).</param>
    /// <param name="cancellationToken">Cancels.</param>
    public async Task<HttpResponseMessage> GetAsync(Uri url, string what, Action<HttpRequestMessage>? configure, CancellationToken cancellationToken)
    {
        if (_environment.Offline)
        {
            throw new RemoteModelException(RemoteErrorKind.Offline, url.ToString(),
                $"{what}: HF_HUB_OFFLINE is set, so {Safe(url)} is not fetched; the local caches do not hold it.");
        }

        var current = url;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, current);
            configure?.Invoke(request);
            if (_environment.Token is { } token && SameAuthority(current, _environment.Endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            HttpResponseMessage response;
            Counter.Request();
            try
            {
                response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is HttpRequestException or TimeoutRejectedException or TaskCanceledException or IOException)
            {
                throw NetworkFailure(current, what, e);
            }

            int status = (int)response.StatusCode;
            if (status is 301 or 302 or 303 or 307 or 308 && response.Headers.Location is { } location)
            {
                response.Dispose();
                if (hop >= Options.MaxRedirects)
                {
                    throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), $"{what}: more than {Options.MaxRedirects} redirects from {Safe(url)}.", status);
                }

                var next = location.IsAbsoluteUri ? location : new Uri(current, location);
                if (next.Scheme is not ("http" or "https"))
                {
                    throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), $"{what}: {Safe(current)} redirects to a {MessageText.Clean(next.Scheme, 20)}: URL; expected http(s).", status);
                }

                current = next;
                continue;
            }

            return response;
        }
    }

    /// <summary>Throws the one-line error for a status that is not a success (the response is disposed).</summary>
    public RemoteModelException StatusError(HttpResponseMessage response, Uri url, string what, string notFound)
    {
        int status = (int)response.StatusCode;
        string reason = status.ToString(CultureInfo.InvariantCulture) + (response.ReasonPhrase is { Length: > 0 } r ? " " + MessageText.Clean(r, 60) : "");
        // The Hub says why in X-Error-Code: it answers 401 for a repository that does not exist (or is private) to a
        // caller without access, so "gated" is only said when the Hub says GatedRepo or the repo surely exists.
        string? code = response.Headers.TryGetValues("X-Error-Code", out var codes) ? codes.FirstOrDefault() : null;
        response.Dispose();
        if (code is "RepoNotFound" or "RevisionNotFound" or "EntryNotFound")
        {
            string access = status is 401 or 403
                ? _environment.Token is null ? " (or it is private: set HF_TOKEN to a token with access)" : $" (or the token from {_environment.TokenSource} cannot see it)"
                : "";
            return new RemoteModelException(RemoteErrorKind.NotFound, url.ToString(), $"{what}: {notFound}{access} ({reason}, {code}, from {Safe(url)}).", status);
        }

        if (status is 401 or 403)
        {
            string token = _environment.Token is null
                ? "no token is set: set HF_TOKEN (or run 'hf auth login', which writes $HF_HOME/token) to a token of an account that has access"
                : $"the token from {_environment.TokenSource} has no access";
            return new RemoteModelException(RemoteErrorKind.Unauthorized, url.ToString(),
                $"{what}: {reason} from {Safe(url)}: the repository is gated or private; {token}, and accept the model's licence on its page at {_environment.Endpoint}.", status);
        }

        if (status == 404)
        {
            return new RemoteModelException(RemoteErrorKind.NotFound, url.ToString(), $"{what}: {notFound} (404 from {Safe(url)}).", status);
        }

        string retried = status is 408 or 429 or >= 500 ? string.Create(CultureInfo.InvariantCulture, $" after {Options.MaxRetries} retries") : "";
        return new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(), $"{what}: {reason} from {Safe(url)}{retried}.", status);
    }

    /// <summary>Reads a body into <paramref name="buffer"/> up to its length or the end of the body, each read bounded by
    /// the per-try timeout; returns the bytes read. Never reads more than the buffer holds.</summary>
    public async Task<int> ReadBodyAsync(Stream body, Memory<byte> buffer, Uri url, string what, bool fileBytes, CancellationToken cancellationToken)
    {
        int have = 0;
        while (have < buffer.Length)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.AttemptTimeout);
            int n;
            try
            {
                n = await body.ReadAsync(buffer[have..], timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RemoteModelException(RemoteErrorKind.Timeout, url.ToString(),
                    string.Create(CultureInfo.InvariantCulture, $"{what}: {Safe(url)} sent no data for {Options.AttemptTimeout.TotalSeconds:0.#} s (timeout)."));
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw NetworkFailure(url, what, e);
            }

            if (n == 0)
            {
                break;
            }

            have += n;
            Counter.Received(n, fileBytes);
        }

        return have;
    }

    /// <summary>A URL as shown in messages: no query string (a CDN's signed URL carries credentials there).</summary>
    public static string Safe(Uri url) =>
        MessageText.Clean(url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped), 300);

    private static bool SameAuthority(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private RemoteModelException NetworkFailure(Uri url, string what, Exception e)
    {
        string offline = " (set HF_HUB_OFFLINE=1 to use only the local caches)";
        if (e is TimeoutRejectedException or TaskCanceledException)
        {
            return new RemoteModelException(RemoteErrorKind.Timeout, url.ToString(), string.Create(CultureInfo.InvariantCulture,
                $"{what}: no answer from {Safe(url)} within {Options.AttemptTimeout.TotalSeconds:0.#} s, {Options.MaxRetries} retries (timeout){offline}."), null, e);
        }

        var socket = e as SocketException ?? e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
        string host = MessageText.Clean(url.Authority, 200);
        string detail = socket?.SocketErrorCode switch
        {
            SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"cannot resolve host '{host}' (DNS)",
            SocketError.ConnectionRefused => $"connection to {host} refused",
            SocketError.TimedOut => $"connection to {host} timed out",
            SocketError.NetworkUnreachable or SocketError.HostUnreachable => $"network unreachable for {host}",
            _ => $"connection to {host} failed ({MessageText.Clean(OneLine(e.Message), 120)})",
        };
        return new RemoteModelException(socket?.SocketErrorCode == SocketError.TimedOut ? RemoteErrorKind.Timeout : RemoteErrorKind.Connection, url.ToString(),
            $"{what}: {detail} while fetching {Safe(url)}; check the network and HF_ENDPOINT{offline}.", null, e);
    }

    private static string OneLine(string message)
    {
        int i = message.IndexOfAny(['\r', '\n']);
        return i < 0 ? message : message[..i];
    }

    public void Dispose() => _client.Dispose();
}
