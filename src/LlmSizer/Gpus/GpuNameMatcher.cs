namespace LlmSizer.Gpus;

/// <summary>Edit distance and token overlap for "did you mean" suggestions.</summary>
internal static class GpuNameMatcher
{
    /// <summary>The score used for suggestions, in half edits: the optimal-string-alignment distance plus the
    /// Levenshtein distance, so an insertion, deletion or substitution costs 2 and a swap of two adjacent characters 3
    /// ("rtx4900" scores 3 against "rtx4090" and 4 against "rtx4080", but 5 against "rtx3090").</summary>
    public static int Score(string a, string b) => Distance(a, b, swaps: true) + Distance(a, b, swaps: false);

    /// <summary>The edit distance: insertions, deletions and substitutions cost one, and with <paramref name="swaps"/>
    /// a swap of two adjacent characters costs one too (optimal string alignment).</summary>
    public static int Distance(string a, string b, bool swaps)
    {
        if (a.Length == 0)
        {
            return b.Length;
        }

        if (b.Length == 0)
        {
            return a.Length;
        }

        // Three rows suffice for the adjacent-swap rule; inputs are capped at 64 characters by the caller.
        var prev2 = new int[b.Length + 1];
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            prev[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int d = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
                if (swaps && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d = Math.Min(d, prev2[j - 2] + 1);
                }

                cur[j] = d;
            }

            (prev2, prev, cur) = (prev, cur, prev2);
        }

        return prev[b.Length];
    }

    /// <summary>Splits a name into lower-case tokens at punctuation, spaces and letter/digit boundaries:
    /// "H100-SXM5 80GB" gives h, 100, sxm, 5, 80, gb.</summary>
    public static IEnumerable<string> Tokens(string text)
    {
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool boundary = i == text.Length || !char.IsAsciiLetterOrDigit(text[i])
                || (start >= 0 && char.IsAsciiDigit(text[i]) != char.IsAsciiDigit(text[start]));
            if (boundary && start >= 0)
            {
                yield return text[start..i].ToLowerInvariant();
                start = -1;
            }

            if (i < text.Length && char.IsAsciiLetterOrDigit(text[i]) && start < 0)
            {
                start = i;
            }
        }
    }

    /// <summary>How many distinct tokens of the query the entry's token set holds.</summary>
    public static int SharedTokens(IEnumerable<string> query, HashSet<string> entry) =>
        query.Distinct(StringComparer.Ordinal).Count(entry.Contains);
}
