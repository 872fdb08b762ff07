using System.Collections.Immutable;
using System.Globalization;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;

namespace LlmSizer.Checkpoints.Gguf;

/// <summary>Maps GGUF hyperparameters (<c>&lt;arch&gt;.block_count</c>, <c>.embedding_length</c>, ...) onto an
/// <see cref="ArchitectureSpec"/>. Key names: llama.cpp src/llama-arch.cpp (LLM_KV_NAMES) and gguf-py constants.</summary>
internal static class GgufArchitecture
{
    // GGUF arch name → Hugging Face model_type where one exists (else the GGUF name is kept).
    private static readonly Dictionary<string, string> HfNames = new(StringComparer.Ordinal)
    {
        ["qwen2moe"] = "qwen2_moe",
        ["qwen3moe"] = "qwen3_moe",
        ["gemma3"] = "gemma3_text",
        ["gemma4"] = "gemma4_text",
        ["deepseek2"] = "deepseek_v2",
        ["deepseek"] = "deepseek",
        ["gpt-oss"] = "gpt_oss",
        ["command-r"] = "cohere",
        ["cohere2"] = "cohere2",
        ["gptneox"] = "gpt_neox",
        ["starcoder"] = "gpt_bigcode",
        ["phi2"] = "phi",
        ["nomic-bert"] = "nomic_bert",
        ["jina-bert-v2"] = "jina_bert_v2",
        ["stablelm"] = "stablelm",
        ["olmo2"] = "olmo2",
        ["olmoe"] = "olmoe",
        ["llama4"] = "llama4_text",
        ["granitemoe"] = "granitemoe",
    };

    private static readonly HashSet<string> DenseMlp = new(StringComparer.Ordinal)
    {
        "gpt2", "gptj", "gptneox", "falcon", "bert", "nomic-bert", "jina-bert-v2", "mpt", "starcoder", "starcoder2", "phi2",
        "bloom", "stablelm-dense", "codeshell", "gptbigcode", "t5", "t5encoder", "opt",
    };

    private static readonly HashSet<string> LayerNormBias = new(StringComparer.Ordinal)
    {
        "gpt2", "gptj", "gptneox", "falcon", "bert", "nomic-bert", "jina-bert-v2", "starcoder", "starcoder2", "phi2", "bloom", "stablelm", "codeshell",
    };

    private static readonly HashSet<string> LayerNormNoBias = new(StringComparer.Ordinal) { "mpt", "command-r", "cohere2", "olmo" };

    private static readonly HashSet<string> EncoderOnly = new(StringComparer.Ordinal) { "bert", "nomic-bert", "jina-bert-v2", "t5encoder" };

    private static readonly HashSet<string> TiedByDefault = new(StringComparer.Ordinal) { "gemma", "gemma2", "gemma3", "gpt2", "command-r", "cohere2" };

    /// <summary>The Hugging Face model_type for a GGUF arch name (or the arch name itself).</summary>
    public static string FamilyName(string arch) => HfNames.TryGetValue(arch, out var hf) ? hf : arch;

