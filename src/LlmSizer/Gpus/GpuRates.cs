using System.Globalization;
using LlmSizer.Errors;

namespace LlmSizer.Gpus;

/// <summary>Parses user-typed memory bandwidths ("960GB/s", "3.35TB/s") and compute rates ("150", "150TFLOPS",
/// "1.5PFLOPS").</summary>
/// <remarks>Decimal points only (no thousands separators, so "3,35TB/s" is rejected rather than misread). Bandwidth
/// units are bytes, case-insensitively ("960gb/s" is bytes), except a capital prefix before a lower-case "b" ("Gb/s",
/// "Tbps"), which is how bits are written and is rejected. A bare number is GB/s or TFLOP/s.</remarks>
public static class GpuRates
{
    /// <summary>The logical setting name of a custom device's memory.</summary>
    public const string MemorySetting = "gpu_memory";

    /// <summary>The logical setting name of a custom device's bandwidth.</summary>
    public const string BandwidthSetting = "gpu_bandwidth";

    /// <summary>The logical setting name of a custom device's compute rate.</summary>
    public const string TflopsSetting = "gpu_tflops";

    private const double Max = 1e6;

    /// <summary>Parses a memory bandwidth into GB/s (10^9 bytes per second).</summary>
    /// <param name="text">"960GB/s", "960 GB/s", "3.35TB/s", "900GBps", "1.6TiB/s", "800000MB/s" or "960".</param>
    /// <param name="gbPerSecond">The bandwidth in GB/s.</param>
    /// <returns>True when the text is a positive bandwidth below 1,000,000 GB/s.</returns>
    public static bool TryParseBandwidth(string? text, out double gbPerSecond)
    {
        gbPerSecond = 0;
        // "Gb/s", "Tbps": a capital prefix before a lower-case b is bits, as networking writes it; refuse rather than guess.
        if (!TrySplit(text, out var number, out var unit) || (unit.Length >= 2 && char.IsAsciiLetterUpper(unit[0]) && unit[1] == 'b'))
        {
            return false;
        }

        double factor = unit.ToUpperInvariant() switch
        {
            "" or "GB/S" or "GBPS" or "GB" or "G" => 1,
            "TB/S" or "TBPS" or "TB" or "T" => 1e3,
            "MB/S" or "MBPS" or "MB" or "M" => 1e-3,
            "GIB/S" => 1.073741824,
            "TIB/S" => 1099.511627776,
            "MIB/S" => 0.001048576,
            _ => double.NaN,
        };
        var value = number * factor;
        if (!IsPlausible(value))
        {
            return false;
        }

        gbPerSecond = value;
        return true;
    }

    /// <summary>Parses a memory bandwidth into GB/s, or throws naming <c>gpu_bandwidth</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The bandwidth in GB/s.</returns>
    /// <exception cref="InvalidSettingException">The text is not a positive bandwidth.</exception>
    public static double ParseBandwidth(string? text) => TryParseBandwidth(text, out var value)
        ? value
        : throw GpuErrorMessages.Setting(BandwidthSetting, "a memory bandwidth such as 960GB/s or 3.35TB/s", GpuErrorMessages.Quote(text));

    /// <summary>Parses a dense compute rate into TFLOP/s.</summary>
    /// <param name="text">"150", "150TFLOPS", "150 TFLOP/s", "150T", "1.5PFLOPS" or "989500GFLOPS".</param>
    /// <param name="tflops">The rate in TFLOP/s.</param>
    /// <returns>True when the text is a positive rate below 1,000,000 TFLOP/s.</returns>
    public static bool TryParseTflops(string? text, out double tflops)
    {
        tflops = 0;
        if (!TrySplit(text, out var number, out var unit))
        {
            return false;
        }

        double factor = unit.ToUpperInvariant() switch
        {
            "" or "T" or "TF" or "TFLOPS" or "TFLOP/S" or "TFLOP" => 1,
            "P" or "PF" or "PFLOPS" or "PFLOP/S" => 1e3,
            "G" or "GF" or "GFLOPS" or "GFLOP/S" => 1e-3,
            _ => double.NaN,
        };
        var value = number * factor;
        if (!IsPlausible(value))
        {
            return false;
        }

        tflops = value;
        return true;
    }

    /// <summary>Parses a dense compute rate into TFLOP/s, or throws naming <c>gpu_tflops</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The rate in TFLOP/s.</returns>
    /// <exception cref="InvalidSettingException">The text is not a positive rate.</exception>
    public static double ParseTflops(string? text) => TryParseTflops(text, out var value)
        ? value
        : throw GpuErrorMessages.Setting(TflopsSetting, "a dense TFLOP/s figure such as 150 or 1.5PFLOPS", GpuErrorMessages.Quote(text));

    internal static bool IsPlausible(double value) => double.IsFinite(value) && value > 0 && value < Max;

    private static bool TrySplit(string? text, out double number, out string unit)
    {
        number = 0;
        unit = "";
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        var s = text.Trim();
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
        {
            i++;
        }

        if (i == 0 || !double.TryParse(s.AsSpan(0, i), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number))
        {
            return false;
        }

        unit = s[i..].Trim();
        return true;
    }
}
