namespace LlmSizer.Architecture.Families;

/// <summary>Which output head a checkpoint carries, from <c>architectures[0]</c>.</summary>
public enum DecoderHead
{
    /// <summary><c>...ForCausalLM</c> / <c>...ForConditionalGeneration</c>: an <c>lm_head</c> of vocab × hidden (none when tied).</summary>
    CausalLm,

    /// <summary><c>...Model</c>: the bare decoder, saved without the <c>model.</c> prefix and without a head.</summary>
    None,

    /// <summary><c>...ForSequenceClassification</c>: <c>score.weight</c> of labels × hidden, no bias.</summary>
    SequenceClassification,

    /// <summary><c>...ForTokenClassification</c>: <c>score.weight</c> and <c>score.bias</c>.</summary>
    TokenClassification,
}

/// <summary>How the per-head query/key normalization of a layer is shaped (none, Qwen3/Gemma3, OLMo-2, Cohere).</summary>
public enum QkNormKind
{
    /// <summary>No QK-norm.</summary>
    None,

    /// <summary>One RMSNorm of head_dim shared by all heads: <c>q_norm.weight</c> [head_dim] (Qwen3, Gemma3).</summary>
    PerHeadDim,

    /// <summary>An RMSNorm over the whole projection: <c>q_norm.weight</c> [heads × head_dim] (OLMo-2).</summary>
    FullWidth,

    /// <summary>A LayerNorm weight per head: <c>q_norm.weight</c> [heads, head_dim] (Cohere <c>use_qk_norm</c>).</summary>
    PerHeadMatrix,
}

/// <summary>Which norms a decoder layer holds.</summary>
public enum NormPlacement
{
    /// <summary><c>input_layernorm</c> and <c>post_attention_layernorm</c> (Llama and most others).</summary>
    PrePost,

    /// <summary>Gemma 2/3: input, post-attention, pre-feed-forward and post-feed-forward norms.</summary>
    Sandwich,

    /// <summary>OLMo-2: <c>post_attention_layernorm</c> and <c>post_feedforward_layernorm</c> only.</summary>
    PostOnly,

    /// <summary>Cohere's parallel block: a single <c>input_layernorm</c>.</summary>
    Single,

    /// <summary>GLM-4: <c>input_layernorm</c>, <c>post_self_attn_layernorm</c>, <c>post_attention_layernorm</c> and
    /// <c>post_mlp_layernorm</c>.</summary>
    Glm4,

    /// <summary>OLMo (1): LayerNorms without weight or bias (<c>OlmoLayerNorm</c>), in the layers and at the end: no
    /// norm tensors at all.</summary>
    NonParametric,
}

/// <summary>How the routed experts of an MoE layer are named and stored.</summary>
public enum MoeLayout
{
    /// <summary>Mixtral: <c>block_sparse_moe.gate</c> and <c>block_sparse_moe.experts.{e}.w1/w2/w3</c> (<c>w3</c> only with a
    /// gated MLP, <see cref="MlpKind.Gated"/>; expert biases only with <see cref="DecoderDetails.MlpBias"/>).</summary>
    Mixtral,

    /// <summary>Qwen-MoE: <c>mlp.gate</c>, <c>mlp.experts.{e}.*_proj</c>, optional <c>mlp.shared_expert</c> and <c>shared_expert_gate</c>.</summary>
    Qwen,

    /// <summary>DeepSeek-V2/V3: <c>mlp.gate</c>, <c>mlp.experts.{e}.*_proj</c>, <c>mlp.shared_experts</c>.</summary>
    DeepSeek,

    /// <summary>gpt-oss: <c>mlp.router</c> with bias and fused <c>mlp.experts.gate_up_proj</c>/<c>down_proj</c> with biases.</summary>
    GptOss,

    /// <summary>Granite MoE: <c>block_sparse_moe.router.layer</c> [E, hidden] and every expert in two fused tensors,
    /// <c>block_sparse_moe.input_linear</c> [E, 2 × intermediate, hidden] and <c>output_linear</c> [E, hidden, intermediate]
    /// (<c>GraniteMoeParallelExperts</c>).</summary>
    GraniteMoe,

    /// <summary>ERNIE 4.5 MoE: DeepSeek's names (<c>mlp.gate</c>, <c>mlp.experts.{e}.*_proj</c>, <c>mlp.shared_experts</c>) plus
    /// <c>mlp.moe_statics.e_score_correction_bias</c> [1, experts], an <c>nn.Parameter</c> with <c>requires_grad=False</c>
    /// (<c>Ernie4_5_MoeStatics</c>), so counted by <c>num_parameters()</c> unlike DeepSeek's buffer.</summary>
    Ernie,

