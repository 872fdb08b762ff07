using System.Globalization;
using LlmSizer.Errors;

namespace LlmSizer.Checkpoints.Safetensors;

/// <summary>The messages of safetensors read errors, one line each: "&lt;file&gt;: byte N: &lt;field&gt;: expected X; found Y."</summary>
internal static class SafetensorsThrowHelper
{
    /// <summary>The largest header the reference implementation accepts (safetensors MAX_HEADER_SIZE).</summary>
    public const long MaxHeaderLength = 100_000_000;

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    public static ModelFileFormatException Error(string file, long? offset, string field, string expected, string found) =>
        new(file, offset, offset is { } o
            ? $"{MessageText.Clean(file, 400)}: byte {N(o)}: {MessageText.Clean(field, 300)}: expected {expected}; found {MessageText.Clean(found, 300)}."
            : $"{MessageText.Clean(file, 400)}: {MessageText.Clean(field, 300)}: expected {expected}; found {MessageText.Clean(found, 300)}.");

    public static ModelFileFormatException TooShort(string file, long length) =>
        Error(file, 0, "header length", "an 8-byte little-endian header length", $"a file of {N(length)} bytes");

    public static ModelFileFormatException HeaderTooLarge(string file, ulong headerLength, long fileLength) =>
        Error(file, 0, "header length", $"at most {N(Math.Min(MaxHeaderLength, Math.Max(0, fileLength - 8)))} (100,000,000 and the file's length − 8)",
            headerLength.ToString("N0", CultureInfo.InvariantCulture));

    public static ModelFileFormatException InvalidUtf8(string file) =>
        Error(file, 8, "header", "UTF-8 JSON", "invalid UTF-8 bytes");

    public static ModelFileFormatException NotAnObject(string file) =>
        Error(file, 8, "header", "a JSON object starting with '{'", "something else");

    public static ModelFileFormatException InvalidJson(string file, long offset, string detail) =>
        Error(file, offset, "header", "valid JSON (at most 4 levels deep)", detail.ReplaceLineEndings(" "));

    public static ModelFileFormatException BadField(string file, long offset, string tensor, string field, string expected, string found) =>
        Error(file, offset, $"tensor '{tensor}' {field}", expected, found);

    public static ModelFileFormatException UnknownDtype(string file, long offset, string tensor, string dtype) =>
        BadField(file, offset, tensor, "dtype", "a safetensors dtype (F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E8M0, F4, F6_E2M3, F6_E3M2, I64..I8, U64..U8, BOOL, C64)", $"'{dtype}'");

    public static ModelFileFormatException Duplicate(string file, long? offset, string tensor) =>
        Error(file, offset, "tensor name", "unique names", $"'{tensor}' twice");

    public static ModelFileFormatException SizeMismatch(string file, string tensor, long expected, long found) =>
        Error(file, null, $"tensor '{tensor}' data_offsets", $"a span of {N(expected)} bytes (shape × dtype size)", $"{N(found)} bytes");

    public static ModelFileFormatException NotContiguous(string file, string tensor, long expectedBegin, long begin) =>
        Error(file, null, $"tensor '{tensor}' data_offsets", $"to begin at {N(expectedBegin)} (contiguous, non-overlapping data)", N(begin));

    public static ModelFileFormatException DataLength(string file, long dataEnd, long dataLength) =>
        Error(file, null, "data_offsets", $"tensor data covering the {N(dataLength)} bytes after the header", $"data ending at {N(dataEnd)}");
}
