using System.Buffers.Binary;
using LlmSizer.Checkpoints.Safetensors;

namespace LlmSizer.Checkpoints;

/// <summary>What a file holds, judged by its first bytes (never by its name).</summary>
public enum CheckpointFormat
{
    /// <summary>None of the formats below.</summary>
    Unknown,

    /// <summary>A GGUF file: magic <c>GGUF</c>.</summary>
    Gguf,

    /// <summary>A safetensors file: a little-endian u64 header length (at most 100,000,000 and inside the file) followed by <c>{</c>.</summary>
    Safetensors,

    /// <summary>A JSON object (a config.json or a <c>*.safetensors.index.json</c>; which one is decided by its keys).</summary>
    Json,
}

/// <summary>Recognises one checkpoint format from the first bytes of a file.</summary>
/// <remarks>The shape of ImageSharp's <c>IImageFormatDetector</c>: a fixed header size and a pure check over it.</remarks>
public interface ICheckpointFormatDetector
{
    /// <summary>The bytes <see cref="Detect"/> needs from the start of the file.</summary>
    int HeaderSize { get; }

    /// <summary>Tells whether <paramref name="header"/> starts a file of this detector's format.</summary>
    /// <param name="header">Up to <see cref="HeaderSize"/> bytes from the start (fewer when the file is shorter).</param>
    /// <param name="length">The file length, when known.</param>
    /// <returns>The format, or <see cref="CheckpointFormat.Unknown"/>.</returns>
    CheckpointFormat Detect(ReadOnlySpan<byte> header, long? length);
}

/// <summary>The built-in detectors and the combined check.</summary>
public static class CheckpointFormats
{
    /// <summary>The built-in detectors: GGUF, safetensors, JSON.</summary>
    public static IReadOnlyList<ICheckpointFormatDetector> Detectors { get; } =
        [new GgufFormatDetector(), new SafetensorsFormatDetector(), new JsonFormatDetector()];

    /// <summary>The largest <see cref="ICheckpointFormatDetector.HeaderSize"/> of the built-in detectors.</summary>
    public static int MaxHeaderSize { get; } = Detectors.Max(d => d.HeaderSize);

    /// <summary>Detects the format from the first bytes of a file.</summary>
    /// <param name="header">The first <see cref="MaxHeaderSize"/> bytes (fewer when the file is shorter).</param>
    /// <param name="length">The file length, when known.</param>
    /// <returns>The first format a detector recognises, or <see cref="CheckpointFormat.Unknown"/>.</returns>
    public static CheckpointFormat Detect(ReadOnlySpan<byte> header, long? length)
    {
        foreach (var d in Detectors)
        {
            var f = d.Detect(header[..Math.Min(header.Length, d.HeaderSize)], length);
            if (f != CheckpointFormat.Unknown)
            {
                return f;
            }
        }

        return CheckpointFormat.Unknown;
    }

    /// <summary>Reads the first bytes of a source and detects its format.</summary>
    /// <param name="source">The source.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The format.</returns>
    /// <exception cref="IOException">The read failed.</exception>
    public static async ValueTask<CheckpointFormat> DetectAsync(IByteSource source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var buffer = new byte[MaxHeaderSize];
        int n = 0;
        while (n < buffer.Length)
        {
            int r = await source.ReadAsync(n, buffer.AsMemory(n), cancellationToken).ConfigureAwait(false);
            if (r <= 0)
            {
                break;
            }

            n += r;
        }

        return Detect(buffer.AsSpan(0, n), source.Length);
    }

    /// <summary>Detects the format of a synchronous source.</summary>
    internal static CheckpointFormat Detect(ISynchronousByteSource source)
    {
        Span<byte> buffer = stackalloc byte[64];
        var header = buffer[..MaxHeaderSize];
        int n = 0;
        while (n < header.Length)
        {
            int r = source.Read(n, header[n..]);
            if (r <= 0)
            {
                break;
            }

            n += r;
        }

        return Detect(header[..n], source.Length);
    }
}

/// <summary>GGUF: the 4-byte magic <c>GGUF</c> (ggml docs/gguf.md).</summary>
public sealed class GgufFormatDetector : ICheckpointFormatDetector
{
    /// <inheritdoc/>
    public int HeaderSize => 4;

    /// <inheritdoc/>
    public CheckpointFormat Detect(ReadOnlySpan<byte> header, long? length) =>
        header.Length >= 4 && header[..4].SequenceEqual("GGUF"u8) ? CheckpointFormat.Gguf : CheckpointFormat.Unknown;
}

/// <summary>Safetensors: a plausible u64 little-endian header length (at most the reference's 100,000,000, and inside the
/// file when its length is known) followed by <c>{</c> (the reference rejects any other first header byte).</summary>
public sealed class SafetensorsFormatDetector : ICheckpointFormatDetector
{
    /// <inheritdoc/>
    public int HeaderSize => 9;

    /// <inheritdoc/>
    public CheckpointFormat Detect(ReadOnlySpan<byte> header, long? length)
    {
        if (header.Length < 9 || header[8] != (byte)'{')
        {
            return CheckpointFormat.Unknown;
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(header);
        bool plausible = n >= 2 && n <= SafetensorsThrowHelper.MaxHeaderLength && (length is not { } l || n <= (ulong)Math.Max(0, l - 8));
        return plausible ? CheckpointFormat.Safetensors : CheckpointFormat.Unknown;
    }
}

/// <summary>JSON: the first byte that is not white space (after an optional UTF-8 byte order mark) is <c>{</c>.</summary>
public sealed class JsonFormatDetector : ICheckpointFormatDetector
{
    /// <inheritdoc/>
    public int HeaderSize => 64;

    /// <inheritdoc/>
    public CheckpointFormat Detect(ReadOnlySpan<byte> header, long? length)
    {
        if (header.StartsWith("\uFEFF"u8))
        {
            header = header[3..];
        }

        foreach (byte b in header)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b == (byte)'{' ? CheckpointFormat.Json : CheckpointFormat.Unknown;
        }

        return CheckpointFormat.Unknown;
    }
}