    /// <summary>Qwen3.5-MoE: <c>mlp.gate</c>, every routed expert in two fused tensors without a <c>.weight</c> suffix,
    /// <c>mlp.experts.gate_up_proj</c> [E, 2 × intermediate, hidden] and <c>mlp.experts.down_proj</c> [E, hidden,
    /// intermediate] (<c>Qwen3NextExperts</c>, stored so in the Qwen3.5 checkpoints), plus <c>mlp.shared_expert</c> and
    /// <c>shared_expert_gate</c>.</summary>
    QwenFused,
}

/// <summary>The layout flags of a Llama-like decoder (Llama, Mistral, Mixtral, Qwen, Gemma, Phi-3, OLMo-2, StarCoder2,
/// Cohere, DeepSeek, gpt-oss) that the common fields of <see cref="ArchitectureSpec"/> do not carry.</summary>
public sealed record DecoderDetails : FamilyDetails
{
    /// <summary>The prefix of the decoder's tensors: "model." for a causal LM, "" for a bare model,
    /// "language_model.model." for Gemma 3's multimodal checkpoints.</summary>
    public string Prefix { get; init; } = "model.";

    /// <summary>The name of the untied output head.</summary>
    public string HeadName { get; init; } = "lm_head.weight";

    /// <summary>The head kind, from <c>architectures[0]</c>.</summary>
    public DecoderHead Head { get; init; } = DecoderHead.CausalLm;

    /// <summary>The number of labels of a classification head.</summary>
    public int Labels { get; init; }

    /// <summary>Biases on the q, k and v projections (Qwen2 always; <c>attention_bias</c> elsewhere).</summary>
    public bool QkvBias { get; init; }

    /// <summary>A bias on the attention output projection.</summary>
    public bool OutputBias { get; init; }

    /// <summary>Biases on the MLP projections (and on the experts of the <see cref="MoeLayout.Mixtral"/> layout).</summary>
    public bool MlpBias { get; init; }

    /// <summary>A bias on the untied output head (PhiMoE <c>lm_head_bias</c>).</summary>
    public bool HeadBias { get; init; }

    /// <summary>The rows of a learned absolute position table, <c>{Prefix}embed_positions.weight</c> [rows, hidden];
    /// 0 (the default, every config-read family) means none: rotary positions are buffers, not parameters. Only
    /// hand-described architectures (<see cref="ManualArchitecture.LearnedPositions"/>) set it.</summary>
    public int PositionEmbeddings { get; init; }

    /// <summary>The QK-norm shape.</summary>
    public QkNormKind QkNorm { get; init; }

    /// <summary>Which norms each layer holds.</summary>
    public NormPlacement Norms { get; init; }

    /// <summary>Phi-3: fused <c>qkv_proj</c> and <c>gate_up_proj</c>.</summary>
    public bool FusedProjections { get; init; }

    /// <summary>GLM-4: a fused <c>mlp.gate_up_proj</c> [2 × intermediate, hidden] with separate q, k, v projections.</summary>
    public bool FusedGateUp { get; init; }

    /// <summary>Qwen3-Next: gated attention, whose <c>q_proj</c> also yields the output gate ([2 × heads × head_dim, hidden]).</summary>
    public bool GatedAttention { get; init; }

    /// <summary>Qwen3.5: the gated delta net's input projections stored apart (<c>in_proj_qkv</c>, <c>in_proj_z</c>,
    /// <c>in_proj_b</c>, <c>in_proj_a</c>) instead of Qwen3-Next's fused <c>in_proj_qkvz</c> and <c>in_proj_ba</c>; the same
    /// parameters.</summary>
    public bool SplitDeltaNetProjections { get; init; }

    /// <summary>gpt-oss: a learned attention sink per head (<c>self_attn.sinks</c>).</summary>
    public bool AttentionSinks { get; init; }

    /// <summary>How experts are stored when <see cref="ArchitectureSpec.Moe"/> is set.</summary>
    public MoeLayout Experts { get; init; } = MoeLayout.Qwen;

    /// <summary>DeepSeek-V3 (<c>noaux_tc</c>): the router holds <c>e_score_correction_bias</c> [experts], a buffer
    /// (generated with <see cref="Tensors.TensorKind.Buffer"/>: stored, not counted as a parameter).</summary>
    public bool RouterCorrectionBias { get; init; }

    /// <summary>What the count leaves out or assumes, for the output (e.g. "vision tower not included").</summary>
    public string? Note { get; init; }
}
