namespace LlmSizer.Tensors;

/// <summary>The part of the model a tensor belongs to, for the parameter breakdown.</summary>
public enum TensorGroup
{
    /// <summary>Token, position and token-type embeddings.</summary>
    Embedding,

    /// <summary>Attention projections, their biases, QK-norms and relative-position tables.</summary>
    Attention,

    /// <summary>Dense MLP / feed-forward weights, MoE routers and shared experts.</summary>
    Mlp,

    /// <summary>Routed MoE experts.</summary>
    Experts,

    /// <summary>LayerNorm / RMSNorm weights and biases.</summary>
    Norm,

    /// <summary>The output head (untied lm_head, classifier, MLM head transform).</summary>
    LmHead,

    /// <summary>Anything else (poolers, adapters, projectors, vision towers).</summary>
    Other,

    /// <summary>State-space and linear-attention mixers (Mamba's <c>in_proj</c>, <c>conv1d</c>, <c>x_proj</c>,
    /// <c>dt_proj</c>, <c>A_log</c>, <c>D</c>, <c>out_proj</c>; a gated-delta-net block): the token mixer of a layer
    /// that has no attention.</summary>
    /// <remarks>ssm</remarks>
    Ssm,
}

/// <summary>What a stored tensor is: a learned parameter, a non-learned buffer, or quantization side data.</summary>
public enum TensorKind
{
    /// <summary>A learned parameter (counted).</summary>
    Parameter,

    /// <summary>A buffer stored in the file but not learned (GPT-2's <c>attn.bias</c> masks, <c>inv_freq</c>, <c>position_ids</c>).</summary>
    Buffer,

    /// <summary>Quantization side data (scales, zeros, <c>g_idx</c>, block scales): bytes, not parameters.</summary>
    QuantizationAux,
}
