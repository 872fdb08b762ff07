using LlmSizer.Tensors;

namespace LlmSizer.Architecture.Families;

/// <summary>Llama 1/2/3 (<c>LlamaForCausalLM</c>): RMSNorm, gated SiLU MLP, GQA, optional attention and MLP biases.</summary>
/// <remarks>Defaults are those of transformers' <c>LlamaConfig</c>: vocab 32000, hidden 4096, intermediate 11008, 32 layers,
/// 32 heads, <c>num_key_value_heads</c> = heads, <c>head_dim</c> = hidden / heads, untied embeddings, no biases.</remarks>
internal sealed class LlamaFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["llama"];

    public string DisplayName => "Llama";

    public ArchitectureSpec Read(ConfigObject config)
    {
        var hidden = config.IntOr("hidden_size", 4096);
        var heads = config.IntOr("num_attention_heads", 32);
        var kvHeads = config.OptionalInt("num_key_value_heads") ?? heads;
        var headDim = ConfigRules.HeadDim(config, hidden, heads);
        ConfigRules.CheckKvHeads(config, heads, kvHeads);
        return new ArchitectureSpec
        {
            Family = "llama",
            ModelClass = config.StringArray("architectures") is [var first, ..] ? first : null,
            Source = config.FilePath,
            Layers = config.IntOr("num_hidden_layers", 32),
            Hidden = hidden,
            Heads = heads,
            KvHeads = kvHeads,
            HeadDim = headDim,
            Intermediate = config.IntOr("intermediate_size", 11008),
            Vocab = config.IntOr("vocab_size", 32000),
            MaxPositions = config.IntOr("max_position_embeddings", 2048),
            TiedEmbeddings = config.Bool("tie_word_embeddings", false),
            Mlp = MlpKind.Gated,
            Norm = NormKind.RmsNorm,
            TorchDtype = config.String("torch_dtype") ?? config.String("dtype"),
            Details = new DecoderBiases(config.Bool("attention_bias", false), config.Bool("attention_bias", false), config.Bool("mlp_bias", false)),
        };
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var biases = spec.Details as DecoderBiases ?? new DecoderBiases(false, false, false);
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim, i = spec.Intermediate;
        b.Add("model.embed_tokens.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            b.Add(p + "self_attn.q_proj.weight", TensorGroup.Attention, l, q, h);
            b.Add(p + "self_attn.k_proj.weight", TensorGroup.Attention, l, kv, h);
            b.Add(p + "self_attn.v_proj.weight", TensorGroup.Attention, l, kv, h);
            b.Add(p + "self_attn.o_proj.weight", TensorGroup.Attention, l, h, q);
            if (biases.Qkv)
            {
                b.Add(p + "self_attn.q_proj.bias", TensorGroup.Attention, l, q);
                b.Add(p + "self_attn.k_proj.bias", TensorGroup.Attention, l, kv);
                b.Add(p + "self_attn.v_proj.bias", TensorGroup.Attention, l, kv);
            }

            if (biases.Output)
            {
                b.Add(p + "self_attn.o_proj.bias", TensorGroup.Attention, l, h);
            }

            b.Add(p + "mlp.gate_proj.weight", TensorGroup.Mlp, l, i, h);
            b.Add(p + "mlp.up_proj.weight", TensorGroup.Mlp, l, i, h);
            b.Add(p + "mlp.down_proj.weight", TensorGroup.Mlp, l, h, i);
            if (biases.Mlp)
            {
                b.Add(p + "mlp.gate_proj.bias", TensorGroup.Mlp, l, i);
                b.Add(p + "mlp.up_proj.bias", TensorGroup.Mlp, l, i);
                b.Add(p + "mlp.down_proj.bias", TensorGroup.Mlp, l, h);
            }

            b.Add(p + "input_layernorm.weight", TensorGroup.Norm, l, h);
            b.Add(p + "post_attention_layernorm.weight", TensorGroup.Norm, l, h);
        }

        b.Add("model.norm.weight", TensorGroup.Norm, null, h);
        if (!spec.TiedEmbeddings)
        {
            b.Add("lm_head.weight", TensorGroup.LmHead, null, spec.Vocab, h);
        }

        return b.Build();
    }
}

/// <summary>Which linear layers of a decoder block carry biases.</summary>
/// <param name="Qkv">Biases on the q, k and v projections.</param>
/// <param name="Output">A bias on the attention output projection.</param>
/// <param name="Mlp">Biases on the MLP projections.</param>
public sealed record DecoderBiases(bool Qkv, bool Output, bool Mlp) : FamilyDetails;