    /// <summary>Reads the spec, or returns null when the file has no <c>general.architecture</c> or lacks the
    /// essential keys (block count, embedding length, head count).</summary>
    /// <param name="file">The GGUF header.</param>
    /// <param name="tiedEmbeddings">True/false when the tensors show it (no <c>output.weight</c>); null for a vocab-only file.</param>
    /// <exception cref="Errors.ModelFileFormatException">A hyperparameter is negative, zero where it must not be, or absurdly large.</exception>
    public static ArchitectureSpec? TryRead(GgufFile file, bool? tiedEmbeddings)
    {
        if (file.Architecture is not { Length: > 0 } arch)
        {
            return null;
        }

        var r = new KeyReader(file, arch);
        if (arch is "mamba" or "mamba2")
        {
            return ReadMamba(file, r, arch, tiedEmbeddings);
        }

        // Per-layer tables, generated inventories and estimates are sized by these, so absurd values are refused
        // (ModelLimits; a vocab-only file declaring 100,000 layers cost one estimate 871 MiB).
        int? layers = r.Limit(r.Int("block_count"), "block_count", ModelLimits.MaxLayers, "layers");
        int? hidden = r.Limit(r.Int("embedding_length"), "embedding_length", ModelLimits.MaxHidden, "");
        int? heads = r.Limit(r.IntOrMax("attention.head_count"), "attention.head_count", ModelLimits.MaxHeads, "heads");
        if (layers is null || hidden is null || heads is null || heads == 0)
        {
            return null;
        }

        int kvHeads = r.Limit(r.IntOrMax("attention.head_count_kv"), "attention.head_count_kv", ModelLimits.MaxHeads, "heads") ?? heads.Value;
        int? keyLength = r.Int("attention.key_length");
        int? valueLength = r.Int("attention.value_length");
        int? ff = r.Limit(r.IntOrMax("feed_forward_length"), "feed_forward_length", ModelLimits.MaxIntermediate, "");
        int? vocab = file.Get("tokenizer.ggml.tokens") is { IsArray: true } tokens ? checked((int)Math.Min(tokens.Count, int.MaxValue)) : r.Int("vocab_size");
        vocab ??= VocabFromTensors(file);
        vocab = r.Limit(vocab, file.Get("tokenizer.ggml.tokens") is { IsArray: true } ? "tokenizer.ggml.tokens" : "vocab_size", ModelLimits.MaxVocab, "tokens");

        MlaSpec? mla = null;
        if (r.Int("attention.kv_lora_rank") is { } kvLora and > 0)
        {
            int rope = r.Int("rope.dimension_count") ?? 64;

            // Newer conversions store the absorbed MLA widths in key_length/value_length and the per-head ones in *_mla.
            int qk = r.Int("attention.key_length_mla") ?? keyLength ?? 192;
            int v = r.Int("attention.value_length_mla") ?? valueLength ?? 128;
            int qLora = r.Int("attention.q_lora_rank") ?? 0;
            mla = new MlaSpec { KvLoraRank = kvLora, QLoraRank = qLora > 0 ? qLora : null, QkRopeHeadDim = rope, QkNopeHeadDim = qk - rope, VHeadDim = v };
            keyLength = qk;
            valueLength = v;
        }

        MoeSpec? moe = null;
        if (r.Limit(r.Int("expert_count"), "expert_count", ModelLimits.MaxExperts, "experts") is { } experts and > 0)
        {
            int used = r.Int("expert_used_count") ?? 1;
            int expertFf = r.Limit(r.Int("expert_feed_forward_length"), "expert_feed_forward_length", ModelLimits.MaxIntermediate, "") ?? ff ?? 0;
            int shared = r.Limit(r.Int("expert_shared_count"), "expert_shared_count", ModelLimits.MaxExperts, "experts") ?? 0;
            int? sharedFf = r.Int("expert_shared_feed_forward_length");
            if (shared == 0 && sharedFf is > 0)
            {
                shared = 1; // Qwen2-MoE writes only the shared block's width.
            }

            int leadingDense = r.Int("leading_dense_block_count") ?? 0;
            long bound = ModelLimits.GeneratedTensorBound(layers.Value, (long)experts + shared);
            if (bound > ModelLimits.MaxGeneratedTensors)
            {
                throw GgufThrowHelper.Error(file.Path, file.OffsetOf(arch + ".expert_count"), arch + ".expert_count",
                    $"at most {ModelLimits.MaxGeneratedTensors:N0} tensors in all (ModelLimits.MaxGeneratedTensors)",
                    $"{experts:N0} experts in each of {layers.Value:N0} layers (about {bound:N0} tensors)");
            }

            moe = new MoeSpec
            {
                Experts = experts,
                ActiveExperts = used,
                ExpertIntermediate = expertFf,
                SharedExperts = shared,
                SharedIntermediate = sharedFf ?? (int)Math.Min((long)shared * expertFf, int.MaxValue),
                SharedExpertGate = arch == "qwen2moe",
                MoeLayers = leadingDense > 0 ? [.. Enumerable.Range(0, layers.Value).Select(l => l >= leadingDense)] : [],
            };
        }

        int? window = r.Int("attention.sliding_window");
        var kinds = window is > 0 ? SlidingLayout(file, arch, layers.Value) : [];

        // A per-layer head_count_kv (llama.cpp reads it with get_key_or_arr into hparams.n_head_kv_arr): layers with 0
        // hold no KV cache (recurrent layers of hybrid models); unequal counts go to LayerKvHeads for exact KV bytes.
        var layerKv = r.PerLayer("attention.head_count_kv", layers.Value);
        if (!layerKv.IsDefaultOrEmpty)
        {
            if (layerKv.Contains(0))
            {
                var baseKinds = kinds.IsDefaultOrEmpty
                    ? Enumerable.Repeat(window is > 0 ? AttentionLayerKind.Sliding : AttentionLayerKind.Full, layers.Value).ToArray()
                    : kinds.ToArray();
                for (int il = 0; il < baseKinds.Length; il++)
                {
                    if (layerKv[il] == 0)
                    {
                        baseKinds[il] = AttentionLayerKind.None;
                    }
                }

                kinds = [.. baseKinds];
            }

            if (layerKv.Distinct().Count() == 1)
            {
                layerKv = [];
            }
        }

        // A hybrid (Jamba, Granite 4.0-H, Falcon-H1 ...): the layers without KV heads are the state-space ones, sized
        // from {arch}.ssm.* like a pure Mamba; llama.cpp keeps their R/S state per sequence.
        SsmSpec? ssm = null;
        var mixers = ImmutableArray<LayerMixer>.Empty;

        // Qwen3-Next and Qwen3.5 write gated delta-net heads in the same ssm.* keys (GatedDeltaNet below), not a Mamba mixer.
        LinearAttentionSpec? linear = null;
        if (GatedDeltaNets.Contains(arch) && GatedDeltaNet(file, r, arch, layers.Value) is { } gdn)
        {
            // Only the full-attention layers keep a KV cache; the rest keep a conv and a delta-rule state per sequence.
            (linear, mixers) = gdn;
            var baseKinds = kinds.IsDefaultOrEmpty ? Enumerable.Repeat(AttentionLayerKind.Full, layers.Value).ToArray() : kinds.ToArray();
            for (int il = 0; il < baseKinds.Length; il++)
            {
                if (mixers[il] == LayerMixer.LinearAttention)
                {
                    baseKinds[il] = AttentionLayerKind.None;
                }
            }

            kinds = [.. baseKinds];
        }
        else if (MambaHybrids.Contains(arch) && r.Int("ssm.state_size") is { } st and > 0 && r.Int("ssm.inner_size") is { } inner and > 0 && r.Int("ssm.conv_kernel") is { } conv and > 0)
        {
            ssm = Ssm(r, hidden.Value, conv, inner, st, r.Int("ssm.time_step_rank"), r.Int("ssm.group_count") is > 0);
            // Falcon-H1 runs attention and a Mamba-2 mixer in parallel in every layer. Nemotron-H also has feed-forward-only
            // layers without KV heads: llama.cpp's load_hparams marks a layer recurrent only when both n_head_kv(il) and
            // n_ff(il) are 0 (they keep no state; no LayerMixer names them, so they stay Attention with no KV cache).
            var layerFf = arch is "nemotron_h" or "nemotron_h_moe" ? r.PerLayer("feed_forward_length", layers.Value) : [];
            mixers = [.. Enumerable.Range(0, layers.Value).Select(il => arch == "falcon-h1" ? LayerMixer.AttentionAndSsm
                : !kinds.IsDefaultOrEmpty && kinds[il] == AttentionLayerKind.None && (layerFf.IsDefaultOrEmpty || layerFf[il] == 0)
                    ? LayerMixer.Ssm : LayerMixer.Attention)];
        }

        int headDim = keyLength ?? hidden.Value / heads.Value;
        var spec = new ArchitectureSpec
        {
            Ssm = ssm,
            LinearAttention = linear,
            LayerMixers = mixers,
            Family = FamilyName(arch),
            Source = file.Path,
            Layers = layers.Value,
            Hidden = hidden.Value,
            Heads = heads.Value,
            KvHeads = kvHeads,
            HeadDim = headDim,
            ValueHeadDim = valueLength is { } vl && vl != headDim ? vl : null,
            Intermediate = ff ?? moe?.ExpertIntermediate ?? 0,
            Vocab = vocab ?? 0,
            MaxPositions = r.Int("context_length"),
            TiedEmbeddings = tiedEmbeddings ?? TiedByDefault.Contains(arch),
            Mlp = DenseMlp.Contains(arch) ? MlpKind.Dense : MlpKind.Gated,
            Norm = LayerNormBias.Contains(arch) ? NormKind.LayerNorm : LayerNormNoBias.Contains(arch) ? NormKind.LayerNormNoBias : NormKind.RmsNorm,
            Moe = moe,
            Mla = mla,
            SlidingWindow = window is > 0 ? window : null,
            LayerKinds = kinds,
            LayerKvHeads = layerKv,
            IsEncoderOnly = EncoderOnly.Contains(arch),
        };
        return arch == "gemma4" ? Gemma4(file, r, arch, spec) : spec;
    }

