using System.Globalization;
using System.Text;
using LlmSizer.Errors;

namespace LlmSizer.Gpus;

/// <summary>A GPU name matches no catalog id, alias or driver name. The message lists the closest ids.</summary>
public sealed class UnknownGpuException : LlmSizerException
{
    internal UnknownGpuException(string name, IReadOnlyList<string> suggestions, string message)
        : base(message)
    {
        GpuName = name;
        Suggestions = suggestions;
    }

    /// <summary>The name that was not found.</summary>
    public string GpuName { get; }

    /// <summary>The closest catalog ids, best first.</summary>
    public IReadOnlyList<string> Suggestions { get; }
}

/// <summary>Local GPU discovery failed: nvidia-smi or rocm-smi could not run, timed out, printed too much, or printed
/// something that is not the expected output; or /proc/meminfo is unreadable.</summary>
public sealed class GpuDiscoveryException : LlmSizerException
{
    internal GpuDiscoveryException(string tool, string message, Exception? inner = null)
        : base(message, inner)
    {
        Tool = tool;
    }

    /// <summary>The tool or file at fault ("nvidia-smi", "rocm-smi", "/proc/meminfo").</summary>
    public string Tool { get; }
}

/// <summary>The one-line messages of the GPU area, in one place.</summary>
internal static class GpuErrorMessages
{
    private const int QuoteLimit = 60;

    public static InvalidSettingException Setting(string setting, string expected, string found) =>
        new(setting, $"expected {expected}; found {found}.");

    public static UnknownGpuException UnknownGpu(string name, IReadOnlyList<string> suggestions) =>
        new(name, suggestions, suggestions.Count == 0
            ? $"gpu: {Quote(name)} is not a known GPU."
            : $"gpu: {Quote(name)} is not a known GPU; did you mean {string.Join(", ", suggestions)}?");

    public static GpuDiscoveryException Output(string tool, string where, string expected, string found) =>
        new(tool, $"{tool}: {where}: expected {expected}; found {found}.");

    public static GpuDiscoveryException Failed(string tool, string what, Exception? inner = null) =>
        new(tool, $"{tool}: {what}.", inner);

    public static GpuDiscoveryException InvalidJson(string tool, System.Text.Json.JsonException ex) =>
        new(tool, ex.LineNumber is long line
            ? $"{tool}: output: expected valid JSON; found invalid JSON at line {(line + 1).ToString(CultureInfo.InvariantCulture)}."
            : $"{tool}: output: expected valid JSON; found invalid JSON.", ex);

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Quotes untrusted text for a one-line message: at most 60 characters, control characters shown as '?'.</summary>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "nothing";
        }

        var sb = new StringBuilder(Math.Min(text.Length, QuoteLimit) + 3);
        sb.Append('\'');
        foreach (var c in text.AsSpan(0, Math.Min(text.Length, QuoteLimit)))
        {
            sb.Append(char.IsControl(c) || char.IsSurrogate(c) ? '?' : c);
        }

        if (text.Length > QuoteLimit)
        {
            sb.Append('…');
        }

        sb.Append('\'');
        return sb.ToString();
    }
}
