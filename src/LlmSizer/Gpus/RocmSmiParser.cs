using System.Globalization;
using System.Text.Json;
using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>Reads the output of <c>rocm-smi --showproductname --showmeminfo vram --json</c>.</summary>
/// <remarks>The shape (ROCm 5.x/6.x): an object with one member per card, <c>"card0": { "VRAM Total Memory (B)":
/// "206141652992", "VRAM Total Used Memory (B)": "297771008", "Card Series": "...", "Card Model": "0x74a1", ... }</c>,
/// plus members such as "system" that are skipped. Byte counts are strings of digits. Older versions spell
/// "Card series"; newer ones add "Device Name". Warning lines printed before the JSON are skipped.</remarks>
public static class RocmSmiParser
{
    /// <summary>The largest output accepted, in characters.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>The most GPUs accepted.</summary>
    public const int MaxGpus = 1024;

    private const string Tool = "rocm-smi";
    private const string TotalKey = "VRAM Total Memory (B)";
    private const string UsedKey = "VRAM Total Used Memory (B)";

    // 2^50 bytes = 1 PiB per card.
    private const long MaxBytes = 1L << 50;

    private static readonly string[] NameKeys = ["Card Series", "Card series", "Device Name", "Marketing Name", "Card Model", "Card model"];

    /// <summary>Parses the output, one record per card, each matched against the catalog.</summary>
    /// <param name="output">What rocm-smi printed on stdout.</param>
    /// <returns>The GPUs, by card number.</returns>
    /// <exception cref="GpuDiscoveryException">The output is empty, too long, not JSON, or a card lacks its VRAM
    /// figures; the message names the card and field.</exception>
    public static IReadOnlyList<LocalGpu> Parse(string? output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw GpuErrorMessages.Output(Tool, "output", "a JSON object with one member per card", "nothing");
        }

        if (output.Length > MaxChars)
        {
            throw GpuErrorMessages.Output(Tool, "output", $"at most {GpuErrorMessages.N(MaxChars)} characters", GpuErrorMessages.N(output.Length));
        }

        int start = output.IndexOf('{', StringComparison.Ordinal);
        int end = output.LastIndexOf('}');
        if (start < 0 || end < start)
        {
            throw GpuErrorMessages.Output(Tool, "output", "a JSON object with one member per card", GpuErrorMessages.Quote(output.Trim()));
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(output.AsMemory(start, end - start + 1), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw GpuErrorMessages.InvalidJson(Tool, ex);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw GpuErrorMessages.Output(Tool, "output", "a JSON object", doc.RootElement.ValueKind.ToString());
            }

            var gpus = new List<LocalGpu>();
            foreach (var member in doc.RootElement.EnumerateObject())
            {
                if (!member.Name.StartsWith("card", StringComparison.OrdinalIgnoreCase) || member.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (gpus.Count >= MaxGpus)
                {
                    throw GpuErrorMessages.Output(Tool, "output", $"at most {GpuErrorMessages.N(MaxGpus)} cards", "more");
                }

                gpus.Add(ReadCard(member.Name, member.Value, gpus.Count));
            }

            if (gpus.Count == 0)
            {
                throw GpuErrorMessages.Output(Tool, "output", "at least one \"cardN\" member", "none");
            }

            return [.. gpus.OrderBy(g => g.Index)];
        }
    }

    private static LocalGpu ReadCard(string card, JsonElement value, int ordinal)
    {
        var where = GpuErrorMessages.Quote(card.Length > 32 ? card[..32] : card);
        int index = int.TryParse(card.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < 1_000_000 ? n : ordinal;
        var total = Bytes(value, TotalKey, where) ?? throw GpuErrorMessages.Output(Tool, where, $"\"{TotalKey}\" (the output of rocm-smi with VRAM memory info)", "no such field");
        var used = Bytes(value, UsedKey, where);
        if (used is ByteSize u && u > total)
        {
            throw GpuErrorMessages.Output(Tool, where, $"\"{UsedKey}\" at most \"{TotalKey}\"", GpuErrorMessages.N(u.Bytes));
        }

        var name = ReadName(value) ?? "AMD GPU (" + card[..Math.Min(card.Length, 32)] + ")";
        return new LocalGpu
        {
            Index = index,
            Name = name,
            Tool = LocalGpuTool.RocmSmi,
            Total = total,
            Used = used,
            Free = used is ByteSize uu ? total - uu : null,
            CatalogMatch = GpuCatalog.MatchReported(name, total),
        };
    }

    private static string? ReadName(JsonElement card)
    {
        foreach (var key in NameKeys)
        {
            if (card.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { } s)
            {
                s = s.Trim();

                // "Card Model" is often a PCI id ("0x74a1"), and "N/A" is no name.
                if (s.Length > 0 && s.Length <= 256 && !s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    && !s.Equals("N/A", StringComparison.OrdinalIgnoreCase) && !s.Any(char.IsControl))
                {
                    return s;
                }
            }
        }

        return null;
    }

    private static ByteSize? Bytes(JsonElement card, string key, string where)
    {
        if (!card.TryGetProperty(key, out var v))
        {
            return null;
        }

        long bytes = 0;
        bool ok = false;
        if (v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 and <= 19 } s)
        {
            ok = long.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out bytes) && bytes <= MaxBytes;
        }
        else if (v.ValueKind == JsonValueKind.Number)
        {
            ok = v.TryGetInt64(out bytes) && bytes >= 0 && bytes <= MaxBytes;
        }

        if (!ok)
        {
            throw GpuErrorMessages.Output(Tool, where, $"\"{key}\" as a whole number of bytes", GpuErrorMessages.Quote(v.ToString()));
        }

        return new ByteSize(bytes);
    }
}
