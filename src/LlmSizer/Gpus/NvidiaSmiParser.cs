using System.Globalization;
using LlmSizer.Units;

namespace LlmSizer.Gpus;

/// <summary>Reads the output of <c>nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv</c>, with or
/// without <c>,noheader</c> and <c>,nounits</c>.</summary>
/// <remarks>Shapes accepted: a header "name, memory.total [MiB], memory.used [MiB]" (columns found by name, so extra
/// columns such as index or memory.free are fine, and a header without memory.used leaves used memory unknown) and rows "NVIDIA H100 80GB HBM3, 81559 MiB, 0 MiB"; or, without a
/// header, rows of exactly name, total, used (the name is everything before the last two fields). Values are MiB;
/// "[N/A]" and "[Not Supported]" become unknown. "No devices were found" is zero GPUs. Anything else is one-line
/// <see cref="GpuDiscoveryException"/>.</remarks>
public static class NvidiaSmiParser
{
    /// <summary>The largest output accepted, in characters.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>The most GPUs accepted.</summary>
    public const int MaxGpus = 1024;

    private const string Tool = "nvidia-smi";
    private const string RowShape = "CSV rows 'name, memory.total [MiB], memory.used [MiB]'";

    // 2^30 MiB = 1 PiB per card: far above any GPU, far below overflow.
    private const long MaxMiB = 1L << 30;

    /// <summary>Parses the output, one record per GPU, each matched against the catalog.</summary>
    /// <param name="output">What nvidia-smi printed on stdout.</param>
    /// <returns>The GPUs in the order printed.</returns>
    /// <exception cref="GpuDiscoveryException">The output is empty, too long, or not the expected CSV; the message
    /// names the line and quotes it.</exception>
    public static IReadOnlyList<LocalGpu> Parse(string? output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw GpuErrorMessages.Output(Tool, "output", "one CSV line per GPU", "nothing");
        }

        if (output.Length > MaxChars)
        {
            throw GpuErrorMessages.Output(Tool, "output", $"at most {GpuErrorMessages.N(MaxChars)} characters", GpuErrorMessages.N(output.Length));
        }

        if (output.Trim().StartsWith("No devices were found", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var lines = output.Split('\n');
        var gpus = new List<LocalGpu>();
        Header? header = null;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            var where = "line " + (i + 1).ToString(CultureInfo.InvariantCulture);
            if (gpus.Count == 0 && header is null && IsHeader(line))
            {
                header = Header.Read(line, where);
                continue;
            }

            if (gpus.Count >= MaxGpus)
            {
                throw GpuErrorMessages.Output(Tool, where, $"at most {GpuErrorMessages.N(MaxGpus)} GPUs", "more");
            }

            gpus.Add(header is null ? ReadBare(line, where, gpus.Count) : header.ReadRow(line, where, gpus.Count));
        }

        if (gpus.Count == 0)
        {
            throw GpuErrorMessages.Output(Tool, "output", "at least one GPU line after the header", "none");
        }

        return gpus;
    }

    // A header names the columns: one is exactly "name" and one starts with "memory.total".
    private static bool IsHeader(string line)
    {
        var columns = line.Split(',').Select(c => c.Trim()).ToArray();
        return columns.Any(c => c.Equals("name", StringComparison.OrdinalIgnoreCase))
            && columns.Any(c => c.StartsWith("memory.total", StringComparison.OrdinalIgnoreCase));
    }

    private static LocalGpu ReadBare(string line, string where, int ordinal)
    {
        var fields = line.Split(',');
        if (fields.Length < 3)
        {
            throw GpuErrorMessages.Output(Tool, where, RowShape, GpuErrorMessages.Quote(line));
        }

        var name = string.Join(',', fields[..^2]).Trim();
        return Make(ordinal, name, fields[^2], fields[^1], line, where);
    }

