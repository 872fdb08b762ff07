using Microsoft.Win32.SafeHandles;

namespace LlmSizer.Checkpoints;

/// <summary>Random access to the bytes of a checkpoint: the readers ask for exact ranges (headers only), so a file,
/// a stream or (later) an HTTP range reader can serve them.</summary>
internal interface IByteSource
{
    /// <summary>The name to show in messages (a path or URL).</summary>
    string Name { get; }

    /// <summary>The total length in bytes.</summary>
    long Length { get; }

    /// <summary>Reads up to <c>destination.Length</c> bytes at <paramref name="offset"/>; returns the count read (0 at the end).</summary>
    int ReadAt(long offset, Span<byte> destination);
}

/// <summary>A file read with <see cref="RandomAccess"/> at explicit offsets (no stream position, no read-ahead buffer).</summary>
internal sealed class FileByteSource : IByteSource, IDisposable
{
    private readonly SafeFileHandle _handle;

    public FileByteSource(string path)
    {
        Name = path;
        _handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        Length = RandomAccess.GetLength(_handle);
    }

    public string Name { get; }

    public long Length { get; }

    public int ReadAt(long offset, Span<byte> destination) => RandomAccess.Read(_handle, destination, offset);

    public void Dispose() => _handle.Dispose();
}

/// <summary>A seekable stream as a byte source (tests, in-memory files).</summary>
internal sealed class StreamByteSource(Stream stream, string name) : IByteSource
{
    public string Name { get; } = name;

    public long Length { get; } = stream.Length;

    public int ReadAt(long offset, Span<byte> destination)
    {
        stream.Position = offset;
        return stream.Read(destination);
    }
}

internal static class ByteSourceExtensions
{
    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; returns false when the source ends first.</summary>
    public static bool TryReadExactly(this IByteSource source, long offset, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int n = source.ReadAt(offset, destination);
            if (n <= 0)
            {
                return false;
            }

            offset += n;
            destination = destination[n..];
        }

        return true;
    }
}
