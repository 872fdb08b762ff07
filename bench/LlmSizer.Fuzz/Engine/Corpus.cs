using System.Text;
using LlmSizer.Catalog;
using LlmSizer.Tests.Fixtures;
using G = LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Fuzz.Engine;

/// <summary>The input families the fuzzer generates.</summary>
internal enum InputFamily
{
    Gguf,
    GgufSplit,
    Safetensors,
    IndexFolder,
    Config,
}

/// <summary>Generates valid inputs of every family, from the test fixture writers and the built-in catalog's real
/// configs; each is then mutated by <see cref="Mutator"/>.</summary>
internal sealed class Corpus(Random random, bool zeroSizedTensors = true)
{
    private static readonly string[] SafetensorsDtypes = ["BF16", "F16", "F32", "F8_E4M3", "I8", "U8", "F4", "F6_E2M3", "I32", "BOOL", "F64"];

    private List<string>? _configs;

    /// <summary>Real config.json texts: every catalog entry (all supported families).</summary>
    public IReadOnlyList<string> Configs => _configs ??= [.. ModelCatalog.All.Select(e => e.Config.Element.GetRawText())];

    private T Pick<T>(IReadOnlyList<T> items) => items[random.Next(items.Count)];

    /// <summary>A tiny llama GGUF (F32/F16/Q8_0 weights) with its tokenizer, sometimes with MoE or odd hyperparameters.</summary>
    public byte[] Gguf()
    {
        if (random.Next(4) == 0)
        {
            return VocabOnlyGguf();
        }

        var w = G.TinyLlama(new G.LlamaOptions
        {
            Layers = 1 + random.Next(2),
            Embedding = 32 * (1 + random.Next(2)),
            Heads = 4,
            KvHeads = random.Next(2) == 0 ? 2 : 4,
            FeedForward = 64,
            Vocab = 259 + random.Next(40),
            WeightType = Pick([G.GgmlType.F32, G.GgmlType.F16, G.GgmlType.Q8_0]),
            OutputTensor = random.Next(2) == 0,
        });
        return w.ToArray();
    }

    /// <summary>A GGUF without tensors whose hyperparameters are drawn from edge values (how F was found).</summary>
    private byte[] VocabOnlyGguf()
    {
        uint Edge() => Pick<uint>([0, 1, 2, 7, 32, 64, 4096, 4097, 100_000, int.MaxValue, uint.MaxValue]);
        var arch = Pick(["llama", "qwen3moe", "deepseek2", "gemma3", "gpt2", "bert", "mixtral"]);
        var w = new G().AddString("general.architecture", arch)
            .AddUInt32(arch + ".block_count", random.Next(3) == 0 ? Edge() : (uint)(1 + random.Next(4)))
            .AddUInt32(arch + ".embedding_length", random.Next(3) == 0 ? Edge() : 64)
            .AddUInt32(arch + ".attention.head_count", random.Next(4) == 0 ? Edge() : 4)
            .AddUInt32(arch + ".context_length", random.Next(3) == 0 ? Edge() : 2048)
            .AddUInt32(arch + ".feed_forward_length", random.Next(4) == 0 ? Edge() : 128);
        if (random.Next(2) == 0)
        {
            w.AddUInt32(arch + ".expert_count", random.Next(2) == 0 ? Edge() : 8).AddUInt32(arch + ".expert_used_count", 2);
        }

        if (random.Next(3) == 0)
        {
            w.AddArray(arch + ".attention.head_count_kv", G.MetaType.Int32, Enumerable.Range(0, 1 + random.Next(4)).Select(_ => random.Next(3) * 2).ToArray());
        }

        if (random.Next(2) == 0)
        {
            w.AddUInt32(arch + ".attention.sliding_window", random.Next(2) == 0 ? 4096u : Edge());
        }

        w.AddStrings("tokenizer.ggml.tokens", [.. Enumerable.Range(0, 1 + random.Next(20)).Select(i => "t" + i)]);
        return w.ToArray();
    }

