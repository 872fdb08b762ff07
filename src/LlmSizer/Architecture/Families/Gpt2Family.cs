using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>GPT-2 (<c>GPT2LMHeadModel</c>, <c>GPT2Model</c>, ...): learned positions, pre-LayerNorm blocks whose linear
/// layers are <c>Conv1D</c> (weights stored [in, out]), biases everywhere, a tied LM head.</summary>
/// <remarks>Defaults are those of transformers' <c>GPT2Config</c>: vocab 50257, <c>n_positions</c> 1024, <c>n_embd</c> 768,
/// <c>n_layer</c> 12, <c>n_head</c> 12, <c>n_inner</c> null (4 × <c>n_embd</c>), <c>tie_word_embeddings</c> true
/// (the <c>PretrainedConfig</c> default). The <c>attn.bias</c> / <c>attn.masked_bias</c> causal masks that old
/// checkpoints store are buffers, not parameters, and are not generated. Names are those of the module's state dict
/// (<c>transformer.h.0.attn.c_attn.weight</c>); the original openai-community files were saved from the bare
/// <c>GPT2Model</c> and carry the same names without the <c>transformer.</c> prefix.</remarks>
internal sealed class Gpt2Family : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["gpt2"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var hidden = IntOr(config, 768, "n_embd", "hidden_size");
        var heads = IntOr(config, 12, "n_head", "num_attention_heads");
        var headDim = HeadWidth(config, hidden, heads, headsKey: config.FirstPresent("n_head", "num_attention_heads") ?? "n_head");
        return DenseSpec(
            config, "gpt2", Layers(config, 12, "n_layer", "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: config.OptionalInt("n_inner") ?? checked(4 * hidden),
            vocab: config.IntOr("vocab_size", 50257),
            maxPositions: IntOr(config, 1024, "n_positions", "max_position_embeddings"),
            tied: config.Bool("tie_word_embeddings", true),
            new Gpt2Details(Head(config), config.Bool("add_cross_attention", false)));
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var details = spec.Details as Gpt2Details ?? new Gpt2Details(ModelHead.LanguageModel, false);
        var b = new InventoryBuilder();
        long h = spec.Hidden, inner = spec.Intermediate;

        // GPT-2 reads give heads × head_dim = hidden and KV heads = heads, so c_attn is [h, 3h] and c_proj [h, h];
        // hand-described (manual) specs may narrow the heads or group the KV heads.
        long q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        bool bias = details.Biases;
        var p = Prefix(details.Head, "transformer.");
        b.Add(p + "wte.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        if (details.LearnedPositions)
        {
            b.Add(p + "wpe.weight", TensorGroup.Embedding, null, spec.MaxPositions ?? 1024, h);
        }

        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}h.{l}.";
            LayerNorm(b, lp + "ln_1", l, h);
            Conv1D(b, lp + "attn.c_attn", TensorGroup.Attention, l, h, q + (2 * kv), bias);
            Conv1D(b, lp + "attn.c_proj", TensorGroup.Attention, l, q, h, bias);
            if (details.CrossAttention)
            {
                // GPT2Attention(is_cross_attention=True): c_attn projects keys and values only; q_attn the queries.
                Conv1D(b, lp + "crossattention.c_attn", TensorGroup.Attention, l, h, 2 * h);
                Conv1D(b, lp + "crossattention.q_attn", TensorGroup.Attention, l, h, h);
                Conv1D(b, lp + "crossattention.c_proj", TensorGroup.Attention, l, h, h);
                LayerNorm(b, lp + "ln_cross_attn", l, h);
            }

            LayerNorm(b, lp + "ln_2", l, h);
            Conv1D(b, lp + "mlp.c_fc", TensorGroup.Mlp, l, h, inner, bias);
            Conv1D(b, lp + "mlp.c_proj", TensorGroup.Mlp, l, inner, h, bias);
        }

        LayerNorm(b, p + "ln_f", null, h);
        if (details.Head.Kind == HeadKind.MultipleChoice)
        {
            // GPT2DoubleHeadsModel: the tied LM head plus a SequenceSummary projecting to one logit per choice
            // (its __init__ sets config.num_labels = 1).
            DecoderHead(b, spec, ModelHead.LanguageModel, h);
            Linear(b, "multiple_choice_head.summary", TensorGroup.LmHead, null, 1, h);
        }
        else
        {
            DecoderHead(b, spec, details.Head, h);
        }

        return b.Build();
    }
}

/// <summary>GPT-2 specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="CrossAttention">Whether blocks carry cross-attention (<c>add_cross_attention</c>).</param>
public sealed record Gpt2Details(ModelHead Head, bool CrossAttention) : FamilyDetails
{
    /// <summary>Biases on the <c>Conv1D</c> layers (c_attn, c_proj, c_fc). True for every GPT-2 config; only
    /// hand-described architectures (<see cref="ManualArchitecture.Bias"/>) turn it off.</summary>
    public bool Biases { get; init; } = true;

    /// <summary>The learned position table <c>wpe</c> of <see cref="ArchitectureSpec.MaxPositions"/> rows. True for every
    /// GPT-2 config; only hand-described architectures (<see cref="ManualArchitecture.LearnedPositions"/>) turn it off.</summary>
    public bool LearnedPositions { get; init; } = true;
}
