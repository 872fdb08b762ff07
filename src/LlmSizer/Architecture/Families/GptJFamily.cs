using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>GPT-J (<c>GPTJForCausalLM</c>): parallel attention and MLP after one LayerNorm, bias-free q/k/v/out
/// projections, MLP biases, partial rotary embeddings (no parameters), an untied LM head with a bias.</summary>
/// <remarks>Defaults are those of transformers' <c>GPTJConfig</c>: vocab 50400, <c>n_positions</c> 2048, <c>n_embd</c> 4096,
/// <c>n_layer</c> 28, <c>n_head</c> 16, <c>rotary_dim</c> 64, <c>n_inner</c> null (4 × <c>n_embd</c>),
/// <c>tie_word_embeddings</c> false. The stored <c>attn.bias</c>, <c>attn.masked_bias</c> and <c>embed_positions</c>
/// are buffers and are not generated.</remarks>
internal sealed class GptJFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["gptj"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var hidden = IntOr(config, 4096, "n_embd", "hidden_size");
        var heads = IntOr(config, 16, "n_head", "num_attention_heads");
        var headDim = HeadWidth(config, hidden, heads, headsKey: config.FirstPresent("n_head", "num_attention_heads") ?? "n_head");
        return DenseSpec(
            config, "gptj", Layers(config, 28, "n_layer", "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: config.OptionalInt("n_inner") ?? checked(4 * hidden),
            vocab: config.IntOr("vocab_size", 50400),
            maxPositions: IntOr(config, 2048, "n_positions", "max_position_embeddings"),
            tied: config.Bool("tie_word_embeddings", false),
            new GptJDetails(Head(config), config.OptionalNonNegativeInt("rotary_dim") ?? 64));
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var details = spec.Details as GptJDetails ?? new GptJDetails(ModelHead.LanguageModel, 64);
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, inner = spec.Intermediate;
        var p = Prefix(details.Head, "transformer.");
        b.Add(p + "wte.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}h.{l}.";
            LayerNorm(b, lp + "ln_1", l, h);
            Linear(b, lp + "attn.k_proj", TensorGroup.Attention, l, q, h, bias: false);
            Linear(b, lp + "attn.v_proj", TensorGroup.Attention, l, q, h, bias: false);
            Linear(b, lp + "attn.q_proj", TensorGroup.Attention, l, q, h, bias: false);
            Linear(b, lp + "attn.out_proj", TensorGroup.Attention, l, h, q, bias: false);
            Linear(b, lp + "mlp.fc_in", TensorGroup.Mlp, l, inner, h);
            Linear(b, lp + "mlp.fc_out", TensorGroup.Mlp, l, h, inner);
        }

        LayerNorm(b, p + "ln_f", null, h);

        // GPTJForCausalLM: lm_head = nn.Linear(n_embd, vocab_size), bias included.
        // GPTJForQuestionAnswering: qa_outputs = nn.Linear(hidden_size, num_labels).
        DecoderHead(b, spec, details.Head, h, lmHeadBias: true, qaUsesLabels: true);
        return b.Build();
    }
}

/// <summary>GPT-J specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="RotaryDim">Dimensions per head that get rotary embeddings (no parameters).</param>
public sealed record GptJDetails(ModelHead Head, int RotaryDim) : FamilyDetails;