    /// <summary>Gemma 4's per-layer KV cache: head size by layer kind, and no cache in the KV-shared layers.</summary>
    /// <remarks>llama.cpp src/models/gemma4.cpp <c>llama_model_gemma4::load_arch_hparams</c> reads
    /// <c>{arch}.attention.sliding_window_pattern</c> (a bool per layer, get_key_or_arr into swa_layers),
    /// <c>.attention.shared_kv_layers</c> (optional, default 0; n_layer_kv_from_start = n_layer − shared),
    /// <c>.attention.sliding_window</c>, <c>.attention.key_length_swa</c> and <c>.attention.value_length_swa</c> (the sliding
    /// layers' head size) and <c>.embedding_length_per_layer_input</c>; the common loader reads <c>.attention.key_length</c> /
    /// <c>.value_length</c> (the full layers' head size: convert_hf_to_gguf.py writes global_head_dim there and head_dim in
    /// the _swa keys) and <c>.attention.head_count_kv</c>, a per-layer array when num_global_key_value_heads is set.
    /// src/llama-hparams.cpp: n_embd_head_k(il) = is_swa(il) ? n_embd_head_k_swa : n_embd_head_k_full, n_embd_k_gqa(il) =
    /// n_embd_head_k(il) × n_head_kv(il), has_kv(il) = il &lt; n_layer_kv_from_start; llama_kv_cache allocates K and V only
    /// for layers with has_kv, the sliding ones in the SWA cache of llama_kv_cache_iswa (capped at the window).</remarks>
    private static ArchitectureSpec Gemma4(GgufFile file, KeyReader r, string arch, ArchitectureSpec spec)
    {
        int layers = spec.Layers;
        int fullDim = spec.HeadDim;
        int swaDim = r.Limit(r.Int("attention.key_length_swa"), "attention.key_length_swa", ModelLimits.MaxHidden, "") ?? fullDim;
        int shared = r.Limit(r.Int("attention.shared_kv_layers"), "attention.shared_kv_layers", ModelLimits.MaxLayers, "layers") ?? 0;
        if (shared > 0 && shared >= layers)
        {
            string key = arch + ".attention.shared_kv_layers";
            throw GgufThrowHelper.Error(file.Path, file.OffsetOf(key), key, $"fewer than block_count ({layers:N0}) layers",
                shared.ToString("N0", CultureInfo.InvariantCulture));
        }

        int firstShared = layers - shared;
        var dims = new int[layers];
        var kv = new int[layers];
        int? firstFull = null;
        for (int il = 0; il < layers; il++)
        {
            bool sliding = spec.LayerKind(il) == AttentionLayerKind.Sliding;
            dims[il] = sliding ? swaDim : fullDim;
            kv[il] = il >= firstShared ? 0 : spec.KvHeadsOf(il);
            if (!sliding && firstFull is null)
            {
                firstFull = il;
            }
        }

        // attention_k_eq_v checkpoints (26B-A4B, 31B) have no attn_v in their full layers (the loader makes wv optional).
        bool kEqV = firstFull is { } ff && file.Tensors.Count > 0
            && file.Tensors.Any(t => t.Name == $"blk.{ff}.attn_k.weight") && !file.Tensors.Any(t => t.Name == $"blk.{ff}.attn_v.weight");
        int ple = r.Limit(r.Int("embedding_length_per_layer_input"), "embedding_length_per_layer_input", ModelLimits.MaxHidden, "") ?? 0;
        var details = new Gemma4Details
        {
            AttentionKEqV = kEqV,
            GlobalHeadDim = fullDim,
            GlobalKvHeads = firstFull is { } f ? spec.KvHeadsOf(f) : spec.KvHeads,
            KvSharedLayers = shared,
            PerLayerInput = ple,
            PerLayerVocab = ple > 0 ? spec.Vocab : 0,

            // Intermediate stays the widest feed_forward_length entry (llama.cpp's n_ff(il) sizes the compute graph), so a
            // double-wide MLP is not split out here: a tensor-less file generates every MLP at that width.
        };

        return spec with
        {
            HeadDim = swaDim,
            ValueHeadDim = null,
            LayerHeadDims = dims.Distinct().Count() > 1 ? [.. dims] : [],
            LayerKvHeads = shared > 0 || kv.Distinct().Count() > 1 ? [.. kv] : [],

            // The dense MLP runs beside the routed experts in every layer (as Gemma4Family): an always-active shared block.
            Moe = spec.Moe is { } moe ? moe with { SharedExperts = 1, SharedIntermediate = spec.Intermediate } : null,
            Details = details,
        };
    }

