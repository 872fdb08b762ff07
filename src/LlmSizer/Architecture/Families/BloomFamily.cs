using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>BLOOM (<c>BloomForCausalLM</c>): ALiBi (no position parameters), a LayerNorm right after the word
/// embeddings, fused QKV with biases, a 4 × hidden dense MLP, a tied LM head.</summary>
/// <remarks>Defaults are those of transformers' <c>BloomConfig</c>: vocab 250880, hidden 64 (also read from the legacy
/// <c>n_embed</c>), <c>n_layer</c> 2, <c>n_head</c> 8, <c>tie_word_embeddings</c> true. The MLP width is always
/// 4 × hidden (<c>BloomMLP</c>).</remarks>
internal sealed class BloomFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["bloom"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        // BloomConfig.__init__ pops n_embed and prefers it over hidden_size.
        var hidden = IntOr(config, 64, "n_embed", "hidden_size");
        var headsKey = config.FirstPresent("n_head", "num_attention_heads") ?? "n_head";
        var heads = IntOr(config, 8, "n_head", "num_attention_heads");
        var headDim = HeadWidth(config, hidden, heads, headsKey: headsKey);
        return DenseSpec(
            config, "bloom", Layers(config, 2, "n_layer", "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: checked(4 * hidden),
            vocab: config.IntOr("vocab_size", 250880),
            maxPositions: null,
            tied: config.Bool("tie_word_embeddings", true),
            new BloomDetails(Head(config)));
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var head = (spec.Details as BloomDetails)?.Head ?? ModelHead.LanguageModel;
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim;
        var p = Prefix(head, "transformer.");
        b.Add(p + "word_embeddings.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        LayerNorm(b, p + "word_embeddings_layernorm", null, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}h.{l}.";
            LayerNorm(b, lp + "input_layernorm", l, h);
            LayerNorm(b, lp + "post_attention_layernorm", l, h);
            FusedQkvBlock(b, lp, "self_attention", l, h, 3 * q, q, spec.Intermediate, attnBias: true, mlpBias: true);
        }

        LayerNorm(b, p + "ln_f", null, h);
        DecoderHead(b, spec, head, h);
        return b.Build();
    }
}

/// <summary>BLOOM specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
public sealed record BloomDetails(ModelHead Head) : FamilyDetails;
