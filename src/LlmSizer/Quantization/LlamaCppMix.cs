using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Quantization;

/// <summary>A llama.cpp file type (<c>enum llama_ftype</c>, the name given to <c>llama-quantize</c>).</summary>
internal enum LlamaFtype
{
    F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q2_K_S, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K,
    IQ2_XXS, IQ2_XS, IQ2_S, IQ2_M, IQ3_XXS, IQ3_XS, IQ3_S, IQ3_M, IQ1_S, IQ1_M, IQ4_NL, IQ4_XS, TQ1_0, TQ2_0, MXFP4_MOE,
}

/// <summary>Assigns a storage type to every tensor of an inventory the way <c>llama-quantize</c> does for a given
/// ftype: a default type per ftype, then per-tensor overrides, then the row-size fallback.</summary>
/// <remarks>Source: ggml-org/llama.cpp <c>src/llama-quant.cpp</c> (<c>llama_model_quantize_impl</c> default types,
/// <c>llama_tensor_get_type</c> overrides, <c>tensor_type_fallback</c>) as summarized in memory-physics.md §2.3.
/// The IQ1/IQ2 branch (attn_v, attn_k, ffn_down, attn_output) is modelled; the IQ3/IQ4 imatrix-dependent tweaks of
/// attn_q/ffn_gate/ffn_up are not.</remarks>
internal static class LlamaCppMix
{
    public static DataType DefaultType(LlamaFtype f) => f switch
    {
        LlamaFtype.F32 => DataType.F32,
        LlamaFtype.F16 => DataType.F16,
        LlamaFtype.BF16 => DataType.BF16,
        LlamaFtype.Q4_0 => DataType.Q4_0,
        LlamaFtype.Q4_1 => DataType.Q4_1,
        LlamaFtype.Q5_0 => DataType.Q5_0,
        LlamaFtype.Q5_1 => DataType.Q5_1,
        LlamaFtype.Q8_0 => DataType.Q8_0,
        LlamaFtype.Q2_K or LlamaFtype.Q2_K_S => DataType.Q2_K,
        LlamaFtype.Q3_K_S or LlamaFtype.Q3_K_M or LlamaFtype.Q3_K_L => DataType.Q3_K,
        LlamaFtype.Q4_K_S or LlamaFtype.Q4_K_M => DataType.Q4_K,
        LlamaFtype.Q5_K_S or LlamaFtype.Q5_K_M => DataType.Q5_K,
        LlamaFtype.Q6_K => DataType.Q6_K,
        LlamaFtype.IQ2_XXS => DataType.IQ2_XXS,
        LlamaFtype.IQ2_XS or LlamaFtype.IQ2_S => DataType.IQ2_XS,
        LlamaFtype.IQ2_M => DataType.IQ2_S,
        LlamaFtype.IQ3_XXS or LlamaFtype.IQ3_XS => DataType.IQ3_XXS,
        LlamaFtype.IQ3_S or LlamaFtype.IQ3_M => DataType.IQ3_S,
        LlamaFtype.IQ1_S => DataType.IQ1_S,
        LlamaFtype.IQ1_M => DataType.IQ1_M,
        LlamaFtype.IQ4_NL => DataType.IQ4_NL,
        LlamaFtype.IQ4_XS => DataType.IQ4_XS,
        LlamaFtype.TQ1_0 => DataType.TQ1_0,
        LlamaFtype.TQ2_0 => DataType.TQ2_0,
        LlamaFtype.MXFP4_MOE => DataType.MXFP4,
        _ => DataType.F16,
    };

    private static bool IsIq12(LlamaFtype f) => f is LlamaFtype.IQ2_XXS or LlamaFtype.IQ2_XS or LlamaFtype.IQ3_XXS or LlamaFtype.IQ1_S
        or LlamaFtype.IQ2_S or LlamaFtype.IQ2_M or LlamaFtype.IQ1_M;

    /// <summary><c>use_more_bits(i, n) = i &lt; n/8 || i &gt;= 7n/8 || (i − n/8) % 3 == 2</c> (llama-quant.cpp).</summary>
    public static bool UseMoreBits(int i, int n) => i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;

    /// <summary>Applies the ftype to every tensor; returns the re-typed inventory.</summary>
    public static TensorInventory Apply(TensorInventory inventory, ArchitectureSpec? spec, LlamaFtype ftype)
    {
        var sink = new MaterializingSink(inventory.Tensors.Length);
        Apply(inventory, spec, ftype, sink);
        return sink.Build();
    }

