using System.Collections.Immutable;
using System.Text.Json;

namespace LlmSizer.Architecture.Families;

/// <summary>The transformers config-class defaults of a decoder family, applied to keys a config.json omits
/// (real files leave out keys that equal their class's default).</summary>
internal sealed record DecoderDefaults
{
    public required int Vocab { get; init; }

    public required int Hidden { get; init; }

    public required int Intermediate { get; init; }

    public required int Layers { get; init; }

    public required int Heads { get; init; }

    /// <summary>The default KV heads, or null when the class defaults them to the query heads.</summary>
    public int? KvHeads { get; init; }

    /// <summary>The default head_dim, or null when the class derives it as hidden / heads.</summary>
    public int? HeadDim { get; init; }

    public required int MaxPositions { get; init; }

    public required bool Tied { get; init; }
}

/// <summary>Reads the fields every Llama-like decoder shares and the head named by <c>architectures[0]</c>.</summary>
internal static class DecoderConfig
{
    /// <summary>The most decoder layers accepted (the largest real models have under 200).</summary>
    public const int MaxLayers = 10_000;

    /// <summary>Reads the common fields.</summary>
    /// <param name="config">The object holding the decoder keys (the root, or Gemma 3's <c>text_config</c>).</param>
    /// <param name="family">The family key.</param>
    /// <param name="defaults">The config-class defaults.</param>
    /// <param name="layout">The family's layout flags; the head and prefix are filled in here.</param>
    /// <param name="root">The root object (for <c>architectures</c> and <c>torch_dtype</c>), when not <paramref name="config"/>.</param>
    /// <returns>The spec.</returns>
    public static ArchitectureSpec Read(ConfigObject config, string family, DecoderDefaults defaults, DecoderDetails layout, ConfigObject? root = null)
    {
        root ??= config;
        var hidden = config.IntOr("hidden_size", defaults.Hidden);
        var heads = config.IntOr("num_attention_heads", defaults.Heads);
        // An explicit null takes the class's None fallback, not its default: `if num_key_value_heads is None:
        // num_key_value_heads = num_attention_heads` (MistralConfig.__init__, Phi3Config/Cohere2Config/GptOssConfig
        // __post_init__), and `head_dim if head_dim is not None else hidden_size // num_attention_heads`.
        var kvHeads = config.OptionalInt("num_key_value_heads") ?? (IsNull(config, "num_key_value_heads") ? heads : defaults.KvHeads ?? heads);
        var headDim = defaults.HeadDim is int d && !config.Has("head_dim") && !IsNull(config, "head_dim") ? d : ConfigRules.HeadDim(config, hidden, heads);
        ConfigRules.CheckKvHeads(config, heads, kvHeads);
        var modelClass = root.StringArray("architectures") is [var first, ..] ? first : null;
        var layers = config.IntOr("num_hidden_layers", defaults.Layers);

        // Per-layer arrays and tensors are sized by this field: bound it before anything is allocated.
        if (layers > MaxLayers)
        {
            throw config.Error("num_hidden_layers", $"expected at most {MaxLayers}; found {layers}");
        }

        return new ArchitectureSpec
        {
            Family = family,
            ModelClass = modelClass,
            Source = config.FilePath,
            Layers = layers,
            Hidden = hidden,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            Intermediate = config.IntOr("intermediate_size", defaults.Intermediate),
            Vocab = config.IntOr("vocab_size", defaults.Vocab),
            MaxPositions = config.IntOr("max_position_embeddings", defaults.MaxPositions),
            TiedEmbeddings = config.Bool("tie_word_embeddings", root.Bool("tie_word_embeddings", defaults.Tied)),
            Mlp = MlpKind.Gated,
            Norm = NormKind.RmsNorm,
            TorchDtype = root.String("torch_dtype") ?? root.String("dtype") ?? config.String("torch_dtype") ?? config.String("dtype"),
            Details = WithHead(layout, root, modelClass),
        };
    }

    /// <summary>The layout of a family whose <c>attention_bias</c> key puts biases on q, k, v and o.</summary>
    /// <param name="config">The config.</param>
    /// <param name="defaultBias">The config-class default of <c>attention_bias</c>.</param>
    /// <returns>The layout, to refine with <c>with</c>.</returns>
    public static DecoderDetails AttentionBias(ConfigObject config, bool defaultBias = false)
    {
        var bias = config.Bool("attention_bias", defaultBias);
        return new DecoderDetails { QkvBias = bias, OutputBias = bias };
    }

