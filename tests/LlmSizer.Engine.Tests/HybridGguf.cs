using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Engine.Tests;

/// <summary>A hybrid attention/state-space (or linear-attention) GGUF to generate: a few layers of a real model's widths.</summary>
/// <remarks><see cref="Pattern"/> has one letter per layer: <c>A</c> attention, <c>S</c> state-space (Mamba) or
/// gated delta-net layer, <c>M</c> feed-forward only (Nemotron-H), <c>P</c> attention and Mamba-2 side by side (Falcon-H1).</remarks>
internal sealed record HybridShape
{
    public required string Name { get; init; }

    /// <summary>llama.cpp architecture name (jamba, granitehybrid, falcon-h1, nemotron_h, qwen3next, qwen35, qwen35moe).</summary>
    public required string Arch { get; init; }
    public required string Pattern { get; init; }
    public required int Embedding { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForward { get; init; }
    public int Vocab { get; init; } = 512;

    /// <summary>d_inner (Mamba), or value heads × value head dim (gated delta net).</summary>
    public required int SsmInner { get; init; }

    /// <summary>d_state (Mamba), or the key head dim (gated delta net).</summary>
    public required int SsmState { get; init; }
    public int SsmConv { get; init; } = 4;

    /// <summary>dt_rank (Mamba-1), heads (Mamba-2), or value heads (gated delta net).</summary>
    public required int SsmRank { get; init; }

    /// <summary>Groups (Mamba-2) or key heads (gated delta net); 0 for Mamba-1.</summary>
    public int SsmGroups { get; init; }
    public int Experts { get; init; }
    public int ExpertsUsed { get; init; }
    public int ExpertFeedForward { get; init; }
    public int SharedFeedForward { get; init; }

    /// <summary>Gated delta net: mark the recurrent layers with <c>{arch}.attention.recurrent_layers</c> instead of
    /// <c>{arch}.full_attention_interval</c>.</summary>
    public bool RecurrentLayersKey { get; init; }

    public int Layers => Pattern.Length;
}

/// <summary>Writes loadable GGUF headers for llama.cpp's hybrid architectures, in its key names, tensor names and dimension
/// order (src/llama-model.cpp load_hparams and load_tensors for LLM_ARCH_JAMBA, GRANITE_HYBRID, FALCON_H1, NEMOTRON_H,
/// QWEN3NEXT, QWEN35, QWEN35MOE; src/llama-arch.cpp names). Tensor data is left sparse: the memory llama.cpp allocates
/// for its KV cache and recurrent state depends on the hyperparameters only.</summary>
internal static class HybridGguf
{
    public static GgufWriter Build(HybridShape s)
    {
        string a = s.Arch;
        var w = new GgufWriter().AddString("general.architecture", a).AddString("general.name", s.Name)
            .AddUInt32("general.file_type", 0).AddUInt32("general.quantization_version", 2)
            .AddUInt32(a + ".context_length", 1 << 18).AddUInt32(a + ".embedding_length", (uint)s.Embedding)
            .AddUInt32(a + ".block_count", (uint)s.Layers)
            .AddFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f).AddFloat32(a + ".rope.freq_base", 10000f)
            .AddUInt32(a + ".attention.key_length", (uint)s.HeadDim).AddUInt32(a + ".attention.value_length", (uint)s.HeadDim)
            .AddUInt32(a + ".ssm.conv_kernel", (uint)s.SsmConv).AddUInt32(a + ".ssm.inner_size", (uint)s.SsmInner)
            .AddUInt32(a + ".ssm.state_size", (uint)s.SsmState).AddUInt32(a + ".ssm.time_step_rank", (uint)s.SsmRank)
            .AddUInt32(a + ".ssm.group_count", (uint)s.SsmGroups);

