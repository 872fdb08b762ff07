using System.Collections.Frozen;
using LlmSizer.Errors;

namespace LlmSizer.Architecture;

/// <summary>The supported model families, keyed by <c>model_type</c>.</summary>
public sealed class ArchitectureRegistry
{
    private readonly FrozenDictionary<string, IArchitectureFamily> _byModelType;

    /// <summary>Creates a registry of the given families.</summary>
    /// <param name="families">The families.</param>
    /// <exception cref="ArgumentException">Two families claim the same model_type.</exception>
    public ArchitectureRegistry(IEnumerable<IArchitectureFamily> families)
    {
        var map = new Dictionary<string, IArchitectureFamily>(StringComparer.OrdinalIgnoreCase);
        foreach (var family in families)
        {
            foreach (var type in family.ModelTypes)
            {
                if (!map.TryAdd(type, family))
                {
                    throw new ArgumentException($"model_type '{type}' is registered twice.", nameof(families));
                }
            }
        }

        _byModelType = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The registry of every built-in family.</summary>
    public static ArchitectureRegistry Default { get; } = new(BuiltInFamilies.All);

    /// <summary>Every supported model_type, sorted.</summary>
    public IReadOnlyList<string> ModelTypes => [.. _byModelType.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Finds the family for a model_type.</summary>
    /// <param name="modelType">The model_type.</param>
    /// <param name="family">The family, when supported.</param>
    /// <returns>True when supported.</returns>
    public bool TryGet(string modelType, out IArchitectureFamily family) =>
        _byModelType.TryGetValue(modelType, out family!);

    /// <summary>Finds the family for a model_type or throws an error that lists the supported families.</summary>
    /// <param name="modelType">The model_type.</param>
    /// <param name="source">The file the model_type came from, for the message.</param>
    /// <returns>The family.</returns>
    /// <exception cref="UnsupportedArchitectureException">The model_type is not supported.</exception>
    public IArchitectureFamily Get(string modelType, string source) =>
        TryGet(modelType, out var family)
            ? family
            : throw new UnsupportedArchitectureException(
                $"{source}: model_type: unsupported model family '{modelType}' (supported: {string.Join(", ", ModelTypes)}).");
}
