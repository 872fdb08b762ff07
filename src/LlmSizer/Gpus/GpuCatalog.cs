using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>The built-in catalog of accelerators (offline data, each row with its sources), and forgiving lookup by id,
/// alias or the name nvidia-smi / rocm-smi print.</summary>
/// <remarks>The data is the embedded resource <c>Gpus/gpus.json</c>; see <c>docs/gpus.md</c> for the table and the
/// usable-memory rule. Lookup ignores case, spaces, dashes and other punctuation ("RTX 4090", "rtx4090", "4090"), and a
/// leading vendor word ("NVIDIA H100" finds "h100").</remarks>
public static class GpuCatalog
{
    private const string ResourceName = "LlmSizer.Gpus.gpus.json";

    // Leading words that a user or a driver may put in front of a catalog name; tried off the front of a normalized key.
    private static readonly string[] VendorWords = ["nvidia", "geforce", "tesla", "quadro", "amd", "instinct", "intel", "habana", "apple"];

    private static readonly Lazy<CatalogIndex> Index = new(Load);

    /// <summary>Every entry, in catalog order (consumer, workstation, data centre, AMD, Intel, Apple).</summary>
    public static IReadOnlyList<GpuSpec> All => Index.Value.Entries;

    /// <summary>Finds an entry by id, alias or driver-reported name, forgivingly.</summary>
    /// <param name="name">"h100", "H100-SXM-80GB", "rtx 4090", "NVIDIA GeForce RTX 4090", "a100-80", "mi300x".</param>
    /// <param name="gpu">The entry, when found.</param>
    /// <returns>True when found.</returns>
    /// <remarks>A driver name shared by two entries (the 10 GB and 12 GB RTX 3080 both print "NVIDIA GeForce RTX
    /// 3080") finds the first; <see cref="MatchReported"/> tells them apart by memory.</remarks>
    public static bool TryFind(string? name, [NotNullWhen(true)] out GpuSpec? gpu)
    {
        gpu = null;
        if (string.IsNullOrWhiteSpace(name) || name.Length > 256)
        {
            return false;
        }

        var index = Index.Value;
        foreach (var key in Keys(name))
        {
            if (index.ByKey.TryGetValue(key, out gpu))
            {
                return true;
            }

            if (index.BySmiName.TryGetValue(key, out var list))
            {
                gpu = list[0];
                return true;
            }
        }

        return false;
    }

    /// <summary>Finds an entry, or throws with the closest matches.</summary>
    /// <param name="name">The id, alias or driver name.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="UnknownGpuException">No entry matches; the one-line message lists the closest ids, e.g.
    /// "gpu: 'rtx-4900' is not a known GPU; did you mean rtx-4090, rtx-4080?".</exception>
    public static GpuSpec Find(string? name) => TryFind(name, out var gpu)
        ? gpu
        : throw GpuErrorMessages.UnknownGpu(name ?? "", [.. Suggest(name).Select(g => g.Id)]);

    /// <summary>The entries closest to a name that may not match exactly, best first.</summary>
    /// <param name="name">The name.</param>
    /// <param name="max">At most this many (1 to 10).</param>
    /// <returns>The best entry and those within half an edit of it, at most <paramref name="max"/>.</returns>
    /// <remarks>The score is an edit distance between the normalized name and each id, alias and driver name, in which
    /// a swap of two adjacent characters costs one and a half edits (see <c>GpuNameMatcher.Score</c>); ties go to the
    /// entry sharing more tokens ("4090", "sxm", "80gb") with the name, then to the shorter id.</remarks>
    public static IReadOnlyList<GpuSpec> Suggest(string? name, int max = 3)
    {
        max = Math.Clamp(max, 1, 10);
        var query = Normalize(name ?? "");
        if (query.Length == 0)
        {
            return [];
        }

        // Bound the work on hostile input: names are short, and distance is quadratic in length.
        if (query.Length > 64)
        {
            query = query[..64];
        }

        var queryTokens = GpuNameMatcher.Tokens(name ?? "");
        var scored = new List<(GpuSpec Gpu, int Distance, int Shared)>();
        foreach (var gpu in Index.Value.Entries)
        {
            int best = int.MaxValue;
            foreach (var key in Index.Value.KeysOf[gpu.Id])
            {
                best = Math.Min(best, GpuNameMatcher.Score(query, key));
            }

            scored.Add((gpu, best, GpuNameMatcher.SharedTokens(queryTokens, Index.Value.TokensOf[gpu.Id])));
        }

        scored.Sort((a, b) =>
        {
            int c = a.Distance.CompareTo(b.Distance);
            if (c == 0)
            {
                c = b.Shared.CompareTo(a.Shared);
            }

            if (c == 0)
            {
                c = a.Gpu.Id.Length.CompareTo(b.Gpu.Id.Length);
            }

            return c != 0 ? c : string.CompareOrdinal(a.Gpu.Id, b.Gpu.Id);
        });
        var cutoff = scored[0].Distance + 1;
        return [.. scored.TakeWhile(s => s.Distance <= cutoff).Take(max).Select(s => s.Gpu)];
    }

