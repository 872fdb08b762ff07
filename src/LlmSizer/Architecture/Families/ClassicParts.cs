using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>The head a checkpoint carries on top of the base model, from <c>architectures[0]</c>.</summary>
public enum HeadKind
{
    /// <summary>A language-model head (<c>*ForCausalLM</c>, <c>*LMHeadModel</c>, <c>*ForMaskedLM</c>, <c>*ForConditionalGeneration</c>).</summary>
    LanguageModel,

    /// <summary>The bare base model (<c>GPT2Model</c>, <c>BertModel</c>, <c>T5Model</c>): no head.</summary>
    BaseModel,

    /// <summary>A sequence classifier (<c>*ForSequenceClassification</c>).</summary>
    SequenceClassification,

    /// <summary>A per-token classifier (<c>*ForTokenClassification</c>).</summary>
    TokenClassification,

    /// <summary>An extractive question-answering head (<c>*ForQuestionAnswering</c>): start/end logits.</summary>
    QuestionAnswering,

    /// <summary>BERT pre-training heads (<c>BertForPreTraining</c>): masked LM plus next-sentence prediction.</summary>
    PreTraining,

    /// <summary>BERT's next-sentence head alone (<c>BertForNextSentencePrediction</c>): pooler plus a 2-way classifier.</summary>
    NextSentencePrediction,

    /// <summary>A multiple-choice head (<c>*ForMultipleChoice</c>): one logit per choice.</summary>
    MultipleChoice,

    /// <summary>An encoder without the decoder (<c>T5EncoderModel</c>).</summary>
    EncoderOnly,
}

/// <summary>The head of a classic-family model, read from <c>architectures[0]</c> and <c>id2label</c>/<c>num_labels</c>.</summary>
/// <param name="Kind">The head kind.</param>
/// <param name="Labels">The classifier's output labels (for classification heads).</param>
public sealed record ModelHead(HeadKind Kind, int Labels)
{
    /// <summary>The default head: a language-model head, two labels (the PretrainedConfig default).</summary>
    public static ModelHead LanguageModel { get; } = new(HeadKind.LanguageModel, 2);
}

/// <summary>Reading and tensor-building pieces shared by the classic families (GPT-2, GPT-J, GPT-NeoX, OPT, BLOOM,
/// Falcon, Phi, BERT, RoBERTa, T5).</summary>
internal static class ClassicParts
{
    /// <summary>A generous cap on layer counts: larger values are typos or hostile input, and would make the generator
    /// build billions of tensors.</summary>
    public const int MaxLayers = 4096;

    /// <summary>The model class from <c>architectures[0]</c>, or null.</summary>
    public static string? ModelClass(ConfigObject config) =>
        config.StringArray("architectures") is [var first, ..] ? first : null;

    /// <summary>The checkpoint dtype named by the config, if any.</summary>
    public static string? TorchDtype(ConfigObject config) => config.String("torch_dtype") ?? config.String("dtype");

    /// <summary>A layer count under the first present of <paramref name="keys"/>, or the default, capped at <see cref="MaxLayers"/>.</summary>
    public static int Layers(ConfigObject config, int defaultValue, params string[] keys)
    {
        var key = config.FirstPresent(keys);
        if (key is null)
        {
            return defaultValue;
        }

        var n = config.Int(key);
        return n <= MaxLayers ? n : throw config.Error(key, $"expected a positive integer of at most {MaxLayers}; found {n}");
    }

    /// <summary>An integer under the first present of <paramref name="keys"/> (aliases such as <c>n_embd</c> / <c>hidden_size</c>),
    /// or the config-class default when none is present.</summary>
    public static int IntOr(ConfigObject config, int defaultValue, params string[] keys) =>
        config.FirstPresent(keys) is { } key ? config.Int(key) : defaultValue;

    /// <summary>Reads the head from <c>architectures[0]</c>: the class-name suffix decides it; an unknown or absent class
    /// means the language-model head, which is what the families' own config classes describe.</summary>
    public static ModelHead Head(ConfigObject config)
    {
        var kind = HeadOf(ModelClass(config));
        return new ModelHead(kind, NumLabels(config));
    }

