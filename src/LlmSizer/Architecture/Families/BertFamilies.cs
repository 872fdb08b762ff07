using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>BERT (<c>BertModel</c>, <c>BertForMaskedLM</c>, <c>BertForPreTraining</c>, classifiers): an encoder with
/// word, position and token-type embeddings, post-LayerNorm blocks, biases everywhere, and a head set by
/// <c>architectures[0]</c>.</summary>
/// <remarks>Defaults are those of transformers' <c>BertConfig</c>: vocab 30522, hidden 768, 12 layers, 12 heads,
/// intermediate 3072, <c>max_position_embeddings</c> 512, <c>type_vocab_size</c> 2, <c>position_embedding_type</c>
/// "absolute", <c>tie_word_embeddings</c> true. The pooler exists in <c>BertModel</c>, <c>BertForPreTraining</c>,
/// <c>BertForSequenceClassification</c> and <c>BertForMultipleChoice</c> (they build <c>BertModel</c> with
/// <c>add_pooling_layer=True</c>) and <c>BertForNextSentencePrediction</c>, not in <c>BertForMaskedLM</c>, token classification or QA. The MLM decoder weight is
/// tied to the word embeddings; its bias is <c>cls.predictions.bias</c>, counted once.</remarks>
internal sealed class BertFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["bert"];


    public ArchitectureSpec Read(ConfigObject config) =>
        Validated(config, this, c => EncoderStack.Read(c, "bert", defaultVocab: 30522, roberta: false));

    public TensorInventory Generate(ArchitectureSpec spec) => EncoderStack.Generate(spec);
}

/// <summary>RoBERTa and XLM-RoBERTa (<c>RobertaModel</c>, <c>RobertaForMaskedLM</c>, ...): BERT's encoder under the
/// <c>roberta.</c> prefix, with RoBERTa's own heads (<c>lm_head.dense</c>/<c>layer_norm</c>/<c>bias</c>, a two-layer
/// sequence classifier and no pooler in most heads).</summary>
/// <remarks>Defaults are those of transformers' <c>RobertaConfig</c> (vocab 50265) and <c>XLMRobertaConfig</c>
/// (vocab 30522); both otherwise match <c>BertConfig</c>. Position ids start after <c>pad_token_id</c> (default 1), so
/// roberta-base's 514 position rows give a 512-token context; <see cref="ArchitectureSpec.MaxPositions"/> keeps the row count.</remarks>
internal sealed class RobertaFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["roberta", "xlm-roberta"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        // XLMRobertaConfig keeps BertConfig's default vocabulary (30522); RobertaConfig's is 50265.
        var xlm = string.Equals(config.String("model_type"), "xlm-roberta", StringComparison.OrdinalIgnoreCase);
        return Validated(config, this, c => EncoderStack.Read(c, xlm ? "xlm-roberta" : "roberta", defaultVocab: xlm ? 30522 : 50265, roberta: true));
    }

    public TensorInventory Generate(ArchitectureSpec spec) => EncoderStack.Generate(spec);
}

/// <summary>BERT/RoBERTa specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="TypeVocab">Token-type (segment) embedding rows (<c>type_vocab_size</c>).</param>
/// <param name="RelativePositions">Whether attention has a learned <c>distance_embedding</c>
/// (<c>position_embedding_type</c> "relative_key" or "relative_key_query").</param>
/// <param name="RobertaStyle">RoBERTa naming and heads rather than BERT's.</param>
public sealed record EncoderDetails(ModelHead Head, int TypeVocab, bool RelativePositions, bool RobertaStyle) : FamilyDetails;

