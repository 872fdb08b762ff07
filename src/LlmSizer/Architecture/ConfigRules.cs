namespace LlmSizer.Architecture;

/// <summary>Validation and derivation rules shared by the family readers.</summary>
public static class ConfigRules
{
    /// <summary>The head dimension: <c>head_dim</c> when present, else hidden / heads, which must divide evenly.</summary>
    /// <param name="config">The config.</param>
    /// <param name="hidden">The hidden size.</param>
    /// <param name="heads">The query heads.</param>
    /// <param name="headDimKey">The key of an explicit head dimension.</param>
    /// <param name="headsKey">The key of the head count, for the message.</param>
    /// <returns>The head dimension.</returns>
    /// <exception cref="Errors.ModelConfigException">No explicit head_dim and heads do not divide hidden.</exception>
    public static int HeadDim(ConfigObject config, int hidden, int heads, string headDimKey = "head_dim", string headsKey = "num_attention_heads")
    {
        if (config.OptionalInt(headDimKey) is int explicitDim)
        {
            return explicitDim;
        }

        if (hidden % heads != 0)
        {
            throw config.Error(headsKey, $"expected a positive integer that divides the hidden size ({hidden}); found {heads}");
        }

        return hidden / heads;
    }

    /// <summary>Checks that the KV heads divide the query heads (GQA groups must be whole).</summary>
    /// <param name="config">The config.</param>
    /// <param name="heads">The query heads.</param>
    /// <param name="kvHeads">The KV heads.</param>
    /// <param name="kvKey">The key of the KV head count, for the message.</param>
    /// <exception cref="Errors.ModelConfigException">They do not divide.</exception>
    public static void CheckKvHeads(ConfigObject config, int heads, int kvHeads, string kvKey = "num_key_value_heads")
    {
        if (kvHeads > heads || heads % kvHeads != 0)
        {
            throw config.Error(kvKey, $"expected a positive integer that divides num_attention_heads ({heads}); found {kvHeads}");
        }
    }
}