    /// <summary>Maps a model class name to its head kind.</summary>
    public static HeadKind HeadOf(string? modelClass) => modelClass switch
    {
        null => HeadKind.LanguageModel,
        _ when modelClass.EndsWith("ForSequenceClassification", StringComparison.Ordinal) => HeadKind.SequenceClassification,
        _ when modelClass.EndsWith("ForTokenClassification", StringComparison.Ordinal) => HeadKind.TokenClassification,
        _ when modelClass.EndsWith("ForQuestionAnswering", StringComparison.Ordinal) => HeadKind.QuestionAnswering,
        _ when modelClass.EndsWith("ForPreTraining", StringComparison.Ordinal) => HeadKind.PreTraining,
        _ when modelClass.EndsWith("ForNextSentencePrediction", StringComparison.Ordinal) => HeadKind.NextSentencePrediction,
        _ when modelClass.EndsWith("ForMultipleChoice", StringComparison.Ordinal) => HeadKind.MultipleChoice,
        _ when modelClass.EndsWith("DoubleHeadsModel", StringComparison.Ordinal) => HeadKind.MultipleChoice,
        _ when modelClass.EndsWith("EncoderModel", StringComparison.Ordinal) => HeadKind.EncoderOnly,
        _ when modelClass.EndsWith("LMHeadModel", StringComparison.Ordinal) => HeadKind.LanguageModel,
        _ when modelClass.EndsWith("Model", StringComparison.Ordinal) && !modelClass.Contains("For", StringComparison.Ordinal) => HeadKind.BaseModel,
        _ => HeadKind.LanguageModel,
    };

    /// <summary>The number of labels, as <c>PretrainedConfig</c> derives it: the size of <c>id2label</c> when present,
    /// else <c>num_labels</c>, else 2.</summary>
    public static int NumLabels(ConfigObject config)
    {
        if (config.Object("id2label") is { } map)
        {
            var n = map.Element.EnumerateObject().Count();
            return n > 0 ? n : throw config.Error("id2label", "expected an object with at least one label; found an empty object");
        }

        return config.IntOr("num_labels", 2);
    }

    /// <summary>The head width as these families' modeling code derives it: <c>hidden_size // num_attention_heads</c>
    /// (GPT2Attention, GPTJAttention, GPTNeoXAttention, OPTAttention, BloomAttention, FalconAttention, BertSelfAttention
    /// all raise when it does not divide). A <c>head_dim</c> key in the config is ignored, as those classes ignore it.</summary>
    public static int HeadWidth(ConfigObject config, int hidden, int heads, string headsKey = "num_attention_heads") =>
        hidden % heads == 0
            ? hidden / heads
            : throw config.Error(headsKey, $"expected a positive integer that divides the hidden size ({hidden}); found {heads}");

