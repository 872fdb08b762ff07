using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using LlmSizer.Quantization;

namespace LlmSizer.Memory;

/// <summary>The linear modules that LoRA adapts (PEFT <c>target_modules</c>), as a set of tensor roles.</summary>
public sealed record LoraTargets
{
    private static readonly ImmutableArray<TensorRole> AllLinearRoles =
        [TensorRole.AttnQ, TensorRole.AttnK, TensorRole.AttnV, TensorRole.AttnQkv, TensorRole.AttnOutput, TensorRole.FfnGate, TensorRole.FfnUp, TensorRole.FfnDown];

    private LoraTargets(ImmutableHashSet<TensorRole> roles, string name)
    {
        Roles = roles;
        Name = name;
    }

    /// <summary>Every linear layer of the blocks (PEFT <c>all-linear</c>, QLoRA's recommendation).</summary>
    public static LoraTargets AllLinear { get; } = new([.. AllLinearRoles], "all");

    /// <summary>The names accepted by <see cref="TryParse"/>, comma-separated in any combination.</summary>
    public static IReadOnlyList<string> KnownNames { get; } = ["q", "k", "v", "o", "gate", "up", "down", "qkv", "all"];

    /// <summary>The adapted roles.</summary>
    public IImmutableSet<TensorRole> Roles { get; }

    /// <summary>The canonical text, e.g. <c>q,k,v,o</c> or <c>all</c>.</summary>
    public string Name { get; }

    /// <summary>Parses a comma-separated list: q, k, v, o, gate, up, down, qkv, all (aliases: query, key, value, out,
    /// dense, w1, w2, w3, fc1, fc2, c_attn, c_fc, all-linear; a <c>_proj</c> suffix is ignored).</summary>
    /// <param name="text">The list.</param>
    /// <param name="targets">The set, when every name is known.</param>
    /// <param name="unknown">The first unknown name, when one is not.</param>
    /// <returns>True when every name is known and the list is not empty.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out LoraTargets? targets, out string? unknown)
    {
        targets = null;
        unknown = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            unknown = text ?? "";
            return false;
        }

        var set = ImmutableHashSet.CreateBuilder<TensorRole>();
        var names = new List<string>();
        foreach (var raw in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var n = raw.ToLowerInvariant().Replace("_proj", "", StringComparison.Ordinal);
            TensorRole[]? roles = n switch
            {
                "all" or "all-linear" or "all_linear" => [.. AllLinearRoles],
                "q" or "query" => [TensorRole.AttnQ, TensorRole.AttnQkv],
                "k" or "key" => [TensorRole.AttnK, TensorRole.AttnQkv],
                "v" or "value" => [TensorRole.AttnV, TensorRole.AttnQkv],
                "qkv" or "c_attn" or "query_key_value" => [TensorRole.AttnQkv],
                "o" or "out" or "output" or "dense" => [TensorRole.AttnOutput],
                "gate" or "w1" => [TensorRole.FfnGate],
                "up" or "w3" or "fc1" or "c_fc" => [TensorRole.FfnUp],
                "down" or "w2" or "fc2" => [TensorRole.FfnDown],
                _ => null,
            };
            if (roles is null)
            {
                unknown = raw;
                return false;
            }

            set.UnionWith(roles);
            names.Add(n is "all-linear" or "all_linear" ? "all" : n);
        }

        if (set.Count == 0)
        {
            unknown = text;
            return false;
        }

        targets = set.Count == AllLinearRoles.Length ? AllLinear : new LoraTargets(set.ToImmutable(), string.Join(",", names.Distinct()));
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
