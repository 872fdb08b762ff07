using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Qwen3.5 dense (<c>Qwen3_5ForConditionalGeneration</c>, <c>qwen3_5</c>; <c>qwen3_5_text</c> for the language
/// model alone): Qwen3-Next's hybrid decoder (gated delta nets on three layers in four, gated full attention with QK-norm
/// on every fourth) with a dense MLP in every layer, and a Qwen3-VL vision tower with a patch-merger projector.</summary>
/// <remarks>Text defaults (<c>Qwen3_5TextConfig</c>): vocab 248320, hidden 4096, intermediate 12288, 32 layers, 16 heads,
/// 4 KV heads, head_dim 256, 32768 positions, untied, <c>attention_bias</c> false, <c>linear_num_key_heads</c> 16,
/// <c>linear_num_value_heads</c> 32, <c>linear_key_head_dim</c>/<c>linear_value_head_dim</c> 128,
/// <c>linear_conv_kernel_dim</c> 4, <c>full_attention_interval</c> 4 unless <c>layer_types</c> is given. The delta net's
/// input projections are stored apart (<c>in_proj_qkv</c>, <c>in_proj_z</c>, <c>in_proj_b</c>, <c>in_proj_a</c>). The
/// multi-token-prediction weights (<c>mtp.*</c>) the checkpoints carry are not part of the transformers model and are not
/// counted. Vision defaults (<c>Qwen3_5VisionConfig</c>): depth 27, hidden 1152, intermediate 4304, 16 heads, 3 channels,
/// patch 16, temporal patch 2, spatial merge 2, <c>out_hidden_size</c> 3584, <c>num_position_embeddings</c> 2304.
/// Vision tensors (<c>Qwen3VLVisionModel</c> without its deepstack mergers): <c>visual.patch_embed.proj</c> Conv3d
/// [hidden, channels, temporal, patch, patch] with bias, <c>visual.pos_embed</c> [positions, hidden], per block LayerNorms
/// <c>norm1</c>/<c>norm2</c> with biases, <c>attn.qkv</c> [3 × hidden, hidden] and <c>attn.proj</c> with biases,
/// <c>mlp.linear_fc1</c>/<c>linear_fc2</c> with biases; the projector <c>visual.merger</c>: LayerNorm <c>norm</c> [hidden],
/// <c>linear_fc1</c> [hidden × merge², hidden × merge²] and <c>linear_fc2</c> [out_hidden_size, hidden × merge²], with biases.</remarks>
internal sealed class Qwen35Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults TextDefaults = new()
    {
        Vocab = 248320, Hidden = 4096, Intermediate = 12288, Layers = 32, Heads = 16, KvHeads = 4, HeadDim = 256, MaxPositions = 32768, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["qwen3_5", "qwen3_5_text"];

    public ArchitectureSpec Read(ConfigObject config) => Read(config, "qwen3_5", "qwen3_5_text", "Qwen3.5", TextDefaults, MoeLayout.Qwen, null);

    /// <summary>Reads a Qwen3.5 config, dense or MoE: the hybrid decoder of its <c>text_config</c> (or of the root for the
    /// text-only model type) and, for the multimodal model type, the vision tower.</summary>
    /// <param name="config">The config root.</param>
    /// <param name="multimodalType">The model type of <c>*ForConditionalGeneration</c> (<c>qwen3_5</c>, <c>qwen3_5_moe</c>).</param>
    /// <param name="textType">The model type of the language model alone.</param>
    /// <param name="name">The family name for messages.</param>
    /// <param name="defaults">The text config class's defaults.</param>
    /// <param name="experts">The expert layout.</param>
    /// <param name="withMoe">Adds the routed experts to the spec read from the text config, or null for a dense MLP.</param>
    /// <returns>The spec.</returns>
    internal static ArchitectureSpec Read(
        ConfigObject config, string multimodalType, string textType, string name, DecoderDefaults defaults, MoeLayout experts, Func<ArchitectureSpec, ConfigObject, ArchitectureSpec>? withMoe)
    {
        var multimodal = string.Equals(config.String("model_type"), multimodalType, StringComparison.OrdinalIgnoreCase);
        var text = multimodal ? config.Object("text_config") ?? throw config.Error("text_config", $"missing; expected the {name} text config object") : config;
        var layout = Qwen3MoeFamily.Layout(text, experts) with
        {
            GatedAttention = true,
            SplitDeltaNetProjections = true,
            Prefix = multimodal ? "model.language_model." : "model.",
            Note = "the multi-token-prediction weights (mtp.*) stored in the checkpoint are not counted",
        };
        var spec = DecoderConfig.Read(text, multimodal ? multimodalType : textType, defaults, layout, root: config);
        if (withMoe is not null)
        {
            spec = withMoe(spec, text);
        }

        spec = Qwen3NextFamily.WithLinearAttention(spec, text);
        if (multimodal)
        {
            var vision = config.Object("vision_config") ?? ConfigObject.Parse("{}", config.FilePath);
            var tower = new VisionTowerSpec
            {
                Kind = vision.String("model_type") ?? multimodalType + "_vision",
                Layers = DecoderConfig.IntAtMost(vision, "depth", 27, DecoderConfig.MaxLayers),
                Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", 1152, MaxSize),
                Heads = DecoderConfig.IntAtMost(vision, "num_heads", 16, MaxSize),
                Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", 4304, MaxSize),
                Channels = DecoderConfig.IntAtMost(vision, "in_channels", 3, 64),
                PatchSize = DecoderConfig.IntAtMost(vision, "patch_size", 16, MaxSize),
                TemporalPatchSize = DecoderConfig.IntAtMost(vision, "temporal_patch_size", 2, 64),
                SpatialMergeSize = DecoderConfig.IntAtMost(vision, "spatial_merge_size", 2, 64),
            };
            var details = new Qwen35Details
            {
                Text = (DecoderDetails)spec.Details!,
                VisionOutput = DecoderConfig.IntAtMost(vision, "out_hidden_size", 3584, MaxSize),
                VisionPositions = DecoderConfig.IntAtMost(vision, "num_position_embeddings", 2304, MaxSize),
            };
            spec = spec with { Vision = tower, Details = details };
        }

        return DecoderConfig.CheckSize(spec, text);
    }

    public TensorInventory Generate(ArchitectureSpec spec) => GenerateQwen35(spec);

    /// <summary>The tensors of a Qwen3.5 spec, dense or MoE: the decoder, then the vision tower and merger when present.</summary>
    /// <param name="spec">A spec read by <see cref="Read(ConfigObject, string, string, string, DecoderDefaults, MoeLayout, Func{ArchitectureSpec, ConfigObject, ArchitectureSpec})"/>.</param>
    /// <returns>The inventory.</returns>
    internal static TensorInventory GenerateQwen35(ArchitectureSpec spec)
    {
        var d = spec.Details as Qwen35Details;
        var b = DecoderGenerator.Builder(d is null ? spec : spec with { Details = d.Text });
        if (spec.Vision is not { } v || d is null)
        {
            return b.Build();
        }

        long h = v.Hidden, i = v.Intermediate, merged = h * v.SpatialMergeSize * v.SpatialMergeSize;
        const ModelComponent T = ModelComponent.VisionTower, P = ModelComponent.Projector;
        const string V = "model.visual.";
        Add(b, V + "patch_embed.proj.weight", T, h, v.Channels, v.TemporalPatchSize, v.PatchSize, v.PatchSize);
        Add(b, V + "patch_embed.proj.bias", T, h);
        Add(b, V + "pos_embed.weight", T, d.VisionPositions, h);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"{V}blocks.{l}.";
            Linear(b, p + "norm1", T, h);
            Linear(b, p + "norm2", T, h);
            Linear(b, p + "attn.qkv", T, 3 * h, h);
            Linear(b, p + "attn.proj", T, h, h);
            Linear(b, p + "mlp.linear_fc1", T, i, h);
            Linear(b, p + "mlp.linear_fc2", T, h, i);
        }

        Linear(b, V + "merger.norm", P, h);
        Linear(b, V + "merger.linear_fc1", P, merged, merged);
        Linear(b, V + "merger.linear_fc2", P, d.VisionOutput, merged);
        return b.Build();
    }

    // A Linear (weight [out, in] + bias [out]) or, with one dimension, a LayerNorm (weight + bias).
    private static void Linear(InventoryBuilder b, string name, ModelComponent component, long outDim, long inDim = 0)
    {
        if (inDim == 0)
        {
            Add(b, name + ".weight", component, outDim);
        }
        else
        {
            Add(b, name + ".weight", component, outDim, inDim);
        }

        Add(b, name + ".bias", component, outDim);
    }

    private static void Add(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });
}

/// <summary>The layout of a Qwen3.5 multimodal checkpoint: the decoder's details and the vision tower's extra widths.</summary>
public sealed record Qwen35Details : FamilyDetails
{
    /// <summary>The decoder layout (prefix <c>model.language_model.</c>).</summary>
    public required DecoderDetails Text { get; init; }

    /// <summary><c>out_hidden_size</c>: the merger's output width.</summary>
    public int VisionOutput { get; init; } = 3584;

    /// <summary><c>num_position_embeddings</c>: rows of the learned position table.</summary>
    public int VisionPositions { get; init; } = 2304;
}
