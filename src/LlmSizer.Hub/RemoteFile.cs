using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using LlmSizer.Checkpoints;
using LlmSizer.Errors;

namespace LlmSizer.Hub;

/// <summary>A remote file read by HTTP range requests, as a byte source for the header readers. It keeps the prefix it
/// has read (from byte 0, contiguous) and extends it only when a reader asks for bytes past it, so the bytes moved
/// are the header's plus at most one read-ahead. A server that ignores <c>Range</c> (200 instead of 206) is read as a
/// stream that is closed as soon as the bytes asked for have arrived.</summary>
/// <remarks>A file can start from a cached prefix (<see cref="FromCache"/>): then reads inside it make no request.</remarks>
internal sealed class RemoteFile : IByteSource
{
    private readonly HubHttp _http;
    private readonly string _what;
    private byte[] _prefix;
    private int _have;
    private bool _ranges = true;

    private RemoteFile(HubHttp http, Uri url, string what, byte[] prefix, int have, long length, string? etag)
    {
        _http = http;
        Url = url;
        _what = what;
        _prefix = prefix;
        _have = have;
        FileLength = length;
        ETag = etag;
        Name = HubHttp.Safe(url);
    }

    public Uri Url { get; }

    /// <inheritdoc/>
    public string Name { get; }

    public long FileLength { get; }

    /// <inheritdoc/>
    public long? Length => FileLength;

    /// <summary>The server's ETag (or <c>X-Linked-Etag</c> for a Hub LFS file), when it sent one.</summary>
    public string? ETag { get; }

    /// <summary>The prefix held: everything the readers have looked at.</summary>
    public ReadOnlyMemory<byte> Prefix => _prefix.AsMemory(0, _have);

    /// <summary>A file whose prefix came from the cache: no request until a read goes past it.</summary>
    public static RemoteFile FromCache(HubHttp http, Uri url, string what, byte[] prefix, long length, string? etag) =>
        new(http, url, what, prefix, prefix.Length, length, etag);

    /// <summary>Opens a file with its first range read (<see cref="HubClientOptions.FirstReadBytes"/>), which also tells
    /// its length; with <paramref name="ifNoneMatch"/>, a 304 answer returns null (the cached copy is current).</summary>
    public static async Task<RemoteFile?> OpenAsync(HubHttp http, Uri url, string what, string? ifNoneMatch, CancellationToken cancellationToken)
    {
        int first = Math.Max(16, http.Options.FirstReadBytes);
        var response = await http.GetAsync(url, what, request =>
        {
            request.Headers.Range = new RangeHeaderValue(0, first - 1);
            if (ifNoneMatch is not null && EntityTagHeaderValue.TryParse(ifNoneMatch, out var tag))
            {
                request.Headers.IfNoneMatch.Add(tag);
            }
        }, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            int status = (int)response.StatusCode;
            if (status == 304 && ifNoneMatch is not null)
            {
                return null;
            }

            string? etag = response.Headers.TryGetValues("X-Linked-Etag", out var linked) ? linked.FirstOrDefault()
                : response.Headers.ETag?.ToString();
            long length;
            bool ranges;
            if (status == 206)
            {
                var range = response.Content.Headers.ContentRange;
                if (range is not { HasLength: true, HasRange: true } || range.From != 0)
                {
                    throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(),
                        $"{what}: {HubHttp.Safe(url)} answered a range request without a Content-Range 'bytes 0-N/LENGTH' (found '{MessageText.Clean(range?.ToString(), 80)}').", status);
                }

                length = range.Length!.Value;
                ranges = true;
            }
            else if (status == 200)
            {
                length = response.Content.Headers.ContentLength ?? throw new RemoteModelException(RemoteErrorKind.Protocol, url.ToString(),
                    $"{what}: {HubHttp.Safe(url)} supports no range requests and sent no Content-Length; a header cannot be read without the file's length.", status);
                ranges = false;
            }
            else if (status == 416)
            {
                length = response.Content.Headers.ContentRange?.Length ?? 0;
                ranges = true;
            }
            else
            {
                throw http.StatusError(response, url, what, $"no file {HubHttp.Safe(url)}");
            }

            var prefix = new byte[(int)Math.Min(first, length)];
            int have = 0;
            if (prefix.Length > 0)
            {
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using (body.ConfigureAwait(false))
                {
                    have = await http.ReadBodyAsync(body, prefix, url, what, fileBytes: true, cancellationToken).ConfigureAwait(false);
                }
            }

            return new RemoteFile(http, url, what, prefix, have, length, etag) { _ranges = ranges };
        }
    }

    /// <inheritdoc/>
    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= FileLength || buffer.IsEmpty)
        {
            return 0;
        }

        long end = Math.Min(FileLength, offset + buffer.Length);
        if (end > _have)
        {
            await ExtendAsync(end, cancellationToken).ConfigureAwait(false);
        }

        int n = (int)Math.Min(buffer.Length, _have - offset);
        if (n <= 0)
        {
            return 0;
        }

        _prefix.AsMemory((int)offset, n).CopyTo(buffer);
        return n;
    }

    private async Task ExtendAsync(long end, CancellationToken cancellationToken)
    {
        if (end > _http.Options.MaxHeaderBytes || end > Array.MaxLength)
        {
            throw new RemoteModelException(RemoteErrorKind.Protocol, Url.ToString(), string.Create(CultureInfo.InvariantCulture,
                $"{_what}: {Name}: expected a header of at most {_http.Options.MaxHeaderBytes:N0} bytes; the file's header needs {end:N0} (refused, not downloaded)."));
        }

        if (_prefix.Length < end)
        {
            Array.Resize(ref _prefix, (int)end);
        }

        int from = _ranges ? _have : 0;
        var response = await _http.GetAsync(Url, _what, request =>
        {
            if (_ranges)
            {
                request.Headers.Range = new RangeHeaderValue(from, end - 1);
            }
        }, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            int status = (int)response.StatusCode;
            if (status == 200)
            {
                // No range support (or it was dropped): read the stream from byte 0, keep what is new, stop at end.
                _ranges = false;
                from = 0;
            }
            else if (status == 206)
            {
                if (response.Content.Headers.ContentRange is not { HasRange: true } range || range.From != from)
                {
                    throw new RemoteModelException(RemoteErrorKind.Protocol, Url.ToString(), string.Create(CultureInfo.InvariantCulture,
                        $"{_what}: {Name} answered a request for bytes {from}-{end - 1} with Content-Range '{MessageText.Clean(response.Content.Headers.ContentRange?.ToString(), 80)}'."), status);
                }
            }
            else
            {
                throw _http.StatusError(response, Url, _what, $"no file {Name}");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                if (from < _have)
                {
                    // A stream from byte 0: skip (and count) what is already held.
                    var skip = new byte[Math.Min(_have - from, 64 * 1024)];
                    for (long left = _have - from; left > 0;)
                    {
                        int n = await _http.ReadBodyAsync(body, skip.AsMemory(0, (int)Math.Min(left, skip.Length)), Url, _what, fileBytes: true, cancellationToken).ConfigureAwait(false);
                        if (n == 0)
                        {
                            return;
                        }

                        left -= n;
                    }
                }

                int got = await _http.ReadBodyAsync(body, _prefix.AsMemory(_have, (int)(end - _have)), Url, _what, fileBytes: true, cancellationToken).ConfigureAwait(false);
                _have += got;
            }
        }
    }
}
