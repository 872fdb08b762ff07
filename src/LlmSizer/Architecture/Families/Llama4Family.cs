using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Llama 4 (<c>Llama4ForConditionalGeneration</c>, Scout and Maverick; <c>Llama4ForCausalLM</c> for
/// <c>llama4_text</c>): MoE layers (those in <c>moe_layers</c>, by default every <c>interleave_moe_layer_step</c>-th)
/// interleaved with dense layers, each MoE layer a sigmoid top-k router, fused routed experts and one shared expert;
/// and, in the multimodal model, a ViT with an unfold patch embedding, a pixel-shuffle adapter MLP and a linear projector.</summary>
/// <remarks>Text defaults are those of transformers' <c>Llama4TextConfig</c>: vocab 202048, hidden 5120, intermediate 8192
/// (experts and shared expert), <c>intermediate_size_mlp</c> 16384 (dense layers), 48 layers, 40 heads, 8 KV heads,
/// head_dim 128, untied, <c>attention_bias</c> false, <c>num_local_experts</c> 16, <c>num_experts_per_tok</c> 1,
/// <c>interleave_moe_layer_step</c> 1, <c>attention_chunk_size</c> 8192 on the RoPE layers (<c>no_rope_layers</c>, by
/// default every 4th layer is NoPE with global attention). The QK-norm is an L2 norm without weights.
/// Tensors per text layer: <c>self_attn.{q,k,v,o}_proj</c>, <c>input_layernorm</c>, <c>post_attention_layernorm</c>, and
/// either <c>feed_forward.{gate,up,down}_proj</c> of intermediate_size_mlp or <c>feed_forward.router</c> [E, hidden],
/// <c>feed_forward.experts.gate_up_proj</c> [E, hidden, 2 × intermediate], <c>feed_forward.experts.down_proj</c>
/// [E, intermediate, hidden] and <c>feed_forward.shared_expert.{gate,up,down}_proj</c> of intermediate.
/// Vision defaults (<c>Llama4VisionConfig</c>): hidden 768, 34 layers, 16 heads, intermediate 5632, image 448, patch 14,
/// 3 channels, <c>vision_output_dim</c> 7680, <c>projector_input_dim</c>/<c>projector_output_dim</c> 4096. Vision tensors
/// (<c>Llama4VisionModel</c>): <c>patch_embedding.linear</c> [hidden, channels × patch²] without bias,
/// <c>class_embedding</c> [hidden], <c>positional_embedding_vlm</c> [(image / patch)² + 1, hidden], LayerNorms
/// <c>layernorm_pre</c>/<c>layernorm_post</c>, per layer q, k, v, o with biases, <c>mlp.fc1</c>/<c>fc2</c> with biases and two
/// LayerNorms, then <c>vision_adapter.mlp.fc1</c> [projector_input_dim, intermediate] and <c>fc2</c>
/// [projector_output_dim, projector_output_dim] without biases; <c>multi_modal_projector.linear_1</c>
/// [text hidden, vision_output_dim] without bias.</remarks>
internal sealed class Llama4Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults TextDefaults = new()
    {
        Vocab = 202048, Hidden = 5120, Intermediate = 8192, Layers = 48, Heads = 40, KvHeads = 8, HeadDim = 128, MaxPositions = 131072, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["llama4", "llama4_text"];

    public ArchitectureSpec Read(ConfigObject config)
    {
        var multimodal = string.Equals(config.String("model_type"), "llama4", StringComparison.OrdinalIgnoreCase);
        var text = multimodal ? config.Object("text_config") ?? throw config.Error("text_config", "missing; expected the Llama 4 text config object") : config;
        var spec = DecoderConfig.Read(text, multimodal ? "llama4" : "llama4_text", TextDefaults, new DecoderDetails(), root: config);
        var layers = spec.Layers;
        var expertWidth = spec.Intermediate;
        var dense = DecoderConfig.IntAtMost(text, "intermediate_size_mlp", 16384, MaxSize);
        var step = DecoderConfig.IntAtMost(text, "interleave_moe_layer_step", 1, DecoderConfig.MaxLayers);
        var listed = text.IntArray("moe_layers");
        if (listed is not null && listed.Any(i => i < 0 || i >= layers))
        {
            throw text.Error("moe_layers", $"expected layer indices below num_hidden_layers ({layers})");
        }

        var moeSet = listed?.ToHashSet();
        var moe = new MoeSpec
        {
            Experts = text.IntOr("num_local_experts", 16),
            ActiveExperts = text.IntOr("num_experts_per_tok", 1),
            ExpertIntermediate = expertWidth,
            SharedExperts = 1,
            SharedIntermediate = expertWidth,
            MoeLayers = DecoderConfig.MoeLayers(layers, i => moeSet?.Contains(i) ?? ((i + 1) % step == 0)),
        };
        DecoderConfig.CheckTopK(text, moe, "num_experts_per_tok");

        // Llama4TextConfig: a RoPE layer (no_rope_layers[i] == 1) uses chunked local attention over attention_chunk_size
        // tokens; the NoPE layers (every no_rope_layer_interval-th by default) attend globally. The KV cache treats a
        // chunk like a sliding window of that size (llama.cpp LLAMA_SWA_TYPE_CHUNKED, vLLM ChunkedLocalAttentionSpec).
        var interval = DecoderConfig.IntAtMost(text, "no_rope_layer_interval", 4, DecoderConfig.MaxLayers);
        var noRope = text.IntArray("no_rope_layers");
        if (noRope is not null && noRope.Count != 0 && noRope.Count < layers)
        {
            throw text.Error("no_rope_layers", $"expected at least {layers} entries (num_hidden_layers); found {noRope.Count}");
        }

        var chunk = DecoderConfig.OptionalIntWithDefault(text, "attention_chunk_size", 8192);
        var kinds = Enumerable.Range(0, layers)
            .Select(i => chunk is not null && (noRope is { Count: > 0 } ? noRope[i] != 0 : (i + 1) % interval != 0)
                ? AttentionLayerKind.Sliding : AttentionLayerKind.Full)
            .ToArray();
        spec = spec with
        {
            Intermediate = dense,
            Moe = moe,
            LayerKinds = [.. kinds],
            SlidingWindow = kinds.Contains(AttentionLayerKind.Sliding) ? chunk : null,
        };

        var details = new Llama4Details
        {
            Prefix = multimodal ? "language_model.model." : "model.",
            HeadName = multimodal ? "language_model.lm_head.weight" : "lm_head.weight",
            AttentionBias = text.Bool("attention_bias", false),
        };
        if (multimodal && config.Object("vision_config") is { } vision)
        {
            var image = DecoderConfig.IntAtMost(vision, "image_size", 448, MaxSize);
            var patch = DecoderConfig.IntAtMost(vision, "patch_size", 14, MaxSize);
            if (patch > image)
            {
                throw vision.Error("patch_size", $"expected at most image_size ({image}); found {patch}");
            }

            var tower = new VisionTowerSpec
            {
                Kind = vision.String("model_type") ?? "llama4_vision_model",
                Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", 34, DecoderConfig.MaxLayers),
                Hidden = DecoderConfig.IntAtMost(vision, "hidden_size", 768, MaxSize),
                Heads = DecoderConfig.IntAtMost(vision, "num_attention_heads", 16, MaxSize),
                Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", 5632, MaxSize),
                Channels = DecoderConfig.IntAtMost(vision, "num_channels", 3, 64),
                ImageSize = image,
                PatchSize = patch,
                // pixel_shuffle_ratio 0.5 merges 2 × 2 patches into one token.
                SpatialMergeSize = 2,
            };
            details = details with
            {
                VisionOutput = DecoderConfig.IntAtMost(vision, "vision_output_dim", 7680, MaxSize),
                ProjectorInput = DecoderConfig.IntAtMost(vision, "projector_input_dim", 4096, MaxSize),
                ProjectorOutput = DecoderConfig.IntAtMost(vision, "projector_output_dim", 4096, MaxSize),
            };
            spec = spec with { Vision = tower };
        }

        return DecoderConfig.CheckSize(spec with { Details = details }, text);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as Llama4Details ?? new Llama4Details();
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        var p0 = d.Prefix;
        b.Add(p0 + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"{p0}layers.{l}.";
            Linear(b, p + "self_attn.q_proj", TensorGroup.Attention, l, q, h, d.AttentionBias);
            Linear(b, p + "self_attn.k_proj", TensorGroup.Attention, l, kv, h, d.AttentionBias);
            Linear(b, p + "self_attn.v_proj", TensorGroup.Attention, l, kv, h, d.AttentionBias);
            Linear(b, p + "self_attn.o_proj", TensorGroup.Attention, l, h, q, d.AttentionBias);
            if (spec.Moe is { } moe && l < moe.MoeLayers.Length && moe.MoeLayers[l])
            {
                long i = moe.ExpertIntermediate;
                int e = moe.Experts, k = moe.ActiveExperts;
                b.Add(p + "feed_forward.router.weight", TensorGroup.Mlp, l, e, h);
                b.AddExpert(p + "feed_forward.experts.gate_up_proj", l, e, k, e, h, 2 * i);
                b.AddExpert(p + "feed_forward.experts.down_proj", l, e, k, e, i, h);
                Mlp(b, p + "feed_forward.shared_expert.", l, h, moe.SharedIntermediate);
            }
            else
            {
                Mlp(b, p + "feed_forward.", l, h, spec.Intermediate);
            }

            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            b.Add(p + "post_attention_layernorm.weight", TensorGroup.Norm, l, h);
        }

        b.Add(p0 + "norm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add(d.HeadName, TensorGroup.LmHead, null, spec.Vocab, h);
        }

        if (spec.Vision is { } v)
        {
            AddVision(b, spec, v, d);
        }

        return b.Build();
    }

    private static void AddVision(InventoryBuilder b, ArchitectureSpec spec, VisionTowerSpec v, Llama4Details d)
    {
        long h = v.Hidden, i = v.Intermediate;
        const ModelComponent T = ModelComponent.VisionTower;
        Other(b, "vision_model.patch_embedding.linear.weight", T, h, (long)v.Channels * v.PatchSize * v.PatchSize);
        Other(b, "vision_model.class_embedding", T, h);
        Other(b, "vision_model.positional_embedding_vlm", T, v.Patches + 1, h);
        foreach (var norm in (string[])["layernorm_pre", "layernorm_post"])
        {
            Other(b, $"vision_model.{norm}.weight", T, h);
            Other(b, $"vision_model.{norm}.bias", T, h);
        }

        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"vision_model.model.layers.{l}.";
            foreach (var proj in (string[])["q_proj", "k_proj", "v_proj", "o_proj"])
            {
                Other(b, p + "self_attn." + proj + ".weight", T, h, h);
                Other(b, p + "self_attn." + proj + ".bias", T, h);
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
        }

        // Llama4VisionMLP2: fc1 reads the pixel-shuffled patches (intermediate_size wide), fc2 is square.
        Other(b, "vision_model.vision_adapter.mlp.fc1.weight", T, d.ProjectorInput, i);
        Other(b, "vision_model.vision_adapter.mlp.fc2.weight", T, d.ProjectorOutput, d.ProjectorOutput);
        Other(b, "multi_modal_projector.linear_1.weight", ModelComponent.Projector, spec.Hidden, d.VisionOutput);
    }

    private static void Mlp(InventoryBuilder b, string p, int l, long h, long inter)
    {
        b.Add(p + "gate_proj.weight", TensorGroup.Mlp, l, inter, h);
        b.Add(p + "up_proj.weight", TensorGroup.Mlp, l, inter, h);
        b.Add(p + "down_proj.weight", TensorGroup.Mlp, l, h, inter);
    }

    private static void Linear(InventoryBuilder b, string name, TensorGroup group, int layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", group, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, outDim);
        }
    }

    private static void Other(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });
}

/// <summary>The layout of a Llama 4 checkpoint: where the language model's tensors live and the vision adapter's widths.</summary>
public sealed record Llama4Details : FamilyDetails
{
    /// <summary>The decoder prefix: "language_model.model." in the multimodal checkpoint, "model." for <c>llama4_text</c>.</summary>
    public string Prefix { get; init; } = "model.";

    /// <summary>The output head's tensor name.</summary>
    public string HeadName { get; init; } = "lm_head.weight";

    /// <summary><c>attention_bias</c>: biases on q, k, v and o.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>vision_output_dim</c>: the projector's input width.</summary>
    public int VisionOutput { get; init; } = 7680;

    /// <summary><c>projector_input_dim</c>: the adapter's <c>fc1</c> output width.</summary>
    public int ProjectorInput { get; init; } = 4096;

    /// <summary><c>projector_output_dim</c>: the adapter's <c>fc2</c> width.</summary>
    public int ProjectorOutput { get; init; } = 4096;
}
