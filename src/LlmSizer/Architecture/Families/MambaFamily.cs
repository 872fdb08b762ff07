using System.Text.Json;
using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Mamba-1 (<c>mamba</c>, <c>MambaForCausalLM</c>) and Mamba-2 (<c>mamba2</c>, <c>Mamba2ForCausalLM</c>):
/// attention-free decoders whose every layer is one RMSNorm and one selective state-space mixer.</summary>
/// <remarks>Defaults are those of transformers' <c>MambaConfig</c>: vocab 50280, hidden 768, <c>state_size</c> 16,
/// 32 layers, <c>expand</c> 2, <c>conv_kernel</c> 4, <c>use_bias</c> false, <c>use_conv_bias</c> true,
/// <c>time_step_rank</c> "auto" (= ceil(hidden / 16)), tied embeddings; and of <c>Mamba2Config</c>: vocab 32768,
/// hidden 4096, <c>state_size</c> 128, 64 layers, <c>num_heads</c> 128, <c>head_dim</c> 64, <c>n_groups</c> 8,
/// <c>expand</c> 2, <c>conv_kernel</c> 4, <c>use_bias</c> false, <c>use_conv_bias</c> true, untied. d_inner is
/// <c>expand × hidden</c> (both config classes compute <c>intermediate_size</c> so).
/// Tensors (<c>MambaMixer</c> / <c>Mamba2Mixer</c>, names under <c>backbone.</c>): <c>embeddings</c>, per layer
/// <c>norm</c> and <c>mixer.*</c>, then <c>norm_f</c> and, untied, <c>lm_head</c>. Mamba-1's mixer: <c>in_proj</c>
/// [2·d_inner, hidden], <c>conv1d</c> [d_inner, 1, d_conv] (+ bias), <c>x_proj</c> [dt_rank + 2·N, d_inner],
/// <c>dt_proj</c> [d_inner, dt_rank] + bias, <c>A_log</c> [d_inner, N], <c>D</c> [d_inner], <c>out_proj</c> [hidden, d_inner].
/// Mamba-2's: <c>in_proj</c> [2·d_inner + 2·G·N + heads, hidden], <c>conv1d</c> [d_inner + 2·G·N, 1, d_conv] (+ bias),
/// <c>dt_bias</c>, <c>A_log</c>, <c>D</c> [heads], <c>norm.weight</c> [d_inner] (the gated RMSNorm), <c>out_proj</c>.</remarks>
internal sealed class MambaFamily : IArchitectureFamily
{
    private const int MaxSize = 1 << 20;

    public IReadOnlyList<string> ModelTypes { get; } = ["mamba", "mamba2"];


