using System.Globalization;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Benchmarks;

/// <summary>Generates the benchmark inputs: a Qwen2-sized vocabulary GGUF header (151,936 tokens with scores, types and
/// 151,387 merges; 723 tensors) and a 1,000-tensor safetensors header. Tensor data is not written (sparse files).</summary>
internal static class BenchFiles
{
    public const int Vocab = 151_936;
    public const int Merges = 151_387;
    public const int GgufLayers = 60; // 12 tensors per layer + 3 = 723 tensors
    public const int SafetensorsLayers = 83; // 12 per layer + 4 = 1,000 tensors

    public static string GgufPath(string dir) => Path.Combine(dir, "large-vocab.gguf");

    public static string SafetensorsPath(string dir) => Path.Combine(dir, "thousand-tensors.safetensors");

    public static void Generate(string dir)
    {
        Directory.CreateDirectory(dir);
        if (!File.Exists(GgufPath(dir)))
        {
            WriteGguf(GgufPath(dir));
        }

        if (!File.Exists(SafetensorsPath(dir)))
        {
            WriteSafetensors(SafetensorsPath(dir));
        }
    }

    private static string I(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static void WriteGguf(string path)
    {
        var rng = new Random(42);
        var tokens = new string[Vocab];
        for (int i = 0; i < Vocab; i++)
        {
            // Byte-level BPE tokens of 1–12 characters, some non-ASCII.
            int len = 1 + rng.Next(12);
            var chars = new char[len];
            for (int c = 0; c < len; c++)
            {
                chars[c] = rng.Next(10) == 0 ? (char)(0x0100 + rng.Next(200)) : (char)('a' + rng.Next(26));
            }

            tokens[i] = new string(chars) + I(i);
        }

        var merges = new string[Merges];
        for (int i = 0; i < Merges; i++)
        {
            merges[i] = tokens[rng.Next(Vocab)] + " " + tokens[rng.Next(Vocab)];
        }

        var w = new GgufWriter();
        w.AddString("general.architecture", "qwen2").AddString("general.name", "bench-qwen2-like").AddUInt32("general.file_type", 1)
         .AddUInt32("qwen2.block_count", GgufLayers).AddUInt32("qwen2.context_length", 32768).AddUInt32("qwen2.embedding_length", 64)
         .AddUInt32("qwen2.feed_forward_length", 128).AddUInt32("qwen2.attention.head_count", 4).AddUInt32("qwen2.attention.head_count_kv", 2)
         .AddFloat32("qwen2.rope.freq_base", 1_000_000f).AddFloat32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f)
         .AddString("tokenizer.ggml.model", "gpt2").AddString("tokenizer.ggml.pre", "qwen2")
         .AddArray("tokenizer.ggml.tokens", GgufWriter.MetaType.String, tokens)
         .AddArray("tokenizer.ggml.token_type", GgufWriter.MetaType.Int32, Enumerable.Repeat(1, Vocab).ToArray())
         .AddArray("tokenizer.ggml.merges", GgufWriter.MetaType.String, merges)
         .AddUInt32("tokenizer.ggml.eos_token_id", 151_645).AddUInt32("tokenizer.ggml.bos_token_id", 151_643)
         .AddString("tokenizer.chat_template", string.Concat(Enumerable.Repeat("{% for message in messages %}{{ message['content'] }}{% endfor %}", 40)));
        const ulong d = 64, ff = 128, kv = 32, v = Vocab;
        w.AddTensor("token_embd.weight", GgufWriter.GgmlType.Q8_0, d, v);
        w.AddTensor("output_norm.weight", GgufWriter.GgmlType.F32, d);
        w.AddTensor("output.weight", GgufWriter.GgmlType.Q8_0, d, v);
        for (int l = 0; l < GgufLayers; l++)
        {
            var p = "blk." + I(l) + ".";
            w.AddTensor(p + "attn_norm.weight", GgufWriter.GgmlType.F32, d);
            w.AddTensor(p + "attn_q.weight", GgufWriter.GgmlType.Q8_0, d, d);
            w.AddTensor(p + "attn_q.bias", GgufWriter.GgmlType.F32, d);
            w.AddTensor(p + "attn_k.weight", GgufWriter.GgmlType.Q8_0, d, kv);
            w.AddTensor(p + "attn_k.bias", GgufWriter.GgmlType.F32, kv);
            w.AddTensor(p + "attn_v.weight", GgufWriter.GgmlType.Q8_0, d, kv);
            w.AddTensor(p + "attn_v.bias", GgufWriter.GgmlType.F32, kv);
            w.AddTensor(p + "attn_output.weight", GgufWriter.GgmlType.Q8_0, d, d);
            w.AddTensor(p + "ffn_norm.weight", GgufWriter.GgmlType.F32, d);
            w.AddTensor(p + "ffn_gate.weight", GgufWriter.GgmlType.Q8_0, d, ff);
            w.AddTensor(p + "ffn_up.weight", GgufWriter.GgmlType.Q8_0, d, ff);
            w.AddTensor(p + "ffn_down.weight", GgufWriter.GgmlType.Q8_0, ff, d);
        }

        w.WriteFile(path, GgufWriter.DataMode.Sparse);
    }

    private static void WriteSafetensors(string path)
    {
        const long d = 512, ff = 1536, kv = 128, v = 32000;
        var w = new SafetensorsWriter().Metadata("format", "pt");
        w.Add("model.embed_tokens.weight", "BF16", v, d);
        for (int l = 0; l < SafetensorsLayers; l++)
        {
            var p = "model.layers." + I(l) + ".";
            w.Add(p + "input_layernorm.weight", "BF16", d)
             .Add(p + "self_attn.q_proj.weight", "BF16", d, d).Add(p + "self_attn.q_proj.bias", "BF16", d)
             .Add(p + "self_attn.k_proj.weight", "BF16", kv, d).Add(p + "self_attn.k_proj.bias", "BF16", kv)
             .Add(p + "self_attn.v_proj.weight", "BF16", kv, d).Add(p + "self_attn.v_proj.bias", "BF16", kv)
             .Add(p + "self_attn.o_proj.weight", "BF16", d, d)
             .Add(p + "post_attention_layernorm.weight", "BF16", d)
             .Add(p + "mlp.gate_proj.weight", "BF16", ff, d).Add(p + "mlp.up_proj.weight", "BF16", ff, d).Add(p + "mlp.down_proj.weight", "BF16", d, ff);
        }

        w.Add("model.norm.weight", "BF16", d).Add("lm_head.weight", "BF16", v, d).Add("model.rotary.inv_freq", "F32", 32);
        w.WriteFile(path, sparse: true);
    }
}
