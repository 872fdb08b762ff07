using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>A family of Llama-like decoders: reads with its own defaults, generates with <see cref="DecoderGenerator"/>.</summary>
/// <param name="displayName">The display name.</param>
/// <param name="modelTypes">The model_type values it reads.</param>
internal abstract class DecoderFamily(string displayName, params string[] modelTypes) : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = modelTypes;

    public string DisplayName { get; } = displayName;

    public ArchitectureSpec Read(ConfigObject config) => DecoderConfig.CheckSize(ReadSpec(config), config);

    /// <summary>Reads the config onto a spec with the family's config-class defaults.</summary>
    /// <param name="config">The config.</param>
    /// <returns>The spec.</returns>
    protected abstract ArchitectureSpec ReadSpec(ConfigObject config);

    public virtual TensorInventory Generate(ArchitectureSpec spec) => DecoderGenerator.Generate(spec);
}

/// <summary>Generates the parameter tensors of a Llama-like decoder with the Hugging Face checkpoint names and
/// PyTorch shapes ([out, in] for a Linear weight). Rotary tables are buffers and are not generated.</summary>
internal static class DecoderGenerator
{
    public static TensorInventory Generate(ArchitectureSpec spec) => Builder(spec).Build();

    /// <summary>The decoder's tensors in a builder, for families that add more (a vision tower).</summary>
    /// <param name="spec">The spec.</param>
    /// <returns>The builder holding the decoder's tensors.</returns>
    public static InventoryBuilder Builder(ArchitectureSpec spec)
    {
        var d = spec.Details as DecoderDetails ?? new DecoderDetails();
        var b = new InventoryBuilder();
        long h = spec.Hidden;
        b.Add(d.Prefix + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        if (d.PositionEmbeddings > 0)
        {
            b.Add(d.Prefix + "embed_positions.weight", TensorGroup.Embedding, null, d.PositionEmbeddings, h);
        }
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"{d.Prefix}layers.{l}.";
            if (spec.MixerOf(l) == LayerMixer.LinearAttention && spec.LinearAttention is { } linear)
            {
                AddGatedDeltaNet(b, spec, linear, p + "linear_attn.", l, d.SplitDeltaNetProjections);
            }
            else if (spec.Mla is { } mla)
            {
                AddLatentAttention(b, spec, d, mla, p + "self_attn.", l);
            }
            else
            {
                AddAttention(b, spec, d, p + "self_attn.", l);
            }

            if (spec.Moe is { } moe && (moe.MoeLayers.IsDefaultOrEmpty || l >= moe.MoeLayers.Length || moe.MoeLayers[l]))
            {
                AddMoe(b, spec, d, moe, p, l);
            }
            else
            {
                AddMlp(b, spec, d, p + "mlp.", l, spec.Intermediate);
            }

            foreach (var norm in LayerNorms(d.Norms))
            {
                AddNorm(b, spec, p + norm, l);
            }
        }

        if (d.Norms != NormPlacement.NonParametric)
        {
            AddNorm(b, spec, d.Prefix + "norm", null);
        }

        AddHead(b, spec, d);
        return b;
    }

    private static string[] LayerNorms(NormPlacement placement) => placement switch
    {
        NormPlacement.Sandwich => ["input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"],
        NormPlacement.PostOnly => ["post_attention_layernorm", "post_feedforward_layernorm"],
        NormPlacement.Single => ["input_layernorm"],
        NormPlacement.NonParametric => [],
        NormPlacement.Glm4 => ["input_layernorm", "post_self_attn_layernorm", "post_attention_layernorm", "post_mlp_layernorm"],
        _ => ["input_layernorm", "post_attention_layernorm"],
    };

    private static void AddNorm(InventoryBuilder b, ArchitectureSpec spec, string name, int? layer)
    {
        b.Add(name + ".weight", TensorGroup.Norm, layer, spec.Hidden);
        if (spec.Norm == NormKind.LayerNorm)
        {
            b.Add(name + ".bias", TensorGroup.Norm, layer, spec.Hidden);
        }
    }