    public ArchitectureSpec Read(ConfigObject config)
    {
        var v2 = string.Equals(config.String("model_type"), "mamba2", StringComparison.OrdinalIgnoreCase);
        var hidden = DecoderConfig.IntAtMost(config, "hidden_size", v2 ? 4096 : 768, MaxSize);
        var layers = DecoderConfig.IntAtMost(config, "num_hidden_layers", v2 ? 64 : 32, DecoderConfig.MaxLayers);
        var expand = DecoderConfig.IntAtMost(config, "expand", 2, 1024);
        var inner = expand * hidden;
        var stateSize = DecoderConfig.IntAtMost(config, "state_size", v2 ? 128 : 16, MaxSize);
        var conv = DecoderConfig.IntAtMost(config, "conv_kernel", 4, 1024);
        var ssm = new SsmSpec { Kind = v2 ? SsmKind.Mamba2 : SsmKind.Mamba1, StateSize = stateSize, ConvKernel = conv, Expand = expand, InnerSize = inner };
        if (v2)
        {
            var heads = DecoderConfig.IntAtMost(config, "num_heads", 128, MaxSize);
            var headDim = DecoderConfig.IntAtMost(config, "head_dim", 64, MaxSize);
            var groups = DecoderConfig.IntAtMost(config, "n_groups", 8, MaxSize);
            // Mamba2Mixer splits in_proj's x into num_heads × head_dim and asserts it equals intermediate_size.
            if ((long)heads * headDim != inner)
            {
                throw config.Error("num_heads", $"expected num_heads × head_dim ({heads} × {headDim}) to equal expand × hidden_size ({inner})");
            }

            if (heads % groups != 0)
            {
                throw config.Error("n_groups", $"expected a positive integer that divides num_heads ({heads}); found {groups}");
            }

            ssm = ssm with { Heads = heads, HeadDim = headDim, Groups = groups };
        }
        else
        {
            ssm = ssm with { TimeStepRank = TimeStepRank(config, hidden) };
        }

        var vocab = DecoderConfig.IntAtMost(config, "vocab_size", v2 ? 32768 : 50280, 1 << 26);

        // Every count must stay far inside long: reject sizes no real model has before anything is generated.
        double perLayer = ((3.0 * inner) + (2.0 * ssm.Groups * stateSize) + ssm.Heads) * hidden
            + ((double)ssm.ConvChannels * (conv + 1)) + ((double)inner * ((double)stateSize + ssm.TimeStepRank + 2));
        double estimate = (2.0 * vocab * hidden) + (layers * perLayer);
        if (estimate > 1e15)
        {
            throw config.Error("hidden_size", $"expected a model of at most 10^15 parameters; these sizes give about {estimate:E2}");
        }

        var modelClass = config.StringArray("architectures") is [var first, ..] ? first : null;
        return new ArchitectureSpec
        {
            Family = v2 ? "mamba2" : "mamba",
            ModelClass = modelClass,
            Source = config.FilePath,
            Layers = layers,
            Hidden = hidden,
            // No layer attends: one placeholder head keeps per-head arithmetic elsewhere defined; LayerKinds (None)
            // gives every layer an empty KV cache.
            Heads = 1,
            KvHeads = 1,
            HeadDim = 1,
            Intermediate = inner,
            Vocab = vocab,
            TiedEmbeddings = config.Bool("tie_word_embeddings", !v2),
            Norm = NormKind.RmsNorm,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype"),
            LayerKinds = [.. Enumerable.Repeat(AttentionLayerKind.None, layers)],
            LayerMixers = [.. Enumerable.Repeat(LayerMixer.Ssm, layers)],
            Ssm = ssm,
            Details = new MambaDetails
            {
                Bias = config.Bool("use_bias", false),
                ConvBias = config.Bool("use_conv_bias", true),
                BareModel = modelClass is not null && modelClass.EndsWith("Model", StringComparison.Ordinal),
            },
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var ssm = spec.Ssm ?? throw new ArgumentException("a Mamba spec needs its SSM geometry", nameof(spec));
        var d = spec.Details as MambaDetails ?? new MambaDetails();
        var b = new InventoryBuilder();
        var prefix = d.BareModel ? "" : "backbone.";
        long h = spec.Hidden;
        b.Add(prefix + "embeddings.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"{prefix}layers.{l}.";
            b.Add(p + "norm.weight", TensorGroup.Norm, l, h);
            var m = p + "mixer.";
            AddMixer(b, m, l, h, ssm, d.Bias, d.ConvBias);
        }

        b.Add(prefix + "norm_f.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings && !d.BareModel)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }

    /// <summary>Adds one Mamba-1 or Mamba-2 mixer under <paramref name="m"/> (e.g. <c>backbone.layers.0.mixer.</c>).</summary>
    /// <param name="b">The builder.</param>
    /// <param name="m">The mixer's module path, ending in a dot.</param>
    /// <param name="l">The layer index.</param>
    /// <param name="h">The hidden size.</param>
    /// <param name="ssm">The SSM geometry.</param>
    /// <param name="bias">Biases on <c>in_proj</c> and <c>out_proj</c>.</param>
    /// <param name="convBias">A bias on the conv1d.</param>
    internal static void AddMixer(InventoryBuilder b, string m, int l, long h, SsmSpec ssm, bool bias, bool convBias)
    {
        long inner = ssm.InnerSize, n = ssm.StateSize;
        if (ssm.Kind == SsmKind.Mamba1)
        {
            long rank = ssm.TimeStepRank;
            Linear(b, m + "in_proj", l, 2 * inner, h, bias);
            Conv(b, m + "conv1d", l, inner, ssm.ConvKernel, convBias);
            Linear(b, m + "x_proj", l, rank + (2 * n), inner, false);
            Linear(b, m + "dt_proj", l, inner, rank, true);
            b.Add(m + "A_log", TensorGroup.Ssm, l, inner, n);
            b.Add(m + "D", TensorGroup.Ssm, l, inner);
        }
        else
        {
            long heads = ssm.Heads;
            Linear(b, m + "in_proj", l, (2 * inner) + (2L * ssm.Groups * n) + heads, h, bias);
            Conv(b, m + "conv1d", l, ssm.ConvChannels, ssm.ConvKernel, convBias);
            b.Add(m + "dt_bias", TensorGroup.Ssm, l, heads);
            b.Add(m + "A_log", TensorGroup.Ssm, l, heads);
            b.Add(m + "D", TensorGroup.Ssm, l, heads);
            b.Add(m + "norm.weight", TensorGroup.Ssm, l, inner);
        }

        Linear(b, m + "out_proj", l, h, inner, bias);
    }

    // MambaConfig: time_step_rank = math.ceil(hidden_size / 16) if time_step_rank == "auto" else time_step_rank.
    internal static int TimeStepRank(ConfigObject config, int hidden, string key = "time_step_rank")
    {
        if (config.Element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String)
        {
            return v.GetString() == "auto"
                ? (hidden + 15) / 16
                : throw config.Error(key, $"expected a positive integer or \"auto\"; found \"{v.GetString()}\"");
        }

        var rank = DecoderConfig.OptionalIntWithDefault(config, key, null) ?? ((hidden + 15) / 16);
        return rank <= MaxSize ? rank : throw config.Error(key, $"expected at most {MaxSize}; found {rank}");
    }

    private static void Linear(InventoryBuilder b, string name, int layer, long outDim, long inDim, bool bias)
    {
        b.Add(name + ".weight", TensorGroup.Ssm, layer, outDim, inDim);
        if (bias)
        {
            b.Add(name + ".bias", TensorGroup.Ssm, layer, outDim);
        }
    }

    // A depthwise nn.Conv1d(channels, channels, kernel, groups=channels): weight [channels, 1, kernel].
    private static void Conv(InventoryBuilder b, string name, int layer, long channels, long kernel, bool bias)
    {
        b.Add(name + ".weight", TensorGroup.Ssm, layer, channels, 1, kernel);
        if (bias)
        {
            b.Add(name + ".bias", TensorGroup.Ssm, layer, channels);
        }
    }
}

/// <summary>The layout flags of a Mamba model.</summary>
public sealed record MambaDetails : FamilyDetails
{
    /// <summary><c>use_bias</c>: biases on <c>in_proj</c> and <c>out_proj</c>.</summary>
    public bool Bias { get; init; }

    /// <summary><c>use_conv_bias</c>: a bias on the conv1d.</summary>
    public bool ConvBias { get; init; } = true;

    /// <summary>A bare <c>MambaModel</c> checkpoint: no <c>backbone.</c> prefix and no head.</summary>
    public bool BareModel { get; init; }
}
