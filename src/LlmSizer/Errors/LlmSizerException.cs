namespace LlmSizer.Errors;

/// <summary>The base of every error the library raises for bad input. Its message is one line that says where,
/// what was expected and what was found.</summary>
public class LlmSizerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The one-line message.</param>
    protected internal LlmSizerException(string message)
        : base(MessageText.OneLine(message))
    {
    }

    /// <summary>Creates the exception with an inner cause.</summary>
    /// <param name="message">The one-line message.</param>
    /// <param name="innerException">The cause.</param>
    protected internal LlmSizerException(string message, Exception? innerException)
        : base(MessageText.OneLine(message), innerException)
    {
    }
}

/// <summary>A config.json (or a catalog entry) is missing a field, has an invalid value, or is not valid JSON.</summary>
public sealed class ModelConfigException : LlmSizerException
{
    internal ModelConfigException(string filePath, string? jsonPath, string message, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
        JsonPath = jsonPath;
    }

    /// <summary>The file (or catalog id) that holds the config.</summary>
    public string FilePath { get; }

    /// <summary>The JSON field at fault, when known.</summary>
    public string? JsonPath { get; }
}

/// <summary>A checkpoint file (safetensors, GGUF, index) is damaged, truncated, hostile or of an unsupported version.</summary>
public sealed class ModelFileFormatException : LlmSizerException
{
    internal ModelFileFormatException(string filePath, long? byteOffset, string message, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
        ByteOffset = byteOffset;
    }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    /// <summary>The byte offset at which the problem was found, when known.</summary>
    public long? ByteOffset { get; }
}

/// <summary>The config names a model family (model_type, GGUF architecture) that is not supported.</summary>
public sealed class UnsupportedArchitectureException : LlmSizerException
{
    internal UnsupportedArchitectureException(string message)
        : base(message)
    {
    }
}

/// <summary>A model argument names nothing we can read: no catalog id, no file, no known format.</summary>
public sealed class UnknownModelException : LlmSizerException
{
    internal UnknownModelException(string message)
        : base(message)
    {
    }
}

/// <summary>A setting of a request (a workload option, a manual architecture number, a GPU choice) has an invalid value
/// or conflicts with another.</summary>
/// <remarks>The setting is named by its logical name (<c>context</c>, <c>tensor_parallel</c>, <c>dtype</c>; see
/// <see cref="Memory.SettingNames"/>), never by a front end's spelling of it: the CLI shows <c>context</c>, the web API
/// <c>context</c>. <see cref="Detail"/> is the message without the setting, so each front end can prefix its own name.</remarks>
public sealed class InvalidSettingException : LlmSizerException
{
    internal InvalidSettingException(string setting, string detail)
        : base(setting + ": " + detail)
    {
        Setting = setting;
        Detail = detail;
    }

    /// <summary>The logical setting at fault, e.g. <c>tensor_parallel</c>.</summary>
    public string Setting { get; }

    /// <summary>What was expected and what was found, without the setting's name, e.g.
    /// <c>expected a divisor of the 32 attention heads; found 3.</c></summary>
    public string Detail { get; }
}

/// <summary>Makes untrusted text (tensor names, metadata keys, config strings, file names) safe to put in a one-line
/// message: control characters (newlines, ANSI escape sequences, NUL), bidirectional overrides and other format
/// characters are escaped as <c>\n</c>, <c>\e</c> or <c>\u202E</c>, and long text keeps its head and tail around a count.</summary>
internal static class MessageText
{
    /// <summary>The longest untrusted name kept whole in a message.</summary>
    public const int MaxName = 200;

    /// <summary>The longest whole message.</summary>
    public const int MaxMessage = 4_000;

    /// <summary>Escapes control and format characters and shortens text longer than <paramref name="max"/>.</summary>
    public static string Clean(string? text, int max = MaxName)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        if (text.Length > max)
        {
            int head = max * 3 / 4, tail = max / 4;
            var omitted = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"…({text.Length - head - tail:N0} more characters)…");
            text = string.Concat(text.AsSpan(0, head), omitted, text.AsSpan(text.Length - tail));
        }

        return NeedsEscape(text) ? Escape(text) : text;
    }

    /// <summary>A whole message on one line: escaped as <see cref="Clean"/>, at most <see cref="MaxMessage"/> characters.</summary>
    public static string OneLine(string message) => Clean(message, MaxMessage);

    private static bool NeedsEscape(string text)
    {
        foreach (char c in text)
        {
            if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) ||
        (c >= '\u2000' && System.Globalization.CharUnicodeInfo.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format
            or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator);

    private static string Escape(string text)
    {
        var sb = new System.Text.StringBuilder(text.Length + 16);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                sb.Append(c).Append(text[++i]);
                continue;
            }

            if (!IsUnsafe(c))
            {
                sb.Append(c);
                continue;
            }

            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\u001B' => "\\e",
                _ => "\\u" + ((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture),
            });
        }

        return sb.ToString();
    }
}

/// <summary>What went wrong when a model was read over the network (or could not be, because the network is off).</summary>
public enum RemoteErrorKind
{
    /// <summary>401 or 403: a gated or private repository, or a token without access.</summary>
    Unauthorized,

    /// <summary>404: no such repository, revision or file.</summary>
    NotFound,

    /// <summary>The network is forbidden (<c>HF_HUB_OFFLINE=1</c>) and the local caches do not hold what is needed.</summary>
    Offline,

    /// <summary>The host name did not resolve, or the connection failed or was reset.</summary>
    Connection,

    /// <summary>The server did not answer in time.</summary>
    Timeout,

    /// <summary>The server answered, but not as the Hub or an HTTP range server does (a bad status, a missing length,
    /// a header larger than any reader accepts).</summary>
    Protocol,
}

/// <summary>A model on the Hugging Face Hub (or at an http(s) URL) could not be read: the server refused, the file is
/// not there, the network is off or failed. The message is one line naming the repository, revision, file or URL; it
/// never holds an access token.</summary>
public sealed class RemoteModelException : LlmSizerException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="url">The URL or <c>hf:</c> id at fault (without credentials).</param>
    /// <param name="message">The one-line message.</param>
    /// <param name="statusCode">The HTTP status, when the server answered.</param>
    /// <param name="innerException">The cause.</param>
    internal RemoteModelException(RemoteErrorKind kind, string url, string message, int? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        Url = url;
        StatusCode = statusCode;
    }

    /// <summary>What went wrong.</summary>
    public RemoteErrorKind Kind { get; }

    /// <summary>The URL or <c>hf:</c> id at fault.</summary>
    public string Url { get; }

    /// <summary>The HTTP status, when the server answered.</summary>
    public int? StatusCode { get; }
}
