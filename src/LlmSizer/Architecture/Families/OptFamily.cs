using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>OPT (<c>OPTForCausalLM</c>): learned positions with an offset of 2 rows, biases everywhere, a tied LM head,
/// and — when <c>word_embed_proj_dim</c> differs from the hidden size (opt-350m) — bias-free <c>project_in</c> and
/// <c>project_out</c> between the embedding width and the hidden size.</summary>
/// <remarks>Defaults are those of transformers' <c>OPTConfig</c>: vocab 50272, hidden 768, 12 layers, 12 heads,
/// <c>ffn_dim</c> 3072, <c>max_position_embeddings</c> 2048, <c>do_layer_norm_before</c> true,
/// <c>_remove_final_layer_norm</c> false, <c>word_embed_proj_dim</c> = hidden, <c>enable_bias</c> true,
/// <c>layer_norm_elementwise_affine</c> true, <c>tie_word_embeddings</c> true. <c>OPTLearnedPositionalEmbedding</c>
/// holds <c>max_position_embeddings + 2</c> rows. The final LayerNorm exists only when <c>do_layer_norm_before</c>
/// (so opt-350m has none).</remarks>
internal sealed class OptFamily : IArchitectureFamily
{
    /// <summary>The rows OPT's learned positions hold beyond <c>max_position_embeddings</c> (a fairseq legacy).</summary>
    public const int PositionOffset = 2;

    public IReadOnlyList<string> ModelTypes { get; } = ["opt"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var hidden = config.IntOr("hidden_size", 768);
        var heads = config.IntOr("num_attention_heads", 12);
        var headDim = HeadWidth(config, hidden, heads);
        var preNorm = config.Bool("do_layer_norm_before", true);
        var details = new OptDetails(
            Head(config),
            WordEmbedProjDim: config.OptionalInt("word_embed_proj_dim") ?? hidden,
            FinalLayerNorm: preNorm && !config.Bool("_remove_final_layer_norm", false),
            Bias: config.Bool("enable_bias", true),
            LayerNormAffine: config.Bool("layer_norm_elementwise_affine", true));
        return DenseSpec(
            config, "opt", Layers(config, 12, "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: config.IntOr("ffn_dim", 3072),
            vocab: config.IntOr("vocab_size", 50272),
            maxPositions: config.IntOr("max_position_embeddings", 2048),
            tied: config.Bool("tie_word_embeddings", true),
            details);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as OptDetails ?? new OptDetails(ModelHead.LanguageModel, spec.Hidden, true, true, true);
        var b = new InventoryBuilder();
        long h = spec.Hidden, proj = d.WordEmbedProjDim, i = spec.Intermediate;
        var p = Prefix(d.Head, "model.") + "decoder.";
        b.Add(p + "embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, proj);
        b.Add(p + "embed_positions.weight", TensorGroup.Embedding, null, checked((spec.MaxPositions ?? 2048) + PositionOffset), h);
        if (proj != h)
        {
            Linear(b, p + "project_out", TensorGroup.Other, null, proj, h, bias: false);
            Linear(b, p + "project_in", TensorGroup.Other, null, h, proj, bias: false);
        }

        if (d.FinalLayerNorm && d.LayerNormAffine)
        {
            LayerNorm(b, p + "final_layer_norm", null, h);
        }

        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}layers.{l}.";
            foreach (var name in (ReadOnlySpan<string>)["k_proj", "v_proj", "q_proj", "out_proj"])
            {
                Linear(b, lp + "self_attn." + name, TensorGroup.Attention, l, h, h, d.Bias);
            }

            if (d.LayerNormAffine)
            {
                LayerNorm(b, lp + "self_attn_layer_norm", l, h);
                LayerNorm(b, lp + "final_layer_norm", l, h);
            }

            Linear(b, lp + "fc1", TensorGroup.Mlp, l, i, h, d.Bias);
            Linear(b, lp + "fc2", TensorGroup.Mlp, l, h, i, d.Bias);
        }

        // Every OPT head (lm_head, score, qa_outputs) reads the projected width word_embed_proj_dim.
        DecoderHead(b, spec, d.Head, proj);
        return b.Build();
    }
}

/// <summary>OPT specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="WordEmbedProjDim">The token-embedding width (<c>word_embed_proj_dim</c>).</param>
/// <param name="FinalLayerNorm">Whether the decoder has a final LayerNorm.</param>
/// <param name="Bias">Whether the linear layers have biases (<c>enable_bias</c>).</param>
/// <param name="LayerNormAffine">Whether LayerNorms have weights and biases (<c>layer_norm_elementwise_affine</c>).</param>
public sealed record OptDetails(ModelHead Head, int WordEmbedProjDim, bool FinalLayerNorm, bool Bias, bool LayerNormAffine) : FamilyDetails;
