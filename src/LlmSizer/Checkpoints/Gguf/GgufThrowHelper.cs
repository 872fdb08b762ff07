using System.Globalization;
using LlmSizer.Errors;

namespace LlmSizer.Checkpoints.Gguf;

/// <summary>The messages of GGUF read errors, one line each: "&lt;file&gt;: byte N: &lt;field&gt;: expected X; found Y."</summary>
internal static class GgufThrowHelper
{
    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static string N(ulong v) => v.ToString("N0", CultureInfo.InvariantCulture);

    // Names, keys and values come from the file: cleaned (escaped, shortened) before they go into the line.
    public static ModelFileFormatException Error(string file, long offset, string field, string expected, string found) =>
        new(file, offset, $"{MessageText.Clean(file, 400)}: byte {N(offset)}: {MessageText.Clean(field, 300)}: expected {expected}; found {MessageText.Clean(found, 300)}.");

    public static ModelFileFormatException Truncated(string file, long offset, string field, long needed, long remaining) =>
        Error(file, offset, field, $"{N(needed)} more bytes", $"{N(remaining)} (file truncated or length field corrupt)");

    public static ModelFileFormatException BadMagic(string file, ReadOnlySpan<byte> magic) =>
        Error(file, 0, "magic", "\"GGUF\" (47 47 55 46)", Convert.ToHexString(magic));

    public static ModelFileFormatException UnsupportedVersion(string file, uint version) =>
        Error(file, 4, "version", "2 or 3", version == 1
            ? "1 (GGUF v1 is not supported; re-convert the model with a current llama.cpp)"
            : (version & 0xFFFF) == 0 && version != 0
                ? $"{version} (a big-endian GGUF, which is not supported)"
                : version.ToString(CultureInfo.InvariantCulture));

    public static ModelFileFormatException CountTooLarge(string file, long offset, string field, ulong count, long max) =>
        Error(file, offset, field, $"at most {N(max)} (what the remaining bytes can hold)", N(count));

    public static ModelFileFormatException InvalidUtf8(string file, long offset, string field) =>
        Error(file, offset, field, "a UTF-8 string", "invalid UTF-8 bytes");

    public static ModelFileFormatException UnknownValueType(string file, long offset, string key, uint type) =>
        Error(file, offset, $"metadata '{key}' type", "a GGUF value type 0..12", type.ToString(CultureInfo.InvariantCulture));

    public static ModelFileFormatException NestingTooDeep(string file, long offset, string key, int max) =>
        Error(file, offset, $"metadata '{key}'", $"arrays nested at most {max} deep", "deeper nesting");

    public static ModelFileFormatException DuplicateKey(string file, long offset, string key) =>
        Error(file, offset, "metadata key", "unique keys", $"'{key}' twice");

    public static ModelFileFormatException TooManyDims(string file, long offset, string tensor, uint dims) =>
        Error(file, offset, $"tensor '{tensor}' n_dims", "1..4", dims.ToString(CultureInfo.InvariantCulture));

    public static ModelFileFormatException BadDim(string file, long offset, string tensor, ulong dim) =>
        Error(file, offset, $"tensor '{tensor}' dimension", "a size below 2^63 whose product with the others fits in 64 bits", N(dim));

    public static ModelFileFormatException UnknownGgmlType(string file, long offset, string tensor, uint type) =>
        Error(file, offset, $"tensor '{tensor}' type", "a known ggml type id (0..39)", type.ToString(CultureInfo.InvariantCulture));

    public static ModelFileFormatException RowNotBlockMultiple(string file, long offset, string tensor, string type, long row, int block) =>
        Error(file, offset, $"tensor '{tensor}' ne[0]", $"a multiple of the {type} block size {block}", N(row));

    public static ModelFileFormatException DuplicateTensor(string file, long offset, string tensor) =>
        Error(file, offset, "tensor name", "unique names", $"'{tensor}' twice");

    public static ModelFileFormatException BadAlignment(string file, string found) =>
        Error(file, 0, "general.alignment", "a power of two written as uint32", found);

    public static ModelFileFormatException MisalignedOffset(string file, long offset, string tensor, ulong tensorOffset, long alignment) =>
        Error(file, offset, $"tensor '{tensor}' offset", $"a multiple of the alignment {alignment}", N(tensorOffset));

    public static ModelFileFormatException DataOutsideFile(string file, long offset, string tensor, ulong tensorOffset, long bytes, long dataStart, long fileLength) =>
        Error(file, offset, $"tensor '{tensor}' data", $"{N(bytes)} bytes at data offset {N(tensorOffset)} (file byte {N(dataStart)} + offset) inside the file",
            $"a file of {N(fileLength)} bytes");

    public static ModelFileFormatException Overlap(string file, string tensor, string previous, ulong tensorOffset, long previousEnd) =>
        Error(file, 0, $"tensor '{tensor}' offset", $"at or after {N(previousEnd)}, where '{previous}' ends", N(tensorOffset) + " (overlapping data)");
}
