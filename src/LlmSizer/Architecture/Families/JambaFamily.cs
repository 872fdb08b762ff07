using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Jamba (<c>JambaForCausalLM</c>): a hybrid of Mamba-1 and attention layers, with routed experts on every
/// other layer. The per-layer pattern comes from the config: layer i attends when
/// <c>i % attn_layer_period == attn_layer_offset</c> (else it is a Mamba layer), and is MoE when
/// <c>i % expert_layer_period == expert_layer_offset</c> (transformers' <c>JambaConfig.layers_block_type</c> and
/// <c>layers_num_experts</c>); an explicit <c>layers_block_type</c> list is honoured.</summary>
/// <remarks>Defaults are those of transformers' <c>JambaConfig</c>: vocab 65536, untied, hidden 4096, intermediate 14336,
/// 32 layers, 32 heads, 8 KV heads, <c>num_experts</c> 16, <c>num_experts_per_tok</c> 2, <c>expert_layer_period</c> 2,
/// <c>expert_layer_offset</c> 1, <c>attn_layer_period</c> 8, <c>attn_layer_offset</c> 4, <c>mamba_d_state</c> 16,
/// <c>mamba_d_conv</c> 4, <c>mamba_expand</c> 2, <c>mamba_dt_rank</c> "auto" (ceil(hidden / 16)), <c>mamba_conv_bias</c>
/// true, <c>mamba_proj_bias</c> false, 262144 positions.
/// Tensors: <c>model.embed_tokens</c>; per layer <c>input_layernorm</c>, <c>pre_ff_layernorm</c>, then either
/// <c>self_attn.{q,k,v,o}_proj</c> (no biases) or <c>mamba.*</c> (<c>JambaMambaMixer</c>: Mamba-1's tensors plus the
/// RMSNorms <c>dt_layernorm</c> [dt_rank], <c>b_layernorm</c> and <c>c_layernorm</c> [d_state]), and
/// <c>feed_forward.*</c>: <c>router</c> [E, hidden] and <c>experts.{e}.gate_proj/up_proj/down_proj</c> on MoE layers,
/// a gated MLP otherwise; <c>model.final_layernorm</c>; <c>lm_head</c> unless tied.</remarks>
internal sealed class JambaFamily : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 65536, Hidden = 4096, Intermediate = 14336, Layers = 32, Heads = 32, KvHeads = 8, MaxPositions = 262144, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["jamba"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "jamba", Defaults, new DecoderDetails { Prefix = "model." });
        var mixers = Mixers(config, spec.Layers);
        var expertPeriod = DecoderConfig.IntAtMost(config, "expert_layer_period", 2, DecoderConfig.MaxLayers);
        var expertOffset = config.NonNegativeIntOr("expert_layer_offset", 1);
        var experts = DecoderConfig.IntAtMost(config, "num_experts", 16, 65_536);
        var moe = new MoeSpec
        {
            Experts = experts,
            ActiveExperts = config.IntOr("num_experts_per_tok", 2),
            ExpertIntermediate = spec.Intermediate,
            // JambaConfig.layers_num_experts: num_experts where i % period == offset, else 1 (a dense MLP).
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, i => experts > 1 && i % expertPeriod == expertOffset),
        };
        if (experts > 1)
        {
            DecoderConfig.CheckTopK(config, moe, "num_experts_per_tok");
        }

        var hidden = spec.Hidden;
        var expand = DecoderConfig.IntAtMost(config, "mamba_expand", 2, 1024);
        var rank = MambaFamily.TimeStepRank(config, hidden, "mamba_dt_rank");
        var ssm = new SsmSpec
        {
            Kind = SsmKind.Mamba1,
            StateSize = DecoderConfig.IntAtMost(config, "mamba_d_state", 16, MaxSize),
            ConvKernel = DecoderConfig.IntAtMost(config, "mamba_d_conv", 4, 1024),
            Expand = expand,
            InnerSize = checked(expand * hidden),
            TimeStepRank = rank,
        };
        spec = spec with
        {
            // num_experts 1 (or no layer at an expert position) is a dense model.
            Moe = moe.MoeLayers.Contains(true) ? moe : null,
            Ssm = ssm,
            LayerMixers = [.. mixers],
            LayerKinds = [.. mixers.Select(m => m == LayerMixer.Attention ? AttentionLayerKind.Full : AttentionLayerKind.None)],
            Details = new JambaDetails { ConvBias = config.Bool("mamba_conv_bias", true), ProjBias = config.Bool("mamba_proj_bias", false) },
        };
        var checkedSpec = DecoderConfig.CheckSize(spec, config);
        double mamba = ((3.0 * ssm.InnerSize) * hidden) + ((double)ssm.InnerSize * (rank + (3.0 * ssm.StateSize) + ssm.ConvKernel + 3));
        return spec.Layers * mamba > 1e15
            ? throw config.Error("mamba_expand", $"expected a model of at most 10^15 parameters; these sizes give about {spec.Layers * mamba:E2}")
            : checkedSpec;
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as JambaDetails ?? new JambaDetails();
        var ssm = spec.Ssm ?? throw new ArgumentException("a Jamba spec needs its SSM geometry", nameof(spec));
        var moe = spec.Moe;
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            if (spec.MixerOf(l) == LayerMixer.Attention)
            {
                b.Add(p + "self_attn.q_proj.weight", TensorGroup.Attention, l, q, h);
                b.Add(p + "self_attn.k_proj.weight", TensorGroup.Attention, l, kv, h);
                b.Add(p + "self_attn.v_proj.weight", TensorGroup.Attention, l, kv, h);
                b.Add(p + "self_attn.o_proj.weight", TensorGroup.Attention, l, h, q);
            }
            else
            {
                MambaFamily.AddMixer(b, p + "mamba.", l, h, ssm, d.ProjBias, d.ConvBias);
                b.Add(p + "mamba.dt_layernorm.weight", TensorGroup.Ssm, l, ssm.TimeStepRank);
                b.Add(p + "mamba.b_layernorm.weight", TensorGroup.Ssm, l, ssm.StateSize);
                b.Add(p + "mamba.c_layernorm.weight", TensorGroup.Ssm, l, ssm.StateSize);
            }

            b.Add(p + "pre_ff_layernorm.weight", TensorGroup.Norm, l, h);
            long i = spec.Intermediate;
            if (moe is not null && moe.MoeLayers[l])
            {
                b.Add(p + "feed_forward.router.weight", TensorGroup.Mlp, l, moe.Experts, h);
                for (int e = 0; e < moe.Experts; e++)
                {
                    var ep = $"{p}feed_forward.experts.{e}.";
                    b.AddExpert(ep + "gate_proj.weight", l, moe.Experts, moe.ActiveExperts, i, h);
                    b.AddExpert(ep + "up_proj.weight", l, moe.Experts, moe.ActiveExperts, i, h);
                    b.AddExpert(ep + "down_proj.weight", l, moe.Experts, moe.ActiveExperts, h, i);
                }
            }
            else
            {
                b.Add(p + "feed_forward.gate_proj.weight", TensorGroup.Mlp, l, i, h);
                b.Add(p + "feed_forward.up_proj.weight", TensorGroup.Mlp, l, i, h);
                b.Add(p + "feed_forward.down_proj.weight", TensorGroup.Mlp, l, h, i);
            }
        }

        b.Add("model.final_layernorm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    // JambaConfig.layers_block_type, or the explicit list some configs carry.
    private static LayerMixer[] Mixers(ConfigObject config, int layers)
    {
        if (config.StringArray("layers_block_type") is { } types)
        {
            if (types.Count != layers)
            {
                throw config.Error("layers_block_type", $"expected {layers} entries (num_hidden_layers); found {types.Count}");
            }

            return [.. types.Select((t, i) => t switch
            {
                "attention" => LayerMixer.Attention,
                "mamba" => LayerMixer.Ssm,
                _ => throw config.Error($"layers_block_type[{i}]", $"expected \"attention\" or \"mamba\"; found \"{t}\""),
            })];
        }

        var period = DecoderConfig.IntAtMost(config, "attn_layer_period", 8, DecoderConfig.MaxLayers);
        var offset = config.NonNegativeIntOr("attn_layer_offset", 4);
        return [.. Enumerable.Range(0, layers).Select(i => i % period == offset ? LayerMixer.Attention : LayerMixer.Ssm)];
    }
}

/// <summary>The Mamba bias flags of a Jamba model.</summary>
public sealed record JambaDetails : FamilyDetails
{
    /// <summary><c>mamba_conv_bias</c>: a bias on each Mamba conv1d.</summary>
    public bool ConvBias { get; init; } = true;

    /// <summary><c>mamba_proj_bias</c>: biases on <c>in_proj</c> and <c>out_proj</c>.</summary>
    public bool ProjBias { get; init; }
}