    /// <summary>Matches a device that a driver reported (by name and, when known, total memory) to a catalog entry.</summary>
    /// <param name="reportedName">The name nvidia-smi or rocm-smi printed.</param>
    /// <param name="reportedTotal">The total memory it reported, or null.</param>
    /// <returns>The entry, or null when none matches or the memory is more than 5% away from every candidate's.</returns>
    /// <remarks>Candidates come from the driver names, then forgiving lookup, then the longest id or alias (with a
    /// digit) contained in the name ("Aqua Vanjaram [AMD Instinct MI300X OAM]" contains "mi300x"). The memory check
    /// tells apart cards that print the same name (RTX 3060 8 GB and 12 GB) and refuses a wrong guess.</remarks>
    public static GpuSpec? MatchReported(string reportedName, ByteSize? reportedTotal)
    {
        if (string.IsNullOrWhiteSpace(reportedName) || reportedName.Length > 256)
        {
            return null;
        }

        var index = Index.Value;
        var key = Normalize(reportedName);
        IReadOnlyList<GpuSpec> candidates = index.BySmiName.TryGetValue(key, out var list) ? list : [];
        if (candidates.Count == 0 && TryFind(reportedName, out var found))
        {
            candidates = [found];
        }

        if (candidates.Count == 0)
        {
            var contained = index.ContainedKeys
                .Where(k => key.Contains(k.Key, StringComparison.Ordinal))
                .OrderByDescending(k => k.Key.Length)
                .FirstOrDefault();
            if (contained.Gpu is not null)
            {
                candidates = [contained.Gpu];
            }
        }

        if (reportedTotal is not ByteSize total)
        {
            return candidates.Count > 0 ? candidates[0] : null;
        }

        return candidates
            .Select(g => (Gpu: g, Off: Math.Abs(g.UsableMemory.Bytes - (double)total.Bytes) / g.UsableMemory.Bytes))
            .Where(c => c.Off <= 0.05)
            .OrderBy(c => c.Off)
            .Select(c => c.Gpu)
            .FirstOrDefault();
    }

