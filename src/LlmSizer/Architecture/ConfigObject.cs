using System.Globalization;
using System.Text.Json;
using LlmSizer.Errors;

namespace LlmSizer.Architecture;

/// <summary>A read-only view of a config.json object that turns every missing or invalid field into a one-line
/// <see cref="ModelConfigException"/> naming the file and the JSON field.</summary>
public sealed class ConfigObject
{
    private readonly JsonElement _element;

    /// <summary>Wraps a JSON object.</summary>
    /// <param name="element">The JSON object.</param>
    /// <param name="filePath">The file (or catalog id) it came from.</param>
    /// <param name="path">The JSON path prefix of this object ("" for the root, "text_config." for a nested one).</param>
    /// <exception cref="ModelConfigException">The element is not an object.</exception>
    public ConfigObject(JsonElement element, string filePath, string path = "")
    {
        FilePath = filePath;
        PathPrefix = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Error(path.TrimEnd('.'), $"expected a JSON object; found {Describe(element)}");
        }

        _element = element;
    }

    /// <summary>The file (or catalog id) the config came from.</summary>
    public string FilePath { get; }

    /// <summary>The JSON path prefix of this object.</summary>
    public string PathPrefix { get; }

    /// <summary>The file name to show in messages (the full path's last part for real files).</summary>
    public string DisplayName => FilePath;

    /// <summary>The underlying JSON element.</summary>
    public JsonElement Element => _element;

    /// <summary>Parses config text.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="filePath">The file name for messages.</param>
    /// <returns>The root object.</returns>
    /// <exception cref="ModelConfigException">The text is not valid JSON or not an object, or holds an invalid string
    /// (a lone UTF-16 surrogate escape such as <c>\ud800</c>).</exception>
    public static ConfigObject Parse(string json, string filePath)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonText.FindLoneSurrogate(json) is { } at)
        {
            throw new ModelConfigException(filePath, null, $"{MessageText.Clean(filePath, 400)}: invalid text at character {at + 1}: expected Unicode text; found a lone UTF-16 surrogate.");
        }

        return Parse(System.Text.Encoding.UTF8.GetBytes(json), filePath);
    }

    /// <summary>Parses config bytes (UTF-8, with or without a byte order mark).</summary>
    /// <param name="utf8Json">The JSON bytes.</param>
    /// <param name="filePath">The file name for messages.</param>
    /// <returns>The root object.</returns>
    /// <exception cref="ModelConfigException">The bytes are not UTF-8, not valid JSON or not an object, or hold an invalid
    /// string (a lone UTF-16 surrogate escape such as <c>\ud800</c>).</exception>
    public static ConfigObject Parse(ReadOnlySpan<byte> utf8Json, string filePath)
    {
        string file = MessageText.Clean(filePath, 400);
        if (utf8Json.StartsWith("\uFEFF"u8))
        {
            utf8Json = utf8Json[3..];
        }

        if (JsonText.FindInvalidUtf8(utf8Json) is { } bad)
        {
            throw new ModelConfigException(filePath, null, $"{file}: invalid text at byte {bad + 1}: expected UTF-8; found the byte 0x{utf8Json[(int)bad]:X2}.");
        }

        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(utf8Json.ToArray(), new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            throw new ModelConfigException(filePath, null, $"{file}: invalid JSON{where}: {FirstLine(ex.Message)}", ex);
        }

        // System.Text.Json unescapes lazily: "\ud800" parses, then GetString (in any family's reader) throws
        // InvalidOperationException. Every key and string is checked once here, so no later lookup can.
        if (JsonText.FindInvalidString(root) is { } field)
        {
            throw new ModelConfigException(filePath, field, $"{file}: {(field.Length == 0 ? "" : MessageText.Clean(field) + ": ")}expected a valid JSON string; found an invalid escape (a lone UTF-16 surrogate such as \\ud800).");
        }

        return new ConfigObject(root, filePath);
    }

    /// <summary>Reads a config.json file.</summary>
    /// <param name="path">The path. A pipe or device under <c>/dev</c> (<c>/dev/stdin</c>) is read as a stream, at most
    /// <see cref="ModelLimits.MaxJsonBytes"/>.</param>
    /// <returns>The root object.</returns>
    /// <exception cref="ModelConfigException">The file is missing, unreadable, too large, not a regular file, or not valid JSON.</exception>
    public static ConfigObject Load(string path) => Load(path, scanned: false);

    /// <summary>Reads a config.json file; one found beside other files (<paramref name="scanned"/>) must be a regular file.</summary>
    internal static ConfigObject Load(string path, bool scanned)
    {
        string file = MessageText.Clean(path, 400);
        try
        {
            if (!File.Exists(path))
            {
                throw new ModelConfigException(path, null, $"{file}: file not found.");
            }

            return Parse(Checkpoints.LocalFiles.ReadAll(path, ModelLimits.MaxJsonBytes, scanned), path);
        }
        catch (ModelFileFormatException ex)
        {
            throw new ModelConfigException(path, null, ex.Message, ex);
        }
        catch (IOException ex)
        {
            throw new ModelConfigException(path, null, $"{file}: cannot read the file: {FirstLine(ex.Message)}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ModelConfigException(path, null, $"{file}: cannot read the file: {FirstLine(ex.Message)}", ex);
        }
    }

    /// <summary>True when the key is present and not null.</summary>
    /// <param name="key">The key.</param>
    /// <returns>Whether a non-null value is present.</returns>
    public bool Has(string key) => _element.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The first of <paramref name="keys"/> that is present and not null, or null.</summary>
    /// <param name="keys">Candidate keys, in order of preference.</param>
    /// <returns>The key found, or null.</returns>
    public string? FirstPresent(params string[] keys) => keys.FirstOrDefault(Has);

    /// <summary>A required positive integer.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ModelConfigException">Missing, not an integer, or not positive.</exception>
    public int Int(string key) =>
        OptionalInt(key) ?? throw Error(key, "missing; expected a positive integer");

    /// <summary>A required positive integer under the first present of several alias keys.</summary>
    /// <param name="keys">Alias keys, e.g. "hidden_size", "n_embd", "d_model".</param>
    /// <returns>The value.</returns>
    /// <exception cref="ModelConfigException">None present, or invalid.</exception>
    public int Int(params string[] keys)
    {
        var key = FirstPresent(keys) ?? throw Error(keys[0], $"missing (also looked for {string.Join(", ", keys.Skip(1))}); expected a positive integer");
        return Int(key);
    }

    /// <summary>An optional positive integer (null when absent or JSON null).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value or null.</returns>
    /// <exception cref="ModelConfigException">Present but not a positive integer.</exception>
    public int? OptionalInt(string key) => OptionalInteger(key, allowZero: false);

    /// <summary>An optional non-negative integer (null when absent or JSON null).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value or null.</returns>
    /// <exception cref="ModelConfigException">Present but not a non-negative integer.</exception>
    public int? OptionalNonNegativeInt(string key) => OptionalInteger(key, allowZero: true);

    /// <summary>An integer with a default for an absent key (the HF config class default).</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The default.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ModelConfigException">Present but not a positive integer.</exception>
    public int IntOr(string key, int defaultValue) => OptionalInt(key) ?? defaultValue;

    /// <summary>A non-negative integer with a default for an absent key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The default.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ModelConfigException">Present but not a non-negative integer.</exception>
    public int NonNegativeIntOr(string key, int defaultValue) => OptionalNonNegativeInt(key) ?? defaultValue;

    private int? OptionalInteger(string key, bool allowZero)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var expected = allowZero ? "a non-negative integer" : "a positive integer";
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw Error(key, $"expected {expected}; found {Describe(v)}");
        }

        if (v.TryGetInt64(out var l))
        {
            if (l < 0 || (!allowZero && l == 0) || l > int.MaxValue)
            {
                throw Error(key, $"expected {expected}; found {l}");
            }

            return (int)l;
        }

        // Some configs write integers as 4096.0; accept exact whole numbers only.
        if (v.TryGetDouble(out var d) && d == Math.Floor(d) && d >= (allowZero ? 0 : 1) && d <= int.MaxValue)
        {
            return (int)d;
        }

        throw Error(key, $"expected {expected}; found {v.GetRawText()}");
    }

    /// <summary>A boolean with a default for an absent key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The default.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ModelConfigException">Present but not a boolean.</exception>
    public bool Bool(string key, bool defaultValue)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return defaultValue;
        }

        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"expected true or false; found {Describe(v)}"),
        };
    }

    /// <summary>An optional string.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The string, or null when absent.</returns>
    /// <exception cref="ModelConfigException">Present but not a string.</exception>
    public string? String(string key)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(key, $"expected a string; found {Describe(v)}");
    }

    /// <summary>An optional number.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The number, or null when absent.</returns>
    /// <exception cref="ModelConfigException">Present but not a finite number.</exception>
    public double? Double(string key)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)
            ? d
            : throw Error(key, $"expected a number; found {Describe(v)}");
    }

    /// <summary>An optional array of strings (e.g. <c>layer_types</c>, <c>architectures</c>).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The strings, or null when absent.</returns>
    /// <exception cref="ModelConfigException">Present but not an array of strings.</exception>
    public IReadOnlyList<string>? StringArray(string key)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error(key, $"expected an array of strings; found {Describe(v)}");
        }

        var list = new List<string>();
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw Error($"{key}[{i}]", $"expected a string; found {Describe(item)}");
            }

            list.Add(item.GetString()!);
            i++;
        }

        return list;
    }

    /// <summary>An optional array of integers (e.g. <c>mlp_only_layers</c>).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The integers, or null when absent.</returns>
    /// <exception cref="ModelConfigException">Present but not an array of non-negative integers.</exception>
    public IReadOnlyList<int>? IntArray(string key)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error(key, $"expected an array of integers; found {Describe(v)}");
        }

        var list = new List<int>();
        int i = 0;
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var n) || n < 0)
            {
                throw Error($"{key}[{i}]", $"expected a non-negative integer; found {Describe(item)}");
            }

            list.Add(n);
            i++;
        }

        return list;
    }

    /// <summary>A nested object (e.g. <c>text_config</c>), or null when absent.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The nested config, or null.</returns>
    /// <exception cref="ModelConfigException">Present but not an object.</exception>
    public ConfigObject? Object(string key)
    {
        if (!_element.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return new ConfigObject(v, FilePath, PathPrefix + key + ".");
    }

    /// <summary>Builds the one-line error for a field: "<c>file: field: message.</c>".</summary>
    /// <param name="key">The field (without prefix).</param>
    /// <param name="message">What was expected and found.</param>
    /// <returns>The exception, to throw.</returns>
    public ModelConfigException Error(string key, string message)
    {
        var field = PathPrefix + key;
        var file = MessageText.Clean(FilePath, 400);
        var text = field.Length == 0 ? $"{file}: {message}." : $"{file}: {MessageText.Clean(field)}: {message}.";
        return new ModelConfigException(FilePath, field, text);
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{MessageText.Clean(Truncate(v.GetString() ?? ""))}\"",
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private static string FirstLine(string s)
    {
        var i = s.IndexOfAny(['\r', '\n']);
        return (i < 0 ? s : s[..i]).TrimEnd('.');
    }

    /// <summary>Formats an integer for messages with invariant culture.</summary>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    internal static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Checks on untrusted JSON that System.Text.Json leaves to the first string access.</summary>
internal static class JsonText
{
    /// <summary>The offset of the first byte that is not valid UTF-8, or null.</summary>
    public static long? FindInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return null;
        }

        long at = 0;
        while (!bytes.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes, out _, out int used) != System.Buffers.OperationStatus.Done)
            {
                return at;
            }

            at += used;
            bytes = bytes[used..];
        }

        return null;
    }

    /// <summary>The index of the first lone UTF-16 surrogate in <paramref name="text"/>, or null.</summary>
    public static int? FindLoneSurrogate(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return i;
            }
        }

        return null;
    }

    /// <summary>The JSON path (<c>a.b[2]</c>; "" for the root) of the first key or string whose escapes do not decode
    /// (a lone surrogate), or null when every one does.</summary>
    public static string? FindInvalidString(JsonElement element, string path = "", int depth = 0)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Decodes(element) ? null : path;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindInvalidString(item, $"{path}[{i}]", depth + 1) is { } bad)
                    {
                        return bad;
                    }

                    i++;
                }

                return null;
            case JsonValueKind.Object:
                int k = 0;
                foreach (var p in element.EnumerateObject())
                {
                    string name;
                    try
                    {
                        name = p.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return (path.Length == 0 ? "" : path + ".") + $"(key {k + 1})";
                    }

                    if (FindInvalidString(p.Value, path.Length == 0 ? name : path + "." + name, depth + 1) is { } bad)
                    {
                        return bad;
                    }

                    k++;
                }

                return null;
            default:
                return null;
        }
    }

    private static bool Decodes(JsonElement element)
    {
        try
        {
            _ = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
