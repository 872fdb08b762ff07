using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Reads and generates a CLIP vision tower (transformers' <c>CLIPVisionModel</c>), as LLaVA embeds it.</summary>
/// <remarks>Tensors (<c>CLIPVisionEmbeddings</c>, <c>CLIPEncoderLayer</c>, <c>CLIPVisionTransformer</c>):
/// <c>embeddings.class_embedding</c> [hidden] (a bare parameter), <c>embeddings.patch_embedding</c> Conv2d
/// [hidden, channels, patch, patch] without bias, <c>embeddings.position_embedding</c> [patches + 1, hidden] (the
/// <c>position_ids</c> buffer is not persistent, so not stored); <c>pre_layrnorm</c> (transformers' spelling); per layer
/// <c>self_attn.{k,v,q,out}_proj</c> with biases, <c>layer_norm1</c>, <c>mlp.fc1</c>/<c>fc2</c> with biases,
/// <c>layer_norm2</c>; then <c>post_layernorm</c>. All LayerNorms have weight and bias.</remarks>
internal static class ClipVision
{
    private const int MaxSize = 1 << 20;

    /// <summary>Reads <c>vision_config</c> with the given defaults (<c>CLIPVisionConfig</c>'s, or the wrapper's when it
    /// builds its own default tower).</summary>
    /// <param name="vision">The vision config (an empty object takes every default).</param>
    /// <param name="defaults">The defaults: hidden, intermediate, layers, heads, image, patch.</param>
    /// <returns>The vision tower.</returns>
    /// <exception cref="Errors.ModelConfigException">A field is invalid.</exception>
    public static VisionTowerSpec Read(ConfigObject vision, (int Hidden, int Intermediate, int Layers, int Heads, int Image, int Patch) defaults)
    {
        var image = DecoderConfig.IntAtMost(vision, "image_size", defaults.Image, MaxSize);
        var patch = DecoderConfig.IntAtMost(vision, "patch_size", defaults.Patch, MaxSize);
        if (patch > image)
        {
            throw vision.Error("patch_size", $"expected at most image_size ({image}); found {patch}");
        }

        var tower = new VisionTowerSpec
        {
            Kind = vision.String("model_type") ?? "clip_vision_model",
            Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", defaults.Layers, DecoderConfig.MaxLayers),
            Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", defaults.Hidden, MaxSize),
            Heads = DecoderConfig.IntAtMost(vision, "num_attention_heads", defaults.Heads, MaxSize),
            Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", defaults.Intermediate, MaxSize),
            Channels = DecoderConfig.IntAtMost(vision, "num_channels", 3, 64),
            ImageSize = image,
            PatchSize = patch,
        };

        // Every count must stay far inside long: reject towers no real model has before anything is generated.
        double h = tower.Hidden;
        double estimate = ((tower.Patches + 1.0) * h) + (h * tower.Channels * patch * patch)
            + (tower.Layers * ((4 * h * h) + (2 * h * tower.Intermediate)));
        return estimate <= 1e15 ? tower
            : throw vision.Error("hidden_size", $"expected a vision tower of at most 10^15 parameters; these sizes give about {estimate:E2}");
    }

    /// <summary>Adds the tower's tensors under <paramref name="prefix"/> (e.g. <c>vision_tower.vision_model.</c>),
    /// tagged <see cref="ModelComponent.VisionTower"/>, group <see cref="TensorGroup.Other"/>, outside the decoder layers.</summary>
    /// <param name="b">The builder.</param>
    /// <param name="v">The tower.</param>
    /// <param name="prefix">The module path.</param>
    public static void Add(InventoryBuilder b, VisionTowerSpec v, string prefix)
    {
        long h = v.Hidden, i = v.Intermediate;
        Add(b, prefix + "embeddings.class_embedding", h);
        Add(b, prefix + "embeddings.patch_embedding.weight", h, v.Channels, v.PatchSize, v.PatchSize);
        Add(b, prefix + "embeddings.position_embedding.weight", v.Patches + 1, h);
        LayerNorm(b, prefix + "pre_layrnorm", h);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"{prefix}encoder.layers.{l}.";
            foreach (var proj in (string[])["k_proj", "v_proj", "q_proj", "out_proj"])
            {
                Linear(b, p + "self_attn." + proj, h, h);
            }

            LayerNorm(b, p + "layer_norm1", h);
            Linear(b, p + "mlp.fc1", i, h);
            Linear(b, p + "mlp.fc2", h, i);
            LayerNorm(b, p + "layer_norm2", h);
        }

        LayerNorm(b, prefix + "post_layernorm", h);
    }

    private static void Linear(InventoryBuilder b, string name, long outDim, long inDim)
    {
        Add(b, name + ".weight", outDim, inDim);
        Add(b, name + ".bias", outDim);
    }

    private static void LayerNorm(InventoryBuilder b, string name, long width)
    {
        Add(b, name + ".weight", width);
        Add(b, name + ".bias", width);
    }

    private static void Add(InventoryBuilder b, string name, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = ModelComponent.VisionTower });
}