    /// <summary>Sets <see cref="ArchitectureSpec.LayerKinds"/> from <c>layer_types</c> when present, else from the
    /// family's rule; <see cref="ArchitectureSpec.SlidingWindow"/> is kept only when some layer slides.</summary>
    /// <param name="spec">The spec.</param>
    /// <param name="config">The object holding <c>layer_types</c>.</param>
    /// <param name="window">The sliding window, or null when the model has none.</param>
    /// <param name="isSliding">The family's rule for a layer when <c>layer_types</c> is absent.</param>
    /// <returns>The spec with its layer kinds.</returns>
    public static ArchitectureSpec WithLayerKinds(ArchitectureSpec spec, ConfigObject config, int? window, Func<int, bool> isSliding)
    {
        var kinds = new AttentionLayerKind[spec.Layers];
        var types = config.StringArray("layer_types");
        if (types is not null && types.Count != spec.Layers)
        {
            throw config.Error("layer_types", $"expected {spec.Layers} entries (num_hidden_layers); found {types.Count}");
        }

        for (int i = 0; i < spec.Layers; i++)
        {
            kinds[i] = types?[i] switch
            {
                null => window is not null && isSliding(i) ? AttentionLayerKind.Sliding : AttentionLayerKind.Full,
                "sliding_attention" => AttentionLayerKind.Sliding,
                "full_attention" => AttentionLayerKind.Full,
                var other => throw config.Error($"layer_types[{i}]", $"expected \"sliding_attention\" or \"full_attention\"; found \"{other}\""),
            };
        }

        if (kinds.Contains(AttentionLayerKind.Sliding) && window is null)
        {
            throw config.Error("sliding_window", "missing; expected a positive integer because layer_types has sliding layers");
        }

        return spec with
        {
            LayerKinds = [.. kinds],
            SlidingWindow = kinds.Contains(AttentionLayerKind.Sliding) ? window : null,
        };
    }

    /// <summary>Qwen's rule (Qwen2/Qwen2-MoE/Qwen3/Qwen3-MoE config classes): the window applies only when
    /// <c>use_sliding_window</c> is true, and then to layers at or past <c>max_window_layers</c>.</summary>
    /// <param name="spec">The spec.</param>
    /// <param name="config">The config.</param>
    /// <param name="defaultWindow">The class default of <c>sliding_window</c>.</param>
    /// <param name="defaultMaxWindowLayers">The class default of <c>max_window_layers</c> (28; Qwen3-MoE has none: 0).</param>
    /// <returns>The spec with its layer kinds.</returns>
    public static ArchitectureSpec WithQwenWindow(ArchitectureSpec spec, ConfigObject config, int defaultWindow, int defaultMaxWindowLayers = 28)
    {
        var window = config.Bool("use_sliding_window", false) ? OptionalIntWithDefault(config, "sliding_window", defaultWindow) : null;
        var firstSliding = config.NonNegativeIntOr("max_window_layers", defaultMaxWindowLayers);
        return WithLayerKinds(spec, config, window, i => i >= firstSliding);
    }

    /// <summary>An integer whose class default is <paramref name="defaultValue"/> when the key is absent and which
    /// an explicit JSON null turns off (e.g. <c>sliding_window</c>, DeepSeek's <c>q_lora_rank</c>).</summary>
    /// <param name="config">The config.</param>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The class default (null for none).</param>
    /// <returns>The value or null.</returns>
    public static int? OptionalIntWithDefault(ConfigObject config, string key, int? defaultValue) =>
        config.Element.TryGetProperty(key, out var v) ? (v.ValueKind == JsonValueKind.Null ? null : config.OptionalInt(key)) : defaultValue;

    /// <summary>A positive integer with a class default and an upper bound.</summary>
    /// <param name="config">The config.</param>
    /// <param name="key">The key.</param>
    /// <param name="defaultValue">The class default.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <returns>The value.</returns>
    public static int IntAtMost(ConfigObject config, string key, int defaultValue, int max)
    {
        var value = config.IntOr(key, defaultValue);
        return value <= max ? value : throw config.Error(key, $"expected at most {max}; found {value}");
    }

    /// <summary>The MoE flag of each layer.</summary>
    /// <param name="layers">The layer count.</param>
    /// <param name="isMoe">Whether layer i is an MoE layer.</param>
    /// <returns>One flag per layer.</returns>
    public static ImmutableArray<bool> MoeLayers(int layers, Func<int, bool> isMoe) =>
        [.. Enumerable.Range(0, layers).Select(isMoe)];

    /// <summary>Checks that a token's experts fit in the pool.</summary>
    /// <param name="config">The config.</param>
    /// <param name="moe">The MoE settings.</param>
    /// <param name="topKKey">The key of the top-k, for the message.</param>
    /// <exception cref="Errors.ModelConfigException">top-k exceeds the experts.</exception>
    public static void CheckTopK(ConfigObject config, MoeSpec moe, string topKKey)
    {
        if (moe.ActiveExperts > moe.Experts)
        {
            throw config.Error(topKKey, $"expected at most the number of routed experts ({moe.Experts}); found {moe.ActiveExperts}");
        }
    }