    /// <summary>Applies the ftype, telling <paramref name="sink"/> each stored tensor (no inventory is built).</summary>
    internal static void Apply(TensorInventory inventory, ArchitectureSpec? spec, LlamaFtype ftype, IStoredTensorSink sink)
    {
        var roles = inventory.Tensors.Select(TensorRoles.Of).ToArray();
        bool hasOutput = roles.Any(r => r == TensorRole.Output);

        // i_attention_wv / n_attention_wv and i_ffn_down / n_ffn_down count tensors in file order; with one tensor per
        // layer (experts fused in GGUF) that is the rank of the tensor's layer among the layers that have one.
        var vLayers = LayerRanks(inventory, roles, TensorRole.AttnV);
        var downLayers = LayerRanks(inventory, roles, TensorRole.FfnDown);
        int nExpert = spec?.Moe?.Experts ?? 0;
        int gqa = spec is null || spec.KvHeads == 0 ? 1 : spec.Heads / spec.KvHeads;
        bool falcon = spec?.Family is "falcon";
        bool is70B = spec is { Layers: 80, Family: "llama" }; // LLM_TYPE_70B: llama with 80 layers (llama-model.cpp)
        var baseType = DefaultType(ftype);

        for (int k = 0; k < inventory.Tensors.Length; k++)
        {
            var t = inventory.Tensors[k];
            if (t.Kind != TensorKind.Parameter)
            {
                sink.Kept(t);
                continue;
            }

            var role = roles[k];

            // Only 2-D+ weights are quantized; norms, biases, routers and position embeddings keep F32
            // (convert_hf_to_gguf.py writes 1-D tensors as F32; llama-quant.cpp skips *_norm, ffn_gate_inp, pos_embd).
            bool quantize = t.Shape.Length >= 2 && role is not TensorRole.Router and not TensorRole.PositionEmbedding;
            if (ftype is LlamaFtype.F32 or LlamaFtype.F16 or LlamaFtype.BF16)
            {
                sink.Retyped(t, quantize ? baseType : DataType.F32);
                continue;
            }

            if (!quantize)
            {
                sink.Retyped(t, t.Shape.Length >= 2 ? DataType.F16 : DataType.F32);
                continue;
            }

            var type = Override(t, role, ftype, baseType, hasOutput, nExpert, gqa, falcon, is70B, vLayers, downLayers);
            sink.Retyped(t, Fallback(type, t.Shape[^1]));
        }
    }

    private static Dictionary<int, (int Index, int Count)> LayerRanks(TensorInventory inv, TensorRole[] roles, TensorRole role)
    {
        var layers = new SortedSet<int>();
        for (int k = 0; k < roles.Length; k++)
        {
            if (roles[k] == role && inv.Tensors[k].Layer is { } l)
            {
                layers.Add(l);
            }
        }

        int i = 0;
        var map = new Dictionary<int, (int, int)>();
        foreach (var l in layers)
        {
            map[l] = (i++, layers.Count);
        }

        return map;
    }

