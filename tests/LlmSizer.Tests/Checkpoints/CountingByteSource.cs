using LlmSizer.Checkpoints;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Wraps a byte source and records how many bytes were read and the furthest byte touched.</summary>
internal sealed class CountingByteSource(ISynchronousByteSource inner) : ISynchronousByteSource
{
    public string Name => inner.Name;

    public long? Length => inner.Length;

    public long BytesRead { get; private set; }

    public long MaxEnd { get; private set; }

    public int Reads { get; private set; }

    public int Read(long offset, Span<byte> buffer)
    {
        int n = inner.Read(offset, buffer);
        BytesRead += n;
        Reads++;
        MaxEnd = Math.Max(MaxEnd, offset + n);
        return n;
    }

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        new(Read(offset, buffer.Span));
}

/// <summary>An in-memory file (the library's <see cref="LlmSizer.Checkpoints.MemoryByteSource"/> with a default name).</summary>
internal static class MemoryByteSource
{
    public static LlmSizer.Checkpoints.MemoryByteSource Create(byte[] bytes, string name = "mem.bin") => new(bytes, name);
}

/// <summary>An asynchronous-only source over bytes (no synchronous path), serving at most <paramref name="chunk"/>
/// bytes per read, as a remote range reader would: it drives the readers' asynchronous walk.</summary>
internal sealed class AsyncOnlyByteSource(byte[] bytes, string name = "remote.bin", int chunk = 1 << 20, bool unknownLength = false) : IByteSource
{
    public string Name { get; } = name;

    public long? Length => unknownLength ? null : bytes.Length;

    public int Reads { get; private set; }

    public long BytesRead { get; private set; }

    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        Reads++;
        if (offset >= bytes.Length)
        {
            return 0;
        }

        int n = (int)Math.Min(Math.Min(buffer.Length, chunk), bytes.Length - offset);
        bytes.AsSpan((int)offset, n).CopyTo(buffer.Span);
        BytesRead += n;
        return n;
    }
}
