namespace LlmSizer.Hub;

/// <summary>Network settings of the Hub reader: retries, timeouts and concurrency.</summary>
public sealed record HubClientOptions
{
    /// <summary>Retries after a 408, 429, 5xx answer, a timeout or a failed connection (default 3).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry's delay, doubled for each next one with jitter, unless the server sends
    /// <c>Retry-After</c> (default 1 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two tries, <c>Retry-After</c> included (default 30 s).</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one try may take to send its headers back, and each read of a body (default 30 s).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a connection may take to open (default 10 s).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many files are read at once (shards; default 8).</summary>
    public int MaxConcurrentFiles { get; init; } = 8;

    /// <summary>The first range read of each checkpoint file (default 64 KiB): a safetensors header that fits takes one
    /// request, a bigger one exactly one more.</summary>
    public int FirstReadBytes { get; init; } = 64 * 1024;

    /// <summary>The most header bytes read from one file (default 256 MiB): a header claiming more is refused.</summary>
    public long MaxHeaderBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>The most redirects followed for one request (default 10).</summary>
    public int MaxRedirects { get; init; } = 10;
}
