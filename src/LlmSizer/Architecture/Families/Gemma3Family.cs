using System.Text.Json;

namespace LlmSizer.Architecture.Families;

/// <summary>Gemma 3: <c>gemma3_text</c> (<c>Gemma3ForCausalLM</c>) and the language model of <c>gemma3</c>
/// (<c>Gemma3ForConditionalGeneration</c>, read from <c>text_config</c>). Gemma 2's four norms plus a QK-norm of
/// head_dim, and five sliding-window layers to one global layer.</summary>
/// <remarks>Defaults are those of transformers' <c>Gemma3TextConfig</c>: vocab 262208, hidden 2304, intermediate 9216,
/// 26 layers, 8 heads, 4 KV heads, <c>head_dim</c> 256, 131072 positions, tied, <c>sliding_window</c> 4096,
/// <c>sliding_window_pattern</c> 6 (layer i slides unless (i + 1) is a multiple of it) unless <c>layer_types</c> is given.
/// For <c>gemma3</c> only the language model is generated, with the checkpoint's <c>language_model.model.</c> names:
/// the SigLIP vision tower and the multimodal projector are not included.</remarks>
internal sealed class Gemma3Family() : DecoderFamily("Gemma 3", "gemma3_text", "gemma3")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 262208, Hidden = 2304, Intermediate = 9216, Layers = 26, Heads = 8, KvHeads = 4, HeadDim = 256, MaxPositions = 131072, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var multimodal = string.Equals(config.String("model_type"), "gemma3", StringComparison.OrdinalIgnoreCase);
        var text = multimodal ? TextConfig(config) : config;
        var layout = Gemma2Family.Layout(text, NormPlacement.Sandwich, QkNormKind.PerHeadDim);
        if (multimodal)
        {
            layout = layout with
            {
                Prefix = "language_model.model.",
                HeadName = "language_model.lm_head.weight",
                Note = "language model only (text_config); the vision tower and multimodal projector are not included",
            };
        }

        var spec = DecoderConfig.Read(text, multimodal ? "gemma3" : "gemma3_text", Defaults, layout, config);
        var pattern = text.IntOr("sliding_window_pattern", 6);
        var window = DecoderConfig.OptionalIntWithDefault(text, "sliding_window", 4096);
        return DecoderConfig.WithLayerKinds(spec, text, window, i => (i + 1) % pattern != 0);
    }

    // Gemma3Config builds a default Gemma3TextConfig when text_config is absent.
    private static ConfigObject TextConfig(ConfigObject config)
    {
        if (config.Object("text_config") is { } text)
        {
            return text;
        }

        using var empty = JsonDocument.Parse("{}");
        return new ConfigObject(empty.RootElement.Clone(), config.FilePath, "text_config.");
    }
}
