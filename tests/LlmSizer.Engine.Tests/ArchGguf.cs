using System.Globalization;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Engine.Tests;

/// <summary>Shapes of the GGUF files <see cref="ArchGguf"/> writes: real models' widths with few layers.</summary>
internal sealed record ArchShape
{
    public required string Name { get; init; }

    /// <summary>llama.cpp architecture name: llama, qwen2moe, deepseek2 or gemma2.</summary>
    public required string Arch { get; init; }
    public int Layers { get; init; } = 2;
    public required int Embedding { get; init; }
    public required int Heads { get; init; }
    public required int KvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int FeedForward { get; init; }
    public required int Vocab { get; init; }
    public int Context { get; init; } = 32768;
    public int Experts { get; init; }
    public int ExpertsUsed { get; init; }
    public int ExpertFeedForward { get; init; }
    public int SharedFeedForward { get; init; }
    public int SharedExperts { get; init; }
    public int LeadingDense { get; init; }
    public int KvLoraRank { get; init; }
    public int QkNope { get; init; }
    public int QkRope { get; init; }
    public int VHeadDim { get; init; }
    public int SlidingWindow { get; init; }
}

/// <summary>Writes loadable GGUF headers for llama, qwen2moe (MoE with a gated shared expert), deepseek2 (MLA, the
/// kv_lora_rank-cached layout with attn_k_b/attn_v_b that llama.cpp converts since its MLA support) and gemma2 (sliding
/// window on every other layer), in llama.cpp's tensor names and dimension order (src/llama-model.cpp load_tensors,
/// src/llama-arch.cpp names). Tensor data is left sparse: the compute buffer depends on shapes only.</summary>
internal static class ArchGguf
{
    public static GgufWriter Build(ArchShape s)
    {
        var w = new GgufWriter();
        string a = s.Arch;
        w.AddString("general.architecture", a);
        w.AddString("general.name", s.Name);
        w.AddUInt32("general.file_type", 1u);
        w.AddUInt32("general.quantization_version", 2);
        w.AddUInt32(a + ".context_length", (uint)s.Context);
        w.AddUInt32(a + ".embedding_length", (uint)s.Embedding);
        w.AddUInt32(a + ".block_count", (uint)s.Layers);
        w.AddUInt32(a + ".feed_forward_length", (uint)s.FeedForward);
        w.AddUInt32(a + ".attention.head_count", (uint)s.Heads);
        w.AddUInt32(a + ".attention.head_count_kv", (uint)(a == "deepseek2" ? 1 : s.KvHeads));
        w.AddFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
        w.AddFloat32(a + ".rope.freq_base", 10000f);
        w.AddUInt32(a + ".vocab_size", (uint)s.Vocab);
        if (a == "deepseek2")
        {
            w.AddUInt32(a + ".rope.dimension_count", (uint)s.QkRope);
            w.AddUInt32(a + ".attention.key_length", (uint)(s.KvLoraRank + s.QkRope));
            w.AddUInt32(a + ".attention.value_length", (uint)s.KvLoraRank);
            w.AddUInt32(a + ".attention.key_length_mla", (uint)(s.QkNope + s.QkRope));
            w.AddUInt32(a + ".attention.value_length_mla", (uint)s.VHeadDim);
            w.AddUInt32(a + ".attention.kv_lora_rank", (uint)s.KvLoraRank);
            w.AddUInt32(a + ".leading_dense_block_count", (uint)s.LeadingDense);
            w.AddUInt32(a + ".expert_shared_count", (uint)s.SharedExperts);
            w.AddFloat32(a + ".expert_weights_scale", 1f);
            w.AddBool(a + ".expert_weights_norm", false);
            w.AddUInt32(a + ".expert_gating_func", 1u); // softmax
        }
        else
        {
            w.AddUInt32(a + ".rope.dimension_count", (uint)s.HeadDim);
            w.AddUInt32(a + ".attention.key_length", (uint)s.HeadDim);
            w.AddUInt32(a + ".attention.value_length", (uint)s.HeadDim);
        }

        if (s.Experts > 0)
        {
            w.AddUInt32(a + ".expert_count", (uint)s.Experts);
            w.AddUInt32(a + ".expert_used_count", (uint)s.ExpertsUsed);
            w.AddUInt32(a + ".expert_feed_forward_length", (uint)s.ExpertFeedForward);
        }

        if (a == "qwen2moe")
        {
            w.AddUInt32(a + ".expert_shared_feed_forward_length", (uint)s.SharedFeedForward);
        }

        if (a == "gemma2")
        {
            w.AddUInt32(a + ".attention.sliding_window", (uint)s.SlidingWindow);
            w.AddFloat32(a + ".attn_logit_softcapping", 50f);
            w.AddFloat32(a + ".final_logit_softcapping", 30f);
        }

        Tokenizer(w, s.Vocab);

        ulong d = (ulong)s.Embedding, v = (ulong)s.Vocab, ff = (ulong)s.FeedForward;
        ulong q = (ulong)(s.Heads * s.HeadDim), kv = (ulong)(s.KvHeads * s.HeadDim);
        var t = GgmlType.F16;
        w.AddTensor("token_embd.weight", t, d, v);
        w.AddTensor("output_norm.weight", GgmlType.F32, d);
        if (a != "gemma2")
        {
            w.AddTensor("output.weight", t, d, v);
        }

        for (int l = 0; l < s.Layers; l++)
        {
            string p = "blk." + l.ToString(CultureInfo.InvariantCulture) + ".";
            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d);
            if (a == "deepseek2")
            {
                ulong r = (ulong)s.KvLoraRank, heads = (ulong)s.Heads;
                w.AddTensor(p + "attn_q.weight", t, d, heads * (ulong)(s.QkNope + s.QkRope));
                w.AddTensor(p + "attn_kv_a_mqa.weight", t, d, r + (ulong)s.QkRope);
                w.AddTensor(p + "attn_kv_a_norm.weight", GgmlType.F32, r);
                w.AddTensor(p + "attn_k_b.weight", t, (ulong)s.QkNope, r, heads);
                w.AddTensor(p + "attn_v_b.weight", t, r, (ulong)s.VHeadDim, heads);
                w.AddTensor(p + "attn_output.weight", t, heads * (ulong)s.VHeadDim, d);
            }
            else
            {
                w.AddTensor(p + "attn_q.weight", t, d, q);
                w.AddTensor(p + "attn_k.weight", t, d, kv);
                w.AddTensor(p + "attn_v.weight", t, d, kv);
                w.AddTensor(p + "attn_output.weight", t, q, d);
            }

            if (a == "qwen2moe")
            {
                w.AddTensor(p + "attn_q.bias", GgmlType.F32, q);
                w.AddTensor(p + "attn_k.bias", GgmlType.F32, kv);
                w.AddTensor(p + "attn_v.bias", GgmlType.F32, kv);
            }

            if (a == "gemma2")
            {
                w.AddTensor(p + "post_attention_norm.weight", GgmlType.F32, d);
            }

            w.AddTensor(p + "ffn_norm.weight", GgmlType.F32, d);
            bool moe = s.Experts > 0 && l >= s.LeadingDense;
            if (moe)
            {
                ulong e = (ulong)s.Experts, fe = (ulong)s.ExpertFeedForward;
                w.AddTensor(p + "ffn_gate_inp.weight", GgmlType.F32, d, e);
                w.AddTensor(p + "ffn_gate_exps.weight", t, d, fe, e);
                w.AddTensor(p + "ffn_down_exps.weight", t, fe, d, e);
                w.AddTensor(p + "ffn_up_exps.weight", t, d, fe, e);
                ulong fs = a == "deepseek2" ? fe * (ulong)s.SharedExperts : (ulong)s.SharedFeedForward;
                if (fs > 0)
                {
                    if (a == "qwen2moe")
                    {
                        w.AddTensor(p + "ffn_gate_inp_shexp.weight", GgmlType.F32, d);
                    }

                    w.AddTensor(p + "ffn_gate_shexp.weight", t, d, fs);
                    w.AddTensor(p + "ffn_up_shexp.weight", t, d, fs);
                    w.AddTensor(p + "ffn_down_shexp.weight", t, fs, d);
                }
            }
            else
            {
                w.AddTensor(p + "ffn_gate.weight", t, d, ff);
                w.AddTensor(p + "ffn_up.weight", t, d, ff);
                w.AddTensor(p + "ffn_down.weight", t, ff, d);
            }

            if (a == "gemma2")
            {
                w.AddTensor(p + "post_ffw_norm.weight", GgmlType.F32, d);
            }
        }