    /// <summary>What is generic about the memory geometry read from a GGUF (the rest of a one-line warning after
    /// "architecture 'X' "), or null when nothing is: the architecture has an llmsize family, or it is one of the hybrid
    /// archs whose state-space or delta-net layers this reader takes from <c>{arch}.ssm.*</c> (<see cref="MambaHybrids"/>,
    /// <see cref="GatedDeltaNets"/>) and those keys are there. A hybrid arch without them is warned about whether or not
    /// it has a family (no recurrent state is sized). Parameters and bytes always come from the tensors.</summary>
    public static string? GenericGeometryNote(string arch, ArchitectureSpec spec, bool hasFamily)
    {
        if (MambaHybrids.Contains(arch) || GatedDeltaNets.Contains(arch))
        {
            return spec.Ssm is not null || spec.LinearAttention is not null ? null
                : $"is a hybrid state-space model, but its {arch}.ssm.* keys (conv_kernel, inner_size, state_size, time_step_rank, group_count) are incomplete: parameters and bytes come from the tensors; memory treats every layer with KV heads as attention and sizes no recurrent state.";
        }

        return hasFamily ? null
            : "has no llmsize family: parameters and bytes come from the tensors; memory uses the generic decoder geometry of its metadata (layers, heads, KV heads, head size).";
    }

