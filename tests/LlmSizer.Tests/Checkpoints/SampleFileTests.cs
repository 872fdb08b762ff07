using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Real files from /work/shared/samples (see its README.md for where each comes from and the expected facts).
/// Each test returns early when the samples folder is absent.</summary>
public sealed class SampleFileTests
{
    private static string? Sample(params string[] parts) =>
        TestPaths.SharedSamples is { } root && File.Exists(Path.Combine([root, .. parts])) ? Path.Combine([root, .. parts]) : null;

    [Fact]
    public void LlamaTinyRandom_513048ParamsIn12Tensors()
    {
        if (Sample("gguf", "llama-2-tiny-random.gguf") is not { } path)
        {
            return;
        }

        // README: llama, 1 layer, n_embd 8, 2 heads, ffn 32, vocab 32000, F16 + F32, 513,048 params in 12 tensors.
        // By hand: token_embd + output 2 × 32000 × 8 = 512,000; output_norm 8; one layer: 2 norms 16 + q,k,v,o 4 × 64
        // + gate, up, down 3 × 256 = 1,040 → 513,048.
        var model = CheckpointLoader.TryLoad(path)!;
        Assert.Equal(ModelSourceKind.Gguf, model.Source);
        Assert.Equal(12, model.Inventory.Tensors.Length);
        Assert.Equal(513_048, model.Inventory.TotalParameters.Value);
        Assert.Equal(3, model.FormatVersion);
        Assert.Equal(32, model.Alignment);
        var spec = model.Architecture!;
        Assert.Equal(("llama", 1, 8, 2, 2, 32, 32000, 4), (spec.Family, spec.Layers, spec.Hidden, spec.Heads, spec.KvHeads, spec.Intermediate, spec.Vocab, spec.HeadDim));
        Assert.False(spec.TiedEmbeddings);

        // F16 + F32 only; every byte of tensor data inside the file.
        Assert.All(model.Inventory.Tensors, t => Assert.True(t.DataType == DataType.F16 || t.DataType == DataType.F32));
        Assert.True(model.Inventory.TotalBytes.Bytes < model.FileBytes!.Value.Bytes);
        Assert.Equal([0], model.Inventory.ByLayer().Select(kv => kv.Key));
        Assert.Equal(256_000, model.Inventory.ByGroup()[TensorGroup.Embedding].Value);
        Assert.Equal(256_000, model.Inventory.ByGroup()[TensorGroup.LmHead].Value);
    }

    [Theory]
    // (file, family, layers, hidden, heads, kv heads, intermediate, vocab) from the files' hparams (README + the models' configs).
    [InlineData("ggml-vocab-falcon.gguf", "falcon", 32, 4544, 71, 1, 18176, 65024)]
    [InlineData("ggml-vocab-deepseek-llm.gguf", "llama", 30, 4096, 32, 32, 11008, 102400)]
    [InlineData("ggml-vocab-llama-spm.gguf", "llama", 32, 4096, 32, 32, 11008, 32000)]
    [InlineData("ggml-vocab-bert-bge.gguf", "bert", 12, 384, 12, 12, 1536, 30522)]
    [InlineData("ggml-vocab-gpt-2.gguf", "gpt2", 12, 768, 12, 12, 3072, 50257)]
    [InlineData("ggml-vocab-gpt-neox.gguf", "gpt_neox", 44, 6144, 64, 64, 24576, 50432)]
    [InlineData("ggml-vocab-mpt.gguf", "mpt", 32, 4096, 32, 32, 16384, 50432)]
    [InlineData("ggml-vocab-phi-3.gguf", "phi3", 32, 3072, 32, 32, 8192, 32064)]
    [InlineData("ggml-vocab-refact.gguf", "refact", 32, 2048, 32, 1, 5632, 49216)]
    [InlineData("ggml-vocab-starcoder.gguf", "starcoder2", 30, 3072, 24, 2, 12288, 49152)]
    [InlineData("ggml-vocab-baichuan.gguf", "baichuan", 32, 4096, 32, 32, 11008, 64000)]
    [InlineData("ggml-vocab-deepseek-coder.gguf", "llama", 32, 4096, 32, 32, 11008, 32256)]
    public void VocabOnlyGguf_YieldsArchitecture(string file, string family, int layers, int hidden, int heads, int kvHeads, int ff, int vocab)
    {
        if (Sample("gguf", file) is not { } path)
        {
            return;
        }

        var model = CheckpointLoader.TryLoad(path)!;
        Assert.Empty(model.Inventory.Tensors);
        var s = model.Architecture!;
        Assert.Equal((family, layers, hidden, heads, kvHeads, ff, vocab), (s.Family, s.Layers, s.Hidden, s.Heads, s.KvHeads, s.Intermediate, s.Vocab));
        Assert.Equal(hidden / heads, s.HeadDim);
    }

