namespace LlmSizer.Errors;

/// <summary>The base of every error the library raises for bad input. Its message is one line that says where,
/// what was expected and what was found.</summary>
public class LlmSizerException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The one-line message.</param>
    protected internal LlmSizerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with an inner cause.</summary>
    /// <param name="message">The one-line message.</param>
    /// <param name="innerException">The cause.</param>
    protected internal LlmSizerException(string message, Exception? innerException)
        : base(message, innerException)
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
