using System.Collections.Immutable;
using LlmSizer;
using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Measured;

/// <summary>Specs from measured.json config_hint values; inventories from the Llama generator or built by hand here
/// (GPT-BigCode, BERT) with the official checkpoint tensor names.</summary>
internal static class Models
{
    public static ModelInfo Llama(string name, int layers, int hidden, int heads, int kv, int ffn, int vocab, int maxPos, bool tied = false, int headDim = 128)
    {
        var spec = new ArchitectureSpec
        {
            Family = "llama", Layers = layers, Hidden = hidden, Heads = heads, KvHeads = kv, HeadDim = headDim, Intermediate = ffn,
            Vocab = vocab, MaxPositions = maxPos, TiedEmbeddings = tied,
        };
        return new ModelInfo { Name = name, Source = ModelSourceKind.Manual, Architecture = spec, Inventory = ArchitectureRegistry.Default.Get("llama", name).Generate(spec) };
    }

    public static ModelInfo WithExtra(ModelInfo m, string name, long parameters) =>
        m with { Inventory = new TensorInventory(m.Inventory.Tensors.Add(new TensorInfo(name, [parameters], DataType.BF16, TensorGroup.Other))) };

    /// <summary>bigcode/octocoder (GPTBigCode, MQA): L 40, h 6144, 48 heads, 1 KV head × 128, MLP 4h, V 49152, 8192 positions, tied head.</summary>
    public static ModelInfo Octocoder()
    {
        const long h = 6144, v = 49152, inner = 4 * h, kv = 128;
        var b = new InventoryBuilder();
        b.Add("transformer.wte.weight", TensorGroup.Embedding, null, v, h);
        b.Add("transformer.wpe.weight", TensorGroup.Embedding, null, 8192, h);
        for (int l = 0; l < 40; l++)
        {
            var p = $"transformer.h.{l}.";
            b.Add(p + "ln_1.weight", TensorGroup.Norm, l, h).Add(p + "ln_1.bias", TensorGroup.Norm, l, h);
            b.Add(p + "attn.c_attn.weight", TensorGroup.Attention, l, h + 2 * kv, h).Add(p + "attn.c_attn.bias", TensorGroup.Attention, l, h + 2 * kv);
            b.Add(p + "attn.c_proj.weight", TensorGroup.Attention, l, h, h).Add(p + "attn.c_proj.bias", TensorGroup.Attention, l, h);
            b.Add(p + "ln_2.weight", TensorGroup.Norm, l, h).Add(p + "ln_2.bias", TensorGroup.Norm, l, h);
            b.Add(p + "mlp.c_fc.weight", TensorGroup.Mlp, l, inner, h).Add(p + "mlp.c_fc.bias", TensorGroup.Mlp, l, inner);
            b.Add(p + "mlp.c_proj.weight", TensorGroup.Mlp, l, h, inner).Add(p + "mlp.c_proj.bias", TensorGroup.Mlp, l, h);
        }

        b.Add("transformer.ln_f.weight", TensorGroup.Norm, null, h).Add("transformer.ln_f.bias", TensorGroup.Norm, null, h);
        var spec = new ArchitectureSpec
        {
            Family = "gpt_bigcode", Layers = 40, Hidden = (int)h, Heads = 48, KvHeads = 1, HeadDim = 128, Intermediate = (int)inner,
            Vocab = (int)v, MaxPositions = 8192, TiedEmbeddings = true, Mlp = MlpKind.Dense, Norm = NormKind.LayerNorm,
        };
        return new ModelInfo { Name = "bigcode/octocoder", Source = ModelSourceKind.Manual, Architecture = spec, Inventory = b.Build() };
    }

    /// <summary>bert-large-uncased for sequence classification (2 labels): L 24, h 1024, 16 heads, MLP 4096, V 30522, 512 positions.</summary>
    public static ModelInfo BertLargeClassifier()
    {
        const long h = 1024, inner = 4096;
        var b = new InventoryBuilder(DataType.F32);
        b.Add("bert.embeddings.word_embeddings.weight", TensorGroup.Embedding, null, 30522, h);
        b.Add("bert.embeddings.position_embeddings.weight", TensorGroup.Embedding, null, 512, h);
        b.Add("bert.embeddings.token_type_embeddings.weight", TensorGroup.Embedding, null, 2, h);
        b.Add("bert.embeddings.LayerNorm.weight", TensorGroup.Norm, null, h).Add("bert.embeddings.LayerNorm.bias", TensorGroup.Norm, null, h);
        for (int l = 0; l < 24; l++)
        {
            var p = $"bert.encoder.layer.{l}.";
            foreach (var n in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                b.Add(p + n + ".weight", TensorGroup.Attention, l, h, h).Add(p + n + ".bias", TensorGroup.Attention, l, h);
            }

            b.Add(p + "attention.output.LayerNorm.weight", TensorGroup.Norm, l, h).Add(p + "attention.output.LayerNorm.bias", TensorGroup.Norm, l, h);
            b.Add(p + "intermediate.dense.weight", TensorGroup.Mlp, l, inner, h).Add(p + "intermediate.dense.bias", TensorGroup.Mlp, l, inner);
            b.Add(p + "output.dense.weight", TensorGroup.Mlp, l, h, inner).Add(p + "output.dense.bias", TensorGroup.Mlp, l, h);
            b.Add(p + "output.LayerNorm.weight", TensorGroup.Norm, l, h).Add(p + "output.LayerNorm.bias", TensorGroup.Norm, l, h);
        }

        b.Add("bert.pooler.dense.weight", TensorGroup.Other, null, h, h).Add("bert.pooler.dense.bias", TensorGroup.Other, null, h);
        b.Add("classifier.weight", TensorGroup.LmHead, null, 2, h).Add("classifier.bias", TensorGroup.LmHead, null, 2);
        var spec = new ArchitectureSpec
        {
            Family = "bert", Layers = 24, Hidden = (int)h, Heads = 16, KvHeads = 16, HeadDim = 64, Intermediate = (int)inner, Vocab = 30522,
            MaxPositions = 512, Mlp = MlpKind.Dense, Norm = NormKind.LayerNorm, IsEncoderOnly = true, TorchDtype = "float32",
        };
        return new ModelInfo { Name = "bert-large-uncased", Source = ModelSourceKind.Manual, Architecture = spec, Inventory = b.Build() };
    }

    public static ImmutableArray<AttentionLayerKind> None => [];
}
