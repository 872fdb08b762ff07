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
            if (!actualByName.TryGetValue(e.Name, out var a))
            {
                missing.Add(e);
                continue;
            }

            seen.Add(e.Name);
            if (a.Elements != e.Elements || (a.LogicalElements is null && !a.Shape.SequenceEqual(e.Shape)))
            {
                misshapen.Add(new TensorMismatch(e.Name, e, a));
            }
            else
            {
                matched++;
            }
        }

        var extra = actual.Parameters.Where(a => !seen.Contains(a.Name)).ToList();
        return new InventoryComparison(missing, extra, misshapen, matched);
    }
}
