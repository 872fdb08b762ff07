using System.Globalization;
using LlmSizer.Errors;
using LlmSizer.Units;

namespace LlmSizer.Requests;

/// <summary>The one set of parsers for user-typed setting values (CLI flags, query strings, JSON string fields). Every
/// parser is overflow-safe and bounded: a bad value is an <see cref="InvalidSettingException"/> naming the logical
/// setting, what was expected (with the accepted range) and what was found — never an <see cref="OverflowException"/>.</summary>
public static class SettingParser
{
    /// <summary>The longest value text looked at; longer text is refused before any parsing.</summary>
    public const int MaxTextLength = 64;

    /// <summary>Parses an integer: digits with optional <c>_</c> or <c>,</c> separators and an optional binary suffix
    /// <c>k</c> (× 1,024) or <c>m</c> (× 1,048,576), e.g. <c>8192</c>, <c>32k</c>, <c>1_000</c>.</summary>
    /// <param name="setting">The logical setting, for the message.</param>
    /// <param name="text">The text.</param>
    /// <param name="min">The smallest accepted value.</param>
    /// <param name="max">The largest accepted value.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidSettingException">The text is not an integer, or it is outside [min, max].</exception>
    public static long ParseInteger(string setting, string text, long min, long max)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!TryParseInteger(text, out var value, out bool outOfRange) || value < min || value > max)
        {
            throw new InvalidSettingException(setting, $"expected an integer from {N(min)} to {N(max)}; found {Quote(text)}" +
                (outOfRange ? " (out of range)." : "."));
        }

        return value;
    }

    /// <summary>Parses an integer that must fit an <see cref="int"/>; see <see cref="ParseInteger"/>.</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The text.</param>
    /// <param name="min">The smallest accepted value.</param>
    /// <param name="max">The largest accepted value.</param>
    /// <returns>The value.</returns>
    /// <exception cref="InvalidSettingException">The text is not an integer in range.</exception>
    public static int ParseInt(string setting, string text, int min = 1, int max = int.MaxValue) => (int)ParseInteger(setting, text, min, max);

    /// <summary>Tries to parse an integer (see <see cref="ParseInteger"/>) without a range.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The value.</param>
    /// <param name="outOfRange">True when the text is an integer too large for 64 bits.</param>
    /// <returns>True when the text is an integer that fits 64 bits.</returns>
    public static bool TryParseInteger(string? text, out long value, out bool outOfRange)
    {
        value = 0;
        outOfRange = false;
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxTextLength)
        {
            outOfRange = text is { Length: > MaxTextLength };
            return false;
        }

        var t = text.Trim().Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal);
        long multiplier = 1;
        if (t.Length > 1 && char.ToLowerInvariant(t[^1]) is 'k' or 'm')
        {
            multiplier = char.ToLowerInvariant(t[^1]) == 'k' ? 1024 : 1024 * 1024;
            t = t[..^1];
        }

        if (t.Length == 0 || !t.AsSpan(t[0] is '-' or '+' ? 1 : 0).ContainsOnlyDigits())
        {
            return false;
        }

        if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            outOfRange = true;
            return false;
        }

        if (v > long.MaxValue / multiplier || v < long.MinValue / multiplier)
        {
            outOfRange = true;
            return false;
        }

        value = v * multiplier;
        return true;
    }

    /// <summary>Parses a fraction in (0, 1], e.g. <c>0.9</c> or <c>90%</c>.</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The text.</param>
    /// <returns>The fraction.</returns>
    /// <exception cref="InvalidSettingException">The text is not a number in (0, 1].</exception>
    public static double ParseFraction(string setting, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        double scale = 1;
        if (t.EndsWith('%'))
        {
            scale = 100;
            t = t[..^1];
        }

        if (t.Length > MaxTextLength || !double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ||
            !double.IsFinite(v) || v / scale <= 0 || v / scale > 1)
        {
            throw new InvalidSettingException(setting, $"expected a fraction in (0, 1], such as 0.9; found {Quote(text)}.");
        }

        return v / scale;
    }

    /// <summary>Parses a byte size with a unit: <c>24GiB</c>, <c>24GB</c>, <c>80G</c> (= GiB), <c>512MiB</c>, <c>1.5TiB</c>.
    /// A bare number is refused: "24" is far more often meant as GiB than as bytes, so the unit must be said.</summary>
    /// <param name="setting">The logical setting.</param>
    /// <param name="text">The text.</param>
    /// <param name="allowZero">Whether 0 is accepted.</param>
    /// <returns>The size.</returns>
    /// <exception cref="InvalidSettingException">The text is not a size with a unit, or it is zero when not allowed.</exception>
    public static ByteSize ParseSize(string setting, string text, bool allowZero = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Length > 0 && t.Length <= MaxTextLength && t.AsSpan().ContainsOnlyDigitsOrDot())
        {
            throw new InvalidSettingException(setting, $"expected a size with a unit, such as {t}GiB or {t}GB; found {Quote(text)} (no unit).");
        }

        if (t.Length > MaxTextLength || !ByteSize.TryParse(t, out var size))
        {
            throw new InvalidSettingException(setting, $"expected a size such as 24GiB, 80GB or 512MiB (below 8 EiB); found {Quote(text)}.");
        }

        if (!allowZero && size.Bytes == 0)
        {
            throw new InvalidSettingException(setting, $"expected a positive size; found {Quote(text)}.");
        }

        return size;
    }

    /// <summary>The text quoted for a message: control characters dropped and long text cut.</summary>
    /// <param name="text">Untrusted text.</param>
    /// <returns>The quoted text.</returns>
    public static string Quote(string? text)
    {
        if (text is null)
        {
            return "none";
        }

        var clean = new string(text.Where(c => !char.IsControl(c)).Take(MaxTextLength).ToArray());
        return "\"" + clean + (text.Length > MaxTextLength ? "…" : "") + "\"";
    }

    private static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    private static bool ContainsOnlyDigits(this ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static bool ContainsOnlyDigitsOrDot(this ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (c is not ((>= '0' and <= '9') or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
