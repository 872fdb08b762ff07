using System.Collections.Immutable;

namespace LlmSizer.Architecture;

/// <summary>The kind of MLP block.</summary>
public enum MlpKind
{
    /// <summary>Two matrices (up, down) with an activation between: GPT-2, BERT, OPT, Falcon, Phi-2.</summary>
    Dense,

    /// <summary>Three matrices (gate, up, down), a gated linear unit: Llama, Mistral, Qwen, Gemma.</summary>
    Gated,
}

/// <summary>The kind of normalization layer.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with weight and bias.</summary>
    LayerNorm,

    /// <summary>LayerNorm with weight only (no bias).</summary>
    LayerNormNoBias,

    /// <summary>RMSNorm (weight only).</summary>
    RmsNorm,
}

/// <summary>How a layer attends, for the KV cache.</summary>
public enum AttentionLayerKind
{
    /// <summary>Full (global) causal attention: the cache grows with the context.</summary>
    Full,

    /// <summary>Sliding-window (local) attention: the cache is capped at the window.</summary>
    Sliding,

    /// <summary>No attention cache in this layer (recurrent or encoder-only layers).</summary>
    None,
}

/// <summary>What mixes tokens in a layer: attention, a state-space model, or linear attention.</summary>
public enum LayerMixer
{
    /// <summary>Softmax attention with a KV cache.</summary>
    Attention,

    /// <summary>A selective state-space model (Mamba-1 or Mamba-2 mixer): a fixed-size conv state and SSM state per
    /// sequence, no KV cache.</summary>
    Ssm,

    /// <summary>Linear attention (Qwen3-Next's gated delta net): a fixed-size recurrent state per sequence.</summary>
    LinearAttention,

    /// <summary>Attention and a Mamba-2 mixer side by side on the same input (Falcon-H1's parallel hybrid): the layer holds
    /// both a KV cache and a recurrent SSM state.</summary>
    AttentionAndSsm,
}

/// <summary>The version of a state-space mixer.</summary>
public enum SsmKind
{
    /// <summary>Mamba-1 (<c>MambaMixer</c>): per-channel state, <c>x_proj</c> and <c>dt_proj</c>.</summary>
    Mamba1,

    /// <summary>Mamba-2 (<c>Mamba2Mixer</c>, SSD): per-head state, B and C shared within <c>n_groups</c> groups.</summary>
    Mamba2,
}

/// <summary>The geometry of the state-space layers of a model, for the tensor list and the recurrent state.</summary>
/// <remarks>In llama.cpp's terms (GGUF <c>ssm.*</c> keys): <see cref="StateSize"/> is <c>ssm_d_state</c>,
/// <see cref="ConvKernel"/> <c>ssm_d_conv</c>, <see cref="InnerSize"/> <c>ssm_d_inner</c>, <see cref="Groups"/>
/// <c>ssm_n_group</c> (0 for Mamba-1), <see cref="TimeStepRank"/> <c>ssm_dt_rank</c>.</remarks>
public sealed record SsmSpec
{
    /// <summary>Mamba-1 or Mamba-2.</summary>
    public required SsmKind Kind { get; init; }

    /// <summary>The SSM state size per channel (d_state, N).</summary>
    public required int StateSize { get; init; }

    /// <summary>The causal conv1d kernel width (d_conv).</summary>
    public required int ConvKernel { get; init; }

    /// <summary>The expansion factor (d_inner = expand × hidden unless the config sets the inner size).</summary>
    public required int Expand { get; init; }

    /// <summary>The inner width (d_inner = heads × head_dim for Mamba-2).</summary>
    public required int InnerSize { get; init; }

    /// <summary>Groups sharing B and C (Mamba-2 <c>n_groups</c>); 0 for Mamba-1.</summary>
    public int Groups { get; init; }

    /// <summary>Mamba-2 heads (<c>num_heads</c>); 0 for Mamba-1.</summary>
    public int Heads { get; init; }

    /// <summary>Mamba-2 head dimension (<c>head_dim</c>); 0 for Mamba-1.</summary>
    public int HeadDim { get; init; }