    /// <summary>Qwen-MoE experts (Qwen2MoeConfig / Qwen3MoeConfig): layer i is sparse unless listed in
    /// <c>mlp_only_layers</c>, when <c>num_experts</c> &gt; 0 and (i + 1) is a multiple of <c>decoder_sparse_step</c>.</summary>
    /// <param name="spec">The spec.</param>
    /// <param name="config">The config.</param>
    /// <param name="experts">The class default of <c>num_experts</c>.</param>
    /// <param name="topK">The class default of <c>num_experts_per_tok</c>.</param>
    /// <param name="expertIntermediate">The class default of <c>moe_intermediate_size</c>.</param>
    /// <param name="sharedIntermediate">The class default of <c>shared_expert_intermediate_size</c> (0 for none).</param>
    /// <returns>The spec with its MoE settings.</returns>
    public static ArchitectureSpec WithQwenMoe(ArchitectureSpec spec, ConfigObject config, int experts, int topK, int expertIntermediate, int sharedIntermediate)
    {
        var step = config.IntOr("decoder_sparse_step", 1);
        var dense = (config.IntArray("mlp_only_layers") ?? []).ToHashSet();
        var shared = sharedIntermediate > 0 ? config.IntOr("shared_expert_intermediate_size", sharedIntermediate) : 0;
        var moe = new MoeSpec
        {
            Experts = config.IntOr("num_experts", experts),
            ActiveExperts = config.IntOr("num_experts_per_tok", topK),
            ExpertIntermediate = config.IntOr("moe_intermediate_size", expertIntermediate),
            SharedExperts = shared > 0 ? 1 : 0,
            SharedIntermediate = shared,
            SharedExpertGate = shared > 0,
            MoeLayers = MoeLayers(spec.Layers, i => !dense.Contains(i) && (i + 1) % step == 0),
        };
        CheckTopK(config, moe, "num_experts_per_tok");
        return spec with { Moe = moe };
    }

    /// <summary>Rejects sizes no real model has before anything is generated: the tensor list is sized by the layer
    /// and expert counts, and every count must stay far inside <see cref="long"/>.</summary>
    /// <param name="spec">The spec read from the config.</param>
    /// <param name="config">The config, for messages.</param>
    /// <returns>The spec.</returns>
    /// <exception cref="Errors.ModelConfigException">A size is beyond the limits.</exception>
    public static ArchitectureSpec CheckSize(ArchitectureSpec spec, ConfigObject config)
    {
        const int MaxExperts = 65_536;
        const double MaxTensors = 5e5, MaxParameters = 1e15;
        var moe = spec.Moe;
        if (moe is not null && moe.Experts > MaxExperts)
        {
            var key = config.FirstPresent("num_local_experts", "num_experts", "n_routed_experts") ?? "num_experts";
            throw config.Error(key, $"expected at most {MaxExperts}; found {moe.Experts}");
        }

        double experts = moe?.Experts ?? 0;
        if (spec.Layers * ((3 * experts) + 32) > MaxTensors)
        {
            throw config.Error("num_hidden_layers", $"expected a model of at most {MaxTensors:N0} tensors; {spec.Layers} layers of {experts} experts give more");
        }

        double h = spec.Hidden, q = (double)spec.Heads * spec.HeadDim, kv = (double)spec.KvHeads * spec.HeadDim;
        double attention = h * (q + (2 * kv) + ((double)spec.Heads * spec.VHeadDim));
        if (spec.Mla is { } mla)
        {
            attention += ((double)(mla.QLoraRank ?? 0) * (h + q)) + ((double)mla.KvLoraRank * (h + (spec.Heads * (double)(mla.QkNopeHeadDim + mla.VHeadDim))));
        }

        double mlp = 3 * h * Math.Max(spec.Intermediate, (experts * (moe?.ExpertIntermediate ?? 0)) + (moe?.SharedIntermediate ?? 0));
        double estimate = (2 * h * spec.Vocab) + (spec.Layers * (attention + mlp + (4 * h)));
        if (estimate > MaxParameters)
        {
            throw config.Error("hidden_size", $"expected a model of at most 10^15 parameters; these sizes give about {estimate:E2}");
        }

        return spec;
    }

    private static bool IsNull(ConfigObject config, string key) =>
        config.Element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Null;

    private static DecoderDetails WithHead(DecoderDetails layout, ConfigObject root, string? modelClass)
    {
        if (modelClass is null || modelClass.EndsWith("ForCausalLM", StringComparison.Ordinal)
            || modelClass.EndsWith("ForConditionalGeneration", StringComparison.Ordinal))
        {
            return layout;
        }

        if (modelClass.EndsWith("Model", StringComparison.Ordinal))
        {
            // A bare PreTrainedModel is saved without its base_model_prefix.
            return layout with { Head = DecoderHead.None, Prefix = "" };
        }

        var head = modelClass.EndsWith("ForSequenceClassification", StringComparison.Ordinal) ? DecoderHead.SequenceClassification
            : modelClass.EndsWith("ForTokenClassification", StringComparison.Ordinal) ? DecoderHead.TokenClassification
            : throw root.Error("architectures[0]", $"expected a ...ForCausalLM, ...Model, ...ForSequenceClassification or ...ForTokenClassification class; found \"{modelClass}\"");
        return layout with { Head = head, Labels = Labels(root) };
    }

    // PretrainedConfig: num_labels is len(id2label) when given, else num_labels, else 2.
    private static int Labels(ConfigObject root) =>
        root.Object("id2label") is { } map ? Math.Max(1, map.Element.EnumerateObject().Count()) : root.IntOr("num_labels", 2);
}
