using System.Collections.Immutable;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Checkpoints;

/// <summary>Classifies tensors read from files by name (Hugging Face and llama.cpp/GGUF naming): breakdown group,
/// layer index, and kind (parameter, buffer, quantization side data), and fixes logical element counts of packed
/// quantized weights.</summary>
internal static class TensorClassifier
{
    // Last name segments that hold quantization side data, not parameters: GPTQ/AWQ (scales, qzeros, g_idx),
    // bitsandbytes (SCB, absmax, quant_map, nested_*), FP8/compressed-tensors (weight_scale, weight_scale_inv,
    // input_scale, weight_zero_point, weight_global_scale), MLX (scales, biases), NVFP4/MX block scales.
    private static readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> AuxLookup = BuildAux().GetAlternateLookup<ReadOnlySpan<char>>();

    private static HashSet<string> BuildAux() => new(StringComparer.Ordinal)
    {
        "scales", "qzeros", "g_idx", "SCB", "absmax", "quant_map", "nested_absmax", "nested_quant_map",
        "weight_scale", "weight_scale_inv", "weight_scale_2", "input_scale", "input_scale_inv", "output_scale",
        "weight_zero_point", "input_zero_point", "weight_global_scale", "input_global_scale", "weight_packed_scale",
        "biases", "block_scale", "weight_block_scale", "k_scale", "v_scale", "q_scale", "kv_scale",
    };

    /// <summary>Builds a classified tensor (one allocation: the group, layer, kind and packed element count are worked
    /// out from the name first).</summary>
    public static TensorInfo Classify(string name, ImmutableArray<long> shape, DataType dataType)
    {
        var (group, layer) = GroupOf(name);
        var kind = KindOf(name);
        long? logical = null;

        // GPTQ/AWQ pack eight 4-bit values into each int32 of qweight (GPTQ: [in/8, out]; AWQ: [in, out/8]).
        if ((dataType == DataType.I32 || dataType == DataType.U32) && LastSegment(name).SequenceEqual("qweight"))
        {
            long stored = 1;
            foreach (var d in shape)
            {
                stored = checked(stored * d);
            }

            logical = checked(stored * 8);
        }

        return new TensorInfo(name, shape, dataType, group) { Layer = layer, Kind = kind, LogicalElements = logical };
    }

    /// <summary>Second pass over a whole inventory: packed 4-bit bitsandbytes weights (U8 with an absmax or
    /// quant_state sibling hold two values per byte), packed words of known bit width, and MoE expert pools when the
    /// architecture is known.</summary>
    /// <param name="tensors">The classified tensors (changed in place).</param>
    /// <param name="spec">The architecture, when known (for expert pools).</param>
    /// <param name="packedBits">Bits per weight of a packed quantized checkpoint (config <c>quantization_config.bits</c>
    /// or MLX <c>quantization.bits</c>), when known: GPTQ/AWQ <c>qweight</c> and MLX U32 weights hold 32 / bits each.</param>
    /// <returns><paramref name="tensors"/>.</returns>
    public static TensorInfo[] Finish(TensorInfo[] tensors, ArchitectureSpec? spec, int? packedBits = null)
    {
        bool anyBnb = false, anyScales = false;
        foreach (var t in tensors)
        {
            anyBnb |= t.Name.Contains(".quant_state.", StringComparison.Ordinal) || t.Name.EndsWith(".absmax", StringComparison.Ordinal);
            anyScales |= t.Name.EndsWith(".scales", StringComparison.Ordinal);
        }

        bool anyMlx = packedBits is > 0 and <= 32 && anyScales;
        if (!anyBnb && !anyMlx && spec?.Moe is null && packedBits is null)
        {
            return tensors;
        }

        var names = anyBnb || anyMlx ? new HashSet<string>(tensors.Select(t => t.Name), StringComparer.Ordinal) : [];
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            if (packedBits is > 0 and <= 32 && t.Kind == TensorKind.Parameter && (t.DataType == DataType.I32 || t.DataType == DataType.U32))
            {
                int perWord = 32 / packedBits.Value;
                if (t.Name.EndsWith(".qweight", StringComparison.Ordinal))
                {
                    t = t with { LogicalElements = checked(t.StoredElements * perWord) };
                }
                else if (anyMlx && t.Name.EndsWith(".weight", StringComparison.Ordinal) && names.Contains(t.Name[..^".weight".Length] + ".scales"))
                {
                    t = t with { LogicalElements = checked(t.StoredElements * perWord) };
                }
            }

            if (anyBnb && t.Kind == TensorKind.Parameter && t.DataType == DataType.U8 &&
                (names.Contains(t.Name + ".absmax") || names.Contains(t.Name + ".quant_state.bitsandbytes__nf4") || names.Contains(t.Name + ".quant_state.bitsandbytes__fp4")))
            {
                t = t with { LogicalElements = checked(t.StoredElements * 2) };
            }

            if (spec?.Moe is { } moe && t.Group == TensorGroup.Experts && t.Kind == TensorKind.Parameter)
            {
                t = t with { ExpertPool = moe.Experts, ActiveExperts = moe.ActiveExperts };
            }

            tensors[i] = t;
        }