    /// <summary>A pure state-space model (llama.cpp LLM_ARCH_MAMBA / MAMBA2): no attention heads, the SSM geometry from
    /// <c>{arch}.ssm.*</c> (src/llama-model.cpp load_hparams: LLM_KV_SSM_CONV_KERNEL, INNER_SIZE, STATE_SIZE,
    /// TIME_STEP_RANK, GROUP_COUNT; Mamba-2's heads are its time_step_rank, head_dim = inner / heads). Null when a
    /// key the recurrent state needs is missing.</summary>
    private static ArchitectureSpec? ReadMamba(GgufFile file, KeyReader r, string arch, bool? tiedEmbeddings)
    {
        int? layers = r.Limit(r.Int("block_count"), "block_count", ModelLimits.MaxLayers, "layers");
        int? hidden = r.Limit(r.Int("embedding_length"), "embedding_length", ModelLimits.MaxHidden, "");
        int? conv = r.Limit(r.Int("ssm.conv_kernel"), "ssm.conv_kernel", 1024, "");
        int? inner = r.Limit(r.Int("ssm.inner_size"), "ssm.inner_size", ModelLimits.MaxIntermediate, "");
        int? state = r.Limit(r.Int("ssm.state_size"), "ssm.state_size", ModelLimits.MaxHidden, "");
        int? rank = r.Limit(r.Int("ssm.time_step_rank"), "ssm.time_step_rank", ModelLimits.MaxHidden, "");
        if (layers is null || hidden is not > 0 || conv is not > 0 || inner is not > 0 || state is not > 0)
        {
            return null;
        }

        var ssm = Ssm(r, hidden.Value, conv.Value, inner.Value, state.Value, rank, arch == "mamba2" || r.Int("ssm.group_count") is > 0);

        int? vocab = file.Get("tokenizer.ggml.tokens") is { IsArray: true } tokens ? checked((int)Math.Min(tokens.Count, int.MaxValue)) : VocabFromTensors(file);
        return new ArchitectureSpec
        {
            Family = arch,
            Source = file.Path,
            Layers = layers.Value,
            Hidden = hidden.Value,
            // No layer attends (as MambaFamily): one placeholder head; LayerKinds None gives every layer an empty KV cache.
            Heads = 1,
            KvHeads = 1,
            HeadDim = 1,
            Intermediate = inner.Value,
            Vocab = vocab ?? 0,
            MaxPositions = r.Int("context_length"),
            TiedEmbeddings = tiedEmbeddings ?? false,
            Norm = NormKind.RmsNorm,
            LayerKinds = [.. Enumerable.Repeat(AttentionLayerKind.None, layers.Value)],
            LayerMixers = [.. Enumerable.Repeat(LayerMixer.Ssm, layers.Value)],
            Ssm = ssm,
        };
    }

