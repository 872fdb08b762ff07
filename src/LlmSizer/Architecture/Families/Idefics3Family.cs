using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Idefics3 and SmolVLM (<c>Idefics3ForConditionalGeneration</c>, <c>SmolVLMForConditionalGeneration</c>):
/// a SigLIP-style vision transformer, a pixel-shuffle connector and the decoder of <c>text_config</c>, counted whole
/// and per component.</summary>
/// <remarks>Tensors: <c>model.vision_model.*</c> (<see cref="SiglipVision"/>'s layout: patch conv with bias, learned
/// positions, LayerNorm/attention/MLP layers with biases, <c>post_layernorm</c>; <c>Idefics3VisionConfig</c> defaults:
/// hidden 1152, intermediate 3072, 12 layers, 16 heads, image 224, patch 32); <c>model.connector.modality_projection.proj</c>
/// [text hidden, vision hidden × scale_factor²] without bias (<c>scale_factor</c> default 2); <c>model.text_model.*</c>
/// (the decoder of <c>text_config</c>, a <c>LlamaConfig</c> by default); <c>lm_head</c> [vocab, text hidden], tied to the
/// text embedding only when the top-level <c>tie_word_embeddings</c> (default false) says so.</remarks>
internal sealed class Idefics3Family : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["idefics3", "smolvlm"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var text = config.Object("text_config") ?? Empty(config, "text_config", """{"model_type":"llama"}""");
        var textType = text.String("model_type") ?? "llama";
        if (!ArchitectureRegistry.Default.TryGet(textType, out var family) || family is not DecoderFamily)
        {
            throw text.Error("model_type", $"expected a decoder language model (llama, ...); found \"{textType}\"");
        }

        var lm = family.Read(text);
        if (lm.Details is not DecoderDetails details || lm.Vision is not null || lm.Mla is not null)
        {
            throw text.Error("model_type", $"expected a text-only decoder language model; found \"{textType}\"");
        }

        var vision = SiglipVision.Read(config.Object("vision_config") ?? Empty(config, "vision_config", "{}"), null, (1152, 3072, 12, 16, 224, 32));
        var scale = DecoderConfig.IntAtMost(config, "scale_factor", 2, 64);
        var modelType = string.Equals(config.String("model_type"), "smolvlm", StringComparison.OrdinalIgnoreCase) ? "smolvlm" : "idefics3";
        return lm with
        {
            Family = modelType,
            ModelClass = config.StringArray("architectures") is [var first, ..] ? first : lm.ModelClass,
            Source = config.FilePath,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype") ?? lm.TorchDtype,
            TiedEmbeddings = config.Bool("tie_word_embeddings", false),
            Vision = vision with { SpatialMergeSize = scale },
            Details = details with { Prefix = "model.text_model.", HeadName = "lm_head.weight", Head = DecoderHead.CausalLm },
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var b = DecoderGenerator.Builder(spec);
        if (spec.Vision is { } v)
        {
            SiglipVision.Add(b, v, "model.vision_model.");
            long input = (long)v.Hidden * v.SpatialMergeSize * v.SpatialMergeSize;
            b.Add(new TensorInfo("model.connector.modality_projection.proj.weight", [spec.Hidden, input], b.DataType, TensorGroup.Other)
            {
                Component = ModelComponent.Projector,
            });
        }

        return b.Build();
    }

    private static ConfigObject Empty(ConfigObject config, string key, string json)
    {
        using var doc = JsonDocument.Parse(json);
        return new ConfigObject(doc.RootElement.Clone(), config.FilePath, key + ".");
    }
}
