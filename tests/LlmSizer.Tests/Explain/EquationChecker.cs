using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace LlmSizer.Tests.Explain;

/// <summary>Parses the equations that --explain prints back and evaluates them, exactly (rational arithmetic over
/// BigInteger), independently of the code that printed them. A line is an equation when it holds " = "; text before the
/// first ": " is a label, text after " — " is a comment, a trailing unit word is dropped. Every side made only of
/// numbers must evaluate to the same value; a side in symbols is evaluated too when every symbol in it has a value
/// (from the "Symbols" table the output prints), and must agree.</summary>
internal static partial class EquationChecker
{
    public sealed record Report(int Equations, int NumericSides, int SymbolicSides, IReadOnlyList<string> Failures);

    public static Report Check(IEnumerable<string> lines, IReadOnlyDictionary<string, BigInteger>? symbols = null)
    {
        symbols ??= new Dictionary<string, BigInteger>();
        int equations = 0, numeric = 0, symbolic = 0;
        var failures = new List<string>();
        foreach (var raw in lines)
        {
            var line = raw;
            int comment = line.IndexOf(" — ", StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment];
            }

            if (!line.Contains(" = ", StringComparison.Ordinal) || line.TrimStart().StartsWith("post prints:", StringComparison.Ordinal))
            {
                continue;
            }

            var sides = line.Split(" = ").Select(s => s.Trim()).ToList();
            int colon = sides[0].LastIndexOf(": ", StringComparison.Ordinal);
            if (colon >= 0)
            {
                sides[0] = sides[0][(colon + 2)..];
            }

            Fraction? value = null;
            bool any = false;
            foreach (var side0 in sides)
            {
                var side = UnitSuffix().Replace(side0, "");
                Fraction? v = null;
                if (NumericOnly().IsMatch(side))
                {
                    v = Evaluate(side, symbols, out _);
                    numeric++;
                }
                else if (Evaluate(side, symbols, out bool allKnown) is { } s && allKnown)
                {
                    v = s;
                    symbolic++;
                }

                if (v is null)
                {
                    continue;
                }

                any = true;
                if (value is null)
                {
                    value = v;
                }
                else if (value.Value != v.Value)
                {
                    failures.Add($"'{side0}' is {v}, not {value}: {raw.Trim()}");
                }
            }

            if (any)
            {
                equations++;
            }
        }

        return new Report(equations, numeric, symbolic, failures);
    }

    /// <summary>Reads the symbol table ("  d = 4,096  hidden size; ...") of an explanation.</summary>
    public static Dictionary<string, BigInteger> Symbols(IEnumerable<string> lines)
    {
        var map = new Dictionary<string, BigInteger>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var m = SymbolLine().Match(line);
            if (m.Success)
            {
                map[m.Groups[1].Value] = BigInteger.Parse(m.Groups[2].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
            }
        }

        return map;
    }

    private static Fraction? Evaluate(string text, IReadOnlyDictionary<string, BigInteger> symbols, out bool allKnown)
    {
        var p = new Parser(text, symbols);
        try
        {
            var v = p.Expression();
            p.SkipSpace();
            allKnown = p.AllKnown && p.AtEnd;
            return p.AtEnd && p.AllKnown ? v : null;
        }
        catch (FormatException)
        {
            allKnown = false;
            return null;
        }
    }

    private sealed class Parser(string text, IReadOnlyDictionary<string, BigInteger> symbols)
    {
        private int _i;

        public bool AllKnown { get; private set; } = true;

        public bool AtEnd => _i >= text.Length;

        public void SkipSpace()
        {
            while (_i < text.Length && text[_i] == ' ')
            {
                _i++;
            }
        }

        public Fraction Expression()
        {
            var v = Term();
            while (true)
            {
                SkipSpace();
                if (AtEnd)
                {
                    return v;
                }

                char c = text[_i];
                if (c == '+')
                {
                    _i++;
                    v += Term();
                }
                else if (c is '−' or '-')
                {
                    _i++;
                    v -= Term();
                }
                else
                {
                    return v;
                }
            }
        }

        private Fraction Term()
        {
            var v = Factor();
            while (true)
            {
                SkipSpace();
                if (AtEnd)
                {
                    return v;
                }

                char c = text[_i];
                if (c is '·' or '×' or '*')
                {
                    _i++;
                    v *= Factor();
                }
                else if (c == '/')
                {
                    _i++;
                    v /= Factor();
                }
                else
                {
                    return v;
                }
            }
        }

        private Fraction Factor()
        {
            SkipSpace();
            if (AtEnd)
            {
                throw new FormatException("unexpected end");
            }

            Fraction v;
            char c = text[_i];
            if (c == '(')
            {
                _i++;
                v = Expression();
                SkipSpace();
                if (AtEnd || text[_i] != ')')
                {
                    throw new FormatException("missing )");
                }

                _i++;
            }
            else if (char.IsDigit(c))
            {
                int start = _i;
                while (_i < text.Length && (char.IsDigit(text[_i]) || (text[_i] == ',' && _i + 3 < text.Length + 1 && _i + 1 < text.Length && char.IsDigit(text[_i + 1]))))
                {
                    _i++;
                }

                v = new Fraction(BigInteger.Parse(text[start.._i].Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture), 1);
            }
            else if (char.IsLetter(c))
            {
                int start = _i;
                while (_i < text.Length && (char.IsLetterOrDigit(text[_i]) || text[_i] == '_'))
                {
                    _i++;
                }

                var name = text[start.._i];
                if (symbols.TryGetValue(name, out var s))
                {
                    v = new Fraction(s, 1);
                }
                else
                {
                    AllKnown = false;
                    v = new Fraction(1, 1);
                }
            }
            else
            {
                throw new FormatException($"unexpected '{c}'");
            }

            if (!AtEnd && text[_i] == '²')
            {
                _i++;
                v *= v;
            }

            return v;
        }
    }

    [GeneratedRegex(@"^[\d,\s·×/+−\-()²]+$")]
    private static partial Regex NumericOnly();

    [GeneratedRegex(@"\s+(bytes|B|MB|parameters)$")]
    private static partial Regex UnitSuffix();

    [GeneratedRegex(@"^\s{2}(\S+)\s+=\s+([\d,]+)\s{2}")]
    private static partial Regex SymbolLine();
}

/// <summary>An exact fraction, normalized.</summary>
internal readonly record struct Fraction
{
    public Fraction(BigInteger numerator, BigInteger denominator)
    {
        if (denominator.IsZero)
        {
            throw new FormatException("division by zero");
        }

        var g = BigInteger.GreatestCommonDivisor(numerator, denominator);
        if (g.IsZero)
        {
            g = 1;
        }

        if (denominator.Sign < 0)
        {
            g = -g;
        }

        Numerator = numerator / g;
        Denominator = denominator / g;
    }

    public BigInteger Numerator { get; }

    public BigInteger Denominator { get; }

    public static Fraction operator +(Fraction a, Fraction b) => new((a.Numerator * b.Denominator) + (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    public static Fraction operator -(Fraction a, Fraction b) => new((a.Numerator * b.Denominator) - (b.Numerator * a.Denominator), a.Denominator * b.Denominator);

    public static Fraction operator *(Fraction a, Fraction b) => new(a.Numerator * b.Numerator, a.Denominator * b.Denominator);

    public static Fraction operator /(Fraction a, Fraction b) => new(a.Numerator * b.Denominator, a.Denominator * b.Numerator);

    public override string ToString() => Denominator.IsOne ? Numerator.ToString(CultureInfo.InvariantCulture) : $"{Numerator}/{Denominator}";
}