    /// <summary>The SSM geometry from <c>{arch}.ssm.*</c>: Mamba-2 when the file has groups (its heads are time_step_rank,
    /// head_dim = inner / heads, as llama.cpp's hparams read them), else Mamba-1.</summary>
    private static SsmSpec Ssm(KeyReader r, int hidden, int conv, int inner, int state, int? rank, bool v2)
    {
        var ssm = new SsmSpec
        {
            Kind = v2 ? SsmKind.Mamba2 : SsmKind.Mamba1,
            StateSize = state,
            ConvKernel = conv,
            Expand = Math.Max(1, inner / Math.Max(1, hidden)),
            InnerSize = inner,
        };
        if (!v2)
        {
            return ssm with { TimeStepRank = rank ?? 0 };
        }

        int heads = rank is > 0 ? rank.Value : 1;
        int groups = r.Limit(r.Int("ssm.group_count"), "ssm.group_count", ModelLimits.MaxHeads, "") ?? 1;
        return ssm with { Heads = heads, HeadDim = inner / heads, Groups = Math.Max(1, groups) };
    }

    /// <summary>llama.cpp architectures that mix Mamba layers with attention and write <c>{arch}.ssm.*</c> for them
    /// (src/llama-arch.cpp: LLM_ARCH_JAMBA, GRANITE_HYBRID, FALCON_H1, NEMOTRON_H, NEMOTRON_H_MOE).</summary>
    private static readonly HashSet<string> MambaHybrids = new(StringComparer.Ordinal) { "jamba", "granitehybrid", "falcon-h1", "nemotron_h", "nemotron_h_moe" };

    /// <summary>llama.cpp architectures whose linear-attention layers are gated delta nets written in <c>{arch}.ssm.*</c>
    /// (src/llama-arch.cpp: LLM_ARCH_QWEN3NEXT, QWEN35, QWEN35MOE).</summary>
    private static readonly HashSet<string> GatedDeltaNets = new(StringComparer.Ordinal) { "qwen3next", "qwen35", "qwen35moe" };