    /// <summary>The lookup key of a name: lower case, letters and digits only.</summary>
    internal static string Normalize(string text)
    {
        Span<char> buffer = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        int n = 0;
        foreach (var c in text)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                buffer[n++] = char.ToLowerInvariant(c);
            }
        }

        return new string(buffer[..n]);
    }

    private static IEnumerable<string> Keys(string name)
    {
        var key = Normalize(name);
        yield return key;
        bool stripped = true;
        while (stripped && key.Length > 0)
        {
            stripped = false;
            foreach (var word in VendorWords)
            {
                if (key.Length > word.Length && key.StartsWith(word, StringComparison.Ordinal))
                {
                    key = key[word.Length..];
                    stripped = true;
                    yield return key;
                }
            }
        }
    }

    private static CatalogIndex Load()
    {
        using var stream = typeof(GpuCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing.");
        using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 16 });
        var entries = new List<GpuSpec>();
        foreach (var row in doc.RootElement.GetProperty("gpus").EnumerateArray())
        {
            entries.Add(ReadRow(row));
        }

        return new CatalogIndex(entries);
    }

    private static GpuSpec ReadRow(JsonElement row)
    {
        var id = Str(row, "id");
        try
        {
            return new GpuSpec
            {
                Id = id,
                Name = Str(row, "name"),
                Vendor = Str(row, "vendor") switch
                {
                    "nvidia" => GpuVendor.Nvidia,
                    "amd" => GpuVendor.Amd,
                    "intel" => GpuVendor.Intel,
                    "apple" => GpuVendor.Apple,
                    var v => throw new InvalidOperationException($"unknown vendor '{v}'"),
                },
                Category = Str(row, "category") switch
                {
                    "consumer" => GpuCategory.Consumer,
                    "workstation" => GpuCategory.Workstation,
                    "datacenter" => GpuCategory.DataCenter,
                    "unified" => GpuCategory.Unified,
                    var c => throw new InvalidOperationException($"unknown category '{c}'"),
                },
                Architecture = Str(row, "architecture"),
                MemoryType = Str(row, "memory_type"),
                MarketedMemory = new ByteSize(checked(row.GetProperty("marketed_memory_gib").GetInt64() * ByteSize.GiB)),
                DevicesPerPackage = row.GetProperty("devices_per_package").GetInt32(),
                UsableMemory = new ByteSize(checked(row.GetProperty("usable_memory_mib").GetInt64() * ByteSize.MiB)),
                UsableMemoryVerified = row.GetProperty("usable_memory_verified").GetBoolean(),
                UsableMemoryEvidence = OptStr(row, "usable_memory_evidence"),
                UsableMemorySource = OptStr(row, "usable_memory_source"),
                UsableMemoryRule = OptStr(row, "usable_memory_rule"),
                GpuMemoryFraction = OptDouble(row, "gpu_memory_fraction"),
                BandwidthGBps = row.GetProperty("bandwidth_gbps").GetDouble(),
                Bf16Tflops = OptDouble(row, "bf16_tflops"),
                Fp16Tflops = OptDouble(row, "fp16_tflops"),
                Fp8Tflops = OptDouble(row, "fp8_tflops"),
                Int8Tops = OptDouble(row, "int8_tops"),
                Interconnect = Str(row, "interconnect"),
                InterconnectGBps = OptDouble(row, "interconnect_gbps"),
                PcieGeneration = row.TryGetProperty("pcie_gen", out var p) && p.ValueKind == JsonValueKind.Number ? p.GetInt32() : null,
                SmiNames = StrArray(row, "smi_names"),
                Aliases = StrArray(row, "aliases"),
                Sources = StrArray(row, "sources"),
                Notes = OptStr(row, "notes"),
            };
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidOperationException($"GPU catalog row '{id}': {ex.Message}", ex);
        }
    }

    private static string Str(JsonElement row, string name) =>
        row.GetProperty(name).GetString() ?? throw new InvalidOperationException($"'{name}' is null");

    private static string? OptStr(JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? OptDouble(JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string[] StrArray(JsonElement row, string name) =>
        row.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(e => e.GetString() ?? throw new InvalidOperationException($"'{name}' holds null"))]
            : [];

    /// <summary>The loaded catalog with its lookup tables.</summary>
    private sealed class CatalogIndex
    {
        public CatalogIndex(List<GpuSpec> entries)
        {
            Entries = entries;
            var byKey = new Dictionary<string, GpuSpec>(StringComparer.Ordinal);
            var bySmi = new Dictionary<string, List<GpuSpec>>(StringComparer.Ordinal);
            var keysOf = new Dictionary<string, string[]>(StringComparer.Ordinal);
            var tokensOf = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            var contained = new List<(string Key, GpuSpec Gpu)>();
            foreach (var gpu in entries)
            {
                var own = gpu.Aliases.Prepend(gpu.Id).Select(Normalize).Distinct().ToArray();
                foreach (var key in own)
                {
                    if (key.Length == 0 || !byKey.TryAdd(key, gpu))
                    {
                        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                            $"GPU catalog key '{key}' of '{gpu.Id}' is empty or already used by '{(byKey.TryGetValue(key, out var other) ? other.Id : "?")}'."));
                    }

                    if (key.Any(char.IsAsciiDigit) && key.Length >= 4)
                    {
                        contained.Add((key, gpu));
                    }
                }

                foreach (var smi in gpu.SmiNames.Select(Normalize).Distinct())
                {
                    if (!bySmi.TryGetValue(smi, out var list))
                    {
                        bySmi[smi] = list = [];
                    }

                    list.Add(gpu);
                }

                keysOf[gpu.Id] = [.. own.Concat(gpu.SmiNames.Select(Normalize)).Distinct()];
                tokensOf[gpu.Id] = [.. gpu.Aliases.Append(gpu.Id).Append(gpu.Name).Concat(gpu.SmiNames).SelectMany(GpuNameMatcher.Tokens)];
            }

            ByKey = byKey.ToFrozenDictionary(StringComparer.Ordinal);
            BySmiName = bySmi.ToFrozenDictionary(kv => kv.Key, kv => (IReadOnlyList<GpuSpec>)kv.Value, StringComparer.Ordinal);
            KeysOf = keysOf.ToFrozenDictionary(StringComparer.Ordinal);
            TokensOf = tokensOf.ToFrozenDictionary(StringComparer.Ordinal);
            ContainedKeys = contained;
        }

        public IReadOnlyList<GpuSpec> Entries { get; }

        public FrozenDictionary<string, GpuSpec> ByKey { get; }

        public FrozenDictionary<string, IReadOnlyList<GpuSpec>> BySmiName { get; }

        public FrozenDictionary<string, string[]> KeysOf { get; }

        public FrozenDictionary<string, HashSet<string>> TokensOf { get; }

        public IReadOnlyList<(string Key, GpuSpec Gpu)> ContainedKeys { get; }
    }
}
