using System.Globalization;
using System.Text.RegularExpressions;

namespace LlmSizer.Web.Tests;

/// <summary>WCAG 2.x AA: every text colour of the page's palette has a contrast of at least 4.5:1 against both
/// backgrounds it is drawn on, in the light and the dark scheme.</summary>
public sealed partial class ContrastTests
{
    private static readonly string[] TextColours = ["text", "muted", "accent", "ok", "bad", "mark"];

    [GeneratedRegex(@"--(?<name>[a-z0-9]+):\s*(?<hex>#[0-9a-fA-F]{6})")]
    private static partial Regex Variable();

    private static Dictionary<string, string> Palette(string block) =>
        Variable().Matches(block).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["hex"].Value);

    private static double Luminance(string hex)
    {
        double Channel(int i)
        {
            var c = int.Parse(hex.AsSpan(1 + (2 * i), 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 255.0;
            return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
        }

        return (0.2126 * Channel(0)) + (0.7152 * Channel(1)) + (0.0722 * Channel(2));
    }

    private static double Contrast(string a, string b)
    {
        var (hi, lo) = (Math.Max(Luminance(a), Luminance(b)), Math.Min(Luminance(a), Luminance(b)));
        return (hi + 0.05) / (lo + 0.05);
    }

    [Theory]
    [InlineData("light")]
    [InlineData("dark")]
    public void Palette_TextColours_MeetWcagAa(string scheme)
    {
        // Given the palette of app.css (the first :root block is light, the one in prefers-color-scheme: dark is dark)
        var css = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "wwwroot", "app.css"));
        var darkAt = css.IndexOf("@media (prefers-color-scheme: dark)", StringComparison.Ordinal);
        Assert.True(darkAt > 0);
        var palette = Palette(scheme == "light" ? css[..darkAt] : css[darkAt..css.IndexOf('}', css.IndexOf('{', darkAt + 40))]);

        // Then every text colour reaches 4.5:1 on the page and on the panels
        foreach (var fg in TextColours)
        {
            foreach (var bg in new[] { "bg", "panel" })
            {
                var ratio = Contrast(palette[fg], palette[bg]);
                Assert.True(ratio >= 4.5, $"{scheme}: --{fg} {palette[fg]} on --{bg} {palette[bg]} is {ratio:0.00}:1");
            }
        }
    }
}
