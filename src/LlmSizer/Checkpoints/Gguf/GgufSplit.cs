using System.Globalization;
using System.Text.RegularExpressions;

namespace LlmSizer.Checkpoints.Gguf;

/// <summary>A llama.cpp gguf-split shard set: files named <c>&lt;prefix&gt;-00001-of-00003.gguf</c>
/// (SPLIT_FILENAME_FORMAT <c>"%s-%05d-of-%05d.gguf"</c>, 1-based in the name; llama.cpp tools/gguf-split).</summary>
internal sealed partial record GgufSplit(string Prefix, int Count)
{
    /// <summary>The shard index (0-based): LLM_KV_SPLIT_NO in llama.cpp src/llama-arch.cpp.</summary>
    public const string NoKey = "split.no";

    /// <summary>The number of shards: LLM_KV_SPLIT_COUNT.</summary>
    public const string CountKey = "split.count";

    /// <summary>The tensors in all shards together: LLM_KV_SPLIT_TENSORS_COUNT.</summary>
    public const string TensorsCountKey = "split.tensors.count";

    /// <summary>The set's name: the prefix's file name.</summary>
    public string DisplayName => Path.GetFileName(Prefix);

    /// <summary>The path of shard <paramref name="number"/> (1-based).</summary>
    public string PathOf(int number) => string.Create(CultureInfo.InvariantCulture, $"{Prefix}-{number:D5}-of-{Count:D5}.gguf");

    /// <summary>Reads the set from any shard's path; false when the name is not a shard's or names a single shard.</summary>
    public static bool TryParse(string path, out GgufSplit split)
    {
        split = null!;
        var m = ShardName().Match(Path.GetFileName(path));
        if (!m.Success)
        {
            return false;
        }

        int no = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        int count = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (count < 2 || no < 1 || no > count)
        {
            return false;
        }

        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        split = new GgufSplit(Path.Combine(dir, m.Groups[1].Value), count);
        return true;
    }

    [GeneratedRegex(@"^(.+)-([0-9]{5})-of-([0-9]{5})\.gguf$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex ShardName();
}