        return w;
    }

    /// <summary>The SPM ("llama") vocabulary <see cref="GgufWriter.TinyLlama"/> writes: any architecture accepts it.</summary>
    internal static void Tokenizer(GgufWriter w, int vocab)
    {
        var tokens = new string[vocab];
        var scores = new float[vocab];
        var types = new int[vocab];
        tokens[0] = "<unk>";
        types[0] = 2;
        tokens[1] = "<s>";
        types[1] = 3;
        tokens[2] = "</s>";
        types[2] = 3;
        for (int b = 0; b < 256; b++)
        {
            tokens[3 + b] = $"<0x{b:X2}>";
            types[3 + b] = 6;
        }

        for (int i = 259; i < vocab; i++)
        {
            tokens[i] = "\u2581t" + i.ToString(CultureInfo.InvariantCulture);
            types[i] = 1;
            scores[i] = -i;
        }

        w.AddString("tokenizer.ggml.model", "llama");
        w.AddArray("tokenizer.ggml.tokens", MetaType.String, tokens);
        w.AddArray("tokenizer.ggml.scores", MetaType.Float32, scores);
        w.AddArray("tokenizer.ggml.token_type", MetaType.Int32, types);
        w.AddUInt32("tokenizer.ggml.unknown_token_id", 0);
        w.AddUInt32("tokenizer.ggml.bos_token_id", 1);
        w.AddUInt32("tokenizer.ggml.eos_token_id", 2);
        w.AddBool("tokenizer.ggml.add_bos_token", true);
        w.AddBool("tokenizer.ggml.add_eos_token", false);
    }

    /// <summary>The shapes the engine tests load (widths and experts of the named checkpoints' config.json).</summary>
    public static readonly IReadOnlyDictionary<string, ArchShape> Shapes = new Dictionary<string, ArchShape>
    {
        ["llama3-8b"] = new() { Name = "llama3-8b", Arch = "llama", Embedding = 4096, Heads = 32, KvHeads = 8, HeadDim = 128, FeedForward = 14336, Vocab = 128256 },
        ["llama2-7b"] = new() { Name = "llama2-7b", Arch = "llama", Embedding = 4096, Heads = 32, KvHeads = 32, HeadDim = 128, FeedForward = 11008, Vocab = 32000 },
        ["qwen15-moe"] = new()
        {
            Name = "qwen15-moe", Arch = "qwen2moe", Embedding = 2048, Heads = 16, KvHeads = 16, HeadDim = 128, FeedForward = 5632, Vocab = 151936,
            Experts = 60, ExpertsUsed = 4, ExpertFeedForward = 1408, SharedFeedForward = 5632,
        },
        ["dsv2-lite"] = new()
        {
            Name = "dsv2-lite", Arch = "deepseek2", Layers = 27, Embedding = 2048, Heads = 16, KvHeads = 16, HeadDim = 192, FeedForward = 10944, Vocab = 102400,
            Experts = 64, ExpertsUsed = 6, ExpertFeedForward = 1408, SharedExperts = 2, LeadingDense = 1,
            KvLoraRank = 512, QkNope = 128, QkRope = 64, VHeadDim = 128,
        },
        ["gemma2-2b"] = new()
        {
            Name = "gemma2-2b", Arch = "gemma2", Embedding = 2304, Heads = 8, KvHeads = 4, HeadDim = 256, FeedForward = 9216, Vocab = 256000,
            SlidingWindow = 4096, Context = 8192,
        },
    };
}