    private static LocalGpu Make(int index, string name, string totalText, string usedText, string line, string where)
    {
        if (name.Length == 0 || name.Length > 256 || name.Any(char.IsControl))
        {
            throw GpuErrorMessages.Output(Tool, where, "a GPU name", GpuErrorMessages.Quote(line));
        }

        var total = Mib(totalText, "memory.total", line, where);
        var used = Mib(usedText, "memory.used", line, where);
        if (total is ByteSize t && used is ByteSize u && u > t)
        {
            throw GpuErrorMessages.Output(Tool, where, "memory.used at most memory.total", GpuErrorMessages.Quote(line));
        }

        return new LocalGpu
        {
            Index = index,
            Name = name,
            Tool = LocalGpuTool.NvidiaSmi,
            Total = total,
            Used = used,
            Free = total is ByteSize tt && used is ByteSize uu ? tt - uu : null,
            CatalogMatch = GpuCatalog.MatchReported(name, total),
        };
    }

    private static ByteSize? Mib(string text, string field, string line, string where)
    {
        var s = text.Trim();
        if (s.Equals("[N/A]", StringComparison.OrdinalIgnoreCase) || s.Equals("[Not Supported]", StringComparison.OrdinalIgnoreCase)
            || s.Equals("N/A", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (s.EndsWith("MiB", StringComparison.OrdinalIgnoreCase))
        {
            s = s[..^3].TrimEnd();
        }

        if (s.Length is 0 or > 12 || !long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var mib) || mib > MaxMiB)
        {
            throw GpuErrorMessages.Output(Tool, where, $"{field} as a whole number of MiB", $"{GpuErrorMessages.Quote(text.Trim())} in {GpuErrorMessages.Quote(line)}");
        }

        return new ByteSize(checked(mib * ByteSize.MiB));
    }

    /// <summary>The column positions a header names.</summary>
    private sealed class Header
    {
        private int _name = -1;
        private int _total = -1;
        private int _used = -1;
        private int _index = -1;
        private int _count;

        public static Header Read(string line, string where)
        {
            var h = new Header();
            var columns = line.Split(',');
            h._count = columns.Length;
            for (int i = 0; i < columns.Length; i++)
            {
                var c = columns[i].Trim();
                var bracket = c.IndexOf('[', StringComparison.Ordinal);
                var key = (bracket >= 0 ? c[..bracket] : c).Trim().ToLowerInvariant();
                var unit = bracket >= 0 ? c[(bracket + 1)..].TrimEnd(']').Trim() : null;
                if (key is "memory.total" or "memory.used" && unit is not null && !unit.Equals("MiB", StringComparison.OrdinalIgnoreCase))
                {
                    throw GpuErrorMessages.Output(Tool, where, $"{key} in [MiB]", GpuErrorMessages.Quote(c));
                }

                switch (key)
                {
                    case "name" or "gpu_name":
                        h._name = i;
                        break;
                    case "memory.total":
                        h._total = i;
                        break;
                    case "memory.used":
                        h._used = i;
                        break;
                    case "index":
                        h._index = i;
                        break;
                }
            }

            if (h._name < 0 || h._total < 0)
            {
                throw GpuErrorMessages.Output(Tool, where, "a header with name and memory.total (and memory.used)", GpuErrorMessages.Quote(line));
            }

            return h;
        }

        public LocalGpu ReadRow(string line, string where, int ordinal)
        {
            var fields = line.Split(',');
            if (fields.Length != _count)
            {
                throw GpuErrorMessages.Output(Tool, where, $"{_count} comma-separated fields as in the header", $"{fields.Length} in {GpuErrorMessages.Quote(line)}");
            }

            int index = ordinal;
            if (_index >= 0 && (!int.TryParse(fields[_index].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out index) || index > 1_000_000))
            {
                throw GpuErrorMessages.Output(Tool, where, "index as a whole number", GpuErrorMessages.Quote(line));
            }

            return Make(index, fields[_name].Trim(), fields[_total], _used >= 0 ? fields[_used] : "[N/A]", line, where);
        }
    }
}
