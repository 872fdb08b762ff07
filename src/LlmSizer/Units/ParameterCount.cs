using System.Globalization;

namespace LlmSizer.Units;

/// <summary>An exact number of model parameters (logical elements), never mixed with bytes.</summary>
/// <param name="Value">The number of parameters.</param>
public readonly record struct ParameterCount(long Value) : IComparable<ParameterCount>, IFormattable
{
    /// <summary>Zero parameters.</summary>
    public static ParameterCount Zero => default;

    /// <summary>Adds two counts with overflow checking.</summary>
    public static ParameterCount operator +(ParameterCount left, ParameterCount right) => new(checked(left.Value + right.Value));

    /// <summary>Subtracts two counts with overflow checking.</summary>
    public static ParameterCount operator -(ParameterCount left, ParameterCount right) => new(checked(left.Value - right.Value));

    /// <summary>Compares by value.</summary>
    public static bool operator <(ParameterCount left, ParameterCount right) => left.Value < right.Value;

    /// <summary>Compares by value.</summary>
    public static bool operator >(ParameterCount left, ParameterCount right) => left.Value > right.Value;

    /// <summary>Compares by value.</summary>
    public static bool operator <=(ParameterCount left, ParameterCount right) => left.Value <= right.Value;

    /// <summary>Compares by value.</summary>
    public static bool operator >=(ParameterCount left, ParameterCount right) => left.Value >= right.Value;

    /// <inheritdoc/>
    public int CompareTo(ParameterCount other) => Value.CompareTo(other.Value);

    /// <summary>The short human form: "8.03 B", "124 M", "512 K", "950".</summary>
    /// <returns>The value with three significant digits and a K/M/B/T suffix.</returns>
    public string ToShortString() => FormatShort(Value);

    /// <summary>Formats a raw count in the short human form (three significant digits and a K/M/B/T suffix).</summary>
    /// <param name="value">The count.</param>
    /// <returns>For example "8.03 B".</returns>
    public static string FormatShort(long value)
    {
        var abs = Math.Abs((double)value);

        // Round to three significant digits first, so 999,885,952 shows as "1.00 B", not "1000 M".
        if (abs >= 1000)
        {
            var magnitude = Math.Pow(10, Math.Floor(Math.Log10(abs)) - 2);
            abs = Math.Round(abs / magnitude) * magnitude;
        }

        (double scale, string suffix) = abs switch
        {
            >= 1e12 => (1e12, "T"),
            >= 1e9 => (1e9, "B"),
            >= 1e6 => (1e6, "M"),
            >= 1e3 => (1e3, "K"),
            _ => (1d, ""),
        };
        if (suffix.Length == 0)
        {
            return value.ToString(CultureInfo.InvariantCulture);
        }

        var scaled = Math.Sign(value) * abs / scale;
        var digits = Math.Abs(scaled) >= 100 ? "0" : Math.Abs(scaled) >= 10 ? "0.0" : "0.00";
        return scaled.ToString(digits, CultureInfo.InvariantCulture) + " " + suffix;
    }

    /// <summary>The exact count with thousands separators, e.g. "8,030,261,248".</summary>
    /// <returns>The grouped exact count.</returns>
    public string ToExactString() => Value.ToString("N0", CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public override string ToString() => ToShortString();

    /// <summary>Formats with "N0" (exact, grouped) or "S"/null (short form).</summary>
    /// <param name="format">"N0" for the exact count, anything else for the short form.</param>
    /// <param name="formatProvider">Ignored: output is culture-invariant.</param>
    /// <returns>The formatted count.</returns>
    public string ToString(string? format, IFormatProvider? formatProvider) =>
        format is "N0" or "N" ? ToExactString() : ToShortString();
}
