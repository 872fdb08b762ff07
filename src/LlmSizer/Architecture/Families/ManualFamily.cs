using System.Collections.Immutable;
using System.Globalization;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>A transformer described by numbers given by hand (the <c>llmsize params --layers ...</c> flags), for users
/// without a config file. <see cref="ToSpec"/> validates every number and names the flag at fault.</summary>
/// <remarks>Two layouts: GPT-style (<see cref="Gated"/> false, LayerNorm, no experts: GPT-2's tensor names, fused QKV,
/// 2-matrix MLP) and Llama-style (gated MLP, RMSNorm, or experts: Llama/Mixtral tensor names).</remarks>
public sealed record ManualArchitecture
{
    /// <summary>Transformer layers (<c>--layers</c>).</summary>
    public required int Layers { get; init; }

    /// <summary>The hidden size (<c>--hidden</c>).</summary>
    public required int Hidden { get; init; }

    /// <summary>Query heads (<c>--heads</c>).</summary>
    public required int Heads { get; init; }

    /// <summary>The vocabulary size (<c>--vocab</c>).</summary>
    public required int Vocab { get; init; }

    /// <summary>Key/value heads (<c>--kv-heads</c>); null means equal to <see cref="Heads"/> (MHA).</summary>
    public int? KvHeads { get; init; }

    /// <summary>The MLP intermediate size (<c>--intermediate</c>); null means 4 × hidden.</summary>
    public int? Intermediate { get; init; }

    /// <summary>A gated 3-matrix MLP (<c>--gated</c>) instead of a 2-matrix one.</summary>
    public bool Gated { get; init; }

    /// <summary>The output head shares the token embedding (<c>--tied</c>).</summary>
    public bool Tied { get; init; }

    /// <summary>The per-head dimension (<c>--head-dim</c>); null means hidden / heads.</summary>
    public int? HeadDim { get; init; }

    /// <summary>Biases on every linear layer (<c>--bias</c>).</summary>
    public bool Bias { get; init; }

    /// <summary>The norm kind (<c>--norm</c>); null means LayerNorm for the GPT-style layout, RMSNorm otherwise.</summary>
    public NormKind? Norm { get; init; }

    /// <summary>The context length (<c>--max-positions</c>).</summary>
    public int? MaxPositions { get; init; }

    /// <summary>Learned absolute position embeddings of <see cref="MaxPositions"/> rows (<c>--learned-positions</c>).</summary>
    public bool LearnedPositions { get; init; }

    /// <summary>Routed experts per layer (<c>--experts</c>), or null for a dense model.</summary>
    public int? Experts { get; init; }

    /// <summary>Experts per token (<c>--top-k</c>).</summary>
    public int? TopK { get; init; }

    /// <summary>The intermediate size of one expert (<c>--expert-intermediate</c>); null means <see cref="Intermediate"/>.</summary>
    public int? ExpertIntermediate { get; init; }

    /// <summary>Validates the numbers and builds the spec of family "manual".</summary>
    /// <param name="source">The name to record as the spec's source.</param>
    /// <returns>The spec.</returns>
    /// <exception cref="InvalidSettingException">A number is not a positive integer, heads do not divide the hidden
    /// size (without <c>--head-dim</c>), KV heads do not divide heads, or the MoE flags are incomplete.</exception>
    public ArchitectureSpec ToSpec(string source = "manual")
    {
        Positive("--layers", Layers);
        Positive("--hidden", Hidden);
        Positive("--heads", Heads);
        Positive("--vocab", Vocab);
        var kvHeads = KvHeads ?? Heads;
        Positive("--kv-heads", kvHeads);
        if (HeadDim is int hd)
        {
            Positive("--head-dim", hd);
        }
        else if (Hidden % Heads != 0)
        {
            throw new InvalidSettingException("--heads", $"--heads: expected a positive integer that divides --hidden ({N(Hidden)}), or give --head-dim; found {N(Heads)}.");
        }

        if (kvHeads > Heads || Heads % kvHeads != 0)
        {
            throw new InvalidSettingException("--kv-heads", $"--kv-heads: expected a positive integer that divides --heads ({N(Heads)}); found {N(kvHeads)}.");
        }

        var intermediate = Intermediate ?? checked(4 * Hidden);
        Positive("--intermediate", intermediate);
        if (MaxPositions is int mp)
        {
            Positive("--max-positions", mp);
        }

        if (LearnedPositions && MaxPositions is null)
        {
            throw new InvalidSettingException("--learned-positions", "--learned-positions: expected --max-positions N (the rows of the position table); found none.");
        }

        MoeSpec? moe = null;
        if (Experts is not null || TopK is not null || ExpertIntermediate is not null)
        {
            var experts = Experts ?? throw new InvalidSettingException("--experts", "--experts: expected the number of experts with --top-k/--expert-intermediate; found none.");
            var topK = TopK ?? throw new InvalidSettingException("--top-k", "--top-k: expected the experts used per token with --experts; found none.");
            Positive("--experts", experts);
            Positive("--top-k", topK);
            if (topK > experts)
            {
                throw new InvalidSettingException("--top-k", $"--top-k: expected at most --experts ({N(experts)}); found {N(topK)}.");
            }

            var expertIntermediate = ExpertIntermediate ?? intermediate;
            Positive("--expert-intermediate", expertIntermediate);
            moe = new MoeSpec
            {
                Experts = experts,
                ActiveExperts = topK,
                ExpertIntermediate = expertIntermediate,
                MoeLayers = [.. Enumerable.Repeat(true, Layers)],
            };
        }

        var gptStyle = !Gated && moe is null && Norm is null or NormKind.LayerNorm;
        return new ArchitectureSpec
        {
            Family = ManualFamily.FamilyName,
            ModelClass = gptStyle ? "GPT2LMHeadModel" : "LlamaForCausalLM",
            Source = source,
            Layers = Layers,
            Hidden = Hidden,
            Heads = Heads,
            KvHeads = kvHeads,
            HeadDim = HeadDim ?? Hidden / Heads,
            Intermediate = intermediate,
            Vocab = Vocab,
            MaxPositions = MaxPositions,
            TiedEmbeddings = Tied,
            Mlp = Gated ? MlpKind.Gated : MlpKind.Dense,
            Norm = Norm ?? (gptStyle ? NormKind.LayerNorm : NormKind.RmsNorm),
            Moe = moe,
            Details = new ManualDetails(gptStyle, Bias, LearnedPositions),
        };
    }

