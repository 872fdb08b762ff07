using LlmSizer.Checkpoints;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Wraps a byte source and records how many bytes were read and the furthest byte touched.</summary>
internal sealed class CountingByteSource(IByteSource inner) : IByteSource
{
    public string Name => inner.Name;

    public long Length => inner.Length;

    public long BytesRead { get; private set; }

    public long MaxEnd { get; private set; }

    public int ReadAt(long offset, Span<byte> destination)
    {
        int n = inner.ReadAt(offset, destination);
        BytesRead += n;
        MaxEnd = Math.Max(MaxEnd, offset + n);
        return n;
    }
}

/// <summary>An in-memory file.</summary>
internal sealed class MemoryByteSource(byte[] bytes, string name = "mem.bin") : IByteSource
{
    public string Name { get; } = name;

    public long Length => bytes.Length;

    public int ReadAt(long offset, Span<byte> destination)
    {
        if (offset >= bytes.Length)
        {
            return 0;
        }

        int n = (int)Math.Min(destination.Length, bytes.Length - offset);
        bytes.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }
}
