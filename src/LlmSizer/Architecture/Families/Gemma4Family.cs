using System.Collections.Immutable;
using System.Text.Json;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Gemma 4: <c>gemma4_text</c> (<c>Gemma4ForCausalLM</c>) and the whole <c>gemma4</c> model
/// (<c>Gemma4ForConditionalGeneration</c>: the language model from <c>text_config</c>, the Gemma 4 vision encoder from
/// <c>vision_config</c>, the USM-style audio conformer from <c>audio_config</c>, and one projector per modality). Dense
/// (E2B, E4B, 31B) and MoE (26B-A4B) variants share the reader.</summary>
/// <remarks>
/// <para>Text defaults are transformers' <c>Gemma4TextConfig</c> (configuration_gemma4.py): vocab 262144, hidden 2304,
/// intermediate 9216, 30 layers, 8 heads, 4 KV heads, <c>head_dim</c> 256, <c>global_head_dim</c> 512, 131072 positions,
/// tied, <c>sliding_window</c> 512, <c>layer_types</c> by default five sliding layers to one full layer with the last layer
/// forced to full, <c>hidden_size_per_layer_input</c> 256 and <c>vocab_size_per_layer_input</c> 262144 (per-layer input
/// embeddings, "PLE"), <c>num_kv_shared_layers</c> 0, <c>attention_k_eq_v</c>, <c>enable_moe_block</c> and
/// <c>use_double_wide_mlp</c> false.</para>
/// <para>Per text layer (<c>Gemma4TextDecoderLayer</c>, <c>Gemma4TextAttention</c>): a sliding layer uses
/// <c>head_dim</c> and <c>num_key_value_heads</c>; a full layer uses <c>global_head_dim</c> and, with
/// <c>attention_k_eq_v</c>, <c>num_global_key_value_heads</c> and no <c>v_proj</c> (keys serve as values).
/// <c>q_proj</c>, <c>q_norm</c> [head dim], <c>k_proj</c>, <c>k_norm</c> [head dim], <c>v_proj</c>, <c>o_proj</c> (the
/// value norm has no weight), a gated MLP (<c>intermediate_size</c>, doubled in the KV-shared layers when
/// <c>use_double_wide_mlp</c>), four RMSNorms, and the buffer <c>layer_scalar</c> [1]. With PLE each layer adds
/// <c>per_layer_input_gate</c> [ple, hidden], <c>per_layer_projection</c> [hidden, ple] and
/// <c>post_per_layer_input_norm</c>; the model adds <c>embed_tokens_per_layer</c> [vocab_per_layer, layers × ple],
/// <c>per_layer_model_projection</c> [layers × ple, hidden] and <c>per_layer_projection_norm</c> [ple]. With the MoE block
/// each layer keeps its dense MLP and adds <c>router.proj</c> [experts, hidden], <c>router.scale</c> [hidden],
/// <c>router.per_expert_scale</c> [experts], <c>experts.gate_up_proj</c> [experts, 2 × moe_intermediate, hidden],
/// <c>experts.down_proj</c> [experts, hidden, moe_intermediate] and three more RMSNorms.</para>
/// <para>The last <c>num_kv_shared_layers</c> layers reuse the cache of the last earlier layer of the same type.
/// transformers builds no <c>k_proj</c>/<c>v_proj</c>/<c>k_norm</c> for them and ignores those keys on load
/// (<c>_keys_to_ignore_on_load_unexpected</c>), but the official E2B/E4B checkpoints store them and vLLM loads them into
/// its fused <c>qkv_proj</c>; they are generated here as parameters, so the count is the checkpoint's. Those layers hold
/// no KV cache: <see cref="ArchitectureSpec.LayerKvHeads"/> is 0 for them.</para>
/// <para>Buffers, generated with <see cref="TensorKind.Buffer"/> and not counted as parameters: each text layer's
/// <c>layer_scalar</c>, the vision tower's <c>std_bias</c>/<c>std_scale</c> when <c>standardize</c>, and, when
/// <c>use_clipped_linears</c>, the four scalar bounds (<c>input_min</c>, <c>input_max</c>, <c>output_min</c>,
/// <c>output_max</c>) of every <c>Gemma4ClippableLinear</c>.</para>
/// </remarks>
internal sealed class Gemma4Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults TextDefaults = new()
    {
        Vocab = 262144, Hidden = 2304, Intermediate = 9216, Layers = 30, Heads = 8, KvHeads = 4, HeadDim = 256, MaxPositions = 131072, Tied = true,
    };

    /// <inheritdoc/>
    public IReadOnlyList<string> ModelTypes { get; } = ["gemma4", "gemma4_text"];

    /// <inheritdoc/>
    public ArchitectureSpec Read(ConfigObject config)
    {
        var multimodal = string.Equals(config.String("model_type"), "gemma4", StringComparison.OrdinalIgnoreCase);

        // Gemma4Config builds a default Gemma4TextConfig when text_config is absent; vision and audio towers exist only
        // when their configs are given ("Gemma4Model.vision_tower will not be initialized").
        var text = multimodal ? config.Object("text_config") ?? Empty(config, "text_config") : config;
        var spec = DecoderConfig.Read(text, multimodal ? "gemma4" : "gemma4_text", TextDefaults, new DecoderDetails(), root: config);
        int layers = spec.Layers;

        // Gemma4TextConfig.__post_init__: "all" bidirectional attention sets the window to window // 2 + 1.
        var window = DecoderConfig.IntAtMost(text, "sliding_window", 512, int.MaxValue);
        if (text.String("use_bidirectional_attention") == "all")
        {
            window = (window / 2) + 1;
        }

        spec = DecoderConfig.WithLayerKinds(spec, text, window, i => (i + 1) % 6 != 0);
        if (layers > 0 && spec.LayerKinds[^1] != AttentionLayerKind.Full)
        {
            // "Last layer must use `full_attention` ... Forcing last layer to `full_attention`."
            spec = spec with { LayerKinds = spec.LayerKinds.SetItem(layers - 1, AttentionLayerKind.Full) };
            spec = spec with { SlidingWindow = spec.LayerKinds.Contains(AttentionLayerKind.Sliding) ? window : null };
        }

        // global_head_dim: "config.global_head_dim if not self.is_sliding and config.global_head_dim else config.head_dim".
        var globalHeadDim = NonNegative(text, "global_head_dim", 512) is int g and > 0 ? g : spec.HeadDim;
        var kEqV = text.Bool("attention_k_eq_v", false);
        var globalKvHeads = text.OptionalInt("num_global_key_value_heads") ?? spec.KvHeads;
        if (kEqV && spec.Heads % globalKvHeads != 0)
        {
            throw text.Error("num_global_key_value_heads", $"expected a positive integer that divides num_attention_heads ({spec.Heads}); found {globalKvHeads}");
        }

        var shared = NonNegative(text, "num_kv_shared_layers", 0);
        if (shared >= layers && shared > 0)
        {
            throw text.Error("num_kv_shared_layers", $"expected fewer than num_hidden_layers ({layers}); found {shared}");
        }

        int firstShared = layers - shared;
        var kvHeads = new int[layers];
        var headDims = new int[layers];
        for (int i = 0; i < layers; i++)
        {
            bool full = spec.LayerKinds[i] == AttentionLayerKind.Full;
            headDims[i] = full ? globalHeadDim : spec.HeadDim;

            // A KV-shared layer reads the cache of the last non-shared layer of its type and writes none
            // (Gemma4TextAttention: past_key_values.update only when not is_kv_shared_layer; vLLM
            // kv_sharing_target_layer_name; llama.cpp n_layer_kv_from_start = n_layer - n_kv_shared_layers).
            bool isShared = i >= firstShared && firstShared > 0;
            kvHeads[i] = isShared ? 0 : full && kEqV ? globalKvHeads : spec.KvHeads;
            if (isShared && !spec.LayerKinds.Take(firstShared).Contains(spec.LayerKinds[i]))
            {
                throw text.Error("num_kv_shared_layers", $"layer {i} shares the cache of an earlier {spec.LayerKinds[i]} layer, but none precedes layer {firstShared}");
            }
        }

        var ple = NonNegative(text, "hidden_size_per_layer_input", 256);
        var pleVocab = ple > 0 ? DecoderConfig.IntAtMost(text, "vocab_size_per_layer_input", 262144, int.MaxValue) : 0;
        MoeSpec? moe = null;
        if (text.Bool("enable_moe_block", false))
        {
            var experts = text.OptionalInt("num_experts") ?? throw text.Error("num_experts", "missing; expected a positive integer because enable_moe_block is true");
            var topK = text.OptionalInt("top_k_experts") ?? throw text.Error("top_k_experts", "missing; expected a positive integer because enable_moe_block is true");
            var width = text.OptionalInt("moe_intermediate_size") ?? throw text.Error("moe_intermediate_size", "missing; expected a positive integer because enable_moe_block is true");
            moe = new MoeSpec
            {
                Experts = experts,
                ActiveExperts = topK,
                ExpertIntermediate = width,

                // The dense MLP runs beside the routed experts in every layer: an always-active shared block.
                SharedExperts = 1,
                SharedIntermediate = spec.Intermediate,
                MoeLayers = DecoderConfig.MoeLayers(layers, _ => true),
            };
            DecoderConfig.CheckTopK(text, moe, "top_k_experts");
        }

        var details = new Gemma4Details
        {
            Prefix = multimodal ? "model.language_model." : "model.",
            AttentionBias = text.Bool("attention_bias", false),
            AttentionKEqV = kEqV,
            GlobalHeadDim = globalHeadDim,
            GlobalKvHeads = globalKvHeads,
            KvSharedLayers = shared,
            DoubleWideMlp = text.Bool("use_double_wide_mlp", false),
            PerLayerInput = ple,
            PerLayerVocab = pleVocab,
        };

        bool perLayerDims = headDims.Any(d => d != spec.HeadDim);
        spec = spec with
        {
            Moe = moe,
            LayerKvHeads = [.. kvHeads],
            LayerHeadDims = perLayerDims ? [.. headDims] : [],
        };

        if (multimodal && config.Object("vision_config") is { } vision)
        {
            var (tower, visionDetails) = ReadVision(vision, config);
            spec = spec with { Vision = tower };
            details = details with { Vision = visionDetails };
        }

        if (multimodal && config.Object("audio_config") is { } audio)
        {
            details = details with { Audio = ReadAudio(audio) };
        }

        return DecoderConfig.CheckSize(spec with { Details = details }, text);
    }

    /// <inheritdoc/>
    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as Gemma4Details ?? new Gemma4Details();
        var b = new InventoryBuilder();
        long h = spec.Hidden;
        var p0 = d.Prefix;
        int layers = spec.Layers;
        int firstShared = layers - d.KvSharedLayers;
        b.Add(p0 + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        if (d.PerLayerInput > 0)
        {
            long packed = checked((long)layers * d.PerLayerInput);
            b.Add(p0 + "embed_tokens_per_layer.weight", TensorGroup.Embedding, null, d.PerLayerVocab, packed);
            b.Add(p0 + "per_layer_model_projection.weight", TensorGroup.Embedding, null, packed, h);
            b.Add(p0 + "per_layer_projection_norm.weight", TensorGroup.Norm, null, d.PerLayerInput);
        }

        for (int l = 0; l < layers; l++)
        {
            var p = $"{p0}layers.{l}.";
            bool full = spec.LayerKind(l) == AttentionLayerKind.Full;
            bool isShared = l >= firstShared && firstShared > 0;
            long dim = full ? d.GlobalHeadDim : spec.HeadDim;
            long kv = full && d.AttentionKEqV ? d.GlobalKvHeads : spec.KvHeads;
            long q = spec.Heads * dim;
            Linear(b, p + "self_attn.q_proj", l, q, h, d.AttentionBias);
            b.Add(p + "self_attn.q_norm.weight", TensorGroup.Norm, l, dim);
            Linear(b, p + "self_attn.k_proj", l, kv * dim, h, d.AttentionBias);
            b.Add(p + "self_attn.k_norm.weight", TensorGroup.Norm, l, dim);
            if (!(full && d.AttentionKEqV))
            {
                Linear(b, p + "self_attn.v_proj", l, kv * dim, h, d.AttentionBias);
            }

            Linear(b, p + "self_attn.o_proj", l, h, q, d.AttentionBias);
            long inter = d.DoubleWideMlp && isShared ? 2L * spec.Intermediate : spec.Intermediate;
            b.Add(p + "mlp.gate_proj.weight", TensorGroup.Mlp, l, inter, h);
            b.Add(p + "mlp.up_proj.weight", TensorGroup.Mlp, l, inter, h);
            b.Add(p + "mlp.down_proj.weight", TensorGroup.Mlp, l, h, inter);
            foreach (var norm in (string[])["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"])
            {
                b.Add(p + norm + ".weight", TensorGroup.Norm, l, h);
            }

            // register_buffer("layer_scalar", torch.ones(1)): persistent, saved in the checkpoint, not a parameter.
            b.Add(new TensorInfo(p + "layer_scalar", [1], b.DataType, TensorGroup.Other) { Layer = l, Kind = TensorKind.Buffer });
            if (d.PerLayerInput > 0)
            {
                b.Add(p + "per_layer_input_gate.weight", TensorGroup.Mlp, l, d.PerLayerInput, h);
                b.Add(p + "per_layer_projection.weight", TensorGroup.Mlp, l, h, d.PerLayerInput);
                b.Add(p + "post_per_layer_input_norm.weight", TensorGroup.Norm, l, h);
            }

            if (spec.Moe is { } moe)
            {
                long e = moe.Experts, mi = moe.ExpertIntermediate;
                b.Add(p + "router.proj.weight", TensorGroup.Mlp, l, e, h);
                b.Add(p + "router.scale", TensorGroup.Mlp, l, h);
                b.Add(p + "router.per_expert_scale", TensorGroup.Mlp, l, e);
                b.AddExpert(p + "experts.gate_up_proj", l, moe.Experts, moe.ActiveExperts, e, 2 * mi, h);
                b.AddExpert(p + "experts.down_proj", l, moe.Experts, moe.ActiveExperts, e, h, mi);
                foreach (var norm in (string[])["post_feedforward_layernorm_1", "post_feedforward_layernorm_2", "pre_feedforward_layernorm_2"])
                {
                    b.Add(p + norm + ".weight", TensorGroup.Norm, l, h);
                }
            }
        }

        b.Add(p0 + "norm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        if (spec.Vision is { } v && d.Vision is { } vd)
        {
            AddVision(b, spec, v, vd);
        }

        if (d.Audio is { } a)
        {
            AddAudio(b, spec, a);
        }

        return b.Build();
    }

    private static (VisionTowerSpec Tower, Gemma4VisionDetails Details) ReadVision(ConfigObject vision, ConfigObject root)
    {
        // Gemma4VisionConfig defaults: hidden 768, intermediate 3072, 16 layers, 12 heads, 12 KV heads, head_dim 64,
        // patch 16, position_embedding_size 10240, pooling_kernel_size 3, use_clipped_linears and standardize false.
        var hidden = DecoderConfig.IntAtMost(vision, "hidden_size", 768, MaxSize);
        var heads = DecoderConfig.IntAtMost(vision, "num_attention_heads", 12, MaxSize);
        var kvHeads = DecoderConfig.IntAtMost(vision, "num_key_value_heads", 12, MaxSize);
        if (heads % kvHeads != 0)
        {
            throw vision.Error("num_key_value_heads", $"expected a positive integer that divides num_attention_heads ({heads}); found {kvHeads}");
        }

        var patch = DecoderConfig.IntAtMost(vision, "patch_size", 16, 4096);

        // The processor pools each image to vision_soft_tokens_per_image soft tokens (the tower's default_output_length),
        // 280 in the released configs, whatever the image's resolution.
        var tokens = root.OptionalInt("vision_soft_tokens_per_image") ?? vision.OptionalInt("default_output_length") ?? 280;
        var tower = new VisionTowerSpec
        {
            Kind = vision.String("model_type") ?? "gemma4_vision",
            Layers = DecoderConfig.IntAtMost(vision, "num_hidden_layers", 16, DecoderConfig.MaxLayers),
            Hidden = hidden,
            Heads = heads,
            Intermediate = DecoderConfig.IntAtMost(vision, "intermediate_size", 3072, MaxSize),
            PatchSize = patch,
            TokensPerImage = tokens,
        };
        var details = new Gemma4VisionDetails
        {
            KvHeads = kvHeads,
            HeadDim = DecoderConfig.IntAtMost(vision, "head_dim", 64, MaxSize),
            PositionEmbeddingSize = DecoderConfig.IntAtMost(vision, "position_embedding_size", 10240, MaxSize),
            ClippedLinears = vision.Bool("use_clipped_linears", false),
            Standardize = vision.Bool("standardize", false),
        };
        return (tower, details);
    }

    private static Gemma4AudioSpec ReadAudio(ConfigObject audio)
    {
        // Gemma4AudioConfig defaults: hidden 1024, 12 layers, 8 heads, subsampling_conv_channels [128, 32],
        // conv_kernel_size 5, output_proj_dims 1536, use_clipped_linears true.
        var hidden = DecoderConfig.IntAtMost(audio, "hidden_size", 1024, MaxSize);
        var heads = DecoderConfig.IntAtMost(audio, "num_attention_heads", 8, MaxSize);
        if (hidden % heads != 0)
        {
            throw audio.Error("num_attention_heads", $"expected a divisor of hidden_size ({hidden}); found {heads}");
        }

        var channels = audio.IntArray("subsampling_conv_channels") ?? [128, 32];
        if (channels.Count != 2 || channels[0] <= 0 || channels[1] <= 0 || channels[0] > MaxSize || channels[1] > MaxSize)
        {
            throw audio.Error("subsampling_conv_channels", $"expected two positive channel counts; found {channels.Count} values");
        }

        return new Gemma4AudioSpec
        {
            Hidden = hidden,
            Layers = DecoderConfig.IntAtMost(audio, "num_hidden_layers", 12, DecoderConfig.MaxLayers),
            Heads = heads,
            ConvChannels0 = channels[0],
            ConvChannels1 = channels[1],
            ConvKernel = DecoderConfig.IntAtMost(audio, "conv_kernel_size", 5, 4096),
            OutputDims = DecoderConfig.IntAtMost(audio, "output_proj_dims", 1536, MaxSize),
            ClippedLinears = audio.Bool("use_clipped_linears", true),
        };
    }

    // Gemma4VisionModel: patch_embedder (input_proj, 2-D position table), encoder layers of Gemma4ClippableLinear
    // projections, q/k norms of head_dim, four RMSNorms; Gemma4MultimodalEmbedder embed_vision (its pre-projection norm has
    // no weight).
    private static void AddVision(InventoryBuilder b, ArchitectureSpec spec, VisionTowerSpec v, Gemma4VisionDetails d)
    {
        const ModelComponent T = ModelComponent.VisionTower;
        const string P = "model.vision_tower.";
        long h = v.Hidden, i = v.Intermediate, q = (long)v.Heads * d.HeadDim, kv = (long)d.KvHeads * d.HeadDim;
        Other(b, P + "patch_embedder.input_proj.weight", T, h, 3L * v.PatchSize * v.PatchSize);
        Other(b, P + "patch_embedder.position_embedding_table", T, 2, d.PositionEmbeddingSize, h);
        for (int l = 0; l < v.Layers; l++)
        {
            var p = $"{P}encoder.layers.{l}.";
            Clippable(b, p + "self_attn.q_proj", T, d.ClippedLinears, q, h);
            Clippable(b, p + "self_attn.k_proj", T, d.ClippedLinears, kv, h);
            Clippable(b, p + "self_attn.v_proj", T, d.ClippedLinears, kv, h);
            Clippable(b, p + "self_attn.o_proj", T, d.ClippedLinears, h, q);
            Other(b, p + "self_attn.q_norm.weight", T, d.HeadDim);
            Other(b, p + "self_attn.k_norm.weight", T, d.HeadDim);
            Clippable(b, p + "mlp.gate_proj", T, d.ClippedLinears, i, h);
            Clippable(b, p + "mlp.up_proj", T, d.ClippedLinears, i, h);
            Clippable(b, p + "mlp.down_proj", T, d.ClippedLinears, h, i);
            foreach (var norm in (string[])["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"])
            {
                Other(b, p + norm + ".weight", T, h);
            }
        }

        if (d.Standardize)
        {
            Buffer(b, P + "std_bias", T, b.DataType, h);
            Buffer(b, P + "std_scale", T, b.DataType, h);
        }

        Other(b, "model.embed_vision.embedding_projection.weight", ModelComponent.Projector, spec.Hidden, h);
    }

    // Gemma4AudioModel: two stride-2 Conv2d + LayerNorm (no bias) subsampling layers and a linear projection, conformer
    // layers (two macaron feed-forwards, chunked attention with a relative-position key projection and per_dim_scale, a
    // light depthwise conv1d, three norms), output_proj with bias; Gemma4MultimodalEmbedder embed_audio.
    private static void AddAudio(InventoryBuilder b, ArchitectureSpec spec, Gemma4AudioSpec a)
    {
        const ModelComponent A = ModelComponent.AudioEncoder;
        const string P = "model.audio_tower.";
        long h = a.Hidden, c0 = a.ConvChannels0, c1 = a.ConvChannels1, hd = a.Hidden / a.Heads;
        bool clip = a.ClippedLinears;
        Other(b, P + "subsample_conv_projection.layer0.conv.weight", A, c0, 1, 3, 3);
        Other(b, P + "subsample_conv_projection.layer0.norm.weight", A, c0);
        Other(b, P + "subsample_conv_projection.layer1.conv.weight", A, c1, c0, 3, 3);
        Other(b, P + "subsample_conv_projection.layer1.norm.weight", A, c1);

        // proj_input_dim = (subsampling_conv_channels[0] // 4) * subsampling_conv_channels[1], as the code writes it.
        Other(b, P + "subsample_conv_projection.input_proj_linear.weight", A, h, c0 / 4 * c1);
        for (int l = 0; l < a.Layers; l++)
        {
            var p = $"{P}layers.{l}.";
            foreach (var ff in (string[])["feed_forward1", "feed_forward2"])
            {
                Clippable(b, p + ff + ".ffw_layer_1", A, clip, 4 * h, h);
                Clippable(b, p + ff + ".ffw_layer_2", A, clip, h, 4 * h);
                Other(b, p + ff + ".pre_layer_norm.weight", A, h);
                Other(b, p + ff + ".post_layer_norm.weight", A, h);
            }

            Clippable(b, p + "self_attn.q_proj", A, clip, a.Heads * hd, h);
            Clippable(b, p + "self_attn.k_proj", A, clip, a.Heads * hd, h);
            Clippable(b, p + "self_attn.v_proj", A, clip, a.Heads * hd, h);
            Clippable(b, p + "self_attn.post", A, clip, h, h);
            Other(b, p + "self_attn.relative_k_proj.weight", A, a.Heads * hd, h);
            Other(b, p + "self_attn.per_dim_scale", A, hd);
            Clippable(b, p + "lconv1d.linear_start", A, clip, 2 * h, h);
            Clippable(b, p + "lconv1d.linear_end", A, clip, h, h);
            Other(b, p + "lconv1d.depthwise_conv1d.weight", A, h, 1, a.ConvKernel);
            Other(b, p + "lconv1d.pre_layer_norm.weight", A, h);
            Other(b, p + "lconv1d.conv_norm.weight", A, h);
            foreach (var norm in (string[])["norm_pre_attn", "norm_post_attn", "norm_out"])
            {
                Other(b, p + norm + ".weight", A, h);
            }
        }

        Other(b, P + "output_proj.weight", A, a.OutputDims, h);
        Other(b, P + "output_proj.bias", A, a.OutputDims);
        Other(b, "model.embed_audio.embedding_projection.weight", ModelComponent.Projector, spec.Hidden, a.OutputDims);
    }

    // Gemma4ClippableLinear: the weight sits under ".linear"; with use_clipped_linears it registers four persistent scalar
    // buffers (torch.tensor(±inf), float32) that the checkpoint fills with the clipping bounds.
    private static void Clippable(InventoryBuilder b, string name, ModelComponent component, bool clipped, long outDim, long inDim)
    {
        Other(b, name + ".linear.weight", component, outDim, inDim);
        if (clipped)
        {
            foreach (var bound in (string[])["input_min", "input_max", "output_min", "output_max"])
            {
                Buffer(b, name + "." + bound, component, DataType.F32);
            }
        }
    }

    private static void Linear(InventoryBuilder b, string name, int layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", TensorGroup.Attention, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", TensorGroup.Attention, layer, outDim);
        }
    }

    private static void Other(InventoryBuilder b, string name, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, TensorGroup.Other) { Component = component });

    private static void Buffer(InventoryBuilder b, string name, ModelComponent component, DataType type, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], type, TensorGroup.Other) { Component = component, Kind = TensorKind.Buffer });

    // A present key may be 0 (hidden_size_per_layer_input 0 turns PLE off); JSON null means 0 too (`if
    // self.hidden_size_per_layer_input:` is false for None); an absent key takes the class default.
    private static int NonNegative(ConfigObject config, string key, int defaultValue) =>
        config.Element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Null ? 0 : config.OptionalNonNegativeInt(key) ?? defaultValue;

    private static ConfigObject Empty(ConfigObject config, string key)
    {
        using var empty = JsonDocument.Parse("{}");
        return new ConfigObject(empty.RootElement.Clone(), config.FilePath, key + ".");
    }
}

