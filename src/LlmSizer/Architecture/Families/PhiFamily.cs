using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>Phi-1, Phi-1.5 and Phi-2 (<c>PhiForCausalLM</c>): parallel attention and dense MLP after one LayerNorm,
/// biases on every projection, partial rotary embeddings (no parameters), a final LayerNorm and an untied LM head
/// with a bias.</summary>
/// <remarks>Defaults are those of transformers' <c>PhiConfig</c>: vocab 51200, hidden 2048, intermediate 8192, 24 layers,
/// 32 heads, <c>num_key_value_heads</c> = heads, <c>max_position_embeddings</c> 2048, <c>partial_rotary_factor</c> 0.5,
/// <c>qk_layernorm</c> false, <c>tie_word_embeddings</c> false.</remarks>
internal sealed class PhiFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["phi"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var hidden = config.IntOr("hidden_size", 2048);
        var heads = config.IntOr("num_attention_heads", 32);
        var kvHeads = config.OptionalInt("num_key_value_heads") ?? heads;
        var headDim = ConfigRules.HeadDim(config, hidden, heads);
        ConfigRules.CheckKvHeads(config, heads, kvHeads);
        var details = new PhiDetails(Head(config), Fraction(config, "partial_rotary_factor", 0.5), config.Bool("qk_layernorm", false));
        return DenseSpec(
            config, "phi", Layers(config, 24, "num_hidden_layers"), hidden, heads, kvHeads, headDim,
            intermediate: config.IntOr("intermediate_size", 8192),
            vocab: config.IntOr("vocab_size", 51200),
            maxPositions: config.IntOr("max_position_embeddings", 2048),
            tied: config.Bool("tie_word_embeddings", false),
            details);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var details = spec.Details as PhiDetails ?? new PhiDetails(ModelHead.LanguageModel, 0.5, false);
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim, i = spec.Intermediate;
        var p = Prefix(details.Head, "model.");
        b.Add(p + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}layers.{l}.";
            Linear(b, lp + "self_attn.q_proj", TensorGroup.Attention, l, q, h);
            Linear(b, lp + "self_attn.k_proj", TensorGroup.Attention, l, kv, h);
            Linear(b, lp + "self_attn.v_proj", TensorGroup.Attention, l, kv, h);
            Linear(b, lp + "self_attn.dense", TensorGroup.Attention, l, h, q);
            if (details.QkLayerNorm)
            {
                LayerNorm(b, lp + "self_attn.q_layernorm", l, spec.HeadDim);
                LayerNorm(b, lp + "self_attn.k_layernorm", l, spec.HeadDim);
            }

            Linear(b, lp + "mlp.fc1", TensorGroup.Mlp, l, i, h);
            Linear(b, lp + "mlp.fc2", TensorGroup.Mlp, l, h, i);
            LayerNorm(b, lp + "input_layernorm", l, h);
        }

        LayerNorm(b, p + "final_layernorm", null, h);

        // PhiForCausalLM: lm_head = nn.Linear(hidden_size, vocab_size, bias=True).
        DecoderHead(b, spec, details.Head, h, lmHeadBias: true);
        return b.Build();
    }
}

/// <summary>Phi specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="PartialRotaryFactor">The share of each head's dimensions that get rotary embeddings (no parameters).</param>
/// <param name="QkLayerNorm">Whether queries and keys get per-head LayerNorms.</param>
public sealed record PhiDetails(ModelHead Head, double PartialRotaryFactor, bool QkLayerNorm) : FamilyDetails;
