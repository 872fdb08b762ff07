using LlmSizer.Tensors;

namespace LlmSizer.Quantization;

/// <summary>The role of a tensor as llama.cpp's quantizer sees it (<c>LLM_TENSOR_*</c> names); the estimator uses it
/// to place tensors (embedding on the first pipeline stage, head on the last) and to pick LoRA targets.</summary>
public enum TensorRole
{
    /// <summary>The token embedding (<c>token_embd</c>, <c>embed_tokens</c>).</summary>
    TokenEmbedding,

    /// <summary>The output head (<c>output</c>, <c>lm_head</c>).</summary>
    Output,

    /// <summary>The query projection.</summary>
    AttnQ,

    /// <summary>The key projection.</summary>
    AttnK,

    /// <summary>The value projection.</summary>
    AttnV,

    /// <summary>A fused query-key-value projection.</summary>
    AttnQkv,

    /// <summary>The attention output projection.</summary>
    AttnOutput,

    /// <summary>The MLP gate projection.</summary>
    FfnGate,

    /// <summary>The MLP up projection.</summary>
    FfnUp,

    /// <summary>The MLP down projection.</summary>
    FfnDown,

    /// <summary>An MoE router.</summary>
    Router,

    /// <summary>A position (or token-type) embedding table.</summary>
    PositionEmbedding,

    /// <summary>A norm weight or bias.</summary>
    Norm,

    /// <summary>Any other matrix.</summary>
    OtherMatrix,

    /// <summary>Any other vector.</summary>
    OtherVector,
}

/// <summary>Maps Hugging Face and GGUF tensor names onto <see cref="TensorRole"/>.</summary>
/// <remarks>GGUF names follow gguf-py <c>constants.py</c> (<c>blk.N.attn_v.weight</c>, <c>token_embd.weight</c>, ...);
/// Hugging Face names follow the official checkpoints (<c>self_attn.v_proj</c>, <c>mlp.down_proj</c>, GPT-2 <c>c_attn</c> ...).</remarks>
internal static class TensorRoles
{
    /// <summary>The role of a tensor: the one its generator or reader set, else the name classifier's.</summary>
    public static TensorRole Of(TensorInfo t) => t.Role ?? Classify(t);

    /// <summary>Classifies a tensor by its name and shape (the one classifier for tensors whose source set no role).</summary>
    internal static TensorRole Classify(TensorInfo t)
    {
        var n = t.Name;
        bool matrix = t.Shape.Length >= 2;
        if (!matrix)
        {
            return t.Group == TensorGroup.Norm || n.Contains("norm", StringComparison.Ordinal) || n.Contains("ln_", StringComparison.Ordinal)
                ? TensorRole.Norm
                : TensorRole.OtherVector;
        }

        if (Has(n, "token_embd", "embed_tokens", "wte.", "word_embeddings", "tok_embeddings", "embed_in"))
        {
            return TensorRole.TokenEmbedding;
        }

        if (Has(n, "position_embd", "wpe.", "position_embeddings", "token_type"))
        {
            return TensorRole.PositionEmbedding;
        }

        if (n is "output.weight" || Has(n, "lm_head", "embed_out") || t.Group == TensorGroup.LmHead)
        {
            return TensorRole.Output;
        }

        if (Has(n, "ffn_gate_inp", "mlp.gate.weight", "router", "block_sparse_moe.gate.weight"))
        {
            return TensorRole.Router;
        }

        if (Has(n, "attn_qkv", "qkv_proj", "query_key_value", "c_attn", "Wqkv", "W_pack"))
        {
            return TensorRole.AttnQkv;
        }

        if (Has(n, "attn_q.", "q_proj", "attn_q_a", "attn_q_b", "q_a_proj", "q_b_proj", ".query."))
        {
            return TensorRole.AttnQ;
        }

        if (Has(n, "attn_k.", "k_proj", ".key."))
        {
            return TensorRole.AttnK;
        }

        if (Has(n, "attn_v.", "v_proj", ".value."))
        {
            return TensorRole.AttnV;
        }

        if (Has(n, "attn_output", "o_proj", "out_proj", "attn.c_proj", "attention.dense", "attention.output.dense", "self_attention.dense"))
        {
            return TensorRole.AttnOutput;
        }

        if (Has(n, "ffn_down", "down_proj", "mlp.c_proj", "dense_4h_to_h", ".w2.", "fc2", "output.dense"))
        {
            return TensorRole.FfnDown;
        }

        if (Has(n, "ffn_gate", "gate_proj", ".w1."))
        {
            return TensorRole.FfnGate;
        }

        if (Has(n, "ffn_up", "up_proj", "c_fc", "dense_h_to_4h", ".w3.", "fc1", "intermediate.dense"))
        {
            return TensorRole.FfnUp;
        }

        return TensorRole.OtherMatrix;
    }

    /// <summary>True for the linear layers inside transformer blocks (what GPTQ/AWQ/bitsandbytes/fp8 quantize).</summary>
    public static bool IsBlockLinear(TensorInfo t, TensorRole role) =>
        t.Shape.Length >= 2 && t.Layer is not null && role is TensorRole.AttnQ or TensorRole.AttnK or TensorRole.AttnV
            or TensorRole.AttnQkv or TensorRole.AttnOutput or TensorRole.FfnGate or TensorRole.FfnUp or TensorRole.FfnDown
            or TensorRole.OtherMatrix;

    private static bool Has(string name, params ReadOnlySpan<string> parts)
    {
        foreach (var p in parts)
        {
            if (name.Contains(p, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