/// <summary>The layout of a Gemma 4 checkpoint that the common spec fields do not carry.</summary>
public sealed record Gemma4Details : FamilyDetails
{
    /// <summary>The decoder prefix: "model.language_model." in <c>Gemma4ForConditionalGeneration</c>, "model." in <c>Gemma4ForCausalLM</c>.</summary>
    public string Prefix { get; init; } = "model.";

    /// <summary><c>attention_bias</c>: biases on q, k, v and o.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>attention_k_eq_v</c>: full-attention layers have no <c>v_proj</c> (keys serve as values) and use
    /// <see cref="GlobalKvHeads"/>.</summary>
    public bool AttentionKEqV { get; init; }

    /// <summary><c>global_head_dim</c>: the head dimension of full-attention layers.</summary>
    public int GlobalHeadDim { get; init; } = 512;

    /// <summary><c>num_global_key_value_heads</c>: KV heads of full-attention layers when <see cref="AttentionKEqV"/>.</summary>
    public int GlobalKvHeads { get; init; } = 4;

    /// <summary><c>num_kv_shared_layers</c>: the last layers, which read an earlier layer's KV cache.</summary>
    public int KvSharedLayers { get; init; }

    /// <summary><c>use_double_wide_mlp</c>: the KV-shared layers' MLP is twice <c>intermediate_size</c>.</summary>
    public bool DoubleWideMlp { get; init; }