    /// <summary>Checks an optional fraction in (0, 1] (e.g. <c>partial_rotary_factor</c>, <c>rotary_pct</c>).</summary>
    public static double Fraction(ConfigObject config, string key, double defaultValue)
    {
        var v = config.Double(key) ?? defaultValue;
        return v > 0 && v <= 1 ? v : throw config.Error(key, $"expected a number in (0, 1]; found {v.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
    }

    /// <summary>Runs a family's reader and checks that the model it describes can be counted: sizes so large that an
    /// int or long product overflows (a typo or hostile input) become a one-line config error instead of an
    /// <see cref="OverflowException"/>.</summary>
    public static ArchitectureSpec Validated(ConfigObject config, IArchitectureFamily family, Func<ConfigObject, ArchitectureSpec> read)
    {
        try
        {
            var spec = read(config);
            _ = family.Generate(spec).TotalParameters;
            return spec;
        }
        catch (OverflowException)
        {
            var key = config.FirstPresent("hidden_size", "n_embd", "n_embed", "d_model", "vocab_size") ?? "hidden_size";
            throw config.Error(key, "expected sizes whose parameter count fits in a 64-bit integer; the configured sizes overflow it");
        }
    }

    /// <summary>Builds the spec of a dense-MLP, LayerNorm model from the values a family reader found; callers adjust
    /// the rest with <c>with</c>.</summary>
    public static ArchitectureSpec DenseSpec(
        ConfigObject config, string family, int layers, int hidden, int heads, int kvHeads, int headDim, int intermediate,
        int vocab, int? maxPositions, bool tied, FamilyDetails details) => new()
        {
            Family = family,
            ModelClass = ModelClass(config),
            Source = config.FilePath,
            Layers = layers,
            Hidden = hidden,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            Intermediate = intermediate,
            Vocab = vocab,
            MaxPositions = maxPositions,
            TiedEmbeddings = tied,
            Mlp = MlpKind.Dense,
            Norm = NormKind.LayerNorm,
            TorchDtype = TorchDtype(config),
            Details = details,
        };

    /// <summary>Adds the four linear layers of a fused-QKV block (GPT-NeoX, BLOOM, Falcon):
    /// <c>{attn}.query_key_value</c> [qkvOut, h], <c>{attn}.dense</c> [h, q], <c>mlp.dense_h_to_4h</c> [inner, h] and
    /// <c>mlp.dense_4h_to_h</c> [h, inner].</summary>
    public static void FusedQkvBlock(
        InventoryBuilder b, string layerPrefix, string attention, int layer, long h, long qkvOut, long q, long inner, bool attnBias, bool mlpBias)
    {
        Linear(b, layerPrefix + attention + ".query_key_value", TensorGroup.Attention, layer, qkvOut, h, attnBias);
        Linear(b, layerPrefix + attention + ".dense", TensorGroup.Attention, layer, h, q, attnBias);
        Linear(b, layerPrefix + "mlp.dense_h_to_4h", TensorGroup.Mlp, layer, inner, h, mlpBias);
        Linear(b, layerPrefix + "mlp.dense_4h_to_h", TensorGroup.Mlp, layer, h, inner, mlpBias);
    }

    /// <summary>Adds a PyTorch <c>nn.Linear</c>: <c>weight</c> [out, in] and, when <paramref name="bias"/>, <c>bias</c> [out].</summary>
    public static void Linear(InventoryBuilder b, string name, TensorGroup group, int? layer, long outFeatures, long inFeatures, bool bias = true)
    {
        b.Add(name + ".weight", group, layer, outFeatures, inFeatures);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, outFeatures);
        }
    }

    /// <summary>Adds a GPT-2 <c>Conv1D</c>: <c>weight</c> stored [in, out] (transposed against nn.Linear) and, when
    /// <paramref name="bias"/> (always, in GPT-2 itself), <c>bias</c> [out].</summary>
    public static void Conv1D(InventoryBuilder b, string name, TensorGroup group, int layer, long inFeatures, long outFeatures, bool bias = true)
    {
        b.Add(name + ".weight", group, layer, inFeatures, outFeatures);
        if (bias)
        {
            b.Add(name + ".bias", group, layer, outFeatures);
        }
    }

    /// <summary>Adds a LayerNorm: <c>weight</c> [dim] and, when <paramref name="bias"/>, <c>bias</c> [dim].</summary>
    public static void LayerNorm(InventoryBuilder b, string name, int? layer, long dim, bool bias = true, string weight = "weight", string biasName = "bias")
    {
        b.Add(name + "." + weight, TensorGroup.Norm, layer, dim);
        if (bias)
        {
            b.Add(name + "." + biasName, TensorGroup.Norm, layer, dim);
        }
    }

    /// <summary>Adds the head of a decoder-only model, with the names transformers gives it:
    /// <c>lm_head</c> (skipped when tied, since a tied matrix counts once), <c>score</c> (no bias),
    /// <c>classifier</c>, <c>qa_outputs</c>.</summary>
    /// <param name="b">The builder.</param>
    /// <param name="spec">The spec (vocab, hidden, tying).</param>
    /// <param name="head">The head.</param>
    /// <param name="h">The input width of the head (the hidden size, or OPT's projection width).</param>
    /// <param name="lmHeadBias">Whether the LM head has a bias (GPT-J, Phi).</param>
    /// <param name="qaUsesLabels">Whether <c>qa_outputs</c> has <c>num_labels</c> outputs (GPT-J's
    /// <c>nn.Linear(hidden_size, num_labels)</c>) rather than a fixed 2 (GPT-2, GPT-NeoX, OPT, BLOOM, Falcon).</param>
    public static void DecoderHead(InventoryBuilder b, ArchitectureSpec spec, ModelHead head, long h, bool lmHeadBias = false, bool qaUsesLabels = false)
    {
        switch (head.Kind)
        {
            case HeadKind.BaseModel:
            case HeadKind.EncoderOnly:
                break;
            case HeadKind.SequenceClassification:
                b.Add("score.weight", TensorGroup.LmHead, null, head.Labels, h);
                break;
            case HeadKind.TokenClassification:
                Linear(b, "classifier", TensorGroup.LmHead, null, head.Labels, h);
                break;
            case HeadKind.QuestionAnswering:
                Linear(b, "qa_outputs", TensorGroup.LmHead, null, qaUsesLabels ? head.Labels : 2, h);
                break;
            default:
                if (!spec.TiedEmbeddings)
                {
                    b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
                }

                if (lmHeadBias)
                {
                    b.Add("lm_head.bias", TensorGroup.LmHead, null, spec.Vocab);
                }

                break;
        }
    }

    /// <summary>The prefix of base-model tensors: none for a bare base model (its state dict has no wrapper),
    /// else the wrapper attribute (e.g. "transformer.").</summary>
    public static string Prefix(ModelHead head, string wrapped) =>
        head.Kind is HeadKind.BaseModel ? "" : wrapped;
}