        return tensors;
    }

    private static ReadOnlySpan<char> LastSegment(string name)
    {
        int dot = name.LastIndexOf('.');
        return dot < 0 ? name : name.AsSpan(dot + 1);
    }

    public static TensorKind KindOf(string name)
    {
        var last = LastSegment(name);
        if (name.EndsWith(".attn.bias", StringComparison.Ordinal) && !name.EndsWith("c_attn.bias", StringComparison.Ordinal) ||
            name.EndsWith(".attn.masked_bias", StringComparison.Ordinal) || last is "masked_bias" or "inv_freq" or "position_ids" or "_float_tensor" ||
            name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || name == "rope_freqs.weight" || name.EndsWith(".rope_freqs.weight", StringComparison.Ordinal))
        {
            return TensorKind.Buffer;
        }

        // Gemma 4's persistent buffers (modeling_gemma4.py): each decoder layer's layer_scalar, the vision tower's
        // std_bias/std_scale, and the scalar clipping bounds of every Gemma4ClippableLinear in the vision and audio towers.
        if (last is "layer_scalar" || ((last is "std_bias" or "std_scale") && name.Contains("vision_tower.", StringComparison.Ordinal))
            || ((last is "input_min" or "input_max" or "output_min" or "output_max") && name.Contains("_tower.", StringComparison.Ordinal)))
        {
            return TensorKind.Buffer;
        }

        if (AuxLookup.Contains(last) || name.Contains(".quant_state.", StringComparison.Ordinal))
        {
            return TensorKind.QuantizationAux;
        }

        return TensorKind.Parameter;
    }

    public static (TensorGroup Group, int? Layer) GroupOf(string name)
    {
        int? layer = LayerOf(name);

        // Names are ASCII and almost always lower case already; lower-case only when needed (BERT's LayerNorm).
        var lower = HasUpper(name) ? name.ToLowerInvariant() : name;

        // GGUF (llama.cpp) names first: they are short and exact.
        if (lower.StartsWith("blk.", StringComparison.Ordinal) || !lower.Contains('.', StringComparison.Ordinal) || IsGgufTopLevel(lower))
        {
            if (TryGgufGroup(lower, out var g))
            {
                return (g, layer);
            }
        }

        if (lower.Contains("lm_head", StringComparison.Ordinal) || lower.StartsWith("embed_out", StringComparison.Ordinal) ||
            lower.StartsWith("cls.", StringComparison.Ordinal) || lower.Contains(".cls.", StringComparison.Ordinal) || lower == "output.weight")
        {
            return (TensorGroup.LmHead, layer);
        }

        bool qkNorm = lower.Contains("q_norm", StringComparison.Ordinal) || lower.Contains("k_norm", StringComparison.Ordinal) ||
                      lower.Contains("q_layernorm", StringComparison.Ordinal) || lower.Contains("k_layernorm", StringComparison.Ordinal) ||
                      lower.Contains("kv_a_layernorm", StringComparison.Ordinal) || lower.Contains("q_a_layernorm", StringComparison.Ordinal);
        if (qkNorm)
        {
            return (TensorGroup.Attention, layer);
        }

        if (lower.Contains("norm", StringComparison.Ordinal) || lower.Contains(".ln_", StringComparison.Ordinal) || lower.StartsWith("ln_", StringComparison.Ordinal) ||
            lower.Contains(".ln.", StringComparison.Ordinal))
        {
            return (TensorGroup.Norm, layer);
        }

        if (lower.Contains("embed", StringComparison.Ordinal) || lower.Contains("wte.", StringComparison.Ordinal) || lower.Contains("wpe.", StringComparison.Ordinal) ||
            lower.StartsWith("shared.", StringComparison.Ordinal))
        {
            return (TensorGroup.Embedding, layer);
        }

        if (lower.Contains(".experts.", StringComparison.Ordinal) && !lower.Contains("shared", StringComparison.Ordinal))
        {
            return (TensorGroup.Experts, layer);
        }

        if (lower.Contains("attn", StringComparison.Ordinal) || lower.Contains("attention", StringComparison.Ordinal) ||
            lower.Contains("q_proj", StringComparison.Ordinal) || lower.Contains("k_proj", StringComparison.Ordinal) ||
            lower.Contains("v_proj", StringComparison.Ordinal) || lower.Contains("o_proj", StringComparison.Ordinal) ||
            lower.Contains("query_key_value", StringComparison.Ordinal) || lower.Contains("wqkv", StringComparison.Ordinal) ||
            lower.Contains("relative_attention_bias", StringComparison.Ordinal))
        {
            return (TensorGroup.Attention, layer);
        }

        if (lower.Contains("mlp", StringComparison.Ordinal) || lower.Contains("ffn", StringComparison.Ordinal) || lower.Contains("feed_forward", StringComparison.Ordinal) ||
            lower.Contains("fc1", StringComparison.Ordinal) || lower.Contains("fc2", StringComparison.Ordinal) || lower.Contains("dense_h_to_4h", StringComparison.Ordinal) ||
            lower.Contains("dense_4h_to_h", StringComparison.Ordinal) || lower.Contains("intermediate", StringComparison.Ordinal) ||
            lower.Contains("densereludense", StringComparison.Ordinal) || lower.Contains("densegatedactdense", StringComparison.Ordinal) ||
            lower.Contains("gate_proj", StringComparison.Ordinal) || lower.Contains("up_proj", StringComparison.Ordinal) || lower.Contains("down_proj", StringComparison.Ordinal) ||
            lower.Contains("shared_expert", StringComparison.Ordinal) || (layer is not null && lower.Contains(".output.dense", StringComparison.Ordinal)) ||
            lower.Contains(".gate.", StringComparison.Ordinal) || lower.Contains("router", StringComparison.Ordinal))
        {
            return (TensorGroup.Mlp, layer);
        }

        return (TensorGroup.Other, layer);
    }

    private static bool HasUpper(string s)
    {
        foreach (var ch in s)
        {
            if (char.IsAsciiLetterUpper(ch))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsGgufTopLevel(string lower) =>
        lower.StartsWith("token_embd", StringComparison.Ordinal) || lower.StartsWith("position_embd", StringComparison.Ordinal) ||
        lower.StartsWith("token_types", StringComparison.Ordinal) || lower.StartsWith("output", StringComparison.Ordinal) ||
        lower.StartsWith("token_embd_norm", StringComparison.Ordinal) || lower.StartsWith("rope_freqs", StringComparison.Ordinal);

    // llama.cpp tensor names (src/llama-arch.cpp LLM_TENSOR_NAMES).
    private static bool TryGgufGroup(string lower, out TensorGroup group)
    {
        ReadOnlySpan<char> stem = lower.StartsWith("blk.", StringComparison.Ordinal) ? lower.AsSpan(lower.IndexOf('.', 4) + 1) : lower.AsSpan();
        int dot = stem.IndexOf('.');
        ReadOnlySpan<char> part = dot < 0 ? stem : stem[..dot];
        group = part switch
        {
            "token_embd" or "position_embd" or "token_types" => TensorGroup.Embedding,
            "output" or "cls" => TensorGroup.LmHead,
            "attn_q_norm" or "attn_k_norm" or "attn_q_a_norm" or "attn_kv_a_norm" => TensorGroup.Attention,
            _ when part.EndsWith("_norm", StringComparison.Ordinal) || part == "norm" || part.StartsWith("layer_output_norm", StringComparison.Ordinal) => TensorGroup.Norm,
            _ when part.EndsWith("_exps", StringComparison.Ordinal) => TensorGroup.Experts,
            _ when part.StartsWith("attn", StringComparison.Ordinal) => TensorGroup.Attention,
            _ when part.StartsWith("ffn", StringComparison.Ordinal) || part.SequenceEqual("exp_probs_b") => TensorGroup.Mlp,
            _ => TensorGroup.Other,
        };
        if (group == TensorGroup.Other && part.SequenceEqual("rope_freqs"))
        {
            return true;
        }

        return group != TensorGroup.Other || lower.StartsWith("blk.", StringComparison.Ordinal);
    }

    /// <summary>The layer index: the number after the first segment named blk, layers, layer, h, blocks or block
    /// ("model.layers.3.", "transformer.h.3.", "encoder.layer.3.", "encoder.block.3.layer.1." → 3, GGUF "blk.3.").</summary>
    public static int? LayerOf(string name)
    {
        var span = name.AsSpan();
        int start = 0;
        while (start < span.Length)
        {
            int dot = span[start..].IndexOf('.');
            if (dot < 0)
            {
                return null;
            }

            var segment = span.Slice(start, dot);
            int next = start + dot + 1;
            if (segment is "blk" or "layers" or "layer" or "h" or "blocks" or "block")
            {
                int end = next;
                while (end < span.Length && char.IsAsciiDigit(span[end]))
                {
                    end++;
                }

                if (end > next && end - next <= 6 && (end == span.Length || span[end] == '.'))
                {
                    return int.Parse(span[next..end], System.Globalization.CultureInfo.InvariantCulture);
                }
            }

            start = next;
        }

        return null;
    }
}