        // Per-layer head_count_kv (0 on recurrent and feed-forward-only layers) and feed_forward_length (0 on Nemotron-H's
        // Mamba and attention layers), as convert_hf_to_gguf.py writes them for these archs.
        bool gdn = a is "qwen3next" or "qwen35" or "qwen35moe";
        if (gdn)
        {
            // Gated delta net: every full_attention_interval-th layer attends (the pattern must agree), or the layers
            // attention.recurrent_layers marks.
            if (s.RecurrentLayersKey)
            {
                w.AddArray(a + ".attention.recurrent_layers", MetaType.Bool, s.Pattern.Select(c => c == 'S').ToArray());
            }
            else
            {
                w.AddUInt32(a + ".full_attention_interval", (uint)(s.Pattern.IndexOf('A', StringComparison.Ordinal) + 1));
            }

            w.AddUInt32(a + ".attention.head_count", (uint)s.Heads).AddUInt32(a + ".attention.head_count_kv", (uint)s.KvHeads);
            w.AddUInt32(a + ".feed_forward_length", (uint)s.FeedForward);
            w.AddUInt32(a + ".rope.dimension_count", (uint)(s.HeadDim / 4));
            if (a != "qwen3next")
            {
                w.AddArray(a + ".rope.dimension_sections", MetaType.Int32, new[] { 11, 11, 10, 0 });
            }
        }
        else
        {
            w.AddArray(a + ".attention.head_count_kv", MetaType.UInt32,
                s.Pattern.Select(c => c is 'A' or 'P' ? (uint)s.KvHeads : 0u).ToArray());
            w.AddUInt32(a + ".attention.head_count", (uint)s.Heads);
            w.AddUInt32(a + ".rope.dimension_count", (uint)s.HeadDim);
            if (a is "nemotron_h" or "nemotron_h_moe")
            {
                w.AddArray(a + ".feed_forward_length", MetaType.UInt32, s.Pattern.Select(c => c == 'M' ? (uint)s.FeedForward : 0u).ToArray());
            }
            else
            {
                w.AddUInt32(a + ".feed_forward_length", (uint)s.FeedForward);
            }
        }

        if (s.Experts > 0)
        {
            w.AddUInt32(a + ".expert_count", (uint)s.Experts).AddUInt32(a + ".expert_used_count", (uint)s.ExpertsUsed)
                .AddUInt32(a + ".expert_feed_forward_length", (uint)s.ExpertFeedForward);
            if (s.SharedFeedForward > 0)
            {
                w.AddUInt32(a + ".expert_shared_feed_forward_length", (uint)s.SharedFeedForward);
            }
        }

        ArchGguf.Tokenizer(w, s.Vocab);

        ulong d = (ulong)s.Embedding, v = (ulong)s.Vocab;
        w.AddTensor("token_embd.weight", GgmlType.F32, d, v).AddTensor("output_norm.weight", GgmlType.F32, d)
            .AddTensor("output.weight", GgmlType.F32, d, v);
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"blk.{l}.";
            char kind = s.Pattern[l];
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d);
            if (gdn)
            {
                GatedDeltaNetLayer(w, s, p, kind);
                continue;
            }

            if (kind is 'A' or 'P')
            {
                Attention(w, s, p);
            }

            if (kind == 'S' || kind == 'P')
            {
                if (s.SsmGroups == 0)
                {
                    Mamba1(w, s, p);
                }
                else
                {
                    Mamba2(w, s, p);
                }
            }