    [Fact]
    public void BertGguf_IsEncoderOnlyWithLayerNorm()
    {
        if (Sample("gguf", "ggml-vocab-bert-bge.gguf") is not { } path)
        {
            return;
        }

        var s = CheckpointLoader.TryLoad(path)!.Architecture!;
        Assert.True(s.IsEncoderOnly);
        Assert.Equal(NormKind.LayerNorm, s.Norm);
        Assert.Equal(MlpKind.Dense, s.Mlp);
    }

    [Fact]
    public void SafetensorsAllDtypes_9Tensors54Elements()
    {
        if (Sample("safetensors", "safetensors-samples", "sample-all-dtypes.safetensors") is not { } path)
        {
            return;
        }

        // README: 9 tensors of 6 elements, 9 dtypes; __metadata__ {"test":"a"}.
        var model = CheckpointLoader.TryLoad(path)!;
        Assert.Equal(ModelSourceKind.Safetensors, model.Source);
        Assert.Equal(9, model.Inventory.Tensors.Length);
        Assert.Equal(54, model.Inventory.TotalParameters.Value);
        Assert.Equal(9, model.Inventory.ByDataType().Count);
        Assert.Equal("a", model.Metadata!["test"]);
        Assert.Equal(702, model.FileBytes!.Value.Bytes);
        Assert.Null(model.Architecture);
    }

    [Theory]
    [InlineData("U8", 6)]
    [InlineData("I8", 6)]
    [InlineData("U16", 12)]
    [InlineData("I16", 12)]
    [InlineData("U32", 24)]
    [InlineData("I32", 24)]
    [InlineData("F16", 12)]
    [InlineData("F32", 24)]
    [InlineData("F64", 48)]
    public void SafetensorsSingleDtypeSamples_SixElements(string dtype, long bytes)
    {
        if (Sample("safetensors", "safetensors-samples", $"sample-{dtype}.safetensors") is not { } path)
        {
            return;
        }

        var model = CheckpointLoader.TryLoad(path)!;
        var t = Assert.Single(model.Inventory.Tensors);
        Assert.Equal(dtype, t.DataType.Name);
        Assert.Equal(6, t.Elements);
        Assert.Equal(bytes, t.Bytes.Bytes);
    }

    [Fact]
    public void MlxLoraAdapter_16F32Tensors294912Params()
    {
        if (Sample("safetensors", "mlx-lora-adapter", "adapters.safetensors") is not { } path)
        {
            return;
        }

        // README: rank-8 LoRA on q_proj and v_proj of 4 layers of MiniCPM-2B (hidden 2304): 4 × 2 × 2 × 2304 × 8 = 294,912.
        var model = CheckpointLoader.TryLoad(Path.GetDirectoryName(path)!)!;
        Assert.Equal(16, model.Inventory.Tensors.Length);
        Assert.Equal(294_912, model.Inventory.TotalParameters.Value);
        Assert.All(model.Inventory.Tensors, t => Assert.Equal(DataType.F32, t.DataType));
        Assert.All(model.Inventory.Tensors, t => Assert.Equal(TensorGroup.Attention, t.Group));
        Assert.Equal([36, 37, 38, 39], model.Inventory.ByLayer().Select(kv => kv.Key));
        Assert.Null(model.Metadata);
    }

    [Fact]
    public void CandleFiles_IntegerTensorsCounted()
    {
        if (Sample("safetensors", "candle", "csm-voices.safetensors") is not { } path)
        {
            return;
        }

        // tokens I64 [1, 982, 33] and mask U8 [1, 982, 33]: 32,406 elements each; 32,406 × 9 bytes = 291,654 of data.
        var model = CheckpointLoader.TryLoad(path)!;
        Assert.Equal(2 * 32_406, model.Inventory.TotalParameters.Value);
        Assert.Equal(291_654, model.Inventory.TotalBytes.Bytes);
    }
}