    /// <summary>Mamba-1's Δ rank (<c>time_step_rank</c>); 0 for Mamba-2.</summary>
    public int TimeStepRank { get; init; }

    /// <summary>The channels the conv1d runs over: d_inner + 2 × n_groups × d_state (Mamba-2 convolves x, B and C).</summary>
    public long ConvChannels => InnerSize + (2L * Groups * StateSize);
}

/// <summary>The geometry of gated-delta-net linear-attention layers (Qwen3-Next <c>Qwen3NextGatedDeltaNet</c>), for the
/// tensor list and the recurrent state.</summary>
public sealed record LinearAttentionSpec
{
    /// <summary>Key (and query) heads (<c>linear_num_key_heads</c>).</summary>
    public required int KeyHeads { get; init; }

    /// <summary>Value heads (<c>linear_num_value_heads</c>).</summary>
    public required int ValueHeads { get; init; }

    /// <summary>The key head dimension (<c>linear_key_head_dim</c>).</summary>
    public required int KeyHeadDim { get; init; }

    /// <summary>The value head dimension (<c>linear_value_head_dim</c>).</summary>
    public required int ValueHeadDim { get; init; }

    /// <summary>The causal conv1d kernel width (<c>linear_conv_kernel_dim</c>).</summary>
    public required int ConvKernel { get; init; }

    /// <summary>The channels the conv1d runs over: q, k and v, 2 × key heads × key dim + value heads × value dim.</summary>
    public long ConvChannels => (2L * KeyHeads * KeyHeadDim) + ((long)ValueHeads * ValueHeadDim);
}

/// <summary>Mixture-of-experts settings.</summary>
public sealed record MoeSpec
{
    /// <summary>Routed experts per MoE layer (E).</summary>
    public required int Experts { get; init; }

    /// <summary>Experts each token uses (top-k).</summary>
    public required int ActiveExperts { get; init; }

    /// <summary>The intermediate size of one routed expert.</summary>
    public required int ExpertIntermediate { get; init; }

    /// <summary>Shared experts (always active); zero when none.</summary>
    public int SharedExperts { get; init; }

    /// <summary>The intermediate size of the shared expert block (all shared experts together).</summary>
    public int SharedIntermediate { get; init; }

    /// <summary>Whether a sigmoid gate scales the shared expert (Qwen2-MoE <c>shared_expert_gate</c>).</summary>
    public bool SharedExpertGate { get; init; }

    /// <summary>Which layers are MoE layers (true) versus dense (false); one entry per layer.</summary>
    public ImmutableArray<bool> MoeLayers { get; init; } = [];
}

/// <summary>Multi-head latent attention (DeepSeek-V2/V3) ranks.</summary>
public sealed record MlaSpec
{
    /// <summary>The query low-rank dimension, or null when queries are projected directly.</summary>
    public int? QLoraRank { get; init; }

    /// <summary>The compressed KV latent dimension (d_c), cached per token.</summary>
    public required int KvLoraRank { get; init; }

    /// <summary>The per-head non-rotary query/key dimension.</summary>
    public required int QkNopeHeadDim { get; init; }

    /// <summary>The decoupled rotary key dimension (d_h^R), cached per token.</summary>
    public required int QkRopeHeadDim { get; init; }

    /// <summary>The per-head value dimension.</summary>
    public required int VHeadDim { get; init; }

    /// <summary>DeepSeek Sparse Attention's lightning indexer (DeepSeek-V3.2), or null when attention is dense.</summary>
    public SparseIndexerSpec? Indexer { get; init; }
}

/// <summary>The lightning indexer of DeepSeek Sparse Attention (DeepSeek-V3.2, <c>DeepseekV32Indexer</c>): per layer a
/// query projection from the MLA query latent, one shared key of <see cref="HeadDim"/> per token (cached beside the MLA
/// latent) and per-head weights; it keeps the <see cref="TopK"/> best-scoring tokens for each query.</summary>
public sealed record SparseIndexerSpec
{
    /// <summary>Indexer heads (<c>index_n_heads</c>).</summary>
    public required int Heads { get; init; }

