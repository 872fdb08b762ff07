using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>T5, T5 v1.1 / Flan-T5, mT5 and UMT5 (<c>T5ForConditionalGeneration</c>, <c>T5Model</c>, <c>T5EncoderModel</c>, classifiers): an
/// encoder–decoder with a shared embedding, bias-free projections, RMS-style layer norms (weight only), a
/// relative-attention bias table in block 0 of each stack only, cross-attention in every decoder block, and a dense
/// (<c>wi</c>, <c>wo</c>) or gated (<c>wi_0</c>, <c>wi_1</c>, <c>wo</c>) feed-forward.</summary>
/// <remarks>Defaults are those of transformers' <c>T5Config</c>: vocab 32128, <c>d_model</c> 512, <c>d_kv</c> 64,
/// <c>d_ff</c> 2048, <c>num_layers</c> 6, <c>num_decoder_layers</c> = <c>num_layers</c>, <c>num_heads</c> 8,
/// <c>relative_attention_num_buckets</c> 32, <c>feed_forward_proj</c> "relu", <c>tie_word_embeddings</c> true.
/// <c>MT5Config</c> and <c>UMT5Config</c> differ: vocab 250112, <c>d_ff</c> 1024, <c>num_layers</c> 8, <c>num_heads</c> 6,
/// "gated-gelu", and <c>tie_word_embeddings</c> false (mt5) or true (umt5); UMT5 has a relative-attention table in
/// every self-attention, not in block 0 only. The attribute_map aliases (<c>hidden_size</c>, <c>num_attention_heads</c>,
/// <c>num_hidden_layers</c>, <c>head_dim</c>) are read too.
/// <para>Convention: only the two self-attention tables are parameters (encoder and decoder block 0, layer 0), as
/// <c>T5Attention(has_relative_attention_bias=...)</c> builds them. The original t5-* checkpoints also store an unused
/// <c>decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight</c> (buckets × heads elements), which
/// transformers ignores on load (<c>_keys_to_ignore_on_load_unexpected</c>); it is not counted, in agreement with the
/// published counts (t5-small 60,506,624). <c>encoder.embed_tokens</c> and <c>decoder.embed_tokens</c> are the same
/// matrix as <c>shared</c> and are counted once.</para></remarks>
internal sealed class T5Family : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["t5", "mt5", "umt5"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        // MT5Config and UMT5Config (transformers configuration_mt5.py / configuration_umt5.py) share T5's layout but
        // not its defaults: vocab 250112, d_ff 1024, num_layers 8, num_heads 6, feed_forward_proj "gated-gelu";
        // tie_word_embeddings is false for mt5 and true for umt5. UMT5 gives every self-attention its own
        // relative-attention table (UMT5LayerSelfAttention: has_relative_attention_bias=True).
        // The registry matches model_type case-insensitively; so does this.
        var modelType = (config.String("model_type") ?? "t5").ToLowerInvariant();
        var multilingual = modelType is "mt5" or "umt5";
        var everyLayerTable = modelType == "umt5";
        var projection = config.String("feed_forward_proj") ?? (multilingual ? "gated-gelu" : "relu");
        var parts = projection.Split('-');
        if (parts.Length > 2 || (parts.Length == 2 && parts[0] != "gated") || parts[^1].Length == 0)
        {
            // T5Config.__init__ raises the same: "`feed_forward_proj`: ... is not a valid activation function".
            throw config.Error("feed_forward_proj", $"expected an activation (e.g. \"relu\") or \"gated-<activation>\" (e.g. \"gated-gelu\"); found \"{projection}\"");
        }

        var gated = parts.Length == 2;
        var head = Head(config);
        // T5EncoderModel and T5ForTokenClassification (a T5EncoderModel plus a classifier) have no decoder.
        var encoderOnly = head.Kind is HeadKind.EncoderOnly or HeadKind.TokenClassification;
        // T5Config.attribute_map: hidden_size -> d_model, num_attention_heads -> num_heads,
        // num_hidden_layers -> num_layers, head_dim -> d_kv (the same in MT5Config and UMT5Config).
        var layers = Layers(config, multilingual ? 8 : 6, "num_layers", "num_hidden_layers");
        var heads = IntOr(config, multilingual ? 6 : 8, "num_heads", "num_attention_heads");
        return new ArchitectureSpec
        {
            Family = "t5",
            ModelClass = ModelClass(config),
            Source = config.FilePath,
            Layers = layers,
            DecoderLayers = encoderOnly ? null : Layers(config, layers, "num_decoder_layers"),
            Hidden = IntOr(config, 512, "d_model", "hidden_size"),
            Heads = heads,
            KvHeads = heads,
            HeadDim = IntOr(config, 64, "d_kv", "head_dim"),
            Intermediate = config.IntOr("d_ff", multilingual ? 1024 : 2048),
            Vocab = config.IntOr("vocab_size", multilingual ? 250112 : 32128),
            MaxPositions = config.OptionalInt("n_positions"),
            TiedEmbeddings = config.Bool("tie_word_embeddings", modelType != "mt5"),
            Mlp = gated ? MlpKind.Gated : MlpKind.Dense,
            Norm = NormKind.RmsNorm,
            IsEncoderOnly = encoderOnly,
            TorchDtype = TorchDtype(config),
            Details = new T5Details(head, config.IntOr("relative_attention_num_buckets", 32), projection) { TableInEveryLayer = everyLayerTable },
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as T5Details ?? new T5Details(ModelHead.LanguageModel, 32, spec.Mlp == MlpKind.Gated ? "gated-gelu" : "relu");
        var b = new InventoryBuilder();
        long h = spec.Hidden;

        // T5ForSequenceClassification wraps a T5Model and T5ForTokenClassification a T5EncoderModel as "transformer".
        var p = d.Head.Kind is HeadKind.SequenceClassification or HeadKind.TokenClassification ? "transformer." : "";
        b.Add(p + "shared.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        Stack(b, spec, d, p + "encoder.", spec.Layers, decoder: false);
        if (spec.DecoderLayers is int decoderLayers && d.Head.Kind is not (HeadKind.EncoderOnly or HeadKind.TokenClassification))
        {
            Stack(b, spec, d, p + "decoder.", decoderLayers, decoder: true);
        }

        switch (d.Head.Kind)
        {
            case HeadKind.BaseModel:
            case HeadKind.EncoderOnly:
                break;
            case HeadKind.SequenceClassification:
                // T5ClassificationHead: dense (d_model -> d_model) and out_proj (d_model -> num_labels), with biases.
                Linear(b, "classification_head.dense", TensorGroup.LmHead, null, h, h);
                Linear(b, "classification_head.out_proj", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            case HeadKind.TokenClassification:
                Linear(b, "classifier", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            case HeadKind.QuestionAnswering:
                // T5ForQuestionAnswering: qa_outputs = nn.Linear(d_model, num_labels).
                Linear(b, "qa_outputs", TensorGroup.LmHead, null, d.Head.Labels, h);
                break;
            default:
                if (!spec.TiedEmbeddings)
                {
                    b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
                }

                break;
        }

        return b.Build();
    }

    private static void Stack(InventoryBuilder b, ArchitectureSpec spec, T5Details d, string p, int layers, bool decoder)
    {
        long h = spec.Hidden, inner = (long)spec.Heads * spec.HeadDim, ff = spec.Intermediate;

        // Tensors of the decoder's layers are indexed after the encoder's, so the per-layer breakdown keeps them apart.
        int offset = decoder ? spec.Layers : 0;
        for (int l = 0; l < layers; l++)
        {
            var lp = $"{p}block.{l}.layer.";
            int tag = offset + l;
            Attention(b, lp + "0.SelfAttention.", tag, h, inner);
            if (l == 0 || d.TableInEveryLayer)
            {
                b.Add(lp + "0.SelfAttention.relative_attention_bias.weight", TensorGroup.Attention, tag, d.RelativeBuckets, spec.Heads);
            }

            b.Add(lp + "0.layer_norm.weight", TensorGroup.Norm, tag, h);
            int ffLayer = 1;
            if (decoder)
            {
                Attention(b, lp + "1.EncDecAttention.", tag, h, inner);
                b.Add(lp + "1.layer_norm.weight", TensorGroup.Norm, tag, h);
                ffLayer = 2;
            }

            var fp = $"{lp}{ffLayer}.DenseReluDense.";
            if (spec.Mlp == MlpKind.Gated)
            {
                b.Add(fp + "wi_0.weight", TensorGroup.Mlp, tag, ff, h);
                b.Add(fp + "wi_1.weight", TensorGroup.Mlp, tag, ff, h);
            }
            else
            {
                b.Add(fp + "wi.weight", TensorGroup.Mlp, tag, ff, h);
            }

            b.Add(fp + "wo.weight", TensorGroup.Mlp, tag, h, ff);
            b.Add($"{lp}{ffLayer}.layer_norm.weight", TensorGroup.Norm, tag, h);
        }

        b.Add(p + "final_layer_norm.weight", TensorGroup.Norm, null, h);
    }

    private static void Attention(InventoryBuilder b, string p, int layer, long h, long inner)
    {
        b.Add(p + "q.weight", TensorGroup.Attention, layer, inner, h);
        b.Add(p + "k.weight", TensorGroup.Attention, layer, inner, h);
        b.Add(p + "v.weight", TensorGroup.Attention, layer, inner, h);
        b.Add(p + "o.weight", TensorGroup.Attention, layer, h, inner);
    }
}

/// <summary>T5 specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c> (<c>T5EncoderModel</c> drops the decoder).</param>
/// <param name="RelativeBuckets">Rows of each relative-attention bias table (<c>relative_attention_num_buckets</c>).</param>
/// <param name="FeedForwardProjection">The <c>feed_forward_proj</c> value ("relu", "gated-gelu", ...).</param>
public sealed record T5Details(ModelHead Head, int RelativeBuckets, string FeedForwardProjection) : FamilyDetails
{
    /// <summary>Whether every self-attention has its own relative-attention table (UMT5) rather than block 0 only.</summary>
    public bool TableInEveryLayer { get; init; }
}
