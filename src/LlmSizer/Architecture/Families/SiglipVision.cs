using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Reads and generates a SigLIP vision tower (transformers' <c>SiglipVisionModel</c>), as Gemma 3 embeds it.</summary>
/// <remarks>Defaults are those of transformers' <c>SiglipVisionConfig</c>: hidden 768, intermediate 3072, 12 layers,
/// 12 heads, 3 channels, image 224, patch 16. Tensors (<c>SiglipVisionEmbeddings</c>, <c>SiglipEncoderLayer</c>,
/// <c>SiglipVisionTransformer</c>): <c>embeddings.patch_embedding</c> Conv2d [hidden, channels, patch, patch] with bias,
/// <c>embeddings.position_embedding</c> [patches, hidden]; per layer <c>layer_norm1</c>/<c>layer_norm2</c> (LayerNorm
/// weight and bias), <c>self_attn.{q,k,v,out}_proj</c> [hidden, hidden] with biases, <c>mlp.fc1</c> [intermediate,
/// hidden] and <c>mlp.fc2</c> [hidden, intermediate] with biases; then <c>post_layernorm</c>. The attention-pooling head
/// (<c>vision_use_head</c>) is not supported: Gemma 3 turns it off.</remarks>
internal static class SiglipVision
{
    private const int MaxSize = 1 << 20;

    /// <summary>Reads <c>vision_config</c> (an empty object takes every class default).</summary>
    /// <param name="vision">The vision config.</param>
    /// <param name="tokensPerImage">The soft tokens per image, when the wrapper fixes it.</param>
    /// <param name="defaults">The config class's defaults (hidden, intermediate, layers, heads, image, patch) when they
    /// are not <c>SiglipVisionConfig</c>'s (Idefics3's vision config has its own).</param>
    /// <returns>The vision tower.</returns>
    /// <exception cref="Errors.ModelConfigException">A field is invalid.</exception>
    public static VisionTowerSpec Read(ConfigObject vision, int? tokensPerImage, (int Hidden, int Intermediate, int Layers, int Heads, int Image, int Patch)? defaults = null)
    {
        var (dh, di, dl, dn, dimg, dp) = defaults ?? (768, 3072, 12, 12, 224, 16);
        if (vision.Bool("vision_use_head", false))
        {
            throw vision.Error("vision_use_head", "expected false (the SigLIP attention-pooling head is not supported); found true");
        }

        var image = DecoderConfig.IntAtMost(vision, "image_size", dimg, MaxSize);
        var patch = DecoderConfig.IntAtMost(vision, "patch_size", dp, MaxSize);
        if (patch > image)
        {
            throw vision.Error("patch_size", $"expected at most image_size ({image}); found {patch}");
        }

        var tower = new VisionTowerSpec
        {
            Kind = vision.String("model_type") ?? "siglip_vision_model",
            Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", dl, DecoderConfig.MaxLayers),
            Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", dh, MaxSize),
            Heads = DecoderConfig.IntAtMost(vision, "num_attention_heads", dn, MaxSize),
            Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", di, MaxSize),
            Channels = DecoderConfig.IntAtMost(vision, "num_channels", 3, 64),
            ImageSize = image,
            PatchSize = patch,
            TokensPerImage = tokensPerImage,
        };

        // Every count must stay far inside long: reject towers no real model has before anything is generated.
        double h = tower.Hidden;
        double estimate = ((double)tower.Patches * h) + (h * tower.Channels * patch * patch)
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
        Add(b, prefix + "embeddings.patch_embedding.weight", h, v.Channels, v.PatchSize, v.PatchSize);
        Add(b, prefix + "embeddings.patch_embedding.bias", h);
        Add(b, prefix + "embeddings.position_embedding.weight", v.Patches, h);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"{prefix}encoder.layers.{l}.";
            LayerNorm(b, p + "layer_norm1", h);
            foreach (var proj in (string[])["k_proj", "v_proj", "q_proj", "out_proj"])
            {
                Linear(b, p + "self_attn." + proj, h, h);
            }

            LayerNorm(b, p + "layer_norm2", h);
            Linear(b, p + "mlp.fc1", i, h);
            Linear(b, p + "mlp.fc2", h, i);
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