    private static DataType Override(TensorInfo t, TensorRole role, LlamaFtype f, DataType type, bool hasOutput, int nExpert, int gqa,
        bool falcon, bool is70B, Dictionary<int, (int Index, int Count)> vLayers, Dictionary<int, (int Index, int Count)> downLayers)
    {
        if (role == TensorRole.Output || (!hasOutput && role == TensorRole.TokenEmbedding))
        {
            long nx = t.Shape[^1];
            if (falcon || nx % type.BlockElements != 0)
            {
                return DataType.Q8_0;
            }

            if (IsIq12(f))
            {
                return DataType.Q5_K;
            }

            return type == DataType.Q8_0 ? type : DataType.Q6_K;
        }

        if (f == LlamaFtype.MXFP4_MOE)
        {
            // MoE expert tensors -> MXFP4, everything else -> Q8_0.
            return t.ExpertPool > 0 ? DataType.MXFP4 : DataType.Q8_0;
        }

        if (role == TensorRole.TokenEmbedding)
        {
            return f switch
            {
                LlamaFtype.IQ2_XXS or LlamaFtype.IQ2_XS or LlamaFtype.IQ1_S or LlamaFtype.IQ1_M => DataType.Q2_K,
                LlamaFtype.IQ2_S or LlamaFtype.IQ2_M or LlamaFtype.IQ3_XXS => DataType.IQ3_S,
                LlamaFtype.TQ1_0 or LlamaFtype.TQ2_0 => DataType.Q4_K,
                _ => type,
            };
        }

        (int i, int n) = t.Layer is { } layer && downLayers.TryGetValue(layer, out var dl) ? dl : (0, 1);
        if (IsIq12(f))
        {
            bool iq2sm = f is LlamaFtype.IQ2_S or LlamaFtype.IQ2_M;
            switch (role)
            {
                case TensorRole.AttnV:
                    return gqa >= 4 || nExpert >= 4 ? DataType.Q4_K : iq2sm ? DataType.IQ3_S : DataType.Q2_K;
                case TensorRole.AttnK when nExpert == 8:
                    return DataType.Q4_K;
                case TensorRole.FfnDown when i < n / 8:
                    return iq2sm ? DataType.IQ3_S : DataType.Q2_K;
                case TensorRole.AttnOutput:
                    return nExpert == 8 ? DataType.Q5_K
                        : f is LlamaFtype.IQ1_S or LlamaFtype.IQ1_M ? DataType.IQ2_XXS
                        : iq2sm ? DataType.IQ3_S : type;
                default:
                    return type;
            }
        }

        switch (role)
        {
            case TensorRole.AttnV:
            {
                int iv = t.Layer is { } lv && vLayers.TryGetValue(lv, out var r) ? r.Index : 0;
                int nv = t.Layer is { } lv2 && vLayers.TryGetValue(lv2, out var r2) ? r2.Count : 1;
                type = f switch
                {
                    LlamaFtype.Q2_K => gqa >= 4 ? DataType.Q4_K : DataType.Q3_K,
                    LlamaFtype.Q2_K_S when gqa >= 4 => DataType.Q4_K,
                    LlamaFtype.Q3_K_M => iv < 2 ? DataType.Q5_K : DataType.Q4_K,
                    LlamaFtype.Q3_K_L => DataType.Q5_K,
                    LlamaFtype.IQ4_NL or LlamaFtype.IQ4_XS when gqa >= 4 => DataType.Q5_K,
                    LlamaFtype.Q4_K_M or LlamaFtype.Q5_K_M when UseMoreBits(iv, nv) => DataType.Q6_K,
                    LlamaFtype.Q4_K_S when iv < 4 => DataType.Q5_K,
                    _ => type,
                };
                if (is70B && (type == DataType.Q3_K || type == DataType.Q4_K))
                {
                    type = DataType.Q5_K;
                }

                if (nExpert == 8)
                {
                    type = DataType.Q8_0;
                }

                return type;
            }

            case TensorRole.AttnK:
                return nExpert == 8 ? DataType.Q8_0 : type;

            case TensorRole.FfnDown:
                return f switch
                {
                    LlamaFtype.Q2_K => DataType.Q3_K,
                    LlamaFtype.Q2_K_S when i < n / 8 => DataType.Q4_K,
                    LlamaFtype.Q3_K_M => i < n / 16 ? DataType.Q5_K : (!falcon || UseMoreBits(i, n)) ? DataType.Q4_K : DataType.Q3_K,
                    LlamaFtype.Q3_K_L => falcon ? DataType.Q4_K : DataType.Q5_K,
                    LlamaFtype.Q4_K_M when falcon => i < n / 16 ? DataType.Q6_K : UseMoreBits(i, n) ? DataType.Q5_K : DataType.Q4_K,
                    LlamaFtype.Q4_K_M when UseMoreBits(i, n) => DataType.Q6_K,
                    LlamaFtype.IQ4_NL or LlamaFtype.IQ4_XS when i < n / 8 => DataType.Q5_K,
                    LlamaFtype.Q5_K_M when UseMoreBits(i, n) => DataType.Q6_K,
                    LlamaFtype.Q4_K_S when !falcon && i < n / 8 => DataType.Q5_K,
                    _ => type,
                };

            case TensorRole.AttnOutput:
                if (falcon)
                {
                    return f == LlamaFtype.Q3_K_L ? DataType.Q4_K : type;
                }

                if (nExpert == 8)
                {
                    return f is LlamaFtype.Q2_K or LlamaFtype.IQ3_XXS or LlamaFtype.Q3_K_S or LlamaFtype.Q3_K_M or LlamaFtype.IQ4_NL
                        or LlamaFtype.Q4_K_S or LlamaFtype.Q4_K_M or LlamaFtype.IQ3_S or LlamaFtype.IQ3_M or LlamaFtype.IQ4_XS
                        ? DataType.Q5_K : type;
                }

                return f switch
                {
                    LlamaFtype.Q2_K => DataType.Q3_K,
                    LlamaFtype.IQ3_XXS => DataType.IQ3_S,
                    LlamaFtype.Q3_K_M => DataType.Q4_K,
                    LlamaFtype.Q3_K_L => DataType.Q5_K,
                    LlamaFtype.IQ3_M => DataType.Q4_K,
                    _ => type,
                };

            case TensorRole.AttnQkv:
                return f switch
                {
                    LlamaFtype.Q3_K_M or LlamaFtype.Q3_K_L or LlamaFtype.IQ3_M => DataType.Q4_K,
                    LlamaFtype.Q4_K_M => DataType.Q5_K,
                    LlamaFtype.Q5_K_M => DataType.Q6_K,
                    _ => type,
                };

            default:
                return type;
        }
    }

    /// <summary>The row-size fallback: a row (ne0) that is not a whole number of blocks is re-typed
    /// (<c>tensor_type_fallback</c>: Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, IQ*/Q2_K/Q3_K→IQ4_NL (same 18-byte/32 block
    /// as Q4_0), TQ*→Q4_0; F16 when even that does not divide).</summary>
    public static DataType Fallback(DataType type, long rowLength)
    {
        if (rowLength % type.BlockElements == 0)
        {
            return type;
        }

        DataType next;
        if (type == DataType.Q4_K)
        {
            next = DataType.Q5_0;
        }
        else if (type == DataType.Q5_K)
        {
            next = DataType.Q5_1;
        }
        else if (type == DataType.Q6_K)
        {
            next = DataType.Q8_0;
        }
        else if (type == DataType.TQ1_0 || type == DataType.TQ2_0)
        {
            next = DataType.Q4_0;
        }
        else if (type.BlockElements == 256)
        {
            next = DataType.IQ4_NL;
        }
        else
        {
            next = DataType.F16;
        }

        return rowLength % next.BlockElements == 0 ? next : DataType.F16;
    }
}
