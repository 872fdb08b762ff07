using System.Globalization;

namespace LlmSizer.Units;

/// <summary>An exact number of bytes. IEC units (KiB, MiB, GiB) by default, SI units (KB, MB, GB) on request.</summary>
/// <param name="Bytes">The number of bytes.</param>
public readonly record struct ByteSize(long Bytes) : IComparable<ByteSize>, IFormattable
{
    /// <summary>Bytes in one KiB.</summary>
    public const long KiB = 1024;

    /// <summary>Bytes in one MiB.</summary>
    public const long MiB = 1024 * 1024;

    /// <summary>Bytes in one GiB.</summary>
    public const long GiB = 1024L * 1024 * 1024;

    /// <summary>Bytes in one TiB.</summary>
    public const long TiB = 1024L * 1024 * 1024 * 1024;

    /// <summary>Zero bytes.</summary>
    public static ByteSize Zero => default;

    /// <summary>The size in GiB (2^30 bytes) as a double, for display and ratios.</summary>
    public double TotalGiB => Bytes / (double)GiB;

    /// <summary>The size in MiB (2^20 bytes) as a double, for display and ratios.</summary>
    public double TotalMiB => Bytes / (double)MiB;

    /// <summary>The size in GB (10^9 bytes) as a double, for display.</summary>
    public double TotalGB => Bytes / 1e9;

    /// <summary>Creates a size from a number of GiB, rounding to the nearest byte.</summary>
    /// <param name="gib">The size in GiB; must be finite, non-negative and below 8 EiB.</param>
    /// <returns>The size.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, not finite or too large.</exception>
    public static ByteSize FromGiB(double gib) => FromDouble(gib * GiB, nameof(gib));

    /// <summary>Creates a size from a number of MiB, rounding to the nearest byte.</summary>
    /// <param name="mib">The size in MiB.</param>
    /// <returns>The size.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, not finite or too large.</exception>
    public static ByteSize FromMiB(double mib) => FromDouble(mib * MiB, nameof(mib));

    /// <summary>Creates a size from a number of GB (10^9 bytes), rounding to the nearest byte.</summary>
    /// <param name="gb">The size in GB.</param>
    /// <returns>The size.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative, not finite or too large.</exception>
    public static ByteSize FromGB(double gb) => FromDouble(gb * 1e9, nameof(gb));

    private static ByteSize FromDouble(double bytes, string name)
    {
        if (!double.IsFinite(bytes) || bytes < 0 || bytes >= 9.2e18)
        {
            throw new ArgumentOutOfRangeException(name, bytes, "Expected a finite, non-negative size below 8 EiB.");
        }

        return new ByteSize((long)Math.Round(bytes));
    }

    /// <summary>Adds two sizes with overflow checking.</summary>
    public static ByteSize operator +(ByteSize left, ByteSize right) => new(checked(left.Bytes + right.Bytes));

    /// <summary>Subtracts two sizes with overflow checking.</summary>
    public static ByteSize operator -(ByteSize left, ByteSize right) => new(checked(left.Bytes - right.Bytes));

    /// <summary>Multiplies a size by a whole factor with overflow checking.</summary>
    public static ByteSize operator *(ByteSize left, long factor) => new(checked(left.Bytes * factor));

    /// <summary>Compares by value.</summary>
    public static bool operator <(ByteSize left, ByteSize right) => left.Bytes < right.Bytes;

    /// <summary>Compares by value.</summary>
    public static bool operator >(ByteSize left, ByteSize right) => left.Bytes > right.Bytes;

    /// <summary>Compares by value.</summary>
    public static bool operator <=(ByteSize left, ByteSize right) => left.Bytes <= right.Bytes;

    /// <summary>Compares by value.</summary>
    public static bool operator >=(ByteSize left, ByteSize right) => left.Bytes >= right.Bytes;

    /// <inheritdoc/>
    public int CompareTo(ByteSize other) => Bytes.CompareTo(other.Bytes);

    /// <summary>Formats with IEC units ("15.0 GiB").</summary>
    /// <returns>The size with two decimals and an IEC suffix.</returns>
    public override string ToString() => Format(binary: true);

    /// <summary>Formats with "SI" for decimal units (GB) or "IEC"/null for binary units (GiB); "N0" for exact bytes.</summary>
    /// <param name="format">"SI", "IEC", "N0" or null.</param>
    /// <param name="formatProvider">Ignored: output is culture-invariant.</param>
    /// <returns>The formatted size.</returns>
    public string ToString(string? format, IFormatProvider? formatProvider) => format switch
    {
        "SI" => Format(binary: false),
        "N0" => Bytes.ToString("N0", CultureInfo.InvariantCulture) + " B",
        _ => Format(binary: true),
    };

    /// <summary>Formats in binary (KiB, MiB, GiB, TiB) or decimal (KB, MB, GB, TB) units with two decimals.</summary>
    /// <param name="binary">True for IEC units, false for SI units.</param>
    /// <returns>For example "14.96 GiB" or "16.06 GB".</returns>
    public string Format(bool binary)
    {
        double k = binary ? 1024 : 1000;
        double value = Math.Abs((double)Bytes);
        string[] suffixes = binary ? ["B", "KiB", "MiB", "GiB", "TiB", "PiB"] : ["B", "KB", "MB", "GB", "TB", "PB"];
        int unit = 0;
        while (value >= k && unit < suffixes.Length - 1)
        {
            value /= k;
            unit++;
        }

        var sign = Bytes < 0 ? "-" : "";
        return unit == 0
            ? sign + value.ToString("0", CultureInfo.InvariantCulture) + " B"
            : sign + value.ToString("0.00", CultureInfo.InvariantCulture) + " " + suffixes[unit];
    }

    /// <summary>Parses a user-typed size: "24GiB", "24 GB", "80G" (G means GiB), "512MiB", "1073741824".</summary>
    /// <param name="text">The text.</param>
    /// <param name="size">The parsed size.</param>
    /// <returns>True when the text is a valid, non-negative size.</returns>
    public static bool TryParse(string? text, out ByteSize size)
    {
        size = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var s = text.Trim();
        int i = 0;
        while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.'))
        {
            i++;
        }

        if (i == 0 || !double.TryParse(s.AsSpan(0, i), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }

        double factor = s[i..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => KiB,
            "KB" => 1e3,
            "M" or "MIB" => MiB,
            "MB" => 1e6,
            "G" or "GIB" => GiB,
            "GB" => 1e9,
            "T" or "TIB" => TiB,
            "TB" => 1e12,
            _ => double.NaN,
        };
        var bytes = number * factor;
        if (!double.IsFinite(bytes) || bytes < 0 || bytes >= 9.2e18)
        {
            return false;
        }

        size = new ByteSize((long)Math.Round(bytes));
        return true;
    }
}