    /// <summary>The indexer head dimension (<c>index_head_dim</c>), also the width of the cached indexer key.</summary>
    public required int HeadDim { get; init; }

    /// <summary>Tokens each query attends to (<c>index_topk</c>).</summary>
    public required int TopK { get; init; }
}

/// <summary>The image encoder of a multimodal model (a ViT such as SigLIP), with the projector that feeds the
/// language model.</summary>
public sealed record VisionTowerSpec
{
    /// <summary>The encoder's <c>model_type</c>, e.g. "siglip_vision_model".</summary>
    public required string Kind { get; init; }

    /// <summary>Encoder layers.</summary>
    public required int Layers { get; init; }

    /// <summary>The encoder's hidden size.</summary>
    public required int Hidden { get; init; }

    /// <summary>The encoder's attention heads.</summary>
    public required int Heads { get; init; }

    /// <summary>The encoder's MLP intermediate size.</summary>
    public required int Intermediate { get; init; }

    /// <summary>The input image side in pixels, or 0 for a tower that takes any resolution (Qwen2-VL's native
    /// dynamic resolution).</summary>
    public int ImageSize { get; init; }

    /// <summary>The patch side in pixels.</summary>
    public required int PatchSize { get; init; }

    /// <summary>Input channels (3 for RGB).</summary>
    public int Channels { get; init; } = 3;

    /// <summary>Frames per temporal patch (Qwen2-VL's Conv3d patch embedding: 2); 1 for image-only towers.</summary>
    public int TemporalPatchSize { get; init; } = 1;

    /// <summary>The side of the patch square merged into one language-model token (Qwen2-VL: 2, so 4 patches); 1 when none.</summary>
    public int SpatialMergeSize { get; init; } = 1;

    /// <summary>Patches per image: (image size / patch size)², the rows of the position table; 0 for a dynamic-resolution tower.</summary>
    public long Patches => ImageSize == 0 ? 0 : (long)(ImageSize / PatchSize) * (ImageSize / PatchSize);

    /// <summary>Soft tokens each image becomes in the language model's sequence, when fixed (Gemma 3: 256).</summary>
    public int? TokensPerImage { get; init; }

    /// <summary>Decoder layers that attend to the image through cross-attention (Llama 3.2 Vision: 8), each caching K and
    /// V of every image token; 0 when image tokens are part of the decoder's own sequence.</summary>
    public int CrossAttentionLayers { get; init; }

    /// <summary>The tokens one image costs: <see cref="TokensPerImage"/> when the family fixes it, else
    /// (image size / patch size)² / <see cref="SpatialMergeSize"/>² for one image at the tower's input size; 0 for a
    /// dynamic-resolution tower (Qwen2-VL), whose count depends on the image.</summary>
    /// <remarks>One tile, no thumbnail or separator tokens: tiling processors (LLaVA-NeXT, Idefics3, Llama 4) give more
    /// for large images.</remarks>
    public long ImageTokens => TokensPerImage ?? (ImageSize == 0 ? 0 : Patches / ((long)SpatialMergeSize * SpatialMergeSize));
}

/// <summary>Family-specific details that the tensor generator needs and the common fields do not carry.</summary>
public abstract record FamilyDetails;

/// <summary>The normalized description of a model architecture, read from a config.json, a catalog entry, GGUF
/// metadata or manual flags. The tensor list is generated from it by the family's generator.</summary>
public sealed record ArchitectureSpec
{
    /// <summary>The family key: the Hugging Face <c>model_type</c> (e.g. "llama", "qwen2_moe") or "manual".</summary>
    public required string Family { get; init; }

    /// <summary>The model class from <c>architectures[0]</c> (e.g. "LlamaForCausalLM"), which decides the head.</summary>
    public string? ModelClass { get; init; }

    /// <summary>Where the spec came from (a file path or catalog id), for messages.</summary>
    public string Source { get; init; } = "";