            FeedForward(w, s, p, kind);
        }

        return w;
    }

    private static void Attention(GgufWriter w, HybridShape s, string p)
    {
        ulong d = (ulong)s.Embedding, q = (ulong)(s.Heads * s.HeadDim), kv = (ulong)(s.KvHeads * s.HeadDim);
        w.AddTensor(p + "attn_q.weight", GgmlType.F32, d, q).AddTensor(p + "attn_k.weight", GgmlType.F32, d, kv)
            .AddTensor(p + "attn_v.weight", GgmlType.F32, d, kv).AddTensor(p + "attn_output.weight", GgmlType.F32, q, d);
    }

    // LLM_ARCH_JAMBA's Mamba layer: Mamba-1 with RMS norms on dt, B and C.
    private static void Mamba1(GgufWriter w, HybridShape s, string p)
    {
        ulong d = (ulong)s.Embedding, di = (ulong)s.SsmInner, ds = (ulong)s.SsmState, dr = (ulong)s.SsmRank, dc = (ulong)s.SsmConv;
        w.AddTensor(p + "ssm_in.weight", GgmlType.F32, d, 2 * di)
            .AddTensor(p + "ssm_conv1d.weight", GgmlType.F32, dc, di).AddTensor(p + "ssm_conv1d.bias", GgmlType.F32, di)
            .AddTensor(p + "ssm_x.weight", GgmlType.F32, di, dr + (2 * ds))
            .AddTensor(p + "ssm_dt_norm.weight", GgmlType.F32, dr)
            .AddTensor(p + "ssm_dt.weight", GgmlType.F32, dr, di).AddTensor(p + "ssm_dt.bias", GgmlType.F32, di)
            .AddTensor(p + "ssm_b_norm.weight", GgmlType.F32, ds).AddTensor(p + "ssm_c_norm.weight", GgmlType.F32, ds)
            .AddTensor(p + "ssm_a", GgmlType.F32, ds, di).AddTensor(p + "ssm_d", GgmlType.F32, di)
            .AddTensor(p + "ssm_out.weight", GgmlType.F32, di, d);
    }

    // LLM_ARCH_GRANITE_HYBRID / NEMOTRON_H / FALCON_H1 Mamba-2 mixer: in_proj gives z, xBC and dt.
    private static void Mamba2(GgufWriter w, HybridShape s, string p)
    {
        ulong d = (ulong)s.Embedding, di = (ulong)s.SsmInner, ds = (ulong)s.SsmState, h = (ulong)s.SsmRank, g = (ulong)s.SsmGroups,
            dc = (ulong)s.SsmConv, xbc = di + (2 * g * ds);
        w.AddTensor(p + "ssm_in.weight", GgmlType.F32, d, (2 * di) + (2 * g * ds) + h)
            .AddTensor(p + "ssm_conv1d.weight", GgmlType.F32, dc, xbc).AddTensor(p + "ssm_conv1d.bias", GgmlType.F32, xbc)
            .AddTensor(p + "ssm_dt.bias", GgmlType.F32, h)
            .AddTensor(p + "ssm_a", GgmlType.F32, 1, h).AddTensor(p + "ssm_d", GgmlType.F32, 1, h)
            .AddTensor(p + "ssm_norm.weight", GgmlType.F32, di / g, g)
            .AddTensor(p + "ssm_out.weight", GgmlType.F32, di, d);
    }

    private static void FeedForward(GgufWriter w, HybridShape s, string p, char kind)
    {
        ulong d = (ulong)s.Embedding, ff = (ulong)s.FeedForward;
        switch (s.Arch)
        {
            case "nemotron_h" or "nemotron_h_moe":
                // Only the feed-forward layers have an MLP (squared-ReLU up/down, no gate); with experts it is a routed MoE
                // with a score-correction bias and one shared expert.
                if (kind == 'M' && s.Experts > 0)
                {
                    ulong e = (ulong)s.Experts, eff = (ulong)s.ExpertFeedForward, sff = (ulong)s.SharedFeedForward;
                    w.AddTensor(p + "ffn_gate_inp.weight", GgmlType.F32, d, e).AddTensor(p + "exp_probs_b.bias", GgmlType.F32, e)
                        .AddTensor(p + "ffn_up_exps.weight", GgmlType.F32, d, eff, e).AddTensor(p + "ffn_down_exps.weight", GgmlType.F32, eff, d, e)
                        .AddTensor(p + "ffn_up_shexp.weight", GgmlType.F32, d, sff).AddTensor(p + "ffn_down_shexp.weight", GgmlType.F32, sff, d);
                }
                else if (kind == 'M')
                {
                    w.AddTensor(p + "ffn_up.weight", GgmlType.F32, d, ff).AddTensor(p + "ffn_down.weight", GgmlType.F32, ff, d);
                }

                return;
            case "falcon-h1":
                // LLM_ARCH_FALCON_H1 asks for tn(LLM_TENSOR_FFN_NORM, i): the name has no ".weight" suffix.
                w.AddTensor(p + "ffn_norm", GgmlType.F32, d)
                    .AddTensor(p + "ffn_gate.weight", GgmlType.F32, d, ff).AddTensor(p + "ffn_up.weight", GgmlType.F32, d, ff)
                    .AddTensor(p + "ffn_down.weight", GgmlType.F32, ff, d);
                return;
            default:
                w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, d)
                    .AddTensor(p + "ffn_gate.weight", GgmlType.F32, d, ff).AddTensor(p + "ffn_up.weight", GgmlType.F32, d, ff)
                    .AddTensor(p + "ffn_down.weight", GgmlType.F32, ff, d);
                return;
        }
    }

    // LLM_ARCH_QWEN3NEXT / QWEN35 / QWEN35MOE: gated delta-net layers (head_k_dim = ssm.state_size, key heads =
    // ssm.group_count, value heads = ssm.time_step_rank, value_dim = ssm.inner_size) and gated full attention.
    private static void GatedDeltaNetLayer(GgufWriter w, HybridShape s, string p, char kind)
    {
        ulong d = (ulong)s.Embedding;
        w.AddTensor(p + "post_attention_norm.weight", GgmlType.F32, d);
        if (kind == 'A')
        {
            ulong q = (ulong)(s.Heads * s.HeadDim), kv = (ulong)(s.KvHeads * s.HeadDim);
            w.AddTensor(p + "attn_q.weight", GgmlType.F32, d, 2 * q).AddTensor(p + "attn_k.weight", GgmlType.F32, d, kv)
                .AddTensor(p + "attn_v.weight", GgmlType.F32, d, kv).AddTensor(p + "attn_output.weight", GgmlType.F32, q, d)
                .AddTensor(p + "attn_q_norm.weight", GgmlType.F32, (ulong)s.HeadDim).AddTensor(p + "attn_k_norm.weight", GgmlType.F32, (ulong)s.HeadDim);
        }
        else
        {
            ulong dk = (ulong)s.SsmState, hk = (ulong)s.SsmGroups, hv = (ulong)s.SsmRank, value = (ulong)s.SsmInner, dv = value / hv;
            ulong key = dk * hk, conv = (2 * key) + value;
            if (s.Arch == "qwen3next")
            {
                w.AddTensor(p + "ssm_in.weight", GgmlType.F32, d, (2 * key) + (2 * value))
                    .AddTensor(p + "ssm_ba.weight", GgmlType.F32, d, 2 * hv);
            }
            else
            {
                w.AddTensor(p + "attn_qkv.weight", GgmlType.F32, d, conv).AddTensor(p + "attn_gate.weight", GgmlType.F32, d, value)
                    .AddTensor(p + "ssm_beta.weight", GgmlType.F32, d, hv).AddTensor(p + "ssm_alpha.weight", GgmlType.F32, d, hv);
            }

            w.AddTensor(p + "ssm_conv1d.weight", GgmlType.F32, (ulong)s.SsmConv, conv)
                .AddTensor(p + "ssm_dt.bias", GgmlType.F32, hv).AddTensor(p + "ssm_a", GgmlType.F32, hv)
                .AddTensor(p + "ssm_norm.weight", GgmlType.F32, dv).AddTensor(p + "ssm_out.weight", GgmlType.F32, value, d);
        }

        ulong ff = (ulong)s.FeedForward;
        if (s.Experts > 0)
        {
            ulong e = (ulong)s.Experts, eff = (ulong)s.ExpertFeedForward, sff = (ulong)s.SharedFeedForward;
            w.AddTensor(p + "ffn_gate_inp.weight", GgmlType.F32, d, e)
                .AddTensor(p + "ffn_gate_exps.weight", GgmlType.F32, d, eff, e).AddTensor(p + "ffn_up_exps.weight", GgmlType.F32, d, eff, e)
                .AddTensor(p + "ffn_down_exps.weight", GgmlType.F32, eff, d, e)
                .AddTensor(p + "ffn_gate_inp_shexp.weight", GgmlType.F32, d)
                .AddTensor(p + "ffn_gate_shexp.weight", GgmlType.F32, d, sff).AddTensor(p + "ffn_up_shexp.weight", GgmlType.F32, d, sff)
                .AddTensor(p + "ffn_down_shexp.weight", GgmlType.F32, sff, d);
        }
        else
        {
            w.AddTensor(p + "ffn_gate.weight", GgmlType.F32, d, ff).AddTensor(p + "ffn_up.weight", GgmlType.F32, d, ff)
                .AddTensor(p + "ffn_down.weight", GgmlType.F32, ff, d);
        }
    }
}
