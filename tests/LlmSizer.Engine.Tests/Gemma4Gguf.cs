using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Engine.Tests;

/// <summary>A Gemma 4 text GGUF to generate: a few layers of a real checkpoint's widths.</summary>
/// <remarks><see cref="Pattern"/> has one letter per layer: <c>S</c> sliding-window attention, <c>F</c> full attention.</remarks>
internal sealed record Gemma4Shape
{
    public required string Name { get; init; }
    public required string Pattern { get; init; }
    public required int Embedding { get; init; }
    public required int Heads { get; init; }

    /// <summary>KV heads of the sliding layers (<c>num_key_value_heads</c>).</summary>
    public required int KvHeads { get; init; }

    /// <summary>KV heads of the full layers (<c>num_global_key_value_heads</c>); 0 writes a scalar head_count_kv.</summary>
    public int GlobalKvHeads { get; init; }

    /// <summary><c>head_dim</c>: the sliding layers' head size (key_length_swa).</summary>
    public required int HeadDim { get; init; }

    /// <summary><c>global_head_dim</c>: the full layers' head size (key_length).</summary>
    public required int GlobalHeadDim { get; init; }
    public required int FeedForward { get; init; }
    public required int Window { get; init; }
    public int SharedKvLayers { get; init; }

    /// <summary><c>hidden_size_per_layer_input</c> (per-layer embeddings); 0 for none.</summary>
    public int PerLayerInput { get; init; }

    /// <summary><c>attention_k_eq_v</c>: the full layers have no attn_v (keys serve as values).</summary>
    public bool KEqV { get; init; }
    public int Vocab { get; init; } = 512;

    public int Layers => Pattern.Length;
}

/// <summary>Writes loadable Gemma 4 GGUF headers in llama.cpp's key names, tensor names and dimension order: the keys
/// convert_hf_to_gguf.py's Gemma4 text model writes and src/models/gemma4.cpp <c>load_arch_hparams</c> reads
/// (sliding_window_pattern, shared_kv_layers, key_length / key_length_swa, per-layer head_count_kv, sliding_window,
/// embedding_length_per_layer_input) and the tensors its <c>load_arch_tensors</c> asks for. Tensor data is left sparse.</summary>
internal static class Gemma4Gguf
{
    public static GgufWriter Build(Gemma4Shape s)
    {
        const string a = "gemma4";
        var sliding = s.Pattern.Select(c => c == 'S').ToArray();
        var w = new GgufWriter().AddString("general.architecture", a).AddString("general.name", s.Name)
            .AddUInt32("general.file_type", 0).AddUInt32("general.quantization_version", 2)
            .AddUInt32(a + ".context_length", 1 << 17).AddUInt32(a + ".embedding_length", (uint)s.Embedding)
            .AddUInt32(a + ".block_count", (uint)s.Layers).AddUInt32(a + ".feed_forward_length", (uint)s.FeedForward)
            .AddUInt32(a + ".attention.head_count", (uint)s.Heads)
            .AddFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f)
            .AddFloat32(a + ".rope.freq_base", 1_000_000f).AddFloat32(a + ".rope.freq_base_swa", 10_000f)
            .AddUInt32(a + ".attention.key_length", (uint)s.GlobalHeadDim).AddUInt32(a + ".attention.value_length", (uint)s.GlobalHeadDim)
            .AddUInt32(a + ".attention.key_length_swa", (uint)s.HeadDim).AddUInt32(a + ".attention.value_length_swa", (uint)s.HeadDim)
            .AddUInt32(a + ".rope.dimension_count", (uint)s.GlobalHeadDim).AddUInt32(a + ".rope.dimension_count_swa", (uint)s.HeadDim)
            .AddUInt32(a + ".attention.sliding_window", (uint)s.Window)
            .AddArray(a + ".attention.sliding_window_pattern", MetaType.Bool, sliding)
            .AddUInt32(a + ".attention.shared_kv_layers", (uint)s.SharedKvLayers)
            .AddUInt32(a + ".embedding_length_per_layer_input", (uint)s.PerLayerInput)
            .AddFloat32(a + ".final_logit_softcapping", 30f);

        // convert_hf_to_gguf.py writes head_count_kv per layer only when num_global_key_value_heads is set.
        if (s.GlobalKvHeads > 0)
        {
            w.AddArray(a + ".attention.head_count_kv", MetaType.UInt32, sliding.Select(sw => (uint)(sw ? s.KvHeads : s.GlobalKvHeads)).ToArray());
        }
        else
        {
            w.AddUInt32(a + ".attention.head_count_kv", (uint)s.KvHeads);
        }

        ArchGguf.Tokenizer(w, s.Vocab);

        ulong d = (ulong)s.Embedding, v = (ulong)s.Vocab, ff = (ulong)s.FeedForward, ple = (ulong)s.PerLayerInput, n = (ulong)s.Layers;
        var t = GgmlType.F16;
        w.AddTensor("token_embd.weight", t, d, v).AddTensor("output_norm.weight", GgmlType.F32, d);
        w.AddTensor("rope_freqs.weight", GgmlType.F32, (ulong)s.GlobalHeadDim / 2);
        if (ple > 0)
        {
            w.AddTensor("per_layer_token_embd.weight", t, ple * n, v).AddTensor("per_layer_model_proj.weight", t, d, ple * n)
                .AddTensor("per_layer_proj_norm.weight", GgmlType.F32, ple);
        }

        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"blk.{l}.";
            bool sw = sliding[l];
            ulong dim = (ulong)(sw ? s.HeadDim : s.GlobalHeadDim), q = (ulong)s.Heads * dim;
            ulong kv = (ulong)(sw || s.GlobalKvHeads == 0 ? s.KvHeads : s.GlobalKvHeads) * dim;
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d).AddTensor(p + "attn_q.weight", t, d, q)
                .AddTensor(p + "attn_q_norm.weight", GgmlType.F32, dim);

            // The KV-shared layers keep k_proj and v_proj (the official E2B/E4B checkpoints store them); llama.cpp loads them
            // (TENSOR_NOT_REQUIRED when !has_kv) and never uses them.
            w.AddTensor(p + "attn_k.weight", t, d, kv).AddTensor(p + "attn_k_norm.weight", GgmlType.F32, dim);
            if (sw || !s.KEqV)
            {
                w.AddTensor(p + "attn_v.weight", t, d, kv);
            }

            w.AddTensor(p + "attn_output.weight", t, q, d).AddTensor(p + "post_attention_norm.weight", GgmlType.F32, d)
                .AddTensor(p + "layer_output_scale.weight", GgmlType.F32, 1)
                .AddTensor(p + "ffn_norm.weight", GgmlType.F32, d)
                .AddTensor(p + "ffn_gate.weight", t, d, ff).AddTensor(p + "ffn_up.weight", t, d, ff)
                .AddTensor(p + "ffn_down.weight", t, ff, d).AddTensor(p + "post_ffw_norm.weight", GgmlType.F32, d);
            if (ple > 0)
            {
                w.AddTensor(p + "inp_gate.weight", t, d, ple).AddTensor(p + "proj.weight", t, ple, d)
                    .AddTensor(p + "post_norm.weight", GgmlType.F32, d);
            }
        }

        return w;
    }
}