    /// <summary><c>hidden_size_per_layer_input</c>: the per-layer input embedding width; 0 when the model has none.</summary>
    public int PerLayerInput { get; init; }

    /// <summary><c>vocab_size_per_layer_input</c>: rows of the per-layer embedding table.</summary>
    public int PerLayerVocab { get; init; }

    /// <summary>The vision encoder's geometry beyond <see cref="VisionTowerSpec"/>, or null without a vision tower.</summary>
    public Gemma4VisionDetails? Vision { get; init; }

    /// <summary>The audio encoder, or null without one (<c>audio_config</c> absent or null).</summary>
    public Gemma4AudioSpec? Audio { get; init; }
}

/// <summary>The Gemma 4 vision encoder's attention geometry and optional buffers.</summary>
public sealed record Gemma4VisionDetails
{
    /// <summary><c>num_key_value_heads</c> of the encoder.</summary>
    public int KvHeads { get; init; } = 12;

    /// <summary><c>head_dim</c> of the encoder.</summary>
    public int HeadDim { get; init; } = 64;

    /// <summary><c>position_embedding_size</c>: rows of each axis of the 2-D position table.</summary>
    public int PositionEmbeddingSize { get; init; } = 10240;

    /// <summary><c>use_clipped_linears</c>: each projection carries four scalar clipping buffers.</summary>
    public bool ClippedLinears { get; init; }

