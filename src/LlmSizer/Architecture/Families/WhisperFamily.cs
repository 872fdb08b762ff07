using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Whisper (<c>WhisperForConditionalGeneration</c>): an audio encoder (two conv1d layers over the log-mel
/// spectrogram, learned positions, pre-LayerNorm transformer layers) and a text decoder with cross-attention, counted
/// whole and split into the <see cref="ModelComponent.AudioEncoder"/> and <see cref="ModelComponent.LanguageModel"/> components.</summary>
/// <remarks>Defaults are those of transformers' <c>WhisperConfig</c>: vocab 51865, <c>num_mel_bins</c> 80, 4 encoder and
/// 4 decoder layers, 6 heads each, <c>encoder_ffn_dim</c>/<c>decoder_ffn_dim</c> 1536, <c>d_model</c> 384,
/// <c>max_source_positions</c> 1500, <c>max_target_positions</c> 448, tied output (<c>proj_out</c> shares
/// <c>embed_tokens</c> and is not stored).
/// Tensors (<c>WhisperEncoder</c>, <c>WhisperDecoder</c>, <c>WhisperAttention</c>): <c>model.encoder.conv1</c>
/// [d, mels, 3] and <c>conv2</c> [d, d, 3] with biases; <c>embed_positions</c> [1500, d] (an <c>nn.Embedding</c> with
/// <c>requires_grad</c> off: still a parameter, and stored); per layer <c>self_attn.{q,v,out}_proj</c> with bias and
/// <c>k_proj</c> without (<c>WhisperAttention</c> builds <c>k_proj</c> with <c>bias=False</c>), LayerNorms
/// <c>self_attn_layer_norm</c> and <c>final_layer_norm</c>, <c>fc1</c> [ffn, d] and <c>fc2</c> [d, ffn] with biases; the
/// decoder's layers add <c>encoder_attn</c> and <c>encoder_attn_layer_norm</c>; each stack ends in <c>layer_norm</c>.
/// Decoder layers are tagged after the encoder's (layer E + i), as for T5.</remarks>
internal sealed class WhisperFamily : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    public IReadOnlyList<string> ModelTypes { get; } = ["whisper"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var d = DecoderConfig.IntAtMost(config, "d_model", 384, MaxSize);
        var heads = DecoderConfig.IntAtMost(config, "decoder_attention_heads", 6, MaxSize);
        var encoderHeads = DecoderConfig.IntAtMost(config, "encoder_attention_heads", 6, MaxSize);
        if (d % heads != 0)
        {
            throw config.Error("decoder_attention_heads", $"expected a positive integer that divides d_model ({d}); found {heads}");
        }

        if (d % encoderHeads != 0)
        {
            throw config.Error("encoder_attention_heads", $"expected a positive integer that divides d_model ({d}); found {encoderHeads}");
        }

        var details = new WhisperDetails
        {
            MelBins = DecoderConfig.IntAtMost(config, "num_mel_bins", 80, MaxSize),
            EncoderFfn = DecoderConfig.IntAtMost(config, "encoder_ffn_dim", 1536, MaxSize),
            SourcePositions = DecoderConfig.IntAtMost(config, "max_source_positions", 1500, MaxSize),
            EncoderHeads = encoderHeads,
        };
        var modelClass = config.StringArray("architectures") is [var first, ..] ? first : null;
        if (modelClass is not null && modelClass != "WhisperForConditionalGeneration")
        {
            throw config.Error("architectures[0]", $"expected \"WhisperForConditionalGeneration\"; found \"{modelClass}\"");
        }

        var spec = new ArchitectureSpec
        {
            Family = "whisper",
            ModelClass = modelClass,
            Source = config.FilePath,
            Layers = DecoderConfig.IntAtMost(config, "encoder_layers", 4, DecoderConfig.MaxLayers),
            DecoderLayers = DecoderConfig.IntAtMost(config, "decoder_layers", 4, DecoderConfig.MaxLayers),
            Hidden = d,
            Heads = heads,
            KvHeads = heads,
            HeadDim = d / heads,
            Intermediate = DecoderConfig.IntAtMost(config, "decoder_ffn_dim", 1536, MaxSize),
            Vocab = DecoderConfig.IntAtMost(config, "vocab_size", 51865, 1 << 26),
            MaxPositions = DecoderConfig.IntAtMost(config, "max_target_positions", 448, MaxSize),
            TiedEmbeddings = config.Bool("tie_word_embeddings", true),
            Mlp = MlpKind.Dense,
            Norm = NormKind.LayerNorm,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype"),
            Details = details,
        };
        // Each stack is bounded by MaxLayers and every width by 2^20, so no count can leave long; CheckSize bounds the rest.
        return DecoderConfig.CheckSize(spec, config);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var w = spec.Details as WhisperDetails ?? new WhisperDetails();
        var b = new InventoryBuilder();
        long d = spec.Hidden;
        const ModelComponent Audio = ModelComponent.AudioEncoder, Text = ModelComponent.LanguageModel;
        var e = "model.encoder.";
        Add(b, e + "conv1.weight", TensorGroup.Embedding, null, Audio, d, w.MelBins, 3);
        Add(b, e + "conv1.bias", TensorGroup.Embedding, null, Audio, d);
        Add(b, e + "conv2.weight", TensorGroup.Embedding, null, Audio, d, d, 3);
        Add(b, e + "conv2.bias", TensorGroup.Embedding, null, Audio, d);
        Add(b, e + "embed_positions.weight", TensorGroup.Embedding, null, Audio, w.SourcePositions, d);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"{e}layers.{l}.";
            Attention(b, p + "self_attn.", l, Audio, d);
            LayerNorm(b, p + "self_attn_layer_norm", l, Audio, d);
            Mlp(b, p, l, Audio, d, w.EncoderFfn);
            LayerNorm(b, p + "final_layer_norm", l, Audio, d);
        }

        LayerNorm(b, e + "layer_norm", null, Audio, d);

        var dec = "model.decoder.";
        Add(b, dec + "embed_tokens.weight", TensorGroup.Embedding, null, Text, spec.Vocab, d);
        Add(b, dec + "embed_positions.weight", TensorGroup.Embedding, null, Text, spec.MaxPositions ?? 448, d);
        for (int i = 0; i < (spec.DecoderLayers ?? 0); i++)
        {
            int tag = spec.Layers + i;
            var p = $"{dec}layers.{i}.";
            Attention(b, p + "self_attn.", tag, Text, d);
            LayerNorm(b, p + "self_attn_layer_norm", tag, Text, d);
            Attention(b, p + "encoder_attn.", tag, Text, d);
            LayerNorm(b, p + "encoder_attn_layer_norm", tag, Text, d);
            Mlp(b, p, tag, Text, d, spec.Intermediate);
            LayerNorm(b, p + "final_layer_norm", tag, Text, d);
        }

        LayerNorm(b, dec + "layer_norm", null, Text, d);
        if (!spec.TiedEmbeddings)
        {
            Add(b, "proj_out.weight", TensorGroup.LmHead, null, Text, spec.Vocab, d);
        }

        return b.Build();
    }

    private static void Attention(InventoryBuilder b, string p, int layer, ModelComponent c, long d)
    {
        // WhisperAttention: k_proj has no bias; q, v and out do.
        Add(b, p + "k_proj.weight", TensorGroup.Attention, layer, c, d, d);
        foreach (var proj in (string[])["v_proj", "q_proj", "out_proj"])
        {
            Add(b, p + proj + ".weight", TensorGroup.Attention, layer, c, d, d);
            Add(b, p + proj + ".bias", TensorGroup.Attention, layer, c, d);
        }
    }

    private static void Mlp(InventoryBuilder b, string p, int layer, ModelComponent c, long d, long ffn)
    {
        Add(b, p + "fc1.weight", TensorGroup.Mlp, layer, c, ffn, d);
        Add(b, p + "fc1.bias", TensorGroup.Mlp, layer, c, ffn);
        Add(b, p + "fc2.weight", TensorGroup.Mlp, layer, c, d, ffn);
        Add(b, p + "fc2.bias", TensorGroup.Mlp, layer, c, d);
    }

    private static void LayerNorm(InventoryBuilder b, string name, int? layer, ModelComponent c, long d)
    {
        Add(b, name + ".weight", TensorGroup.Norm, layer, c, d);
        Add(b, name + ".bias", TensorGroup.Norm, layer, c, d);
    }

    private static void Add(InventoryBuilder b, string name, TensorGroup group, int? layer, ModelComponent component, params long[] shape) =>
        b.Add(new TensorInfo(name, [.. shape], b.DataType, group) { Layer = layer, Component = component });
}

/// <summary>The encoder geometry of a Whisper model that the common fields do not carry.</summary>
public sealed record WhisperDetails : FamilyDetails
{
    /// <summary>Mel bins of the input spectrogram (<c>num_mel_bins</c>): conv1's input channels.</summary>
    public int MelBins { get; init; } = 80;

    /// <summary>The encoder's MLP width (<c>encoder_ffn_dim</c>).</summary>
    public int EncoderFfn { get; init; } = 1536;

    /// <summary>The encoder's position table rows (<c>max_source_positions</c>).</summary>
    public int SourcePositions { get; init; } = 1500;

    /// <summary>The encoder's attention heads (<c>encoder_attention_heads</c>).</summary>
    public int EncoderHeads { get; init; } = 6;
}
