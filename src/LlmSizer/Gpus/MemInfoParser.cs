using System.Globalization;
using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>Reads MemTotal and MemAvailable from the text of /proc/meminfo ("MemTotal:  131897740 kB").</summary>
/// <remarks>The kernel prints kB meaning KiB (1,024 bytes). Other lines are skipped; the first occurrence of a key wins.</remarks>
public static class MemInfoParser
{
    /// <summary>The largest text accepted, in characters.</summary>
    public const int MaxChars = 1 << 20;

    private const string Tool = "/proc/meminfo";

    // 2^40 KiB = 1 PiB of RAM.
    private const long MaxKiB = 1L << 40;

    /// <summary>Parses the text.</summary>
    /// <param name="text">The contents of /proc/meminfo.</param>
    /// <returns>MemTotal and, when present, MemAvailable.</returns>
    /// <exception cref="GpuDiscoveryException">The text is empty, too long, lacks MemTotal, or a value is not a
    /// number of kB.</exception>
    public static HostMemory Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw GpuErrorMessages.Output(Tool, "text", "lines such as 'MemTotal: 131897740 kB'", "nothing");
        }

        if (text.Length > MaxChars)
        {
            throw GpuErrorMessages.Output(Tool, "text", $"at most {GpuErrorMessages.N(MaxChars)} characters", GpuErrorMessages.N(text.Length));
        }

        ByteSize? total = null;
        ByteSize? available = null;
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            if (key == "MemTotal" && total is null)
            {
                total = KiB(line[(colon + 1)..], key, i + 1, line);
            }
            else if (key == "MemAvailable" && available is null)
            {
                available = KiB(line[(colon + 1)..], key, i + 1, line);
            }
        }

        if (total is not ByteSize t)
        {
            throw GpuErrorMessages.Output(Tool, "text", "a MemTotal line", "none");
        }

        return new HostMemory(t, available);
    }

    private static ByteSize KiB(string value, string key, int lineNumber, string line)
    {
        var s = value.Trim();
        if (s.EndsWith("kB", StringComparison.Ordinal))
        {
            s = s[..^2].TrimEnd();
        }
        else
        {
            s = "";
        }

        if (s.Length is 0 or > 16 || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var kib) || kib > MaxKiB)
        {
            throw GpuErrorMessages.Output(Tool, "line " + lineNumber.ToString(CultureInfo.InvariantCulture), $"{key} as a whole number of kB", GpuErrorMessages.Quote(line.Trim()));
        }

        return new ByteSize(checked(kib * ByteSize.KiB));
    }
}