    /// <summary>The gated delta-net geometry and the mixer of each layer of a Qwen3-Next / Qwen3.5 GGUF, or null when a key
    /// the recurrent state needs is missing.</summary>
    /// <remarks>llama.cpp src/llama-model.cpp (load_hparams and load_tensors for LLM_ARCH_QWEN3NEXT, QWEN35, QWEN35MOE) reads
    /// the delta net from the Mamba keys: head_k_dim = <c>ssm.state_size</c>, key heads = <c>ssm.group_count</c>, value heads
    /// = <c>ssm.time_step_rank</c>, value heads × head_v_dim = <c>ssm.inner_size</c>, the conv width <c>ssm.conv_kernel</c>
    /// (convert_hf_to_gguf.py writes linear_key_head_dim, linear_num_key_heads, linear_num_value_heads and
    /// linear_num_value_heads × linear_value_head_dim there). Layer il is recurrent as <c>{arch}.attention.recurrent_layers</c>
    /// says, else unless (il + 1) % <c>{arch}.full_attention_interval</c> (default 4) is 0. Its recurrent state is then
    /// llama_hparams::n_embd_r() = (d_conv − 1) × (d_inner + 2·n_group·d_state) = (kernel − 1) × (Hv·dv + 2·Hk·dk) conv
    /// elements and n_embd_s() = d_state × d_inner = dk × Hv·dv delta-rule elements, as the
    /// linear-attention shapes (Memory.RecurrentState).</remarks>
    private static (LinearAttentionSpec Linear, ImmutableArray<LayerMixer> Mixers)? GatedDeltaNet(GgufFile file, KeyReader r, string arch, int layers)
    {
        int? conv = r.Limit(r.Int("ssm.conv_kernel"), "ssm.conv_kernel", 1024, "");
        int? inner = r.Limit(r.Int("ssm.inner_size"), "ssm.inner_size", ModelLimits.MaxIntermediate, "");
        int? keyDim = r.Limit(r.Int("ssm.state_size"), "ssm.state_size", ModelLimits.MaxHidden, "");
        int? valueHeads = r.Limit(r.Int("ssm.time_step_rank"), "ssm.time_step_rank", ModelLimits.MaxHeads, "heads");
        int? keyHeads = r.Limit(r.Int("ssm.group_count"), "ssm.group_count", ModelLimits.MaxHeads, "heads");
        if (conv is not > 0 || inner is not > 0 || keyDim is not > 0 || valueHeads is not > 0 || keyHeads is not > 0)
        {
            return null;
        }

        var linear = new LinearAttentionSpec
        {
            KeyHeads = keyHeads.Value,
            ValueHeads = valueHeads.Value,
            KeyHeadDim = keyDim.Value,
            ValueHeadDim = inner.Value / valueHeads.Value,
            ConvKernel = conv.Value,
        };

        string key = arch + ".attention.recurrent_layers";
        if (file.Get(key) is { IsArray: true } flags && flags.TryGetInt64Array(out var recurrent) && recurrent.Length == layers)
        {
            return (linear, [.. recurrent.Select(f => f != 0 ? LayerMixer.LinearAttention : LayerMixer.Attention)]);
        }

        int interval = r.Int("full_attention_interval") is { } every and > 0 ? every : 4;
        return (linear, [.. Enumerable.Range(0, layers).Select(il => (il + 1) % interval == 0 ? LayerMixer.Attention : LayerMixer.LinearAttention)]);
    }

    private static int? VocabFromTensors(GgufFile file)
    {
        var embd = file.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight");
        return embd is { Dims.Length: 2 } && embd.Dims[1] <= int.MaxValue ? (int)embd.Dims[1] : null;
    }