    /// <summary>A Linear layer: weight [out, in] and, when <paramref name="bias"/>, bias [out].</summary>
    private static void AddLinear(InventoryBuilder b, string name, TensorGroup group, int? layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", group, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, outDim);
        }
    }

    private static void AddAttention(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d, string p, int l)
    {
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        const TensorGroup A = TensorGroup.Attention;
        if (d.FusedProjections)
        {
            AddLinear(b, p + "qkv_proj", A, l, q + (2 * kv), h, d.QkvBias);
        }
        else
        {
            AddLinear(b, p + "q_proj", A, l, d.GatedAttention ? 2 * q : q, h, d.QkvBias);
            AddLinear(b, p + "k_proj", A, l, kv, h, d.QkvBias);
            AddLinear(b, p + "v_proj", A, l, kv, h, d.QkvBias);
        }

        AddLinear(b, p + "o_proj", A, l, h, q, d.OutputBias);
        switch (d.QkNorm)
        {
            case QkNormKind.PerHeadDim:
                b.Add(p + "q_norm.weight", A, l, spec.HeadDim);
                b.Add(p + "k_norm.weight", A, l, spec.HeadDim);
                break;
            case QkNormKind.FullWidth:
                b.Add(p + "q_norm.weight", A, l, q);
                b.Add(p + "k_norm.weight", A, l, kv);
                break;
            case QkNormKind.PerHeadMatrix:
                b.Add(p + "q_norm.weight", A, l, spec.Heads, spec.HeadDim);
                b.Add(p + "k_norm.weight", A, l, spec.KvHeads, spec.HeadDim);
                break;
            default:
                break;
        }

        if (d.AttentionSinks)
        {
            b.Add(p + "sinks", A, l, spec.Heads);
        }
    }

    /// <summary>Qwen3-Next's linear attention (<c>Qwen3NextGatedDeltaNet</c>): <c>in_proj_qkvz</c> [2·Kdim + 2·Vdim, hidden],
    /// <c>in_proj_ba</c> [2·value heads, hidden], a depthwise <c>conv1d</c> over q, k, v without bias, <c>dt_bias</c> and
    /// <c>A_log</c> [value heads], the gated RMSNorm <c>norm</c> [value head dim], <c>out_proj</c> [hidden, Vdim].</summary>
    private static void AddGatedDeltaNet(InventoryBuilder b, ArchitectureSpec spec, LinearAttentionSpec la, string p, int l, bool split)
    {
        long h = spec.Hidden, keyDim = (long)la.KeyHeads * la.KeyHeadDim, valueDim = (long)la.ValueHeads * la.ValueHeadDim;
        const TensorGroup S = TensorGroup.Ssm;
        if (split)
        {
            // Qwen3_5GatedDeltaNet: q, k and v in one projection, the output gate z, and the per-head b and a apart.
            b.Add(p + "in_proj_qkv.weight", S, l, (2 * keyDim) + valueDim, h);
            b.Add(p + "in_proj_z.weight", S, l, valueDim, h);
            b.Add(p + "in_proj_b.weight", S, l, la.ValueHeads, h);
            b.Add(p + "in_proj_a.weight", S, l, la.ValueHeads, h);
        }
        else
        {
            b.Add(p + "in_proj_qkvz.weight", S, l, (2 * keyDim) + (2 * valueDim), h);
            b.Add(p + "in_proj_ba.weight", S, l, 2L * la.ValueHeads, h);
        }

        b.Add(p + "conv1d.weight", S, l, la.ConvChannels, 1, la.ConvKernel);
        b.Add(p + "dt_bias", S, l, la.ValueHeads);
        b.Add(p + "A_log", S, l, la.ValueHeads);
        b.Add(p + "norm.weight", S, l, la.ValueHeadDim);
        b.Add(p + "out_proj.weight", S, l, h, valueDim);
    }

    /// <summary>DeepSeek multi-head latent attention (DeepseekV2Attention / DeepseekV3Attention).</summary>
    private static void AddLatentAttention(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d, MlaSpec mla, string p, int l)
    {
        long h = spec.Hidden, heads = spec.Heads;
        long qHead = mla.QkNopeHeadDim + mla.QkRopeHeadDim;
        const TensorGroup A = TensorGroup.Attention;
        if (mla.QLoraRank is int qr)
        {
            AddLinear(b, p + "q_a_proj", A, l, qr, h, d.QkvBias);
            b.Add(p + "q_a_layernorm.weight", A, l, qr);
            AddLinear(b, p + "q_b_proj", A, l, heads * qHead, qr, false);
        }
        else
        {
            AddLinear(b, p + "q_proj", A, l, heads * qHead, h, false);
        }

        // The latent c_KV and the shared rotary key k^R come out of one projection.
        AddLinear(b, p + "kv_a_proj_with_mqa", A, l, (long)mla.KvLoraRank + mla.QkRopeHeadDim, h, d.QkvBias);
        b.Add(p + "kv_a_layernorm.weight", A, l, mla.KvLoraRank);
        AddLinear(b, p + "kv_b_proj", A, l, heads * ((long)mla.QkNopeHeadDim + mla.VHeadDim), mla.KvLoraRank, false);
        AddLinear(b, p + "o_proj", A, l, h, heads * mla.VHeadDim, d.OutputBias);
        if (mla.Indexer is { } ix)
        {
            // DeepseekV32Indexer: wq_b reads the query latent (q_lora_rank), wk and weights_proj the hidden state; k_norm is
            // a LayerNorm (weight and bias) over the one shared indexer key.
            long rank = mla.QLoraRank ?? spec.Hidden;
            b.Add(p + "indexer.wq_b.weight", A, l, (long)ix.Heads * ix.HeadDim, rank);
            b.Add(p + "indexer.wk.weight", A, l, ix.HeadDim, h);
            b.Add(p + "indexer.k_norm.weight", A, l, ix.HeadDim);
            b.Add(p + "indexer.k_norm.bias", A, l, ix.HeadDim);
            b.Add(p + "indexer.weights_proj.weight", A, l, ix.Heads, h);
        }
    }

    private static void AddMlp(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d, string p, int l, long inter)
    {
        long h = spec.Hidden;
        const TensorGroup M = TensorGroup.Mlp;
        if (spec.Mlp == MlpKind.Dense)
        {
            AddLinear(b, p + "c_fc", M, l, inter, h, d.MlpBias);
            AddLinear(b, p + "c_proj", M, l, h, inter, d.MlpBias);
        }
        else if (d.FusedProjections || d.FusedGateUp)
        {
            AddLinear(b, p + "gate_up_proj", M, l, 2 * inter, h, d.MlpBias);
            AddLinear(b, p + "down_proj", M, l, h, inter, d.MlpBias);
        }
        else
        {
            AddLinear(b, p + "gate_proj", M, l, inter, h, d.MlpBias);
            AddLinear(b, p + "up_proj", M, l, inter, h, d.MlpBias);
            AddLinear(b, p + "down_proj", M, l, h, inter, d.MlpBias);
        }
    }

    private static void AddMoe(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d, MoeSpec moe, string p, int l)
    {
        long h = spec.Hidden, i = moe.ExpertIntermediate;
        int e = moe.Experts, k = moe.ActiveExperts;
        switch (d.Experts)
        {
            case MoeLayout.Mixtral:
                b.Add(p + "block_sparse_moe.gate.weight", TensorGroup.Mlp, l, e, h);
                for (int x = 0; x < e; x++)
                {
                    var ep = $"{p}block_sparse_moe.experts.{x}.";
                    AddExpert(b, ep, "w1", l, e, k, i, h, d.MlpBias);
                    AddExpert(b, ep, "w2", l, e, k, h, i, d.MlpBias);
                    if (spec.Mlp == MlpKind.Gated)
                    {
                        AddExpert(b, ep, "w3", l, e, k, i, h, d.MlpBias);
                    }
                }

                return;
            case MoeLayout.GptOss:
                // GptOssExperts keeps every expert in fused tensors: gate_up_proj [E, hidden, 2·inter] (in, out order).
                AddLinear(b, p + "mlp.router", TensorGroup.Mlp, l, e, h, true);
                b.AddExpert(p + "mlp.experts.gate_up_proj", l, e, k, e, h, 2 * i);
                b.AddExpert(p + "mlp.experts.gate_up_proj_bias", l, e, k, e, 2 * i);
                b.AddExpert(p + "mlp.experts.down_proj", l, e, k, e, i, h);
                b.AddExpert(p + "mlp.experts.down_proj_bias", l, e, k, e, h);
                return;
            case MoeLayout.GraniteMoe:
                b.Add(p + "block_sparse_moe.router.layer.weight", TensorGroup.Mlp, l, e, h);
                b.AddExpert(p + "block_sparse_moe.input_linear.weight", l, e, k, e, 2 * i, h);
                b.AddExpert(p + "block_sparse_moe.output_linear.weight", l, e, k, e, h, i);
                return;
            case MoeLayout.QwenFused:
                // Qwen3NextExperts as the Qwen3.5-MoE checkpoints store it: one 3-D tensor per projection for all experts.
                b.Add(p + "mlp.gate.weight", TensorGroup.Mlp, l, e, h);
                b.AddExpert(p + "mlp.experts.gate_up_proj", l, e, k, e, 2 * i, h);
                b.AddExpert(p + "mlp.experts.down_proj", l, e, k, e, h, i);
                AddSharedExpert(b, spec, d, moe, p, l);
                return;
            default:
                b.Add(p + "mlp.gate.weight", TensorGroup.Mlp, l, e, h);
                if (d.RouterCorrectionBias)
                {
                    // A registered buffer in transformers (DeepseekV3TopkRouter: register_buffer("e_score_correction_bias",
                    // torch.zeros(n_routed_experts))): stored in the checkpoint, not learned, not in num_parameters().
                    b.Add(new TensorInfo(p + "mlp.gate.e_score_correction_bias", [e], b.DataType, TensorGroup.Mlp) { Layer = l, Kind = TensorKind.Buffer });
                }

                // Ernie4_5_MoeMLP takes use_bias for its experts too; the other layouts' experts have no biases.
                bool expertBias = d.Experts == MoeLayout.Ernie && d.MlpBias;
                if (d.Experts == MoeLayout.Ernie)
                {
                    b.Add(p + "mlp.moe_statics.e_score_correction_bias", TensorGroup.Mlp, l, 1, e);
                }

                for (int x = 0; x < e; x++)
                {
                    var ep = $"{p}mlp.experts.{x}.";
                    AddExpert(b, ep, "gate_proj", l, e, k, i, h, expertBias);
                    AddExpert(b, ep, "up_proj", l, e, k, i, h, expertBias);
                    AddExpert(b, ep, "down_proj", l, e, k, h, i, expertBias);
                }

                AddSharedExpert(b, spec, d, moe, p, l);
                return;
        }
    }

    // The always-active expert (Qwen: mlp.shared_expert with a sigmoid gate [1, hidden]; DeepSeek, ERNIE: mlp.shared_experts).
    private static void AddSharedExpert(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d, MoeSpec moe, string p, int l)
    {
        if (moe.SharedIntermediate > 0)
        {
            var shared = d.Experts is MoeLayout.DeepSeek or MoeLayout.Ernie ? "mlp.shared_experts." : "mlp.shared_expert.";
            AddMlp(b, spec, d, p + shared, l, moe.SharedIntermediate);
        }

        if (moe.SharedExpertGate)
        {
            b.Add(p + "mlp.shared_expert_gate.weight", TensorGroup.Mlp, l, 1, spec.Hidden);
        }
    }

    /// <summary>One expert's Linear layer: weight [out, in] and, when <paramref name="bias"/>, bias [out].</summary>
    /// <remarks>The name is one concatenation (prefix, linear, suffix): a model near the tensor bound has ~10^5 of these.</remarks>
    private static void AddExpert(InventoryBuilder b, string prefix, string linear, int layer, int experts, int active, long outDim, long inDim, bool bias)
    {
        b.AddExpert(string.Concat(prefix, linear, ".weight"), layer, experts, active, outDim, inDim);
        if (bias)
        {
            b.AddExpert(string.Concat(prefix, linear, ".bias"), layer, experts, active, outDim);
        }
    }

    private static void AddHead(InventoryBuilder b, ArchitectureSpec spec, DecoderDetails d)
    {
        switch (d.Head)
        {
            case DecoderHead.CausalLm when !spec.TiedEmbeddings:
                AddLinear(b, d.HeadName[..^".weight".Length], TensorGroup.LmHead, null, spec.Vocab, spec.Hidden, d.HeadBias);
                break;
            case DecoderHead.SequenceClassification:
            case DecoderHead.TokenClassification:
                AddLinear(b, "score", TensorGroup.LmHead, null, d.Labels, spec.Hidden, d.Head == DecoderHead.TokenClassification);
                break;
            default:
                break;
        }
    }
}
