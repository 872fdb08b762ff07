using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>LLaVA (<c>LlavaForConditionalGeneration</c>): a CLIP vision tower, a two-layer MLP projector and a
/// decoder language model read from <c>text_config</c> by its own family, counted whole and per component.</summary>
/// <remarks><c>LlavaConfig</c> builds a default <c>LlamaConfig</c> when <c>text_config</c> is absent, and a default CLIP
/// tower (hidden 1024, intermediate 4096, 24 layers, 16 heads, image 336, patch 14) when <c>vision_config</c> is absent;
/// a given <c>vision_config</c> takes <c>CLIPVisionConfig</c>'s defaults (hidden 768, intermediate 3072, 12 layers,
/// 12 heads, image 224, patch 32). The language model keeps the checkpoints' <c>language_model.model.*</c> and
/// <c>language_model.lm_head</c> names; the tower is <c>vision_tower.vision_model.*</c> (<see cref="ClipVision"/>: the
/// whole tower is stored even though <c>vision_feature_layer</c> -2 skips its last layer at run time); the projector
/// (<c>LlavaMultiModalProjector</c>) is <c>multi_modal_projector.linear_1</c> [text hidden, vision hidden × feature layers]
/// and <c>linear_2</c> [text hidden, text hidden], with biases unless <c>multimodal_projector_bias</c> is false.
/// Text families other than the Llama-like decoders (<see cref="DecoderDetails"/>) are rejected.
/// LLaVA-NeXT (<c>llava_next</c>, <c>LlavaNextForConditionalGeneration</c>) is the same model plus one learned
/// <c>image_newline</c> vector of the text hidden size, appended after each row of image features
/// (modeling_llava_next.py: <c>nn.Parameter(torch.empty(text_config.hidden_size))</c>); its any-resolution tiling changes
/// the image tokens, not the tensors.</remarks>
internal sealed class LlavaFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["llava", "llava_next"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var text = config.Object("text_config") ?? Empty(config, "text_config", """{"model_type":"llama"}""");
        var textType = text.String("model_type") ?? "llama";
        if (!ArchitectureRegistry.Default.TryGet(textType, out var family) || family is not DecoderFamily)
        {
            throw text.Error("model_type", $"expected a decoder language model (llama, mistral, qwen2, ...); found \"{textType}\"");
        }

        var lm = family.Read(text);
        if (lm.Details is not DecoderDetails details || lm.Vision is not null || lm.Mla is not null)
        {
            throw text.Error("model_type", $"expected a text-only decoder language model; found \"{textType}\"");
        }

        var vision = config.Object("vision_config") is { } v
            ? ClipVision.Read(v, (768, 3072, 12, 12, 224, 32))
            : ClipVision.Read(Empty(config, "vision_config", "{}"), (1024, 4096, 24, 16, 336, 14));
        var featureLayers = config.Element.TryGetProperty("vision_feature_layer", out var f) && f.ValueKind == JsonValueKind.Array ? Math.Max(1, f.GetArrayLength()) : 1;
        bool next = config.String("model_type") == "llava_next";
        return lm with
        {
            Family = next ? "llava_next" : "llava",
            ModelClass = config.StringArray("architectures") is [var first, ..] ? first : lm.ModelClass,
            Source = config.FilePath,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype") ?? lm.TorchDtype,
            Vision = vision,
            Details = new LlavaDetails
            {
                Text = details with { Prefix = "language_model.model.", HeadName = "language_model.lm_head.weight", Head = DecoderHead.CausalLm },
                ProjectorInput = vision.Hidden * featureLayers,
                ProjectorBias = config.Bool("multimodal_projector_bias", true),
                ImageNewline = next,
            },
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as LlavaDetails ?? throw new ArgumentException("a LLaVA spec needs its details", nameof(spec));
        var b = DecoderGenerator.Builder(spec with { Details = d.Text });
        if (spec.Vision is { } vision)
        {
            ClipVision.Add(b, vision, "vision_tower.vision_model.");
            Projector(b, "multi_modal_projector.linear_1", spec.Hidden, d.ProjectorInput, d.ProjectorBias);
            Projector(b, "multi_modal_projector.linear_2", spec.Hidden, spec.Hidden, d.ProjectorBias);
            if (d.ImageNewline)
            {
                b.Add(new TensorInfo("image_newline", [spec.Hidden], b.DataType, TensorGroup.Other) { Component = ModelComponent.Projector });
            }
        }

        return b.Build();
    }

    private static void Projector(InventoryBuilder b, string name, long outDim, long inDim, bool bias)
    {
        b.Add(new TensorInfo(name + ".weight", [outDim, inDim], b.DataType, TensorGroup.Other) { Component = ModelComponent.Projector });
        if (bias)
        {
            b.Add(new TensorInfo(name + ".bias", [outDim], b.DataType, TensorGroup.Other) { Component = ModelComponent.Projector });
        }
    }

    private static ConfigObject Empty(ConfigObject config, string key, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return new ConfigObject(doc.RootElement.Clone(), config.FilePath, key + ".");
    }
}

/// <summary>The layout of a LLaVA model: its language model's decoder layout and the projector's shape.</summary>
public sealed record LlavaDetails : FamilyDetails
{
    /// <summary>The language model's layout, with the <c>language_model.</c> names.</summary>
    public required DecoderDetails Text { get; init; }

    /// <summary>The projector's input width: vision hidden × the number of feature layers.</summary>
    public int ProjectorInput { get; init; }

    /// <summary><c>multimodal_projector_bias</c>: biases on both projector layers.</summary>
    public bool ProjectorBias { get; init; } = true;

    /// <summary>LLaVA-NeXT's learned <c>image_newline</c> vector (text hidden size).</summary>
    public bool ImageNewline { get; init; }
}