    /// <summary>A gguf-split set of two or three shards, as llama.cpp's gguf-split writes them.</summary>
    public byte[][] GgufSplit()
    {
        int count = 2 + random.Next(2);
        var shards = new G[count];
        string[][] tensors =
        [
            ["token_embd.weight", "output_norm.weight"],
            ["blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight", "blk.0.attn_output.weight"],
            ["blk.0.ffn_gate.weight", "blk.0.ffn_up.weight", "blk.0.ffn_down.weight", "blk.0.attn_norm.weight", "blk.0.ffn_norm.weight"],
        ];
        var all = count == 2 ? [tensors[0], [.. tensors[1], .. tensors[2]]] : tensors;
        int total = all.Sum(t => t.Length);
        for (int i = 0; i < count; i++)
        {
            var w = new G();
            if (i == 0)
            {
                w.AddString("general.architecture", "llama").AddUInt32("llama.block_count", 1).AddUInt32("llama.embedding_length", 32)
                    .AddUInt32("llama.attention.head_count", 4).AddUInt32("llama.attention.head_count_kv", 2).AddUInt32("llama.feed_forward_length", 64)
                    .AddUInt32("llama.context_length", 256).AddStrings("tokenizer.ggml.tokens", "a", "b", "c", "d");
            }

            w.AddUInt16("split.no", (ushort)i).AddUInt16("split.count", (ushort)count).AddInt32("split.tensors.count", total);
            foreach (var name in all[i])
            {
                ulong[] dims = name switch
                {
                    "token_embd.weight" => [32, 4],
                    "output_norm.weight" or "blk.0.attn_norm.weight" or "blk.0.ffn_norm.weight" => [32],
                    "blk.0.attn_k.weight" or "blk.0.attn_v.weight" => [32, 16],
                    "blk.0.ffn_gate.weight" or "blk.0.ffn_up.weight" => [32, 64],
                    "blk.0.ffn_down.weight" => [64, 32],
                    _ => [32, 32],
                };
                w.AddTensor(name, dims.Length == 1 ? G.GgmlType.F32 : Pick([G.GgmlType.F16, G.GgmlType.Q8_0, G.GgmlType.F32]), dims);
            }

            shards[i] = w;
        }

        return [.. shards.Select(s => s.ToArray())];
    }

    /// <summary>A safetensors file of llama-named tensors in assorted dtypes (sub-byte ones with whole-tensor sizes).</summary>
    public SafetensorsWriter SafetensorsWriter(int layers = 1, int hidden = 16)
    {
        var w = new SafetensorsWriter();
        if (random.Next(2) == 0)
        {
            w.Metadata("format", "pt");
        }

        string Dtype() => random.Next(3) == 0 ? Pick(SafetensorsDtypes) : "BF16";

        // Now and then a valid tensor with a zero dimension ([16, 0], no data): how hostile case D was found.
        bool zeros = zeroSizedTensors && random.Next(4) == 0;
        long D(long d) => zeros && random.Next(8) == 0 ? 0 : d;
        w.Add("model.embed_tokens.weight", Dtype(), 64, hidden);
        for (int l = 0; l < layers; l++)
        {
            var p = $"model.layers.{l}.";
            w.Add(p + "input_layernorm.weight", Dtype(), hidden)
             .Add(p + "self_attn.q_proj.weight", Dtype(), D(hidden), D(hidden))
             .Add(p + "self_attn.k_proj.weight", Dtype(), D(hidden / 2), D(hidden))
             .Add(p + "self_attn.v_proj.weight", Dtype(), D(hidden / 2), D(hidden))
             .Add(p + "self_attn.o_proj.weight", Dtype(), D(hidden), D(hidden))
             .Add(p + "post_attention_layernorm.weight", Dtype(), hidden)
             .Add(p + "mlp.gate_proj.weight", Dtype(), D(32), D(hidden))
             .Add(p + "mlp.up_proj.weight", Dtype(), D(32), D(hidden))
             .Add(p + "mlp.down_proj.weight", Dtype(), D(hidden), D(32));
        }

        w.Add("model.norm.weight", Dtype(), hidden);
        if (random.Next(2) == 0)
        {
            w.Add("lm_head.weight", Dtype(), 64, hidden);
        }

        return w;
    }

    /// <summary>The tiny llama config.json matching <see cref="SafetensorsWriter"/>.</summary>
    public static string TinyLlamaConfig(int layers = 1) =>
        "{\"model_type\":\"llama\",\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"num_attention_heads\":4," +
        "\"num_key_value_heads\":2,\"intermediate_size\":32,\"num_hidden_layers\":" + layers + ",\"vocab_size\":64," +
        "\"max_position_embeddings\":128,\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\"}";

    /// <summary>A model folder: config.json, an index and two shards (the index maps every tensor to its shard).</summary>
    public (string Config, string Index, byte[][] Shards) IndexFolder()
    {
        var a = SafetensorsWriter(layers: 1);
        var b = new SafetensorsWriter().Add("model.layers.1.input_layernorm.weight", "BF16", 16).Add("model.layers.1.self_attn.q_proj.weight", "BF16", 16, 16);
        var map = new StringBuilder("{\"metadata\":{\"total_size\":").Append(a.DataBytes + b.DataBytes).Append("},\"weight_map\":{");
        var names = a.HeaderJson().Split('"').Where(s => s.StartsWith("model.", StringComparison.Ordinal) || s == "lm_head.weight").Distinct();
        bool first = true;
        foreach (var n in names)
        {
            map.Append(first ? "" : ",").Append('"').Append(n).Append("\":\"model-00001-of-00002.safetensors\"");
            first = false;
        }

        map.Append(",\"model.layers.1.input_layernorm.weight\":\"model-00002-of-00002.safetensors\",\"model.layers.1.self_attn.q_proj.weight\":\"model-00002-of-00002.safetensors\"}}");
        return (TinyLlamaConfig(2), map.ToString(), [a.ToArray(), b.ToArray()]);
    }

    /// <summary>A real config (a catalog entry) as text.</summary>
    public string Config() => Pick(Configs);
}
