using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Qwen2-VL (<c>qwen2_vl</c>, <c>Qwen2VLForConditionalGeneration</c>) and Qwen2.5-VL (<c>qwen2_5_vl</c>,
/// <c>Qwen2_5_VLForConditionalGeneration</c>): a Qwen2 language model and a native-resolution ViT (<c>visual.*</c>)
/// whose patch merger (<c>visual.merger.*</c>) is the projector, counted whole and per component.</summary>
/// <remarks>The language model is read from the root (the released config.json files are flat) or from
/// <c>text_config</c> when present, with Qwen2's layout (q, k, v biases) and the defaults of transformers'
/// <c>Qwen2VLTextConfig</c>/<c>Qwen2_5_VLTextConfig</c>: vocab 152064, hidden 8192, intermediate 29568, 80 layers,
/// 64 heads, 8 KV heads, 32768 positions, untied.
/// The vision tower (<c>Qwen2VisionTransformerPretrainedModel</c> / <c>Qwen2_5_VisionTransformerPretrainedModel</c>):
/// <c>patch_embed.proj</c>, a Conv3d without bias [width, channels, temporal_patch_size, patch, patch]; per block
/// <c>norm1</c>/<c>norm2</c>, <c>attn.qkv</c> [3·width, width] and <c>attn.proj</c> with biases, and the MLP. Qwen2-VL
/// (<c>Qwen2VLVisionConfig</c> defaults: depth 32, <c>embed_dim</c> 1280, <c>mlp_ratio</c> 4, 16 heads, 3 channels,
/// patch 14, temporal patch 2, merge 2, <c>hidden_size</c> 3584 = the merger's output) uses LayerNorms with bias and
/// <c>mlp.fc1</c>/<c>fc2</c> with biases; Qwen2.5-VL (<c>Qwen2_5_VLVisionConfig</c> defaults: depth 32, <c>hidden_size</c>
/// 3584 (the width), <c>intermediate_size</c> 3420, 16 heads, 3 channels, patch 14, temporal patch 2, merge 2,
/// <c>out_hidden_size</c> 3584) uses RMSNorms and <c>mlp.gate_proj</c>/<c>up_proj</c>/<c>down_proj</c> with biases.
/// The merger: <c>ln_q</c> over the width (LayerNorm with bias / RMSNorm), <c>mlp.0</c> [w·m², w·m²] and <c>mlp.2</c>
/// [out, w·m²], both with biases (m = merge size).</remarks>
internal sealed class Qwen2VlFamily() : DecoderFamily("Qwen2-VL", "qwen2_vl", "qwen2_5_vl")
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 152064, Hidden = 8192, Intermediate = 29568, Layers = 80, Heads = 64, KvHeads = 8, MaxPositions = 32768, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var v25 = string.Equals(config.String("model_type"), "qwen2_5_vl", StringComparison.OrdinalIgnoreCase);
        var text = config.Object("text_config") ?? config;
        var spec = DecoderConfig.Read(text, v25 ? "qwen2_5_vl" : "qwen2_vl", Defaults, new DecoderDetails { QkvBias = true }, config);
        var vision = config.Object("vision_config") ?? Empty(config, "vision_config");
        var width = DecoderConfig.IntAtMost(vision, v25 ? "hidden_size" : "embed_dim", v25 ? 3584 : 1280, MaxSize);
        var intermediate = v25
            ? DecoderConfig.IntAtMost(vision, "intermediate_size", 3420, MaxSize)
            : DecoderConfig.IntAtMost(vision, "mlp_ratio", 4, 64) * width;
        var tower = new VisionTowerSpec
        {
            Kind = v25 ? "qwen2_5_vl_vision" : "qwen2_vl_vision",
            Layers = DecoderConfig.IntAtMost(vision, "depth", 32, DecoderConfig.MaxLayers),
            Hidden = width,
            Heads = DecoderConfig.IntAtMost(vision, "num_heads", 16, MaxSize),
            Intermediate = intermediate,
            PatchSize = DecoderConfig.IntAtMost(vision, "patch_size", 14, 4096),
            TemporalPatchSize = DecoderConfig.IntAtMost(vision, "temporal_patch_size", 2, 64),
            SpatialMergeSize = DecoderConfig.IntAtMost(vision, "spatial_merge_size", 2, 64),
            // Qwen2-VL's released config.json says "in_chans"; the config class's parameter is in_channels.
            Channels = DecoderConfig.IntAtMost(vision, vision.Has("in_channels") ? "in_channels" : "in_chans", 3, 64),
        };
        var output = DecoderConfig.IntAtMost(vision, v25 ? "out_hidden_size" : "hidden_size", 3584, MaxSize);
        if (output != spec.Hidden)
        {
            throw vision.Error(v25 ? "out_hidden_size" : "hidden_size", $"expected the language model's hidden_size ({spec.Hidden}), which the patch merger feeds; found {output}");
        }

        // Every count must stay far inside long: reject towers no real model has before anything is generated.
        double merged = (double)width * tower.SpatialMergeSize * tower.SpatialMergeSize;
        double estimate = (tower.Layers * ((4.0 * width * width) + (3.0 * width * intermediate))) + (merged * (merged + output))
            + ((double)width * tower.Channels * tower.TemporalPatchSize * tower.PatchSize * tower.PatchSize);
        if (estimate > 1e15)
        {
            throw vision.Error("depth", $"expected a vision tower of at most 10^15 parameters; these sizes give about {estimate:E2}");
        }

        return DecoderConfig.WithQwenWindow(spec, text, 4096) with { Vision = tower };
    }

    public override TensorInventory Generate(ArchitectureSpec spec)
    {
        var b = DecoderGenerator.Builder(spec);
        if (spec.Vision is not { } v)
        {
            return b.Build();
        }

        var v25 = spec.Vision.Kind == "qwen2_5_vl_vision";
        long w = v.Hidden, i = v.Intermediate;
        const ModelComponent Tower = ModelComponent.VisionTower, Merger = ModelComponent.Projector;
        Add(b, "visual.patch_embed.proj.weight", Tower, w, v.Channels, v.TemporalPatchSize, v.PatchSize, v.PatchSize);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"visual.blocks.{l}.";
            Norm(b, p + "norm1", Tower, w, bias: !v25);
            Norm(b, p + "norm2", Tower, w, bias: !v25);
            Linear(b, p + "attn.qkv", Tower, 3 * w, w);
            Linear(b, p + "attn.proj", Tower, w, w);
            if (v25)
            {
                Linear(b, p + "mlp.gate_proj", Tower, i, w);
                Linear(b, p + "mlp.up_proj", Tower, i, w);
                Linear(b, p + "mlp.down_proj", Tower, w, i);
            }
            else
            {
                Linear(b, p + "mlp.fc1", Tower, i, w);
                Linear(b, p + "mlp.fc2", Tower, w, i);
            }
        }

        long merged = w * v.SpatialMergeSize * v.SpatialMergeSize;
        Norm(b, "visual.merger.ln_q", Merger, w, bias: !v25);
        Linear(b, "visual.merger.mlp.0", Merger, merged, merged);
        Linear(b, "visual.merger.mlp.2", Merger, spec.Hidden, merged);
        return b.Build();
    }

    private static void Linear(InventoryBuilder b, string name, ModelComponent c, long outDim, long inDim)
    {
        Add(b, name + ".weight", c, outDim, inDim);
        Add(b, name + ".bias", c, outDim);
    }

    private static void Norm(InventoryBuilder b, string name, ModelComponent c, long width, bool bias)
    {
        Add(b, name + ".weight", c, width);
        if (bias)
        {
            Add(b, name + ".bias", c, width);
        }
    }

    private static void Add(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });

    // Qwen2VLConfig builds a default vision config when vision_config is absent.
    private static ConfigObject Empty(ConfigObject config, string key)
    {
        using var empty = JsonDocument.Parse("{}");
        return new ConfigObject(empty.RootElement.Clone(), config.FilePath, key + ".");
    }
}
