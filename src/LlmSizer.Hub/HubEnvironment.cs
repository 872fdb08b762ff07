using System.Globalization;

namespace LlmSizer.Hub;

/// <summary>Where the Hub is, who we are to it, and where the caches lie: read from the environment variables that the
/// Hugging Face libraries use (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HOME</c>, <c>HF_HUB_CACHE</c>,
/// <c>HF_HUB_OFFLINE</c>) and <c>XDG_CACHE_HOME</c>, through a lookup function so callers and tests need not change
/// the process environment.</summary>
/// <remarks>The token is never part of <see cref="ToString"/>, of a message or of a URL; it is sent as a bearer token to
/// the host of <see cref="Endpoint"/> only, never to a host a redirect leads to.</remarks>
public sealed class HubEnvironment
{
    /// <summary>The public Hub.</summary>
    public static readonly Uri DefaultEndpoint = new("https://huggingface.co/");

    /// <summary>The Hub (or mirror) to ask: <c>HF_ENDPOINT</c>, default https://huggingface.co.</summary>
    public Uri Endpoint { get; init; } = DefaultEndpoint;

    /// <summary>The access token: <c>HF_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>; null for none.</summary>
    public string? Token { get; init; }

    /// <summary>Where the token came from, for messages ("HF_TOKEN", a file path), or null for none. Never the token.</summary>
    public string? TokenSource { get; init; }

    /// <summary>The Hugging Face cache: <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>.</summary>
    public required string HuggingFaceCache { get; init; }

    /// <summary>Our own cache of fetched configs and headers: <c>$XDG_CACHE_HOME/llmsize</c>, else <c>~/.cache/llmsize</c>.</summary>
    public required string HeaderCache { get; init; }

    /// <summary><c>HF_HUB_OFFLINE</c> is set (1, true, yes, on): no network at all, local caches only.</summary>
    public bool Offline { get; init; }

    /// <summary>The environment of this process.</summary>
    /// <returns>The environment.</returns>
    public static HubEnvironment FromProcess() => FromVariables(Environment.GetEnvironmentVariable);

    /// <summary>The environment described by a variable lookup (tests pass a dictionary's lookup).</summary>
    /// <param name="variable">Returns a variable's value, or null when unset.</param>
    /// <returns>The environment.</returns>
    /// <exception cref="Errors.UnknownModelException"><c>HF_ENDPOINT</c> is not an http(s) URL.</exception>
    public static HubEnvironment FromVariables(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        string? Get(string name) => variable(name) is { Length: > 0 } v ? v : null;
        string home = Get("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string cacheHome = Get("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache");
        string hfHome = Get("HF_HOME") ?? Path.Combine(cacheHome, "huggingface");
        string hubCache = Get("HF_HUB_CACHE") ?? Get("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(hfHome, "hub");

        var endpoint = DefaultEndpoint;
        if (Get("HF_ENDPOINT") is { } e)
        {
            if (!Uri.TryCreate(e.EndsWith('/') ? e : e + "/", UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                throw new Errors.UnknownModelException($"HF_ENDPOINT: expected an http(s) URL such as https://huggingface.co; found '{Errors.MessageText.Clean(e, 200)}'.");
            }

            endpoint = parsed;
        }

        string? token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN");
        string? tokenSource = token is null ? null : variable("HF_TOKEN") is { Length: > 0 } ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN";
        if (token is null)
        {
            var file = Get("HF_TOKEN_PATH") ?? Path.Combine(hfHome, "token");
            token = ReadTokenFile(file);
            tokenSource = token is null ? null : file;
        }

        return new HubEnvironment
        {
            Endpoint = endpoint,
            Token = token?.Trim() is { Length: > 0 } t ? t : null,
            TokenSource = tokenSource,
            HuggingFaceCache = hubCache,
            HeaderCache = Path.Combine(cacheHome, "llmsize"),
            Offline = Get("HF_HUB_OFFLINE") is { } off && off.Trim().ToUpperInvariant() is "1" or "TRUE" or "YES" or "ON",
        };
    }

    /// <summary>A one-line description without the token.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"endpoint {Endpoint}, token {(Token is null ? "none" : "set (" + TokenSource + ")")}, HF cache {HuggingFaceCache}, header cache {HeaderCache}{(Offline ? ", offline" : "")}");

    private static string? ReadTokenFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length is 0 or > 4096)
            {
                return null;
            }

            var text = File.ReadAllText(path).Trim();
            return text.Length > 0 && !text.Contains('\n', StringComparison.Ordinal) ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
