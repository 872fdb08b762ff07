namespace LlmSizer.Tensors;

/// <summary>A tensor whose shape differs between two inventories.</summary>
/// <param name="Name">The tensor name.</param>
/// <param name="Expected">The expected tensor (generated from the config).</param>
/// <param name="Actual">The actual tensor (read from the files).</param>
public sealed record TensorMismatch(string Name, TensorInfo Expected, TensorInfo Actual);

/// <summary>The result of comparing an expected inventory (from config.json) with an actual one (from checkpoint files).</summary>
/// <param name="Missing">Parameter tensors the config implies but the files lack.</param>
/// <param name="Extra">Parameter tensors the files hold but the config does not imply.</param>
/// <param name="Misshapen">Tensors present in both with different logical shapes.</param>
/// <param name="Matched">The number of tensors that agree.</param>
public sealed record InventoryComparison(
    IReadOnlyList<TensorInfo> Missing,
    IReadOnlyList<TensorInfo> Extra,
    IReadOnlyList<TensorMismatch> Misshapen,
    int Matched)
{
    /// <summary>True when every tensor agrees.</summary>
    public bool IsMatch => Missing.Count == 0 && Extra.Count == 0 && Misshapen.Count == 0;

    /// <summary>Compares two inventories tensor by tensor, by name. Only parameter tensors take part: buffers and
    /// quantization side data in the files are neither missing nor extra. A tied head stored twice in the files is
    /// not extra when the expected inventory has a tied embedding.</summary>
    /// <param name="expected">The inventory generated from config.json.</param>
    /// <param name="actual">The inventory read from the checkpoint files.</param>
    /// <returns>The differences.</returns>
    public static InventoryComparison Compare(TensorInventory expected, TensorInventory actual)
    {
        var actualByName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var t in actual.Parameters)
        {
            actualByName[t.Name] = t;
        }

        var missing = new List<TensorInfo>();
        var misshapen = new List<TensorMismatch>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int matched = 0;
        foreach (var e in expected.Parameters)
        {
            if (!TryFind(actualByName, e.Name, out var a))
            {
                missing.Add(e);
                continue;
            }

            seen.Add(a.Name);
            if (a.Elements != e.Elements || (a.LogicalElements is null && !a.Shape.SequenceEqual(e.Shape)))
            {
                misshapen.Add(new TensorMismatch(e.Name, e, a));
            }
            else
            {
                matched++;
            }
        }

        // A checkpoint may store a tied head a second time (lm_head.weight equal in shape to the token embedding);
        // it is the same parameter, so it is neither extra nor counted.
        var embeddingShapes = expected.Parameters.Where(t => t.Group == TensorGroup.Embedding).Select(t => t.ShapeText()).ToHashSet(StringComparer.Ordinal);
        bool expectsHead = expected.Parameters.Any(t => t.Group == TensorGroup.LmHead);
        var extra = actual.Parameters
            .Where(a => !seen.Contains(a.Name))
            .Where(a => expectsHead || !(IsHeadName(a.Name) && embeddingShapes.Contains(a.ShapeText())))
            .ToList();
        return new InventoryComparison(missing, extra, misshapen, matched);
    }

    private static bool IsHeadName(string name) =>
        name.EndsWith("lm_head.weight", StringComparison.Ordinal) || name is "output.weight" or "embed_out.weight";

    // Checkpoints name the same parameter in a few ways: with or without the base-model prefix ("transformer.h.0..."
    // in GPT2LMHeadModel's state dict, "h.0..." in the original gpt2 files), and old BERT files use LayerNorm
    // gamma/beta for weight/bias. Exact names win; the aliases are tried only when the exact name is absent.
    private static bool TryFind(Dictionary<string, TensorInfo> actual, string name, out TensorInfo tensor)
    {
        if (actual.TryGetValue(name, out tensor!))
        {
            return true;
        }

        foreach (var alias in Aliases(name))
        {
            if (actual.TryGetValue(alias, out tensor!))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> Aliases(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var withoutPrefix = dot > 0 ? name[(dot + 1)..] : null;
        if (withoutPrefix is not null)
        {
            yield return withoutPrefix;
        }

        foreach (var candidate in withoutPrefix is null ? [name] : new[] { name, withoutPrefix })
        {
            if (candidate.EndsWith("LayerNorm.weight", StringComparison.Ordinal))
            {
                yield return candidate[..^"weight".Length] + "gamma";
            }
            else if (candidate.EndsWith("LayerNorm.bias", StringComparison.Ordinal))
            {
                yield return candidate[..^"bias".Length] + "beta";
            }
        }
    }
}
