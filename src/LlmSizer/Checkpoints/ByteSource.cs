using System.Globalization;
using LlmSizer.Errors;
using Microsoft.Win32.SafeHandles;

namespace LlmSizer.Checkpoints;

/// <summary>Random access to the bytes of a checkpoint. The readers ask for exact ranges (headers only), so a local
/// file, a buffer, a stream or an HTTP range reader can serve them.</summary>
/// <remarks>An implementation should serve any range it is asked for and may return fewer bytes than asked (a short
/// read), but returns 0 only at the end of the data. A remote implementation (HTTP <c>Range: bytes=a-b</c>) reports
/// <see cref="Length"/> from <c>Content-Range</c> and should coalesce or cache the small reads of a header walk; the
/// readers already ask for growing chunks rather than single fields.</remarks>
public interface IByteSource
{
    /// <summary>The name to show in messages: a path or URL.</summary>
    string Name { get; }

    /// <summary>The total length in bytes, or null when unknown (a pipe or a stream that cannot seek).</summary>
    /// <remarks>The readers need the length to bound counts and check offsets; a source of unknown length is first
    /// buffered whole, up to <see cref="ModelLimits.MaxStreamBytes"/> (see <see cref="ByteSource.BufferAsync(IByteSource, long, CancellationToken)"/>).</remarks>
    long? Length { get; }

    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>.</summary>
    /// <param name="offset">The byte offset from the start of the source; non-negative.</param>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The number of bytes read: 0 only at or past the end.</returns>
    /// <exception cref="IOException">The underlying read failed.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);
}

/// <summary>A byte source that can also read synchronously without waiting on a network: local files and buffers.
/// The readers use this path when it is there (no task machinery per chunk); their parsing is the same either way.</summary>
public interface ISynchronousByteSource : IByteSource
{
    /// <summary>Reads up to <c>buffer.Length</c> bytes at <paramref name="offset"/>, synchronously.</summary>
    /// <param name="offset">The byte offset from the start of the source; non-negative.</param>
    /// <param name="buffer">Where to put the bytes.</param>
    /// <returns>The number of bytes read: 0 only at or past the end.</returns>
    /// <exception cref="IOException">The underlying read failed.</exception>
    int Read(long offset, Span<byte> buffer);
}

/// <summary>A local file read with <see cref="RandomAccess"/> at explicit offsets (no stream position, no read-ahead
/// buffer). Only regular files of known length qualify; see <see cref="ByteSource.OpenAsync"/> for pipes.</summary>
public sealed class FileByteSource : ISynchronousByteSource, IDisposable
{
    private readonly SafeFileHandle _handle;

    /// <summary>Opens a file for reading.</summary>
    /// <param name="path">The path of a regular file.</param>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public FileByteSource(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Name = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            FileLength = RandomAccess.GetLength(_handle);
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>The file's length in bytes.</summary>
    public long FileLength { get; }

    /// <inheritdoc/>
    public long? Length => FileLength;

    /// <inheritdoc/>
    public int Read(long offset, Span<byte> buffer) => RandomAccess.Read(_handle, buffer, offset);

    /// <inheritdoc/>
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        RandomAccess.ReadAsync(_handle, buffer, offset, cancellationToken);

    /// <summary>Closes the file.</summary>
    public void Dispose() => _handle.Dispose();
}

/// <summary>Bytes already in memory as a source (tests, buffered pipes, downloaded headers).</summary>
/// <param name="bytes">The bytes; not copied.</param>
/// <param name="name">The name to show in messages.</param>
public sealed class MemoryByteSource(ReadOnlyMemory<byte> bytes, string name) : ISynchronousByteSource
{
    /// <summary>The bytes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    /// <inheritdoc/>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public long? Length => Bytes.Length;

    /// <inheritdoc/>
    public int Read(long offset, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset >= Bytes.Length)
        {
            return 0;
        }

        int n = (int)Math.Min(buffer.Length, Bytes.Length - offset);
        Bytes.Span.Slice((int)offset, n).CopyTo(buffer);
        return n;
    }

    /// <inheritdoc/>
    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return new ValueTask<int>(Read(offset, buffer.Span));
    }
}

