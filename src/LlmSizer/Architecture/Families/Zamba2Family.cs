using System.Collections.Immutable;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Zamba2 (<c>Zamba2ForCausalLM</c>, Zyphra Zamba2-1.2B/2.7B/7B): a Mamba-2 layer everywhere, and on the "hybrid"
/// layers of <c>layers_block_type</c> first a shared transformer block (attention over the concatenation of the hidden state
/// and the original embeddings, then a gated MLP) whose output a per-layer linear projection feeds into that layer's Mamba
/// decoder. <c>num_mem_blocks</c> blocks are shared round robin over the hybrid layers; each invocation has its own LoRA
/// adapters.</summary>
/// <remarks>Defaults are those of transformers' <c>Zamba2Config</c>: vocab 32000, hidden 2560, 54 layers (the default
/// <c>layers_block_type</c> has 9 hybrid layers), 32 heads, KV heads = heads, <c>intermediate_size</c> 4 × hidden,
/// 4096 positions (16384 with <c>use_long_context</c>), tied embeddings (PretrainedConfig's default),
/// <c>mamba_d_state</c> 64, <c>mamba_d_conv</c> 4, <c>mamba_expand</c> 2, <c>mamba_ngroups</c> 1, <c>n_mamba_heads</c> 8,
/// <c>add_bias_linear</c> false, <c>num_mem_blocks</c> 1, <c>use_shared_attention_adapter</c> false, <c>adapter_rank</c> 128.
/// The config class computes <c>attention_hidden_size</c> = 2 × hidden, <c>attention_head_dim</c> = 2 × hidden / heads and
/// <c>mamba_headdim</c> = expand × hidden / n_mamba_heads whatever the file says.
/// Tensors (<c>Zamba2Model</c>): <c>model.embed_tokens</c>; per layer a Mamba decoder (<c>mamba.*</c> and
/// <c>input_layernorm</c> on "mamba" layers, <c>mamba_decoder.mamba.*</c> and <c>mamba_decoder.input_layernorm</c> plus
/// <c>linear</c> [hidden, hidden] on "hybrid" layers) with <c>in_proj</c> [d_inner + conv_dim + heads, hidden] (bias with
/// add_bias_linear), <c>conv1d</c> [conv_dim, 1, d_conv] with a bias always (Zamba2MambaMixer hard-wires bias=True),
/// <c>dt_bias</c>, <c>A_log</c>, <c>D</c> [heads], the gated <c>norm</c> [d_inner], <c>out_proj</c> [hidden, d_inner];
/// <c>model.final_layernorm</c>. Each shared block (<c>Zamba2AttentionDecoderLayer</c>) holds <c>input_layernorm</c>
/// [2 × hidden], <c>self_attn.q_proj</c> [heads × head_dim, 2 × hidden], <c>k_proj</c>/<c>v_proj</c> [kv × head_dim,
/// 2 × hidden], <c>o_proj</c> [hidden, heads × head_dim] (no biases), <c>pre_ff_layernorm</c> [hidden],
/// <c>feed_forward.gate_up_proj</c> [2 × intermediate, hidden] and <c>down_proj</c> (biases with add_bias_linear), and, for
/// each hybrid invocation j it serves (j mod num_mem_blocks = block), <c>feed_forward.gate_up_proj_adapter_list.j</c>
/// ([rank, hidden] then [2 × intermediate, rank]; built whatever <c>use_shared_mlp_adapter</c> says) and, with
/// <c>use_shared_attention_adapter</c>, <c>self_attn.linear_{q,k,v}_adapter_list.j</c> ([rank, 2 × hidden] then
/// [2 × hidden, rank]). A block's weights are tied across its invocations and counted once, under the first hybrid layer
/// that uses it, the name the checkpoints keep (Zamba2-1.2B's tensors include
/// <c>model.layers.5.shared_transformer.self_attn.linear_q_adapter_list.2.1.weight</c>). The head is <c>lm_head</c> unless
/// tied.
/// Only the shared-block invocations hold a KV cache (one per hybrid layer); every layer holds a Mamba-2 state.</remarks>
internal sealed class Zamba2Family : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 2560, Intermediate = 4 * 2560, Layers = 54, Heads = 32, MaxPositions = 4096, Tied = true,
    };

    public IReadOnlyList<string> ModelTypes { get; } = ["zamba2"];

    public ArchitectureSpec Read(ConfigObject config)
    {
        var spec = DecoderConfig.Read(config, "zamba2", Defaults, new DecoderDetails());
        var types = LayerTypes(config, spec.Layers);
        var attentionHidden = checked(2 * spec.Hidden);
        var expand = DecoderConfig.IntAtMost(config, "mamba_expand", 2, 1024);
        var inner = checked(expand * spec.Hidden);
        var heads = DecoderConfig.IntAtMost(config, "n_mamba_heads", 8, MaxSize);
        var ssm = new SsmSpec
        {
            Kind = SsmKind.Mamba2,
            StateSize = DecoderConfig.IntAtMost(config, "mamba_d_state", 64, MaxSize),
            ConvKernel = DecoderConfig.IntAtMost(config, "mamba_d_conv", 4, 1024),
            Expand = expand,
            InnerSize = inner,
            Heads = heads,
            HeadDim = inner / heads,
            Groups = DecoderConfig.IntAtMost(config, "mamba_ngroups", 1, MaxSize),
        };
        var useLongContext = config.Bool("use_long_context", false);
        spec = spec with
        {
            // Zamba2Config: intermediate_size None -> 4 * hidden_size; attention_head_dim = 2 * hidden_size // heads.
            Intermediate = config.OptionalInt("intermediate_size") ?? checked(4 * spec.Hidden),
            HeadDim = attentionHidden / spec.Heads,
            MaxPositions = useLongContext ? 16384 : spec.MaxPositions,
            Ssm = ssm,
            LayerMixers = [.. types.Select(hybrid => hybrid ? LayerMixer.AttentionAndSsm : LayerMixer.Ssm)],
            LayerKinds = [.. types.Select(hybrid => hybrid ? AttentionLayerKind.Full : AttentionLayerKind.None)],
            Details = new Zamba2Details
            {
                MemBlocks = DecoderConfig.IntAtMost(config, "num_mem_blocks", 1, DecoderConfig.MaxLayers),
                AttentionAdapters = config.Bool("use_shared_attention_adapter", false),
                AdapterRank = DecoderConfig.IntAtMost(config, "adapter_rank", 128, MaxSize),
                BiasLinear = config.Bool("add_bias_linear", false),
            },
        };
        var result = DecoderConfig.CheckSize(spec, config);
        double mamba = ((2.0 * inner) + (2.0 * ssm.Groups * ssm.StateSize) + heads) * spec.Hidden;
        return spec.Layers * mamba > 1e15 ? throw config.Error("mamba_expand", "expected a model of at most 10^15 parameters") : result;
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as Zamba2Details ?? new Zamba2Details();
        var ssm = spec.Ssm ?? throw new ArgumentException("a Zamba2 spec has an SSM geometry", nameof(spec));
        var b = new InventoryBuilder();
        long h = spec.Hidden, a = 2L * spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        long i = spec.Intermediate, r = d.AdapterRank;
        var hybrid = Enumerable.Range(0, spec.Layers).Where(l => spec.MixerOf(l) == LayerMixer.AttentionAndSsm).ToImmutableArray();
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            int j = hybrid.IndexOf(l);
            if (j < 0)
            {
                AddMamba(b, ssm, d, p, l, h);
                continue;
            }

            // Block j mod num_mem_blocks is first used at hybrid invocation j < num_mem_blocks: its weights live there.
            int block = j % d.MemBlocks;
            if (j < d.MemBlocks)
            {
                var s = p + "shared_transformer.";
                b.Add(s + "input_layernorm.weight", TensorGroup.Norm, l, a);
                b.Add(s + "self_attn.q_proj.weight", TensorGroup.Attention, l, q, a);
                b.Add(s + "self_attn.k_proj.weight", TensorGroup.Attention, l, kv, a);
                b.Add(s + "self_attn.v_proj.weight", TensorGroup.Attention, l, kv, a);
                b.Add(s + "self_attn.o_proj.weight", TensorGroup.Attention, l, h, q);
                b.Add(s + "pre_ff_layernorm.weight", TensorGroup.Norm, l, h);
                Linear(b, s + "feed_forward.gate_up_proj", TensorGroup.Mlp, l, 2 * i, h, d.BiasLinear);
                Linear(b, s + "feed_forward.down_proj", TensorGroup.Mlp, l, h, i, d.BiasLinear);

                // The adapters of every invocation this block serves: hybrid indices x with x mod num_mem_blocks = block.
                for (int x = block; x < hybrid.Length; x += d.MemBlocks)
                {
                    int at = hybrid[x];
                    if (d.AttentionAdapters)
                    {
                        foreach (var proj in (ReadOnlySpan<string>)["q", "k", "v"])
                        {
                            var ap = $"{s}self_attn.linear_{proj}_adapter_list.{x}.";
                            b.Add(ap + "0.weight", TensorGroup.Attention, at, r, a);
                            b.Add(ap + "1.weight", TensorGroup.Attention, at, a, r);
                        }
                    }

                    var mp = $"{s}feed_forward.gate_up_proj_adapter_list.{x}.";
                    b.Add(mp + "0.weight", TensorGroup.Mlp, at, r, h);
                    b.Add(mp + "1.weight", TensorGroup.Mlp, at, 2 * i, r);
                }
            }

            b.Add(p + "linear.weight", TensorGroup.Attention, l, h, h);
            AddMamba(b, ssm, d, p + "mamba_decoder.", l, h);
        }

        b.Add("model.final_layernorm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    /// <summary>Reads <c>layers_block_type</c> ("mamba" or "hybrid" per layer), else Zamba2Config's default pattern.</summary>
    private static bool[] LayerTypes(ConfigObject config, int layers)
    {
        if (config.StringArray("layers_block_type") is not { } types)
        {
            // ["mamba"] + (["mamba"] * 5 + ["hybrid"]) * 7 + ["mamba"] * 4 + ["hybrid"] + ["mamba"] * 3 + ["hybrid"] + ["mamba"] * 2
            bool[] pattern = [false, .. Enumerable.Repeat<bool[]>([false, false, false, false, false, true], 7).SelectMany(x => x),
                false, false, false, false, true, false, false, false, true, false, false];
            return pattern.Length == layers
                ? pattern
                : throw config.Error("layers_block_type", $"missing; Zamba2Config's default pattern has {pattern.Length} layers, not num_hidden_layers {layers}");
        }

        if (types.Count != layers)
        {
            throw config.Error("layers_block_type", $"expected {layers} entries (num_hidden_layers); found {types.Count}");
        }

        return [.. types.Select((t, n) => t switch
        {
            "hybrid" => true,
            "mamba" => false,
            _ => throw config.Error($"layers_block_type[{n}]", $"expected \"mamba\" or \"hybrid\"; found \"{t}\""),
        })];
    }

    // Zamba2MambaDecoderLayer: the mixer under "mamba." and its input_layernorm.
    private static void AddMamba(InventoryBuilder b, SsmSpec ssm, Zamba2Details d, string p, int l, long h)
    {
        var m = p + "mamba.";
        Linear(b, m + "in_proj", TensorGroup.Ssm, l, ssm.InnerSize + ssm.ConvChannels + ssm.Heads, h, d.BiasLinear);
        b.Add(m + "conv1d.weight", TensorGroup.Ssm, l, ssm.ConvChannels, 1, ssm.ConvKernel);
        b.Add(m + "conv1d.bias", TensorGroup.Ssm, l, ssm.ConvChannels);
        b.Add(m + "dt_bias", TensorGroup.Ssm, l, ssm.Heads);
        b.Add(m + "A_log", TensorGroup.Ssm, l, ssm.Heads);
        b.Add(m + "D", TensorGroup.Ssm, l, ssm.Heads);
        b.Add(m + "norm.weight", TensorGroup.Ssm, l, ssm.InnerSize);
        Linear(b, m + "out_proj", TensorGroup.Ssm, l, h, ssm.InnerSize, d.BiasLinear);
        b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
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

/// <summary>The shared-block layout of a Zamba2 model.</summary>
public sealed record Zamba2Details : FamilyDetails
{
    /// <summary><c>num_mem_blocks</c>: the shared transformer blocks, used round robin over the hybrid layers.</summary>
    public int MemBlocks { get; init; } = 1;

    /// <summary><c>use_shared_attention_adapter</c>: LoRA adapters on q, k and v per hybrid invocation.</summary>
    public bool AttentionAdapters { get; init; }

    /// <summary><c>adapter_rank</c>: the rank of every adapter.</summary>
    public int AdapterRank { get; init; } = 128;

    /// <summary><c>add_bias_linear</c>: biases on the Mamba in/out projections and the shared MLP.</summary>
    public bool BiasLinear { get; init; }
}
