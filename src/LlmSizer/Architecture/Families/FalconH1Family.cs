using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Falcon-H1 (<c>FalconH1ForCausalLM</c>): every layer runs grouped-query attention and a Mamba-2 mixer in
/// parallel on the same normalized input (<c>layers_block_type</c> is "hybrid" for all), then a gated MLP.</summary>
/// <remarks>Defaults are those of transformers' <c>FalconH1Config</c>: vocab 128000, hidden 4096, intermediate 14336,
/// 32 layers, 32 heads, 8 KV heads, head_dim = hidden / heads unless <c>head_dim</c> is given, 8192 positions, untied,
/// <c>attention_bias</c> and <c>mlp_bias</c> false, <c>mamba_d_ssm</c> 1024 (null: mamba_expand × hidden),
/// <c>mamba_n_heads</c> 128, <c>mamba_d_head</c> "auto" (= d_ssm / mamba_n_heads), <c>mamba_n_groups</c> 1,
/// <c>mamba_d_state</c> 256, <c>mamba_d_conv</c> 4, <c>mamba_expand</c> 2, <c>mamba_conv_bias</c> true,
/// <c>mamba_proj_bias</c> false, <c>projectors_bias</c> false, <c>mamba_rms_norm</c> false.
/// Tensors (<c>FalconH1DecoderLayer</c>, <c>FalconH1Mixer</c>): <c>model.embed_tokens</c>; per layer
/// <c>input_layernorm</c>, <c>self_attn.{q,k,v,o}_proj</c>, <c>mamba.in_proj</c> [2·d_ssm + 2·G·N + heads, hidden]
/// (bias with mamba_proj_bias), <c>mamba.conv1d</c> [d_ssm + 2·G·N, 1, d_conv] (+ bias), <c>mamba.dt_bias</c>,
/// <c>A_log</c>, <c>D</c> [heads], <c>mamba.norm</c> [d_ssm] only with <c>mamba_rms_norm</c>, <c>mamba.out_proj</c>
/// [hidden, d_ssm] (bias with projectors_bias), <c>pre_ff_layernorm</c>, <c>feed_forward.{gate,up,down}_proj</c>;
/// <c>model.final_layernorm</c>; <c>lm_head</c> unless tied. The µP multipliers are config scalars, and
/// <c>mup_vector</c> a non-persistent buffer: neither is a parameter.</remarks>
internal sealed class FalconH1Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 128000, Hidden = 4096, Intermediate = 14336, Layers = 32, Heads = 32, KvHeads = 8, MaxPositions = 8192, Tied = false,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["falcon_h1"];

    public ArchitectureSpec Read(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "falcon_h1", Defaults, new DecoderDetails());
        var expand = DecoderConfig.IntAtMost(config, "mamba_expand", 2, 1024);
        var inner = config.Element.TryGetProperty("mamba_d_ssm", out var dssm) && dssm.ValueKind == JsonValueKind.Null
            ? checked(expand * spec.Hidden)
            : DecoderConfig.IntAtMost(config, "mamba_d_ssm", 1024, MaxSize);
        var heads = DecoderConfig.IntAtMost(config, "mamba_n_heads", 128, MaxSize);
        if (inner % heads != 0)
        {
            throw config.Error("mamba_n_heads", $"expected a positive integer that divides the SSM width mamba_d_ssm ({inner}); found {heads}");
        }

        var headDim = config.Element.TryGetProperty("mamba_d_head", out var dh) && dh.ValueKind == JsonValueKind.String
            ? (dh.GetString() == "auto" ? inner / heads : throw config.Error("mamba_d_head", $"expected a positive integer or \"auto\"; found \"{dh.GetString()}\""))
            : DecoderConfig.IntAtMost(config, "mamba_d_head", inner / heads, MaxSize);
        if ((long)headDim * heads != inner)
        {
            throw config.Error("mamba_d_head", $"expected mamba_d_head × mamba_n_heads to equal mamba_d_ssm ({inner}); found {headDim} × {heads}");
        }

        var ssm = new SsmSpec
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
        spec = spec with
        {
            Ssm = ssm,
            LayerMixers = [.. Enumerable.Repeat(LayerMixer.AttentionAndSsm, spec.Layers)],
            Details = new FalconH1Details
            {
                AttentionBias = config.Bool("attention_bias", false),
                MlpBias = config.Bool("mlp_bias", false),
                ConvBias = config.Bool("mamba_conv_bias", true),
                ProjBias = config.Bool("mamba_proj_bias", false),
                ProjectorsBias = config.Bool("projectors_bias", false),
                GatedNorm = config.Bool("mamba_rms_norm", false),
            },
        };
        var result = DecoderConfig.CheckSize(spec, config);
        double mamba = ((3.0 * inner) + (2.0 * ssm.Groups * ssm.StateSize) + heads) * spec.Hidden;
        return spec.Layers * mamba > 1e15 ? throw config.Error("mamba_d_ssm", "expected a model of at most 10^15 parameters") : result;
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as FalconH1Details ?? new FalconH1Details();
        var ssm = spec.Ssm ?? throw new ArgumentException("a Falcon-H1 spec has an SSM geometry", nameof(spec));
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        long inner = ssm.InnerSize, heads = ssm.Heads;
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            Linear(b, p + "self_attn.q_proj", TensorGroup.Attention, l, q, h, d.AttentionBias);
            Linear(b, p + "self_attn.k_proj", TensorGroup.Attention, l, kv, h, d.AttentionBias);
            Linear(b, p + "self_attn.v_proj", TensorGroup.Attention, l, kv, h, d.AttentionBias);
            Linear(b, p + "self_attn.o_proj", TensorGroup.Attention, l, h, q, d.AttentionBias);

            // FalconH1Mixer: in_proj yields z (gate), x, B, C and dt: d_ssm + conv_dim + heads rows.
            var m = p + "mamba.";
            Linear(b, m + "in_proj", TensorGroup.Ssm, l, inner + ssm.ConvChannels + heads, h, d.ProjBias);
            b.Add(m + "conv1d.weight", TensorGroup.Ssm, l, ssm.ConvChannels, 1, ssm.ConvKernel);
            if (d.ConvBias)
            {
                b.Add(m + "conv1d.bias", TensorGroup.Ssm, l, ssm.ConvChannels);
            }

            b.Add(m + "dt_bias", TensorGroup.Ssm, l, heads);
            b.Add(m + "A_log", TensorGroup.Ssm, l, heads);
            b.Add(m + "D", TensorGroup.Ssm, l, heads);
            if (d.GatedNorm)
            {
                b.Add(m + "norm.weight", TensorGroup.Ssm, l, inner);
            }

            Linear(b, m + "out_proj", TensorGroup.Ssm, l, h, inner, d.ProjectorsBias);
            b.Add(p + "pre_ff_layernorm.weight", TensorGroup.Norm, l, h);
            Linear(b, p + "feed_forward.gate_proj", TensorGroup.Mlp, l, spec.Intermediate, h, d.MlpBias);
            Linear(b, p + "feed_forward.up_proj", TensorGroup.Mlp, l, spec.Intermediate, h, d.MlpBias);
            Linear(b, p + "feed_forward.down_proj", TensorGroup.Mlp, l, h, spec.Intermediate, d.MlpBias);
        }

        b.Add("model.final_layernorm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    private static void Linear(InventoryBuilder b, string name, TensorGroup group, int layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", group, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, outDim);
        }
    }
}

/// <summary>The layout flags of a Falcon-H1 model.</summary>
public sealed record FalconH1Details : FamilyDetails
{
    /// <summary><c>attention_bias</c>: biases on q, k, v and o.</summary>
    public bool AttentionBias { get; init; }

    /// <summary><c>mlp_bias</c>.</summary>
    public bool MlpBias { get; init; }

    /// <summary><c>mamba_conv_bias</c>.</summary>
    public bool ConvBias { get; init; } = true;

    /// <summary><c>mamba_proj_bias</c>: a bias on <c>mamba.in_proj</c>.</summary>
    public bool ProjBias { get; init; }

    /// <summary><c>projectors_bias</c>: a bias on <c>mamba.out_proj</c>.</summary>
    public bool ProjectorsBias { get; init; }

    /// <summary><c>mamba_rms_norm</c>: the gated RMSNorm <c>mamba.norm</c> [d_ssm].</summary>
    public bool GatedNorm { get; init; }
}