/// <summary>Helpers over byte sources: exact reads, and bounded buffering of sources that cannot seek.</summary>
public static class ByteSource
{
    /// <summary>Reads a whole stream (a pipe, <c>/dev/stdin</c>, a process substitution) into memory, refusing more than
    /// <paramref name="maxBytes"/> bytes, so that <c>/dev/zero</c> gives an error rather than an endless read.</summary>
    /// <param name="stream">The stream, read from its current position to its end.</param>
    /// <param name="name">The name to show in messages.</param>
    /// <param name="maxBytes">The most bytes accepted (default <see cref="ModelLimits.MaxStreamBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes as a source of known length.</returns>
    /// <exception cref="ModelFileFormatException">The stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    /// <exception cref="IOException">A read failed.</exception>
    public static async ValueTask<MemoryByteSource> BufferAsync(Stream stream, string name, long maxBytes = ModelLimits.MaxStreamBytes,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        while (true)
        {
            int n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            if (buffer.Length + n > maxBytes)
            {
                throw StreamTooLong(name, maxBytes);
            }

            buffer.Write(chunk, 0, n);
        }

        return new MemoryByteSource(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), name);
    }

    /// <summary>Reads a whole source of unknown length into memory, at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="source">The source.</param>
    /// <param name="maxBytes">The most bytes accepted (default <see cref="ModelLimits.MaxStreamBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The source itself when its length is known, else its bytes in memory.</returns>
    /// <exception cref="ModelFileFormatException">The source holds more than <paramref name="maxBytes"/> bytes.</exception>
    /// <exception cref="IOException">A read failed.</exception>
    public static async ValueTask<IByteSource> BufferAsync(IByteSource source, long maxBytes = ModelLimits.MaxStreamBytes,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Length is not null)
        {
            return source;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        long offset = 0;
        while (true)
        {
            int n = await source.ReadAsync(offset, chunk, cancellationToken).ConfigureAwait(false);
            if (n <= 0)
            {
                break;
            }

            if (offset + n > maxBytes)
            {
                throw StreamTooLong(source.Name, maxBytes);
            }

            buffer.Write(chunk, 0, n);
            offset += n;
        }

        return new MemoryByteSource(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), source.Name);
    }

    /// <summary>Opens a local path as a byte source: a regular file as a <see cref="FileByteSource"/>; a pipe, FIFO or
    /// device (length 0 to the file system, e.g. <c>/dev/stdin</c> or <c>&lt;(cat config.json)</c>) read whole into
    /// memory, at most <see cref="ModelLimits.MaxStreamBytes"/>.</summary>
    /// <param name="path">The path.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The source; dispose it when it is <see cref="IDisposable"/>.</returns>
    /// <exception cref="ModelFileFormatException">A stream holds more than the limit.</exception>
    /// <exception cref="IOException">The path cannot be opened or read.</exception>
    /// <exception cref="UnauthorizedAccessException">The path may not be read.</exception>
    public static async ValueTask<IByteSource> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        LocalFiles.CheckOpenable(path, scanned: false);
        FileByteSource? file = null;
        try
        {
            file = new FileByteSource(path);
        }
        catch (NotSupportedException)
        {
            // A pipe: no length, no seeking; nothing was read from it yet.
        }

        if (file is { FileLength: > 0 })
        {
            return file;
        }

        // Length 0 or none: an empty file, or a pipe or device under /dev or /proc. Read it as a stream (bounded).
        file?.Dispose();
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        await using (stream.ConfigureAwait(false))
        {
            return await BufferAsync(stream, path, ModelLimits.MaxStreamBytes, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The synchronous twin of <see cref="BufferAsync(Stream, string, long, CancellationToken)"/> (local pipes).</summary>
    internal static MemoryByteSource Buffer(Stream stream, string name, long maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + n > maxBytes)
            {
                throw StreamTooLong(name, maxBytes);
            }

            buffer.Write(chunk, 0, n);
        }

        return new MemoryByteSource(buffer.ToArray(), name);
    }

    private static ModelFileFormatException StreamTooLong(string name, long maxBytes) =>
        new(name, maxBytes, MessageText.Clean(name) + ": expected a stream of at most " + maxBytes.ToString("N0", CultureInfo.InvariantCulture) +
            " bytes (a pipe or device is read whole); found more (pass a checkpoint by its path instead).");

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; returns false when the source ends first.</summary>
    internal static bool TryReadExactly(this ISynchronousByteSource source, long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = source.Read(offset, destination);
            if (n <= 0)
            {
                return false;
            }

            offset += n;
            destination = destination[n..];
        }

        return true;
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; returns false when the source ends first.</summary>
    internal static async ValueTask<bool> TryReadExactlyAsync(this IByteSource source, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (!destination.IsEmpty)
        {
            int n = await source.ReadAsync(offset, destination, cancellationToken).ConfigureAwait(false);
            if (n <= 0)
            {
                return false;
            }

            offset += n;
            destination = destination[n..];
        }

        return true;
    }

    /// <summary>The length of a source the readers were given: known, or refused with a clear line.</summary>
    internal static long KnownLength(IByteSource source) =>
        source.Length ?? throw new ModelFileFormatException(source.Name, null,
            MessageText.Clean(source.Name) + ": expected a source of known length; found a stream (buffer it first with ByteSource.BufferAsync).");
}