    /// <summary><c>standardize</c>: the buffers <c>std_bias</c> and <c>std_scale</c> [hidden].</summary>
    public bool Standardize { get; init; }
}

/// <summary>The Gemma 4 audio encoder (<c>Gemma4AudioConfig</c>).</summary>
public sealed record Gemma4AudioSpec
{
    /// <summary><c>hidden_size</c>.</summary>
    public int Hidden { get; init; } = 1024;

    /// <summary><c>num_hidden_layers</c>.</summary>
    public int Layers { get; init; } = 12;

    /// <summary><c>num_attention_heads</c>.</summary>
    public int Heads { get; init; } = 8;

    /// <summary><c>subsampling_conv_channels[0]</c>.</summary>
    public int ConvChannels0 { get; init; } = 128;

    /// <summary><c>subsampling_conv_channels[1]</c>.</summary>
    public int ConvChannels1 { get; init; } = 32;

    /// <summary><c>conv_kernel_size</c> of the depthwise conv1d.</summary>
    public int ConvKernel { get; init; } = 5;

    /// <summary><c>output_proj_dims</c>: the encoder's output width (the audio projector's input).</summary>
    public int OutputDims { get; init; } = 1536;

    /// <summary><c>use_clipped_linears</c>: each projection carries four scalar clipping buffers.</summary>
    public bool ClippedLinears { get; init; } = true;
}
