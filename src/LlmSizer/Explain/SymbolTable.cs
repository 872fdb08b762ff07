using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Tensors;

namespace LlmSizer.Explain;

/// <summary>Where a model's numbers came from, for the symbols' sources: the config it was read from (if any) and how
/// to name that origin.</summary>
/// <param name="Config">The config.json the architecture was read from (a catalog entry's or a file), or null.</param>
/// <param name="Origin">The origin as words: <c>catalog llama-3.1-8b config.json</c>, <c>config.json</c>, <c>GGUF metadata</c>.</param>
/// <param name="Metadata">GGUF metadata keys (as text), for a GGUF file; null otherwise.</param>
internal sealed record SymbolSources(ConfigObject? Config, string Origin, IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>The symbols of one model (d, V, n_q, n_kv, d_h, d_ff, E, L ...), how tensor dimensions and tensor counts
/// are written with them, and where each value came from.</summary>
internal sealed partial class SymbolTable
{
    private readonly List<DerivationSymbol> _dimensions = [];
    private readonly List<DerivationSymbol> _counts = [];
    private readonly Dictionary<string, DerivationSymbol> _all = [];
    private readonly HashSet<string> _used = [];
    private readonly SymbolSources _sources;
    private readonly ArchitectureSpec? _spec;

    public SymbolTable(ArchitectureSpec? spec, TensorInventory inventory, SymbolSources sources)
    {
        _sources = sources;
        _spec = spec;
        if (spec is null)
        {
            return;
        }

        bool encDec = spec.DecoderLayers is not null;
        Dim("d", "hidden size", spec.Hidden, "hidden_size", "n_embd", "d_model", "dim", "model_dim");
        Dim("V", "vocabulary size", spec.Vocab, "vocab_size", "n_vocab", "padded_vocab_size");
        if (spec.Mla is { } mla)
        {
            long nope = mla.QkNopeHeadDim, rope = mla.QkRopeHeadDim, v = mla.VHeadDim, h = spec.Heads;
            Dim("n_q·(d_nope+d_R)", "query heads × (non-rotary + rotary head dim)", checked(h * (nope + rope)));
            Dim("n_q·(d_nope+d_v)", "heads × (non-rotary key + value head dim)", checked(h * (nope + v)));
            Dim("n_q·d_v", "heads × value head dim", checked(h * v));
            Dim("d_v", "value head dim", v, "v_head_dim");
            if (mla.QLoraRank is { } rq)
            {
                Dim("r_q", "query low rank", rq, "q_lora_rank");
            }

            Dim("(r_kv+d_R)", "KV latent rank + rotary key dim", (long)mla.KvLoraRank + rope);
            Dim("r_kv", "KV latent rank", mla.KvLoraRank, "kv_lora_rank");
            Dim("d_R", "rotary key head dim", rope, "qk_rope_head_dim");
            Dim("d_nope", "non-rotary key head dim", nope, "qk_nope_head_dim");
        }

        Dim("d_ff", "MLP intermediate size", spec.Intermediate, "intermediate_size", "n_inner", "d_ff", "ffn_dim", "ffn_hidden_size", "encoder_ffn_dim");
        if (spec.Moe is { } moe)
        {
            Dim("d_e", "expert intermediate size", moe.ExpertIntermediate, "moe_intermediate_size", "expert_intermediate_size", "intermediate_size");
            if (moe.SharedIntermediate > 0)
            {
                Dim("d_sh", "shared expert intermediate size", moe.SharedIntermediate, "shared_expert_intermediate_size");
            }

            Dim("2·d_e", "fused gate and up of one expert", 2L * moe.ExpertIntermediate);
        }

        Dim("n_q·d_h", "query heads × head dim", (long)spec.Heads * spec.HeadDim);
        Dim("n_kv·d_h", "KV heads × head dim", (long)spec.KvHeads * spec.HeadDim);
        if (spec.VHeadDim != spec.HeadDim)
        {
            Dim("n_kv·d_v", "KV heads × value head dim", (long)spec.KvHeads * spec.VHeadDim);
        }

        Dim("(n_q+2·n_kv)·d_h", "fused Q, K, V outputs", ((long)spec.Heads + (2L * spec.KvHeads)) * spec.HeadDim);
        Dim("2·d_ff", "fused gate and up", 2L * spec.Intermediate);
        if (spec.MaxPositions is { } positions)
        {
            Dim("P", "positions (context length)", positions, "max_position_embeddings", "n_positions", "n_ctx");
        }

        Dim("n_q", "query heads", spec.Heads, "num_attention_heads", "n_head", "num_heads", "n_heads", "encoder_attention_heads");
        Dim("n_kv", "key/value heads", spec.KvHeads, "num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num");
        Dim("d_h", "head dim", spec.HeadDim, "head_dim", "d_kv", "head_size", "attention_head_dim");
        if (spec.Moe is { } m2)
        {
            Dim("E", "routed experts", m2.Experts, "num_local_experts", "n_routed_experts", "num_experts");
            Define("k", "experts used per token", m2.ActiveExperts, "num_experts_per_tok", "num_experts_per_token", "top_k", "moe_topk");
        }

        // Counts of tensors: layers (or encoder layers), decoder layers, MoE and dense layers, attention layers.
        Count(encDec ? "L_enc" : "L", encDec ? "encoder layers" : "layers", spec.Layers, "num_hidden_layers", "n_layer", "num_layers", "n_layers", "encoder_layers");
        if (spec.DecoderLayers is { } dec)
        {
            Count("L_dec", "decoder layers", dec, "num_decoder_layers", "decoder_layers");
        }

        if (spec.Moe is { } m3 && !m3.MoeLayers.IsDefaultOrEmpty)
        {
            int moeLayers = m3.MoeLayers.Count(x => x);
            if (moeLayers != spec.Layers)
            {
                Count("L_moe", "MoE layers", moeLayers);
                Count("L_dense", "dense-MLP layers", spec.Layers - moeLayers, "first_k_dense_replace");
            }

            Count("L·E", "layers × experts", (long)spec.Layers * m3.Experts);
            if (moeLayers != spec.Layers)
            {
                Count("L_moe·E", "MoE layers × experts", (long)moeLayers * m3.Experts);
            }

            Count("E", "routed experts", m3.Experts);
        }
        else if (spec.Moe is { } m4)
        {
            Count("L·E", "layers × experts", (long)spec.Layers * m4.Experts);
            Count("E", "routed experts", m4.Experts);
        }

        if (!spec.LayerMixers.IsDefaultOrEmpty)
        {
            int attention = Enumerable.Range(0, spec.Layers).Count(i => spec.MixerOf(i) == LayerMixer.Attention);
            if (attention != spec.Layers)
            {
                Count("L_attn", "attention layers", attention);
                Count("L_mix", "recurrent-mixer layers", spec.Layers - attention);
            }
        }

        // Multiples of the layer counts, for kinds that occur two or three times a layer (T5's norms per block).
        foreach (var layers in new[] { encDec ? "L_enc" : "L", "L_dec" })
        {
            if (_all.TryGetValue(layers, out var ls))
            {
                for (int k = 2; k <= 4; k++)
                {
                    Count($"{k}·{layers}", $"{k} per {ls.Meaning[..^1]}", checked(k * ls.Value));
                }
            }
        }

        if (spec.SlidingWindow is { } window)
        {
            Define("w", "sliding window (tokens)", window, "sliding_window");
        }

        if (spec.Vision is { } vision)
        {
            Count("L_vis", "vision encoder layers", vision.Layers);
        }

        _ = inventory;
    }

    /// <summary>The symbols used so far by <see cref="Shape"/> and <see cref="Multiplicity"/>, in definition order.</summary>
    public ImmutableArray<DerivationSymbol> Used
    {
        get
        {
            // A compound symbol (n_kv·d_h) brings its parts (n_kv, d_h); simple symbols are listed first.
            foreach (var name in _used.ToList())
            {
                foreach (var part in Identifier().Matches(name.Replace("(", "", StringComparison.Ordinal)).Select(m => m.Value))
                {
                    Use(part);
                }
            }

            var used = _all.Values.Where(s => _used.Contains(s.Name)).ToList();
            return [.. used.Where(s => !IsCompound(s.Name)), .. used.Where(s => IsCompound(s.Name))];
        }
    }

    private static bool IsCompound(string name) => name.Contains('·', StringComparison.Ordinal) || name.Contains('+', StringComparison.Ordinal);

    [System.Text.RegularExpressions.GeneratedRegex(@"[A-Za-z][A-Za-z_]*")]
    private static partial System.Text.RegularExpressions.Regex Identifier();

    /// <summary>The symbols named in some terms' formulas and multiplicities.</summary>
    /// <param name="terms">The terms.</param>
    /// <returns>The symbols.</returns>
    public ImmutableArray<DerivationSymbol> UsedIn(IEnumerable<DerivationTerm> terms)
    {
        var list = terms.ToList();
        var names = new HashSet<string>(list.SelectMany(t => new[] { t.Multiplicity }.Concat(t.Multiplicity.Split('·')).Concat(t.Formula.Split('·'))));
        return [.. _all.Values.Where(s => names.Contains(s.Name) || (IsCompound(s.Name) && list.Any(t => t.Formula.Contains(s.Name, StringComparison.Ordinal))))];
    }

    /// <summary>A symbol by name, or null.</summary>
    /// <param name="name">The symbol.</param>
    /// <returns>The symbol, or null.</returns>
    public DerivationSymbol? Find(string name) => _all.GetValueOrDefault(name);

    /// <summary>Marks a symbol as used (for the post's formulas, which use d, V, L, n_q).</summary>
    /// <param name="name">The symbol.</param>
    public void Use(string name)
    {
        if (_all.ContainsKey(name))
        {
            _used.Add(name);
        }
    }

    /// <summary>Writes a tensor's shape in symbols and in numbers: <c>n_kv·d_h·d</c> and <c>1024·4096</c>.</summary>
    /// <param name="tensor">The tensor.</param>
    /// <returns>Both forms; a dimension no symbol names is written as its number in both.</returns>
    public (string Formula, string Substituted) Shape(TensorInfo tensor)
    {
        if (tensor.LogicalElements is { } logical && logical != tensor.StoredElements)
        {
            // Packed storage (GPTQ qweight): the logical count is the parameters; the stored shape is not.
            var n = ParameterDerivations.Raw(logical);
            return (n, n);
        }

        if (tensor.Shape.IsDefaultOrEmpty)
        {
            return ("1", "1");
        }

        var role = TensorRoles.Of(tensor);
        var names = new List<string>();
        var numbers = new List<string>();
        for (int i = 0; i < tensor.Shape.Length; i++)
        {
            long value = tensor.Shape[i];
            var symbol = Hint(role, tensor.Name, i, tensor.Shape.Length).Select(h => _all.GetValueOrDefault(h))
                .FirstOrDefault(s => s is not null && s.Value == value)
                ?? _dimensions.FirstOrDefault(s => s.Value == value);
            if (symbol is not null)
            {
                _used.Add(symbol.Name);
            }

            names.Add(symbol?.Name ?? ParameterDerivations.Raw(value));
            numbers.Add(ParameterDerivations.Raw(value));
        }

        return (string.Join("·", names), string.Join("·", numbers));
    }

    /// <summary>Writes how many tensors of a kind there are with the count symbols: <c>L</c>, <c>L_moe·E</c>, or the
    /// number itself; empty for one.</summary>
    /// <param name="count">The count.</param>
    /// <param name="pattern">The tensor name pattern (its words decide between encoder and decoder, experts or not).</param>
    /// <returns>The multiplicity.</returns>
    public (string Symbol, string Substituted) Multiplicity(long count, string pattern)
    {
        if (count == 1)
        {
            return ("", "1");
        }

        IEnumerable<string> preferred = pattern.Contains("decoder", StringComparison.Ordinal) ? ["L_dec", "2·L_dec", "3·L_dec", "4·L_dec"]
            : pattern.Contains("encoder", StringComparison.Ordinal) ? ["L_enc", "2·L_enc", "3·L_enc", "4·L_enc"]
            : pattern.Contains("expert", StringComparison.Ordinal) ? ["L_moe·E", "L·E"]
            : pattern.Contains("vision", StringComparison.Ordinal) || pattern.Contains("visual", StringComparison.Ordinal) ? ["L_vis"]
            : [];
        var symbol = preferred.Select(p => _all.GetValueOrDefault(p)).FirstOrDefault(s => s is not null && s.Value == count)
            ?? _counts.FirstOrDefault(s => s.Value == count);
        if (symbol is null)
        {
            return (ParameterDerivations.Raw(count), ParameterDerivations.Raw(count));
        }

        _used.Add(symbol.Name);
        var parts = symbol.Name.Split('·');
        foreach (var part in parts.Where(p => !char.IsDigit(p[0])))
        {
            Use(part);
        }

        // L_moe·E is written 58·256, not 14848, when each part is a symbol.
        var values = parts.Select(p => _all.GetValueOrDefault(p) ?? (long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? new DerivationSymbol(p, p, n, "") : null)).ToList();
        var substituted = parts.Length > 1 && values.All(v => v is not null) && values.Aggregate(1L, (a, v) => checked(a * v!.Value)) == count
            ? string.Join("·", values.Select(v => ParameterDerivations.Raw(v!.Value)))
            : ParameterDerivations.Raw(count);
        return (symbol.Name, substituted);
    }

    private static string[] Hint(TensorRole role, string name, int dim, int rank)
    {
        bool kv = role is TensorRole.AttnK or TensorRole.AttnV || name.Contains(".k_proj.", StringComparison.Ordinal) || name.Contains(".v_proj.", StringComparison.Ordinal);
        bool q = role is TensorRole.AttnQ || name.Contains(".q_proj.", StringComparison.Ordinal) || name.Contains(".q_b_proj.", StringComparison.Ordinal);
        if (dim == 0 && kv)
        {
            return ["n_kv·d_h", "n_kv·d_v"];
        }

        if (dim == 0 && q)
        {
            return ["n_q·(d_nope+d_R)", "n_q·d_h"];
        }

        if (dim == 0 && role is TensorRole.AttnQkv)
        {
            return ["(n_q+2·n_kv)·d_h"];
        }

        if (dim == 0 && role is TensorRole.Router)
        {
            return ["E"];
        }

        if (dim == 0 && role is TensorRole.PositionEmbedding)
        {
            return ["P"];
        }

        if (dim == rank - 1 && rank > 1 && role is TensorRole.AttnOutput)
        {
            return ["n_q·d_v", "n_q·d_h"];
        }

        bool ffnInner = rank > 1 && ((role is TensorRole.FfnDown && dim == rank - 1) || (role is TensorRole.FfnGate or TensorRole.FfnUp && dim == 0));
        if (ffnInner)
        {
            return name.Contains("shared", StringComparison.Ordinal) ? ["d_sh", "d_e", "d_ff"]
                : name.Contains("expert", StringComparison.Ordinal) ? ["d_e", "d_ff"]
                : ["d_ff", "d_e"];
        }

        return [];
    }

    private void Dim(string name, string meaning, long value, params string[] keys)
    {
        if (value <= 0 || _all.ContainsKey(name))
        {
            return;
        }

        var s = new DerivationSymbol(name, meaning, value, SourceOf(name, value, keys));
        _all[name] = s;
        _dimensions.Add(s);
    }

    private void Count(string name, string meaning, long value, params string[] keys)
    {
        if (value <= 1)
        {
            return;
        }

        var s = _all.TryGetValue(name, out var existing) ? existing : new DerivationSymbol(name, meaning, value, SourceOf(name, value, keys));
        _all[name] = s;
        _counts.Add(s);
    }

    private void Define(string name, string meaning, long value, params string[] keys)
    {
        if (!_all.ContainsKey(name))
        {
            _all[name] = new DerivationSymbol(name, meaning, value, SourceOf(name, value, keys));
            _used.Add(name);
        }
    }

    private string SourceOf(string name, long value, string[] keys)
    {
        if (_sources.Config is { } config)
        {
            foreach (var (scope, prefix) in new[] { (config.Element, ""), (Nested(config.Element, "text_config"), "text_config.") })
            {
                foreach (var key in keys)
                {
                    if (scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n == value)
                    {
                        return $"{_sources.Origin} {prefix}{key}";
                    }
                }
            }
        }

        if (name.Contains('·', StringComparison.Ordinal) || name.Contains('+', StringComparison.Ordinal) || name is "L_moe" or "L_attn" or "L_mix")
        {
            return "derived from the symbols above";
        }

        if (_sources.Metadata is { } metadata && metadata.TryGetValue("general.architecture", out var arch) && GgufKeys.TryGetValue(name, out var suffix))
        {
            var key = suffix.StartsWith('.') ? arch + suffix : suffix;
            if (metadata.TryGetValue(key, out var text) && (text == value.ToString(CultureInfo.InvariantCulture) || text.StartsWith('[')))
            {
                return $"GGUF metadata {key}{(text.StartsWith('[') ? " (array length)" : "")}";
            }
        }

        if (_sources.Config is null && _sources.Origin == ManualOrigin && ManualSettings.TryGetValue(name, out var setting))
        {
            return "setting " + setting;
        }

        if (_spec is { } spec && _sources.Origin != ManualOrigin && (name != "d_ff" || _sources.Config is not null))
        {
            if (name == "d_h" && (long)spec.Heads * value == spec.Hidden)
            {
                return $"d / n_q ({_sources.Origin} sets no head_dim)";
            }

            if (name == "d_ff" && value == 4L * spec.Hidden)
            {
                return $"4·d: the family's default ({_sources.Origin} leaves the MLP width unset)";
            }

            if (name == "L_dec" && value == spec.Layers)
            {
                return $"= L_enc ({_sources.Origin} sets no decoder layer count)";
            }

            if (name == "n_kv" && value == spec.Heads)
            {
                return $"= n_q: multi-head attention ({_sources.Origin} sets no KV-head count)";
            }

            if (name == "d_sh" && spec.Moe is { SharedExperts: > 0 } moe && (long)moe.SharedExperts * moe.ExpertIntermediate == value)
            {
                return $"shared experts × d_e = {moe.SharedExperts} × {ParameterDerivations.Num(moe.ExpertIntermediate)} ({_sources.Origin} n_shared_experts)";
            }
        }

        return keys.Length == 0 ? "derived from the architecture" : $"the family's default or a derived value (not a field of {_sources.Origin})";
    }

    private const string ManualOrigin = "the given settings";

    // The GGUF keys the reader takes each symbol from (gguf-py constants.py; "." means "<arch>.").
    private static readonly Dictionary<string, string> GgufKeys = new(StringComparer.Ordinal)
    {
        ["d"] = ".embedding_length",
        ["V"] = "tokenizer.ggml.tokens",
        ["L"] = ".block_count",
        ["n_q"] = ".attention.head_count",
        ["n_kv"] = ".attention.head_count_kv",
        ["d_ff"] = ".feed_forward_length",
        ["P"] = ".context_length",
        ["E"] = ".expert_count",
        ["k"] = ".expert_used_count",
        ["d_e"] = ".expert_feed_forward_length",
        ["d_h"] = ".attention.key_length",
    };

    // The manual architecture's settings (SettingNames), with the default each optional one takes.
    private static readonly Dictionary<string, string> ManualSettings = new(StringComparer.Ordinal)
    {
        ["d"] = "hidden",
        ["V"] = "vocab",
        ["L"] = "layers",
        ["n_q"] = "heads",
        ["n_kv"] = "kv_heads (default: heads)",
        ["d_h"] = "head_dim (default: hidden / heads)",
        ["d_ff"] = "intermediate (default: 4 × hidden)",
        ["P"] = "max_positions",
        ["E"] = "experts",
        ["k"] = "top_k",
        ["d_e"] = "expert_intermediate (default: intermediate)",
    };

    private static JsonElement Nested(JsonElement element, string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : default;

    /// <summary>The config a model's architecture was read from, when there is one, and how to name its origin.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The sources.</returns>
    public static SymbolSources SourceOf(ModelInfo model)
    {
        switch (model.Source)
        {
            case ModelSourceKind.Catalog when ModelCatalog.TryGet(model.Name, out var entry):
                return new SymbolSources(entry.Config, $"catalog {entry.Id} config.json");
            case ModelSourceKind.Manual:
                return new SymbolSources(null, ManualOrigin);
            case ModelSourceKind.Gguf:
                return new SymbolSources(null, "GGUF metadata", model.Metadata);
        }

        var configPath = model.Files.FirstOrDefault(f => f.EndsWith("config.json", StringComparison.OrdinalIgnoreCase) && !f.EndsWith("index.json", StringComparison.OrdinalIgnoreCase));
        if (configPath is not null)
        {
            try
            {
                return new SymbolSources(ConfigObject.Load(configPath), Path.GetFileName(configPath));
            }
            catch (Exception e) when (e is LlmSizerException or IOException or UnauthorizedAccessException)
            {
                // The config was read once already; a second read failing only costs the field names.
            }
        }

        return new SymbolSources(null, model.Source.ToString().ToLowerInvariant());
    }
}