    /// <summary>Transformer layers (decoder layers; the encoder's for an encoder-only model; see <see cref="DecoderLayers"/>).</summary>
    public required int Layers { get; init; }

    /// <summary>For encoder–decoder models, the decoder layer count; <see cref="Layers"/> is then the encoder's.</summary>
    public int? DecoderLayers { get; init; }

    /// <summary>The hidden size (d_model).</summary>
    public required int Hidden { get; init; }

    /// <summary>Query heads.</summary>
    public required int Heads { get; init; }

    /// <summary>Key/value heads (equal to <see cref="Heads"/> for MHA, 1 for MQA).</summary>
    public required int KvHeads { get; init; }

    /// <summary>The per-head key/query dimension (from the config; not always Hidden / Heads).</summary>
    public required int HeadDim { get; init; }

    /// <summary>The per-head value dimension when it differs from <see cref="HeadDim"/>.</summary>
    public int? ValueHeadDim { get; init; }

    /// <summary>The dense MLP intermediate size (for MoE models, the size of dense layers, if any).</summary>
    public required int Intermediate { get; init; }

    /// <summary>The vocabulary size (embedding rows).</summary>
    public required int Vocab { get; init; }

    /// <summary>The trained context length (<c>max_position_embeddings</c>), when known.</summary>
    public int? MaxPositions { get; init; }

    /// <summary>Whether the output head shares the token embedding matrix.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>The MLP kind.</summary>
    public MlpKind Mlp { get; init; } = MlpKind.Gated;

    /// <summary>The norm kind.</summary>
    public NormKind Norm { get; init; } = NormKind.RmsNorm;

    /// <summary>Mixture-of-experts settings, or null for a dense model.</summary>
    public MoeSpec? Moe { get; init; }

    /// <summary>Multi-head latent attention settings, or null.</summary>
    public MlaSpec? Mla { get; init; }

    /// <summary>The sliding window in tokens for <see cref="AttentionLayerKind.Sliding"/> layers, or null.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>The attention kind of each decoder layer. Empty means every layer is
    /// <see cref="AttentionLayerKind.Full"/>, or <see cref="AttentionLayerKind.Sliding"/> when <see cref="SlidingWindow"/> is set.</summary>
    public ImmutableArray<AttentionLayerKind> LayerKinds { get; init; } = [];

    /// <summary>What mixes tokens in each decoder layer (attention, SSM, linear attention). Empty means every layer
    /// is <see cref="LayerMixer.Attention"/>. Layers that are not attention have <see cref="AttentionLayerKind.None"/>
    /// in <see cref="LayerKinds"/>, so they hold no KV cache.</summary>
    public ImmutableArray<LayerMixer> LayerMixers { get; init; } = [];

    /// <summary>The state-space geometry of the <see cref="LayerMixer.Ssm"/> layers, or null when there are none.</summary>
    public SsmSpec? Ssm { get; init; }

    /// <summary>The geometry of the <see cref="LayerMixer.LinearAttention"/> layers, or null when there are none.</summary>
    public LinearAttentionSpec? LinearAttention { get; init; }

    /// <summary>The mixer of decoder layer <paramref name="layer"/>.</summary>
    /// <param name="layer">The zero-based layer index.</param>
    /// <returns><see cref="LayerMixers"/>[layer], or <see cref="LayerMixer.Attention"/> when unset.</returns>
    public LayerMixer MixerOf(int layer) =>
        !LayerMixers.IsDefaultOrEmpty && layer >= 0 && layer < LayerMixers.Length ? LayerMixers[layer] : LayerMixer.Attention;

    /// <summary>Key/value heads of each decoder layer, when they differ by layer (GGUF per-layer
    /// <c>&lt;arch&gt;.attention.head_count_kv</c>: OpenELM, hybrid models with 0 in recurrent layers). Empty means every
    /// layer has <see cref="KvHeads"/>. The KV cache uses it per layer (llama.cpp <c>n_embd_k_gqa(il) = n_embd_head_k × n_head_kv(il)</c>).</summary>
    public ImmutableArray<int> LayerKvHeads { get; init; } = [];

