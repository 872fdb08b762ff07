using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Llama 3.2 Vision (<c>MllamaForConditionalGeneration</c>): a Llama decoder whose <c>cross_attention_layers</c>
/// attend to the image instead of the text (gated cross-attention with QK RMSNorm), and a tiled ViT: a local encoder,
/// a gated global encoder, tile and aspect-ratio position embeddings, and one linear projector.</summary>
/// <remarks>Text defaults (<c>MllamaTextConfig</c>): vocab 128256, hidden 4096, intermediate 14336, 40 layers (the cross
/// layers among them), 32 heads, 8 KV heads, untied, <c>cross_attention_layers</c> [3, 8, 13, 18, 23, 28, 33, 38]. The
/// token embedding has vocab + 8 rows (<c>MllamaTextModel</c>: <c>nn.Embedding(config.vocab_size + 8, ...)</c>), the head
/// vocab. A cross layer holds <c>cross_attn.{q,k,v,o}_proj</c>, <c>cross_attn.q_norm</c>/<c>k_norm</c> [head_dim],
/// <c>cross_attn_attn_gate</c> and <c>cross_attn_mlp_gate</c> [1], the MLP and two norms.
/// Vision defaults (<c>MllamaVisionConfig</c>): hidden 1280, 32 local and 8 global layers, 16 heads
/// (<c>attention_heads</c>), intermediate 5120, image 448, patch 14, 3 channels, <c>max_num_tiles</c> 4, 8
/// <c>supported_aspect_ratios</c>, <c>vision_output_dim</c> 7680. Vision tensors: <c>patch_embedding</c> Conv2d without
/// bias, <c>class_embedding</c>, <c>gated_positional_embedding</c> (gate, embedding [(image / patch)² + 1, hidden],
/// <c>tile_embedding</c> [ratios + 1, tiles × patches × hidden]), pre/post tile embeddings (gate, [ratios + 1,
/// tiles × hidden]), LayerNorms <c>layernorm_pre</c>/<c>layernorm_post</c>; per layer q, k, v, o without biases,
/// <c>mlp.fc1</c>/<c>fc2</c> with biases, two LayerNorms, and on global layers <c>gate_attn</c>/<c>gate_ffn</c> [1];
/// <c>multi_modal_projector</c> [text hidden, vision_output_dim] with bias.
/// Each image becomes tiles × ((image / patch)² + 1) vision tokens, which the cross layers cache as K and V instead of
/// the text tokens.</remarks>
internal sealed class MllamaFamily : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly int[] DefaultCrossLayers = [3, 8, 13, 18, 23, 28, 33, 38];

    private static readonly DecoderDefaults TextDefaults = new()
    {
        Vocab = 128256, Hidden = 4096, Intermediate = 14336, Layers = 40, Heads = 32, KvHeads = 8, MaxPositions = 131072, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["mllama"];

    public ArchitectureSpec Read(ConfigObject config)
    {
        var text = config.Object("text_config") ?? throw config.Error("text_config", "missing; expected the Mllama text config object");
        var vision = config.Object("vision_config") ?? throw config.Error("vision_config", "missing; expected the Mllama vision config object");
        var spec = DecoderConfig.Read(text, "mllama", TextDefaults, new DecoderDetails(), root: config);
        var cross = (text.IntArray("cross_attention_layers") ?? DefaultCrossLayers).ToHashSet();
        if (cross.Any(i => i < 0 || i >= spec.Layers))
        {
            throw text.Error("cross_attention_layers", $"expected layer indices below num_hidden_layers ({spec.Layers})");
        }

        var image = DecoderConfig.IntAtMost(vision, "image_size", 448, MaxSize);
        var patch = DecoderConfig.IntAtMost(vision, "patch_size", 14, MaxSize);
        if (patch > image)
        {
            throw vision.Error("patch_size", $"expected at most image_size ({image}); found {patch}");
        }

        var ratios = vision.Element.TryGetProperty("supported_aspect_ratios", out var r) && r.ValueKind == JsonValueKind.Array ? r.GetArrayLength() : 8;
        var tiles = DecoderConfig.IntAtMost(vision, "max_num_tiles", 4, 1024);
        var tower = new VisionTowerSpec
        {
            Kind = vision.String("model_type") ?? "mllama_vision_model",
            Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", 32, DecoderConfig.MaxLayers),
            Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", 1280, MaxSize),
            Heads = DecoderConfig.IntAtMost(vision, "attention_heads", 16, MaxSize),
            Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", 5120, MaxSize),
            Channels = DecoderConfig.IntAtMost(vision, "num_channels", 3, 64),
            ImageSize = image,
            PatchSize = patch,
        };

        // Every tile carries its patches and a class token; the cross layers attend to all of them.
        long perImage = checked((long)tiles * (tower.Patches + 1));
        tower = tower with
        {
            TokensPerImage = perImage <= int.MaxValue ? (int)perImage : throw vision.Error("max_num_tiles", "expected fewer vision tokens per image"),
            CrossAttentionLayers = cross.Count,
        };
        var details = new MllamaDetails
        {
            CrossLayers = [.. Enumerable.Range(0, spec.Layers).Select(cross.Contains)],
            GlobalLayers = DecoderConfig.IntAtMost(vision, "num_global_layers", 8, DecoderConfig.MaxLayers),
            Tiles = tiles,
            AspectRatios = ratios,
            VisionOutput = DecoderConfig.IntAtMost(vision, "vision_output_dim", 7680, MaxSize),
        };
        double estimate = (double)(tower.Layers + details.GlobalLayers) * ((4.0 * tower.Hidden * tower.Hidden) + (2.0 * tower.Hidden * tower.Intermediate))
            + ((ratios + 1.0) * tiles * (tower.Patches + 1) * tower.Hidden);
        if (estimate > 1e15)
        {
            throw vision.Error("hidden_size", $"expected a vision tower of at most 10^15 parameters; these sizes give about {estimate:E2}");
        }

        // The cross layers keep no cache of the text: their K and V come from the image (sized by image tokens).
        spec = spec with
        {
            Vision = tower,
            LayerKinds = [.. details.CrossLayers.Select(c => c ? AttentionLayerKind.None : AttentionLayerKind.Full)],
            Details = details,
        };
        return DecoderConfig.CheckSize(spec, text);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as MllamaDetails ?? new MllamaDetails();
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim, inter = spec.Intermediate;
        const string P = "language_model.model.";
        b.Add(P + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab + 8L, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"{P}layers.{l}.";
            bool isCross = l < d.CrossLayers.Length && d.CrossLayers[l];
            var a = p + (isCross ? "cross_attn." : "self_attn.");
            b.Add(a + "q_proj.weight", TensorGroup.Attention, l, q, h);
            b.Add(a + "k_proj.weight", TensorGroup.Attention, l, kv, h);
            b.Add(a + "v_proj.weight", TensorGroup.Attention, l, kv, h);
            b.Add(a + "o_proj.weight", TensorGroup.Attention, l, h, q);
            if (isCross)
            {
                b.Add(a + "q_norm.weight", TensorGroup.Attention, l, spec.HeadDim);
                b.Add(a + "k_norm.weight", TensorGroup.Attention, l, spec.HeadDim);
                b.Add(p + "cross_attn_attn_gate", TensorGroup.Attention, l, 1);
                b.Add(p + "cross_attn_mlp_gate", TensorGroup.Mlp, l, 1);
            }

            b.Add(p + "mlp.gate_proj.weight", TensorGroup.Mlp, l, inter, h);
            b.Add(p + "mlp.up_proj.weight", TensorGroup.Mlp, l, inter, h);
            b.Add(p + "mlp.down_proj.weight", TensorGroup.Mlp, l, h, inter);
            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            b.Add(p + "post_attention_layernorm.weight", TensorGroup.Norm, l, h);
        }

        b.Add(P + "norm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("language_model.lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        if (spec.Vision is { } v)
        {
            AddVision(b, spec, v, d);
        }

        return b.Build();
    }

    private static void AddVision(InventoryBuilder b, ArchitectureSpec spec, VisionTowerSpec v, MllamaDetails d)
    {
        long h = v.Hidden, i = v.Intermediate, patches = v.Patches + 1, rows = d.AspectRatios + 1L;
        const ModelComponent T = ModelComponent.VisionTower;
        const string V = "vision_model.";
        Other(b, V + "patch_embedding.weight", T, h, v.Channels, v.PatchSize, v.PatchSize);
        Other(b, V + "class_embedding", T, h);
        Other(b, V + "gated_positional_embedding.gate", T, 1);
        Other(b, V + "gated_positional_embedding.embedding", T, patches, h);
        Other(b, V + "gated_positional_embedding.tile_embedding.weight", T, rows, d.Tiles * patches * h);
        foreach (var tile in (string[])["pre_tile_positional_embedding", "post_tile_positional_embedding"])
        {
            Other(b, V + tile + ".gate", T, 1);
            Other(b, V + tile + ".embedding.weight", T, rows, d.Tiles * h);
        }

        foreach (var norm in (string[])["layernorm_pre", "layernorm_post"])
        {
            Other(b, V + norm + ".weight", T, h);
            Other(b, V + norm + ".bias", T, h);
        }

        AddEncoder(b, V + "transformer.layers.", v.Layers, h, i, gated: false);
        AddEncoder(b, V + "global_transformer.layers.", d.GlobalLayers, h, i, gated: true);
        Other(b, "multi_modal_projector.weight", ModelComponent.Projector, spec.Hidden, d.VisionOutput);
        Other(b, "multi_modal_projector.bias", ModelComponent.Projector, spec.Hidden);
    }

    private static void AddEncoder(InventoryBuilder b, string prefix, int layers, long h, long i, bool gated)
    {
        const ModelComponent T = ModelComponent.VisionTower;
        for (int l = 0; l < layers; l++)
        {
            var p = $"{prefix}{l}.";
            foreach (var proj in (string[])["q_proj", "k_proj", "v_proj", "o_proj"])
            {
                Other(b, p + "self_attn." + proj + ".weight", T, h, h);
            }

            Other(b, p + "mlp.fc1.weight", T, i, h);
            Other(b, p + "mlp.fc1.bias", T, i);
            Other(b, p + "mlp.fc2.weight", T, h, i);
            Other(b, p + "mlp.fc2.bias", T, h);
            foreach (var norm in (string[])["input_layernorm", "post_attention_layernorm"])
            {
                Other(b, p + norm + ".weight", T, h);
                Other(b, p + norm + ".bias", T, h);
            }

            if (gated)
            {
                Other(b, p + "gate_attn", T, 1);
                Other(b, p + "gate_ffn", T, 1);
            }
        }
    }

    private static void Other(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });
}

/// <summary>The layout of a Llama 3.2 Vision checkpoint beyond the common fields.</summary>
public sealed record MllamaDetails : FamilyDetails
{
    /// <summary>Whether each text layer is a cross-attention layer (<c>cross_attention_layers</c>).</summary>
    public System.Collections.Immutable.ImmutableArray<bool> CrossLayers { get; init; } = [];

    /// <summary><c>num_global_layers</c>: the gated global encoder's layers.</summary>
    public int GlobalLayers { get; init; } = 8;

    /// <summary><c>max_num_tiles</c>.</summary>
    public int Tiles { get; init; } = 4;

    /// <summary>The number of <c>supported_aspect_ratios</c> (the tile embeddings have one more row).</summary>
    public int AspectRatios { get; init; } = 8;

    /// <summary><c>vision_output_dim</c>: the projector's input width.</summary>
    public int VisionOutput { get; init; } = 7680;
}
