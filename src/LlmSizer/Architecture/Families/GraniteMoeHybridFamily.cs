using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>IBM Granite 4.0 (<c>GraniteMoeHybridForCausalLM</c>): each layer is attention or a Mamba-2 mixer
/// (<c>layer_types</c>), followed by a shared MLP and, when <c>num_local_experts</c> &gt; 0, routed experts.</summary>
/// <remarks>Defaults are those of transformers' <c>GraniteMoeHybridConfig</c>: vocab 32000, hidden 4096, intermediate
/// 11008, 32 layers, 32 heads, KV heads = heads, 2048 positions, untied, <c>attention_bias</c> false,
/// <c>num_local_experts</c> 8, <c>num_experts_per_tok</c> 2, <c>shared_intermediate_size</c> 1024, <c>layer_types</c>
/// absent = every layer "mamba" (<c>layers_block_type</c>), <c>mamba_n_heads</c> 128, <c>mamba_n_groups</c> 1,
/// <c>mamba_d_state</c> 256, <c>mamba_d_head</c> "auto" (= mamba_expand × hidden / mamba_n_heads), <c>mamba_d_conv</c> 4,
/// <c>mamba_expand</c> 2, <c>mamba_conv_bias</c> true, <c>mamba_proj_bias</c> false.
/// Tensors: <c>model.embed_tokens</c>; per layer <c>input_layernorm</c>, <c>post_attention_layernorm</c>, either
/// <c>self_attn.{q,k,v,o}_proj</c> or <c>mamba.*</c> (<c>BambaMixer</c>, Mamba-2's tensors), <c>shared_mlp.input_linear</c>
/// [2·shared, hidden] and <c>output_linear</c> [hidden, shared] (always built), and on expert models
/// <c>block_sparse_moe.router.layer</c> [E, hidden], <c>input_linear</c> [E, 2·intermediate, hidden] and
/// <c>output_linear</c> [E, hidden, intermediate]; <c>model.norm</c>; <c>lm_head</c> unless tied. The multipliers are
/// config scalars, not parameters.</remarks>
internal sealed class GraniteMoeHybridFamily : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["granitemoehybrid"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "granitemoehybrid", Defaults, DecoderConfig.AttentionBias(config));
        var mixers = Mixers(config, spec.Layers);
        var experts = config.NonNegativeIntOr("num_local_experts", 8);
        MoeSpec? moe = null;
        if (experts > 0)
        {
            moe = new MoeSpec
            {
                Experts = experts,
                ActiveExperts = config.IntOr("num_experts_per_tok", 2),
                ExpertIntermediate = spec.Intermediate,
                MoeLayers = DecoderConfig.MoeLayers(spec.Layers, _ => true),
            };
            DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        }

        SsmSpec? ssm = null;
        if (mixers.Contains(LayerMixer.Ssm))
        {
            var expand = DecoderConfig.IntAtMost(config, "mamba_expand", 2, 1024);
            var inner = checked(expand * spec.Hidden);
            var heads = DecoderConfig.IntAtMost(config, "mamba_n_heads", 128, MaxSize);
            if (inner % heads != 0)
            {
                throw config.Error("mamba_n_heads", $"expected a positive integer that divides mamba_expand × hidden_size ({inner}); found {heads}");
            }

            var headDim = config.Element.TryGetProperty("mamba_d_head", out var dh) && dh.ValueKind == System.Text.Json.JsonValueKind.String
                ? (dh.GetString() == "auto" ? inner / heads : throw config.Error("mamba_d_head", $"expected a positive integer or \"auto\"; found \"{dh.GetString()}\""))
                : DecoderConfig.IntAtMost(config, "mamba_d_head", inner / heads, MaxSize);
            if ((long)headDim * heads != inner)
            {
                throw config.Error("mamba_d_head", $"expected mamba_d_head × mamba_n_heads to equal mamba_expand × hidden_size ({inner}); found {headDim} × {heads}");
            }

            ssm = new SsmSpec
            {
                Kind = SsmKind.Mamba2,
                StateSize = DecoderConfig.IntAtMost(config, "mamba_d_state", 256, MaxSize),
                ConvKernel = DecoderConfig.IntAtMost(config, "mamba_d_conv", 4, 1024),
                Expand = expand,
                InnerSize = inner,
                Heads = heads,
                HeadDim = headDim,
                Groups = DecoderConfig.IntAtMost(config, "mamba_n_groups", 1, MaxSize),
            };
        }

        var shared = config.NonNegativeIntOr("shared_intermediate_size", 1024);
        if (shared > MaxSize)
        {
            throw config.Error("shared_intermediate_size", $"expected at most {MaxSize}; found {shared}");
        }

        spec = spec with
        {
            Moe = moe,
            Ssm = ssm,
            LayerMixers = [.. mixers],
            LayerKinds = [.. mixers.Select(m => m == LayerMixer.Attention ? AttentionLayerKind.Full : AttentionLayerKind.None)],
            Details = new GraniteHybridDetails
            {
                SharedIntermediate = shared,
                AttentionBias = config.Bool("attention_bias", false),
                ConvBias = config.Bool("mamba_conv_bias", true),
                ProjBias = config.Bool("mamba_proj_bias", false),
            },
        };
        var result = DecoderConfig.CheckSize(spec, config);
        double mamba = ssm is null ? 0 : ((3.0 * ssm.InnerSize) + (2.0 * ssm.Groups * ssm.StateSize) + ssm.Heads) * spec.Hidden;
        return spec.Layers * (mamba + (3.0 * shared * spec.Hidden)) > 1e15
            ? throw config.Error("mamba_expand", "expected a model of at most 10^15 parameters")
            : result;
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as GraniteHybridDetails ?? new GraniteHybridDetails();
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            if (spec.MixerOf(l) == LayerMixer.Ssm && spec.Ssm is { } ssm)
            {
                MambaFamily.AddMixer(b, p + "mamba.", l, h, ssm, d.ProjBias, d.ConvBias);
            }
            else
            {
                Linear(b, p + "self_attn.q_proj", l, q, h, d.AttentionBias);
                Linear(b, p + "self_attn.k_proj", l, kv, h, d.AttentionBias);
                Linear(b, p + "self_attn.v_proj", l, kv, h, d.AttentionBias);
                Linear(b, p + "self_attn.o_proj", l, h, q, d.AttentionBias);
            }

            b.Add(p + "post_attention_layernorm.weight", TensorGroup.Norm, l, h);
            b.Add(p + "shared_mlp.input_linear.weight", TensorGroup.Mlp, l, 2L * d.SharedIntermediate, h);
            b.Add(p + "shared_mlp.output_linear.weight", TensorGroup.Mlp, l, h, d.SharedIntermediate);
            if (spec.Moe is { } moe)
            {
                long i = moe.ExpertIntermediate;
                b.Add(p + "block_sparse_moe.router.layer.weight", TensorGroup.Mlp, l, moe.Experts, h);
                b.AddExpert(p + "block_sparse_moe.input_linear.weight", l, moe.Experts, moe.ActiveExperts, moe.Experts, 2 * i, h);
                b.AddExpert(p + "block_sparse_moe.output_linear.weight", l, moe.Experts, moe.ActiveExperts, moe.Experts, h, i);
            }
        }

        b.Add("model.norm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    private static void Linear(InventoryBuilder b, string name, int layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", TensorGroup.Attention, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", TensorGroup.Attention, layer, outDim);
        }
    }

    // GraniteMoeHybridConfig.layers_block_type: layer_types, or every layer "mamba" when it is absent.
    private static LayerMixer[] Mixers(ConfigObject config, int layers)
    {
        var types = config.StringArray("layer_types") ?? config.StringArray("layers_block_type");
        if (types is null)
        {
            return [.. Enumerable.Repeat(LayerMixer.Ssm, layers)];
        }

        var key = config.Has("layer_types") ? "layer_types" : "layers_block_type";
        if (types.Count != layers)
        {
            throw config.Error(key, $"expected {layers} entries (num_hidden_layers); found {types.Count}");
        }

        return [.. types.Select((t, i) => t switch
        {
            "attention" => LayerMixer.Attention,
            "mamba" => LayerMixer.Ssm,
            _ => throw config.Error($"{key}[{i}]", $"expected \"attention\" or \"mamba\"; found \"{t}\""),
        })];
    }
}

/// <summary>The layout flags of a Granite 4.0 hybrid model.</summary>
public sealed record GraniteHybridDetails : FamilyDetails
{
    /// <summary><c>shared_intermediate_size</c>: the width of every layer's shared MLP.</summary>
    public int SharedIntermediate { get; init; } = 1024;

    /// <summary><c>attention_bias</c>.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>mamba_conv_bias</c>.</summary>
    public bool ConvBias { get; init; } = true;

    /// <summary><c>mamba_proj_bias</c>.</summary>
    public bool ProjBias { get; init; }
}