    /// <summary>The key/value heads of decoder layer <paramref name="layer"/>: <see cref="LayerKvHeads"/> when set, else <see cref="KvHeads"/>.</summary>
    /// <param name="layer">The zero-based layer index.</param>
    /// <returns>The layer's KV heads.</returns>
    public int KvHeadsOf(int layer) => !LayerKvHeads.IsDefaultOrEmpty && layer >= 0 && layer < LayerKvHeads.Length ? LayerKvHeads[layer] : KvHeads;

    /// <summary>The key (and value) head dimension of each decoder layer, when it differs by layer (Gemma 4: sliding layers
    /// use <c>head_dim</c>, full-attention layers <c>global_head_dim</c>). Empty means every layer has
    /// <see cref="HeadDim"/> for keys and <see cref="VHeadDim"/> for values.</summary>
    /// <remarks>A layer listed here caches keys and values of this width (transformers Gemma4TextAttention and vLLM
    /// Gemma4Attention size K and V of a layer by its own head_dim).</remarks>
    public ImmutableArray<int> LayerHeadDims { get; init; } = [];

    /// <summary>The key head dimension of decoder layer <paramref name="layer"/>: <see cref="LayerHeadDims"/> when set, else <see cref="HeadDim"/>.</summary>
    /// <param name="layer">The zero-based layer index.</param>
    /// <returns>The layer's key head dimension.</returns>
    public int HeadDimOf(int layer) => !LayerHeadDims.IsDefaultOrEmpty && layer >= 0 && layer < LayerHeadDims.Length ? LayerHeadDims[layer] : HeadDim;

    /// <summary>The value head dimension of decoder layer <paramref name="layer"/>: <see cref="LayerHeadDims"/> when set, else <see cref="VHeadDim"/>.</summary>
    /// <param name="layer">The zero-based layer index.</param>
    /// <returns>The layer's value head dimension.</returns>
    public int VHeadDimOf(int layer) => !LayerHeadDims.IsDefaultOrEmpty && layer >= 0 && layer < LayerHeadDims.Length ? LayerHeadDims[layer] : VHeadDim;

    /// <summary>The image encoder of a multimodal model, or null for a text-only model (or when only the language
    /// model is described).</summary>
    public VisionTowerSpec? Vision { get; init; }

    /// <summary>True for encoder-only models (BERT, RoBERTa): no KV cache, no generation.</summary>
    public bool IsEncoderOnly { get; init; }

    /// <summary>True when the config's <c>torch_dtype</c>/<c>dtype</c> names the checkpoint precision.</summary>
    public string? TorchDtype { get; init; }

    /// <summary>The checkpoint's own quantization (the config's <c>quantization_config</c>), or null for an unquantized
    /// checkpoint; the default weight format when set (<see cref="Memory.EngineDefaults.Format"/>).</summary>
    public Quantization.QuantizationConfig? Quantization { get; init; }

    /// <summary>Family-specific details for the generator.</summary>
    public FamilyDetails? Details { get; init; }

    /// <summary>The attention kind of decoder layer <paramref name="layer"/>.</summary>
    /// <param name="layer">The zero-based layer index.</param>
    /// <returns>The layer's attention kind.</returns>
    public AttentionLayerKind LayerKind(int layer) =>
        !LayerKinds.IsDefaultOrEmpty && layer < LayerKinds.Length
            ? LayerKinds[layer]
            : SlidingWindow is not null && LayerKinds.IsDefaultOrEmpty ? AttentionLayerKind.Sliding : AttentionLayerKind.Full;

    /// <summary>The value head dimension (<see cref="ValueHeadDim"/> or <see cref="HeadDim"/>).</summary>
    public int VHeadDim => ValueHeadDim ?? HeadDim;

    /// <summary>The number of layers that hold a self-attention KV cache at generation time.</summary>
    public int CachedLayers => DecoderLayers ?? Layers;
}
