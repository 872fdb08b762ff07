using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Gemma 3: <c>gemma3_text</c> (<c>Gemma3ForCausalLM</c>) and the whole <c>gemma3</c> model
/// (<c>Gemma3ForConditionalGeneration</c>: the language model read from <c>text_config</c>, a SigLIP vision tower read
/// from <c>vision_config</c>, and the multimodal projector). Gemma 2's four norms plus a QK-norm of head_dim, and five
/// sliding-window layers to one global layer.</summary>
/// <remarks>Defaults are those of transformers' <c>Gemma3TextConfig</c>: vocab 262208, hidden 2304, intermediate 9216,
/// 26 layers, 8 heads, 4 KV heads, <c>head_dim</c> 256, 131072 positions, tied, <c>sliding_window</c> 4096,
/// <c>sliding_window_pattern</c> 6 (layer i slides unless (i + 1) is a multiple of it) unless <c>layer_types</c> is given.
/// For <c>gemma3</c> the tensors carry the official checkpoints' names: <c>language_model.model.*</c>,
/// <c>vision_tower.vision_model.*</c> (<see cref="SiglipVision"/>; <c>Gemma3Config</c> builds a default
/// <c>SiglipVisionConfig</c> when <c>vision_config</c> is absent) and <c>multi_modal_projector.*</c>
/// (<c>Gemma3MultiModalProjector</c>: <c>mm_input_projection_weight</c> [vision hidden, text hidden], a bare
/// parameter, and <c>mm_soft_emb_norm.weight</c> [vision hidden], an RMSNorm; its average pooling has no parameters).</remarks>
internal sealed class Gemma3Family() : DecoderFamily("Gemma 3", "gemma3_text", "gemma3")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 262208, Hidden = 2304, Intermediate = 9216, Layers = 26, Heads = 8, KvHeads = 4, HeadDim = 256, MaxPositions = 131072, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var multimodal = string.Equals(config.String("model_type"), "gemma3", StringComparison.OrdinalIgnoreCase);
        var text = multimodal ? SubConfig(config, "text_config") : config;
        var layout = Gemma2Family.Layout(text, NormPlacement.Sandwich, QkNormKind.PerHeadDim);
        if (multimodal)
        {
            layout = layout with { Prefix = "language_model.model.", HeadName = "language_model.lm_head.weight" };
        }

        var spec = DecoderConfig.Read(text, multimodal ? "gemma3" : "gemma3_text", Defaults, layout, config);
        var pattern = text.IntOr("sliding_window_pattern", 6);
        var window = DecoderConfig.OptionalIntWithDefault(text, "sliding_window", 4096);
        spec = DecoderConfig.WithLayerKinds(spec, text, window, i => (i + 1) % pattern != 0);
        return multimodal
            ? spec with { Vision = SiglipVision.Read(SubConfig(config, "vision_config"), config.IntOr("mm_tokens_per_image", 256)) }
            : spec;
    }

    public override TensorInventory Generate(ArchitectureSpec spec)
    {
        var b = DecoderGenerator.Builder(spec);
        if (spec.Vision is { } vision)
        {
            SiglipVision.Add(b, vision, "vision_tower.vision_model.");
            const TensorGroup O = TensorGroup.Other;
            b.Add(new TensorInfo("multi_modal_projector.mm_input_projection_weight", [vision.Hidden, spec.Hidden], b.DataType, O) { Component = ModelComponent.Projector });
            b.Add(new TensorInfo("multi_modal_projector.mm_soft_emb_norm.weight", [vision.Hidden], b.DataType, O) { Component = ModelComponent.Projector });
        }

        return b.Build();
    }

    // Gemma3Config builds a default sub-config when text_config / vision_config is absent.
    private static ConfigObject SubConfig(ConfigObject config, string key)
    {
        if (config.Object(key) is { } sub)
        {
            return sub;
        }

        using var empty = JsonDocument.Parse("{}");
        return new ConfigObject(empty.RootElement.Clone(), config.FilePath, key + ".");
    }
}