/// <summary>The BERT-style encoder shared by <see cref="BertFamily"/> and <see cref="RobertaFamily"/>.</summary>
internal static class EncoderStack
{
    public static ArchitectureSpec Read(ConfigObject config, string family, int defaultVocab, bool roberta)
    {
        var hidden = config.IntOr("hidden_size", 768);
        var heads = config.IntOr("num_attention_heads", 12);
        var headDim = HeadWidth(config, hidden, heads);
        var positionType = config.String("position_embedding_type") ?? "absolute";
        if (positionType is not ("absolute" or "relative_key" or "relative_key_query"))
        {
            throw config.Error("position_embedding_type", $"expected \"absolute\", \"relative_key\" or \"relative_key_query\"; found \"{positionType}\"");
        }

        var maxPositions = config.IntOr("max_position_embeddings", 512);
        var details = new EncoderDetails(Head(config), config.NonNegativeIntOr("type_vocab_size", 2), positionType != "absolute", roberta);
        return DenseSpec(
            config, family, Layers(config, 12, "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: config.IntOr("intermediate_size", 3072),
            vocab: config.IntOr("vocab_size", defaultVocab),
            maxPositions: maxPositions,
            tied: config.Bool("tie_word_embeddings", true),
            details) with
        {
            IsEncoderOnly = true,
        };
    }

    public static TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as EncoderDetails ?? new EncoderDetails(new ModelHead(HeadKind.BaseModel, 2), 2, false, false);
        var b = new InventoryBuilder();
        long h = spec.Hidden, i = spec.Intermediate;
        var p = Prefix(d.Head, d.RobertaStyle ? "roberta." : "bert.");
        long positions = spec.MaxPositions ?? 512;
        b.Add(p + "embeddings.word_embeddings.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        b.Add(p + "embeddings.position_embeddings.weight", TensorGroup.Embedding, null, positions, h);
        if (d.TypeVocab > 0)
        {
            b.Add(p + "embeddings.token_type_embeddings.weight", TensorGroup.Embedding, null, d.TypeVocab, h);
        }

        LayerNorm(b, p + "embeddings.LayerNorm", null, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}encoder.layer.{l}.";
            Linear(b, lp + "attention.self.query", TensorGroup.Attention, l, h, h);
            Linear(b, lp + "attention.self.key", TensorGroup.Attention, l, h, h);
            Linear(b, lp + "attention.self.value", TensorGroup.Attention, l, h, h);
            if (d.RelativePositions)
            {
                // BertSelfAttention: nn.Embedding(2 * max_position_embeddings - 1, attention_head_size).
                b.Add(lp + "attention.self.distance_embedding.weight", TensorGroup.Attention, l, checked((2 * positions) - 1), spec.HeadDim);
            }

            Linear(b, lp + "attention.output.dense", TensorGroup.Attention, l, h, h);
            LayerNorm(b, lp + "attention.output.LayerNorm", l, h);
            Linear(b, lp + "intermediate.dense", TensorGroup.Mlp, l, i, h);
            Linear(b, lp + "output.dense", TensorGroup.Mlp, l, h, i);
            LayerNorm(b, lp + "output.LayerNorm", l, h);
        }

        if (HasPooler(d))
        {
            Linear(b, p + "pooler.dense", TensorGroup.Other, null, h, h);
        }

        AddHead(b, spec, d);
        return b.Build();
    }

    /// <summary>Which heads build the base model with its pooler (add_pooling_layer=True).</summary>
    private static bool HasPooler(EncoderDetails d) => d.Head.Kind switch
    {
        HeadKind.BaseModel or HeadKind.MultipleChoice => true,
        HeadKind.PreTraining or HeadKind.SequenceClassification or HeadKind.NextSentencePrediction => !d.RobertaStyle,
        _ => false,
    };

    private static void AddHead(InventoryBuilder b, ArchitectureSpec spec, EncoderDetails d)
    {
        long h = spec.Hidden;
        switch (d.Head.Kind)
        {
            case HeadKind.BaseModel:
            case HeadKind.EncoderOnly:
                break;
            case HeadKind.SequenceClassification when d.RobertaStyle:
                // RobertaClassificationHead: dense (h -> h) then out_proj (h -> labels).
                Linear(b, "classifier.dense", TensorGroup.LmHead, null, h, h);
                Linear(b, "classifier.out_proj", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            case HeadKind.SequenceClassification:
            case HeadKind.TokenClassification:
                Linear(b, "classifier", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            case HeadKind.MultipleChoice:
                Linear(b, "classifier", TensorGroup.LmHead, null, 1, h);
                break;
            case HeadKind.QuestionAnswering:
                // BertForQuestionAnswering / RobertaForQuestionAnswering: nn.Linear(hidden_size, num_labels).
                Linear(b, "qa_outputs", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            case HeadKind.NextSentencePrediction:
                Linear(b, "cls.seq_relationship", TensorGroup.LmHead, null, 2, h);
                break;
            default:
                MaskedLmHead(b, spec, d.RobertaStyle ? "lm_head." : "cls.predictions.", d.RobertaStyle);
                if (d.Head.Kind == HeadKind.PreTraining)
                {
                    Linear(b, "cls.seq_relationship", TensorGroup.LmHead, null, 2, h);
                }

                break;
        }
    }

    /// <summary>The MLM head: a dense transform, a LayerNorm, the decoder (tied to the word embeddings unless
    /// <c>tie_word_embeddings</c> is false) and one vocabulary bias.</summary>
    private static void MaskedLmHead(InventoryBuilder b, ArchitectureSpec spec, string p, bool roberta)
    {
        long h = spec.Hidden;
        Linear(b, p + (roberta ? "dense" : "transform.dense"), TensorGroup.LmHead, null, h, h);
        var norm = p + (roberta ? "layer_norm" : "transform.LayerNorm");
        b.Add(norm + ".weight", TensorGroup.LmHead, null, h);
        b.Add(norm + ".bias", TensorGroup.LmHead, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add(p + "decoder.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        b.Add(p + "bias", TensorGroup.LmHead, null, spec.Vocab);
    }
}
