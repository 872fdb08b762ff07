using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Mistral 3 (<c>Mistral3ForConditionalGeneration</c>: Mistral Small 3.1/3.2): a Pixtral vision tower, the
/// Mistral 3 projector (RMSNorm, patch merger, two linears) and the decoder of <c>text_config</c> read by its own family.</summary>
/// <remarks>Both <c>text_config</c> and <c>vision_config</c> are required (the released files carry them).
/// The tower (<c>PixtralVisionModel</c>, <c>PixtralVisionConfig</c> defaults: hidden 1024, intermediate 4096, 24 layers,
/// 16 heads, 3 channels, image 1024, patch 16): <c>vision_tower.patch_conv</c> Conv2d [hidden, channels, patch, patch]
/// without bias, <c>ln_pre</c> (RMSNorm), per layer <c>transformer.layers.{i}.attention_norm</c>,
/// <c>attention.{q,k,v,o}_proj</c> [hidden, hidden] without biases, <c>ffn_norm</c>, <c>feed_forward.gate_proj/up_proj/down_proj</c>
/// without biases; positions are rotary (no parameters). The projector (<c>Mistral3MultiModalProjector</c>):
/// <c>norm</c> [vision hidden], <c>patch_merger.merging_layer</c> [vision hidden, vision hidden × merge²] without bias,
/// <c>linear_1</c> [text hidden, vision hidden × feature layers] and <c>linear_2</c> [text hidden, text hidden], with
/// biases only when <c>multimodal_projector_bias</c> (default false). <c>spatial_merge_size</c> defaults to 2.</remarks>
internal sealed class Mistral3Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    public IReadOnlyList<string> ModelTypes { get; } = ["mistral3"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var text = config.Object("text_config") ?? throw config.Error("text_config", "missing; expected the language model's config object");
        var vision = config.Object("vision_config") ?? throw config.Error("vision_config", "missing; expected the Pixtral vision config object");
        var textType = text.String("model_type") ?? "mistral";
        if (!ArchitectureRegistry.Default.TryGet(textType, out var family) || family is not DecoderFamily)
        {
            throw text.Error("model_type", $"expected a decoder language model (mistral, llama, ...); found \"{textType}\"");
        }

        var lm = family.Read(text);
        if (lm.Details is not DecoderDetails details || lm.Vision is not null || lm.Mla is not null)
        {
            throw text.Error("model_type", $"expected a text-only decoder language model; found \"{textType}\"");
        }

        var image = DecoderConfig.IntAtMost(vision, "image_size", 1024, MaxSize);
        var patch = DecoderConfig.IntAtMost(vision, "patch_size", 16, MaxSize);
        var tower = new VisionTowerSpec
        {
            Kind = vision.String("model_type") ?? "pixtral",
            Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", 24, DecoderConfig.MaxLayers),
            Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", 1024, MaxSize),
            Heads = DecoderConfig.IntAtMost(vision, "num_attention_heads", 16, MaxSize),
            Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", 4096, MaxSize),
            Channels = DecoderConfig.IntAtMost(vision, "num_channels", 3, 64),
            ImageSize = image,
            PatchSize = patch,
            SpatialMergeSize = DecoderConfig.IntAtMost(config, "spatial_merge_size", 2, 64),
        };
        if (patch > image)
        {
            throw vision.Error("patch_size", $"expected at most image_size ({image}); found {patch}");
        }

        double h = tower.Hidden;
        double estimate = (tower.Layers * ((4 * h * h) + (3 * h * tower.Intermediate))) + (h * h * tower.SpatialMergeSize * tower.SpatialMergeSize);
        if (estimate > 1e15)
        {
            throw vision.Error("hidden_size", $"expected a vision tower of at most 10^15 parameters; these sizes give about {estimate:E2}");
        }

        var featureLayers = config.Element.TryGetProperty("vision_feature_layer", out var f) && f.ValueKind == JsonValueKind.Array ? Math.Max(1, f.GetArrayLength()) : 1;
        return lm with
        {
            Family = "mistral3",
            ModelClass = config.StringArray("architectures") is [var first, ..] ? first : lm.ModelClass,
            Source = config.FilePath,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype") ?? lm.TorchDtype,
            Vision = tower,
            Details = new LlavaDetails
            {
                Text = details with { Prefix = "language_model.model.", HeadName = "language_model.lm_head.weight", Head = DecoderHead.CausalLm },
                ProjectorInput = tower.Hidden * featureLayers,
                ProjectorBias = config.Bool("multimodal_projector_bias", false),
            },
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as LlavaDetails ?? throw new ArgumentException("a Mistral 3 spec needs its details", nameof(spec));
        var b = DecoderGenerator.Builder(spec with { Details = d.Text });
        if (spec.Vision is not { } v)
        {
            return b.Build();
        }

        long h = v.Hidden, i = v.Intermediate;
        const ModelComponent T = ModelComponent.VisionTower, P = ModelComponent.Projector;
        Add(b, "vision_tower.patch_conv.weight", T, h, v.Channels, v.PatchSize, v.PatchSize);
        Add(b, "vision_tower.ln_pre.weight", T, h);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"vision_tower.transformer.layers.{l}.";
            Add(b, p + "attention_norm.weight", T, h);
            foreach (var proj in (string[])["q_proj", "k_proj", "v_proj", "o_proj"])
            {
                Add(b, p + "attention." + proj + ".weight", T, h, h);
            }

            Add(b, p + "ffn_norm.weight", T, h);
            Add(b, p + "feed_forward.gate_proj.weight", T, i, h);
            Add(b, p + "feed_forward.up_proj.weight", T, i, h);
            Add(b, p + "feed_forward.down_proj.weight", T, h, i);
        }

        Add(b, "multi_modal_projector.norm.weight", P, h);
        Add(b, "multi_modal_projector.patch_merger.merging_layer.weight", P, h, h * v.SpatialMergeSize * v.SpatialMergeSize);
        Add(b, "multi_modal_projector.linear_1.weight", P, spec.Hidden, d.ProjectorInput);
        Add(b, "multi_modal_projector.linear_2.weight", P, spec.Hidden, spec.Hidden);
        if (d.ProjectorBias)
        {
            Add(b, "multi_modal_projector.linear_1.bias", P, spec.Hidden);
            Add(b, "multi_modal_projector.linear_2.bias", P, spec.Hidden);
        }

        return b.Build();
    }

    private static void Add(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });
}