    private static void Positive(string flag, int value)
    {
        if (value <= 0)
        {
            throw new InvalidSettingException(flag, $"{flag}: expected a positive integer; found {N(value)}.");
        }
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The layout choices of a manual architecture.</summary>
/// <param name="GptStyle">GPT-2 names and fused QKV (true) or Llama names (false).</param>
/// <param name="Bias">Biases on every linear layer.</param>
/// <param name="LearnedPositions">A learned absolute position table of <see cref="ArchitectureSpec.MaxPositions"/> rows.</param>
public sealed record ManualDetails(bool GptStyle, bool Bias, bool LearnedPositions) : FamilyDetails;

/// <summary>The generator of manual architectures (family "manual"). It is not bound to a config <c>model_type</c>:
/// specs come from <see cref="ManualArchitecture.ToSpec"/>.</summary>
public sealed class ManualFamily : IArchitectureFamily
{
    /// <summary>The family key of manual specs.</summary>
    public const string FamilyName = "manual";

    /// <summary>The shared instance.</summary>
    public static ManualFamily Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<string> ModelTypes { get; } = [FamilyName];

    /// <inheritdoc/>
    public string DisplayName => "Manual";

    /// <inheritdoc/>
    /// <remarks>Reads the flag names as JSON keys: <c>layers, hidden, heads, vocab, kv_heads, intermediate, gated, tied,
    /// head_dim, bias, norm, max_positions, learned_positions, experts, top_k, expert_intermediate</c>.</remarks>
    public ArchitectureSpec Read(ConfigObject config)
    {
        var norm = config.String("norm");
        var manual = new ManualArchitecture
        {
            Layers = config.Int("layers"),
            Hidden = config.Int("hidden"),
            Heads = config.Int("heads"),
            Vocab = config.Int("vocab"),
            KvHeads = config.OptionalInt("kv_heads"),
            Intermediate = config.OptionalInt("intermediate"),
            Gated = config.Bool("gated", false),
            Tied = config.Bool("tied", false),
            HeadDim = config.OptionalInt("head_dim"),
            Bias = config.Bool("bias", false),
            Norm = norm switch
            {
                null => null,
                "layernorm" => NormKind.LayerNorm,
                "rmsnorm" => NormKind.RmsNorm,
                _ => throw config.Error("norm", $"expected \"layernorm\" or \"rmsnorm\"; found \"{norm}\""),
            },
            MaxPositions = config.OptionalInt("max_positions"),
            LearnedPositions = config.Bool("learned_positions", false),
            Experts = config.OptionalInt("experts"),
            TopK = config.OptionalInt("top_k"),
            ExpertIntermediate = config.OptionalInt("expert_intermediate"),
        };
        return manual.ToSpec(config.FilePath);
    }

    /// <inheritdoc/>
    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var details = spec.Details as ManualDetails ?? new ManualDetails(spec.Mlp == MlpKind.Dense && spec.Moe is null && spec.Norm == NormKind.LayerNorm, false, false);
        return details.GptStyle ? GenerateGpt(spec, details) : GenerateLlama(spec, details);
    }

    // GPT-2 layout (transformers GPT2LMHeadModel): Conv1D weights are stored [in, out]; c_attn fuses q, k and v.
    private static TensorInventory GenerateGpt(ArchitectureSpec spec, ManualDetails d)
    {
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim, i = spec.Intermediate;
        b.Add("transformer.wte.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        if (d.LearnedPositions && spec.MaxPositions is int positions)
        {
            b.Add("transformer.wpe.weight", TensorGroup.Embedding, null, positions, h);
        }

        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"transformer.h.{l}.";
            AddNorm(b, spec, p + "ln_1", l, h);
            b.Add(p + "attn.c_attn.weight", TensorGroup.Attention, l, h, q + (2 * kv));
            if (d.Bias)
            {
                b.Add(p + "attn.c_attn.bias", TensorGroup.Attention, l, q + (2 * kv));
            }

            b.Add(p + "attn.c_proj.weight", TensorGroup.Attention, l, q, h);
            if (d.Bias)
            {
                b.Add(p + "attn.c_proj.bias", TensorGroup.Attention, l, h);
            }

            AddNorm(b, spec, p + "ln_2", l, h);
            b.Add(p + "mlp.c_fc.weight", TensorGroup.Mlp, l, h, i);
            if (d.Bias)
            {
                b.Add(p + "mlp.c_fc.bias", TensorGroup.Mlp, l, i);
            }

            b.Add(p + "mlp.c_proj.weight", TensorGroup.Mlp, l, i, h);
            if (d.Bias)
            {
                b.Add(p + "mlp.c_proj.bias", TensorGroup.Mlp, l, h);
            }
        }

        AddNorm(b, spec, "transformer.ln_f", null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    // Llama layout (transformers LlamaForCausalLM; experts as MixtralForCausalLM's block_sparse_moe).
    private static TensorInventory GenerateLlama(ArchitectureSpec spec, ManualDetails d)
    {
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim, i = spec.Intermediate;
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        if (d.LearnedPositions && spec.MaxPositions is int positions)
        {
            b.Add("model.embed_positions.weight", TensorGroup.Embedding, null, positions, h);
        }

        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            AddNorm(b, spec, p + "input_layernorm", l, h);
            Linear(b, p + "self_attn.q_proj", TensorGroup.Attention, l, q, h, d.Bias);
            Linear(b, p + "self_attn.k_proj", TensorGroup.Attention, l, kv, h, d.Bias);
            Linear(b, p + "self_attn.v_proj", TensorGroup.Attention, l, kv, h, d.Bias);
            Linear(b, p + "self_attn.o_proj", TensorGroup.Attention, l, h, q, d.Bias);
            AddNorm(b, spec, p + "post_attention_layernorm", l, h);
            if (spec.Moe is { } moe)
            {
                var m = p + "block_sparse_moe.";
                b.Add(m + "gate.weight", TensorGroup.Mlp, l, moe.Experts, h);
                long ei = moe.ExpertIntermediate;
                for (int e = 0; e < moe.Experts; e++)
                {
                    var x = $"{m}experts.{e}.";
                    Expert(b, x + "w1", l, moe, ei, h, d.Bias);
                    Expert(b, x + "w2", l, moe, h, ei, d.Bias);
                    if (spec.Mlp == MlpKind.Gated)
                    {
                        Expert(b, x + "w3", l, moe, ei, h, d.Bias);
                    }
                }
            }
            else
            {
                if (spec.Mlp == MlpKind.Gated)
                {
                    Linear(b, p + "mlp.gate_proj", TensorGroup.Mlp, l, i, h, d.Bias);
                }

                Linear(b, p + "mlp.up_proj", TensorGroup.Mlp, l, i, h, d.Bias);
                Linear(b, p + "mlp.down_proj", TensorGroup.Mlp, l, h, i, d.Bias);
            }
        }

        AddNorm(b, spec, "model.norm", null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    private static void Linear(InventoryBuilder b, string name, TensorGroup group, int layer, long rows, long cols, bool bias)
    {
        b.Add(name + ".weight", group, layer, rows, cols);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, rows);
        }
    }

    private static void Expert(InventoryBuilder b, string name, int layer, MoeSpec moe, long rows, long cols, bool bias)
    {
        b.AddExpert(name + ".weight", layer, moe.Experts, moe.ActiveExperts, rows, cols);
        if (bias)
        {
            b.AddExpert(name + ".bias", layer, moe.Experts, moe.ActiveExperts, rows);
        }
    }

    private static void AddNorm(InventoryBuilder b, ArchitectureSpec spec, string name, int? layer, long h)
    {
        b.Add(name + ".weight", TensorGroup.Norm, layer, h);
        if (spec.Norm == NormKind.LayerNorm)
        {
            b.Add(name + ".bias", TensorGroup.Norm, layer, h);
        }
    }
}
