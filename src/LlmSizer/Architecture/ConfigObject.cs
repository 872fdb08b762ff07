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
    /// <exception cref="ModelConfigException">The text is not valid JSON or not an object.</exception>
    public static ConfigObject Parse(string json, string filePath)
    {
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            return new ConfigObject(doc.RootElement.Clone(), filePath);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is long line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : "";
            throw new ModelConfigException(filePath, null, $"{filePath}: invalid JSON{where}: {FirstLine(ex.Message)}", ex);
        }
    }

    /// <summary>Reads a config.json file.</summary>
    /// <param name="path">The path.</param>
    /// <returns>The root object.</returns>
    /// <exception cref="ModelConfigException">The file is missing, unreadable, too large or not valid JSON.</exception>
    public static ConfigObject Load(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new ModelConfigException(path, null, $"{path}: file not found.");
            }

            // A config.json is a few KB; refuse anything absurd rather than reading it whole.
            if (info.Length > 16 * 1024 * 1024)
            {
                throw new ModelConfigException(path, null, $"{path}: expected a config.json of at most 16 MiB; found {info.Length:N0} bytes.");
            }

            return Parse(File.ReadAllText(path), path);
        }
        catch (IOException ex)
        {
            throw new ModelConfigException(path, null, $"{path}: cannot read the file: {FirstLine(ex.Message)}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ModelConfigException(path, null, $"{path}: cannot read the file: {FirstLine(ex.Message)}", ex);
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
        var text = field.Length == 0 ? $"{FilePath}: {message}." : $"{FilePath}: {field}: {message}.";
        return new ModelConfigException(FilePath, field, text);
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(v.GetString() ?? "")}\"",
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
