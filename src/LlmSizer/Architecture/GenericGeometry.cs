using System.Globalization;
using LlmSizer.Errors;

namespace LlmSizer.Architecture;

/// <summary>The attention geometry of a config whose <c>model_type</c> has no family reader, taken from the fields most
/// transformers configs share (<c>PretrainedConfig</c> attribute names and their common aliases), so that a checkpoint
/// whose tensors were read from its headers can still get a KV-cache and activation estimate.</summary>
/// <remarks>The spec is generic: every layer is full attention with <c>num_key_value_heads</c> KV heads of
/// <c>head_dim</c> (else <c>hidden_size / num_attention_heads</c>); sliding windows, MLA, SSM or linear-attention layers
/// of an unknown family are not seen. The parameters themselves never come from this spec: they are the headers' own.</remarks>
internal static class GenericGeometry
{
    /// <summary>A generic decoder spec from the standard fields, or null when the config lacks them.</summary>
    /// <param name="config">The config (its <c>text_config</c> is used when the root has no layer count).</param>
    /// <param name="modelType">The config's <c>model_type</c>, kept as the spec's family name.</param>
    /// <param name="description">Which fields were used, as text for a warning.</param>
    /// <returns>The spec, or null.</returns>
    public static ArchitectureSpec? TryRead(ConfigObject config, string modelType, out string description)
    {
        description = "";
        try
        {
            var c = config.FirstPresent("num_hidden_layers", "n_layer", "num_layers", "n_layers") is null && config.Object("text_config") is { } text ? text : config;
            int? layers = First(c, "num_hidden_layers", "n_layer", "num_layers", "n_layers");
            int? hidden = First(c, "hidden_size", "n_embd", "d_model", "dim");
            int? heads = First(c, "num_attention_heads", "n_head", "num_heads", "n_heads");
            if (layers is null || hidden is null || heads is null)
            {
                return null;
            }

            int kvHeads = First(c, "num_key_value_heads", "n_head_kv", "num_kv_heads", "n_kv_heads") ?? heads.Value;
            bool headDimGiven = c.OptionalInt("head_dim") is not null;
            int headDim = c.OptionalInt("head_dim") ?? (hidden.Value % heads.Value == 0 ? hidden.Value / heads.Value : 0);
            if (headDim == 0)
            {
                return null;
            }

            int intermediate = First(c, "intermediate_size", "n_inner", "ffn_dim", "d_ff") ?? checked(4 * hidden.Value);
            int vocab = First(c, "vocab_size") ?? First(config, "vocab_size") ?? 1;
            int? maxPositions = First(c, "max_position_embeddings", "n_positions", "max_seq_len", "seq_length");
            var spec = new ArchitectureSpec
            {
                Family = modelType,
                Source = config.FilePath,
                Layers = layers.Value,
                Hidden = hidden.Value,
                Heads = heads.Value,
                KvHeads = kvHeads,
                HeadDim = headDim,
                Intermediate = intermediate,
                Vocab = vocab,
                MaxPositions = maxPositions,
                TiedEmbeddings = c.Bool("tie_word_embeddings", false),
                TorchDtype = c.String("torch_dtype") ?? config.String("torch_dtype"),
            };
            if (ModelLimits.FirstViolation(spec) is not null)
            {
                return null;
            }

            description = string.Create(CultureInfo.InvariantCulture,
                $"{layers} layers, {kvHeads} KV heads of dimension {headDim}{(headDimGiven ? "" : " (hidden_size / num_attention_heads)")}, every layer full attention");
            return spec;
        }
        catch (ModelConfigException)
        {
            // A field of an unexpected type: no generic geometry, the tensor count still stands.
            return null;
        }
    }

    private static int? First(ConfigObject c, params string[] keys) => c.FirstPresent(keys) is { } key ? c.OptionalInt(key) : null;
}
