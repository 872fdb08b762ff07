using System.Collections.Frozen;
using System.Text.Json;

namespace LlmSizer.Fit;

/// <summary>The flags of other programs the core writes command lines for (vLLM, SGLang, llama-server, nvidia-smi,
/// rocm-smi), read from the embedded <c>engine-command-lines.json</c>: one table of another program's vocabulary, kept
/// apart from llmsize's own settings (which the core names logically and the front ends map to their flags).</summary>
internal static class EngineCommandLines
{
    private static readonly Lazy<FrozenDictionary<string, FrozenDictionary<string, string>>> Table = new(Load);

    /// <summary>The flag of <paramref name="program"/> for <paramref name="key"/>.</summary>
    /// <param name="program">vllm, sglang, llamacpp, nvidia_smi or rocm_smi.</param>
    /// <param name="key">The logical key in the table.</param>
    /// <returns>The flag text.</returns>
    /// <exception cref="KeyNotFoundException">The table lacks the entry (a build defect, caught by the tests).</exception>
    public static string Flag(string program, string key) => Table.Value[program][key];

    private static FrozenDictionary<string, FrozenDictionary<string, string>> Load()
    {
        using var stream = typeof(EngineCommandLines).Assembly.GetManifestResourceStream("LlmSizer.Fit.engine-command-lines.json")
            ?? throw new InvalidOperationException("engine-command-lines.json is not embedded.");
        using var doc = JsonDocument.Parse(stream);
        var map = new Dictionary<string, FrozenDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var program in doc.RootElement.EnumerateObject())
        {
            if (program.Value.ValueKind == JsonValueKind.Object)
            {
                map[program.Name] = program.Value.EnumerateObject().ToFrozenDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
