using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>T5 and T5 v1.1 / Flan-T5 (<c>T5ForConditionalGeneration</c>, <c>T5Model</c>, <c>T5EncoderModel</c>): an
/// encoder–decoder with a shared embedding, bias-free projections, RMS-style layer norms (weight only), a
/// relative-attention bias table in block 0 of each stack only, cross-attention in every decoder block, and a dense
/// (<c>wi</c>, <c>wo</c>) or gated (<c>wi_0</c>, <c>wi_1</c>, <c>wo</c>) feed-forward.</summary>
/// <remarks>Defaults are those of transformers' <c>T5Config</c>: vocab 32128, <c>d_model</c> 512, <c>d_kv</c> 64,
/// <c>d_ff</c> 2048, <c>num_layers</c> 6, <c>num_decoder_layers</c> = <c>num_layers</c>, <c>num_heads</c> 8,
/// <c>relative_attention_num_buckets</c> 32, <c>feed_forward_proj</c> "relu", <c>tie_word_embeddings</c> true.
/// <para>Convention: only the two self-attention tables are parameters (encoder and decoder block 0, layer 0), as
/// <c>T5Attention(has_relative_attention_bias=...)</c> builds them. The original t5-* checkpoints also store an unused
/// <c>decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight</c> (buckets × heads elements), which
/// transformers ignores on load (<c>_keys_to_ignore_on_load_unexpected</c>); it is not counted, in agreement with the
/// published counts (t5-small 60,506,624). <c>encoder.embed_tokens</c> and <c>decoder.embed_tokens</c> are the same
/// matrix as <c>shared</c> and are counted once.</para></remarks>
internal sealed class T5Family : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["t5"];

    public string DisplayName => "T5";

    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var projection = config.String("feed_forward_proj") ?? "relu";
        var parts = projection.Split('-');
        if (parts.Length > 2 || (parts.Length == 2 && parts[0] != "gated") || parts[^1].Length == 0)
        {
            // T5Config.__init__ raises the same: "`feed_forward_proj`: ... is not a valid activation function".
            throw config.Error("feed_forward_proj", $"expected an activation (e.g. \"relu\") or \"gated-<activation>\" (e.g. \"gated-gelu\"); found \"{projection}\"");
        }

        var gated = parts.Length == 2;
        var head = Head(config);
        var encoderOnly = head.Kind == HeadKind.EncoderOnly;
        var layers = Layers(config, 6, "num_layers");
        var heads = config.IntOr("num_heads", 8);
        return new ArchitectureSpec
        {
            Family = "t5",
            ModelClass = ModelClass(config),
            Source = config.FilePath,
            Layers = layers,
            DecoderLayers = encoderOnly ? null : Layers(config, layers, "num_decoder_layers"),
            Hidden = config.IntOr("d_model", 512),
            Heads = heads,
            KvHeads = heads,
            HeadDim = config.IntOr("d_kv", 64),
            Intermediate = config.IntOr("d_ff", 2048),
            Vocab = config.IntOr("vocab_size", 32128),
            MaxPositions = config.OptionalInt("n_positions"),
            TiedEmbeddings = config.Bool("tie_word_embeddings", true),
            Mlp = gated ? MlpKind.Gated : MlpKind.Dense,
            Norm = NormKind.RmsNorm,
            IsEncoderOnly = encoderOnly,
            TorchDtype = TorchDtype(config),
            Details = new T5Details(head, config.IntOr("relative_attention_num_buckets", 32), projection),
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as T5Details ?? new T5Details(ModelHead.LanguageModel, 32, spec.Mlp == MlpKind.Gated ? "gated-gelu" : "relu");
        var b = new InventoryBuilder();
        b.Add("shared.weight", TensorGroup.Embedding, null, spec.Vocab, spec.Hidden);
        Stack(b, spec, d, "encoder.", spec.Layers, decoder: false);
        if (spec.DecoderLayers is int decoderLayers && d.Head.Kind != HeadKind.EncoderOnly)
        {
            Stack(b, spec, d, "decoder.", decoderLayers, decoder: true);
            if (d.Head.Kind != HeadKind.BaseModel && !spec.TiedEmbeddings)
            {
                b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, spec.Hidden);
            }
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
            if (l == 0)
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
public sealed record T5Details(ModelHead Head, int RelativeBuckets, string FeedForwardProjection) : FamilyDetails;