    // Which layers use the sliding window. llama.cpp (src/llama-model.cpp) sets a pattern per arch with
    // hparams.set_swa_pattern(n): layer il slides when il % n < n - 1 (gemma2, gpt-oss: 2; cohere2: 4; gemma3: 6).
    // A <arch>.attention.sliding_window_pattern key (bool array or period) overrides; other archs slide everywhere.
    private static ImmutableArray<AttentionLayerKind> SlidingLayout(GgufFile file, string arch, int layers)
    {
        var key = file.Get(arch + ".attention.sliding_window_pattern");
        if (key is { IsArray: true } && key.TryGetInt64Array(out var flags) && flags.Length == layers)
        {
            return [.. flags.Select(f => f != 0 ? AttentionLayerKind.Sliding : AttentionLayerKind.Full)];
        }

        long period = key is not null && key.TryGetInt64(out var p) && p > 0 ? p : arch switch
        {
            "gemma2" or "gpt-oss" => 2,
            "cohere2" => 4,
            "gemma3" => 6,
            _ => 1,
        };
        if (period <= 1)
        {
            return [];
        }

        return [.. Enumerable.Range(0, layers).Select(il => il % period < period - 1 ? AttentionLayerKind.Sliding : AttentionLayerKind.Full)];
    }

    private readonly struct KeyReader(GgufFile file, string arch)
    {
        /// <summary>The value, refused when above <paramref name="max"/> (a <see cref="ModelLimits"/> constant).</summary>
        public int? Limit(int? value, string suffix, int max, string unit)
        {
            if (value > max)
            {
                string key = suffix.StartsWith("tokenizer.", StringComparison.Ordinal) ? suffix : arch + "." + suffix;
                throw GgufThrowHelper.Error(file.Path, file.OffsetOf(key), key, $"at most {max:N0}{(unit.Length > 0 ? " " + unit : "")} (ModelLimits)",
                    value.Value.ToString("N0", CultureInfo.InvariantCulture));
            }

            return value;
        }

        /// <summary>A non-negative int hyperparameter, or null when absent.</summary>
        public int? Int(string suffix)
        {
            string key = arch + "." + suffix;
            if (file.Get(key) is not { } value)
            {
                return null;
            }

            if (value.IsArray)
            {
                return IntOrMax(suffix);
            }

            if (!value.TryGetInt64(out long v) || v < 0 || v > int.MaxValue)
            {
                throw GgufThrowHelper.Error(file.Path, file.OffsetOf(key), key, "an integer 0..2,147,483,647", value.ToString());
            }

            return (int)v;
        }

        /// <summary>A per-layer array of exactly <paramref name="layers"/> entries, else empty (absent, a scalar, or another length).</summary>
        public ImmutableArray<int> PerLayer(string suffix, int layers)
        {
            string key = arch + "." + suffix;
            if (file.Get(key) is not { IsArray: true } value)
            {
                return [];
            }

            _ = IntOrMax(suffix); // validates the entries

            // Another length cannot be mapped to layers: the caller keeps the largest entry only.
            return value.TryGetInt64Array(out var items) && items.Length == layers ? [.. items.Select(x => (int)x)] : [];
        }

        /// <summary>A scalar, or the largest entry of a per-layer array (e.g. head_count_kv in OpenELM or sliding layers of 0).</summary>
        public int? IntOrMax(string suffix)
        {
            string key = arch + "." + suffix;
            if (file.Get(key) is not { } value)
            {
                return null;
            }

            if (!value.IsArray)
            {
                return Int(suffix);
            }

            if (!value.TryGetInt64Array(out var items) || items.Length == 0 || items.Any(x => x < 0 || x > int.MaxValue))
            {
                throw GgufThrowHelper.Error(file.Path, file.OffsetOf(key), key, "an integer or a per-layer array of integers 0..2,147,483,647", value.ToString());
            }

            return (int)items.Max();
        }
    }

    /// <summary>Hyperparameters worth showing, as text: general.* names and the arch's scalar keys.</summary>
    public static Dictionary<string, string> DisplayMetadata(GgufFile file)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in file.Metadata)
        {
            if (key.StartsWith("tokenizer.chat_template", StringComparison.Ordinal))
            {
                result[key] = $"({value.Scalar?.ToString()?.Length.ToString(CultureInfo.InvariantCulture) ?? "0"} characters)";
                continue;
            }

            result[key] = value.ToString();
        }

        return result;
    }
}
