using LlmSizer.Checkpoints;
using LlmSizer.Errors;
using LlmSizer.Tensors;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Checkpoints;

public sealed class CheckpointLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llmsizer-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // A tiny Llama: hidden 16, 4 heads (head_dim 4), 2 kv heads, intermediate 32, 2 layers, vocab 64, untied.
    private const string TinyLlamaConfig = """
        { "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 16, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 32, "num_hidden_layers": 2, "vocab_size": 64,
          "max_position_embeddings": 128, "tie_word_embeddings": false, "torch_dtype": "bfloat16" }
        """;

    // By hand: embed 64·16 = 1,024; per layer q 16·16 = 256, k 8·16 = 128, v 128, o 256, gate/up/down 3 · 32·16 = 1,536,
    // two norms 32 → 2,336; two layers 4,672; final norm 16; lm_head 1,024. Total 6,736.
    private const long TinyLlamaParams = 6_736;

    private static void AddTinyLlamaLayer(SafetensorsWriter w, int l)
    {
        var p = $"model.layers.{l}.";
        w.Add(p + "input_layernorm.weight", "BF16", 16)
         .Add(p + "self_attn.q_proj.weight", "BF16", 16, 16)
         .Add(p + "self_attn.k_proj.weight", "BF16", 8, 16)
         .Add(p + "self_attn.v_proj.weight", "BF16", 8, 16)
         .Add(p + "self_attn.o_proj.weight", "BF16", 16, 16)
         .Add(p + "post_attention_layernorm.weight", "BF16", 16)
         .Add(p + "mlp.gate_proj.weight", "BF16", 32, 16)
         .Add(p + "mlp.up_proj.weight", "BF16", 32, 16)
         .Add(p + "mlp.down_proj.weight", "BF16", 16, 32);
    }

    private string Folder(string name)
    {
        var d = Path.Combine(_dir, name);
        Directory.CreateDirectory(d);
        return d;
    }

    [Fact]
    public void TryLoad_FolderWithConfigAndSafetensors_MatchesConfigTensorByTensor()
    {
        // Given config.json + model.safetensors written with Hugging Face names and a rotary buffer.
        var d = Folder("tiny-llama");
        File.WriteAllText(Path.Combine(d, "config.json"), TinyLlamaConfig);
        var w = new SafetensorsWriter().Metadata("format", "pt").Add("model.embed_tokens.weight", "BF16", 64, 16);
        AddTinyLlamaLayer(w, 0);
        AddTinyLlamaLayer(w, 1);
        w.Add("model.norm.weight", "BF16", 16).Add("lm_head.weight", "BF16", 64, 16)
         .Add("model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 2);
        w.WriteFile(Path.Combine(d, "model.safetensors"));

        // When
        var model = CheckpointLoader.TryLoad(d)!;
        var comparison = InventoryComparison.Compare(model.Family!.Generate(model.Architecture!), model.Inventory);

        // Then
        Assert.Equal(ModelSourceKind.Safetensors, model.Source);
        Assert.Equal("tiny-llama", model.Name);
        Assert.Equal(TinyLlamaParams, model.Inventory.TotalParameters.Value);
        Assert.True(comparison.IsMatch, string.Join("; ", comparison.Missing.Select(t => "missing " + t.Name).Concat(comparison.Extra.Select(t => "extra " + t.Name))));
        Assert.Equal(TensorKind.Buffer, model.Inventory.Tensors.Single(t => t.Name.EndsWith("inv_freq", StringComparison.Ordinal)).Kind);
        Assert.Equal(2 * TinyLlamaParams, model.Inventory.ParameterBytes.Bytes);
        Assert.Equal("pt", model.Metadata!["format"]);
        Assert.Equal(new FileInfo(Path.Combine(d, "model.safetensors")).Length, model.FileBytes!.Value.Bytes);
        Assert.Equal(16, model.Architecture!.Hidden);
    }

    [Fact]
    public void TryLoad_ShardedIndex_ReadsAllShardsAndChecksTotalSize()
    {
        // Given two shards and an index whose total_size is the tensors' bytes (BF16: 2 × 6,736 + 8 = 13,480 with inv_freq... none here).
        var d = Folder("sharded");
        File.WriteAllText(Path.Combine(d, "config.json"), TinyLlamaConfig);
        var s1 = new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 64, 16);
        AddTinyLlamaLayer(s1, 0);
        var s2 = new SafetensorsWriter();
        AddTinyLlamaLayer(s2, 1);
        s2.Add("model.norm.weight", "BF16", 16).Add("lm_head.weight", "BF16", 64, 16);
        s1.WriteFile(Path.Combine(d, "model-00001-of-00002.safetensors"));
        s2.WriteFile(Path.Combine(d, "model-00002-of-00002.safetensors"));
        WriteIndex(d, 2 * TinyLlamaParams, ("model-00001-of-00002.safetensors", s1), ("model-00002-of-00002.safetensors", s2));

        // When
        var model = CheckpointLoader.TryLoad(d)!;

        // Then
        Assert.Equal(TinyLlamaParams, model.Inventory.TotalParameters.Value);
        Assert.Equal(3, model.Files.Count);
        Assert.Empty(model.Warnings);
        Assert.True(InventoryComparison.Compare(model.Family!.Generate(model.Architecture!), model.Inventory).IsMatch);

        // And the index file itself loads the same model.
        Assert.Equal(TinyLlamaParams, CheckpointLoader.TryLoad(Path.Combine(d, "model.safetensors.index.json"))!.Inventory.TotalParameters.Value);
    }

    [Fact]
    public void TryLoad_IndexTotalSizeWrong_Warns()
    {
        var d = Folder("badtotal");
        var s1 = new SafetensorsWriter().Add("a", "F32", 4);
        s1.WriteFile(Path.Combine(d, "s1.safetensors"));
        WriteIndex(d, 999, ("s1.safetensors", s1));
        var model = CheckpointLoader.TryLoad(d)!;
        Assert.Contains("total_size is 999 bytes but the shards hold 16 bytes", Assert.Single(model.Warnings));
    }

    [Fact]
    public void TryLoad_IndexNamesMissingShard_ThrowsNamingShard()
    {
        var d = Folder("missing");
        var s1 = new SafetensorsWriter().Add("a", "F32", 4);
        WriteIndex(d, 16, ("gone.safetensors", s1));
        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(d));
        Assert.Contains("'gone.safetensors'", e.Message);
    }

    [Fact]
    public void TryLoad_IndexWithPathTraversal_Throws()
    {
        var d = Folder("traversal");
        File.WriteAllText(Path.Combine(d, "model.safetensors.index.json"), """{"weight_map": {"a": "../x.safetensors"}}""");
        Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(d));
    }

    [Fact]
    public void TryLoad_HuggingFaceCacheLayout_PicksRefsMainSnapshot()
    {
        // Given models--org--tiny/snapshots/{old,abc123} with refs/main = abc123.
        var repo = Folder("models--org--tiny");
        var old = Path.Combine(repo, "snapshots", "old");
        var main = Path.Combine(repo, "snapshots", "abc123");
        Directory.CreateDirectory(old);
        Directory.CreateDirectory(main);
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), "abc123\n");
        new SafetensorsWriter().Add("a", "F32", 4).WriteFile(Path.Combine(old, "model.safetensors"));
        new SafetensorsWriter().Add("a", "F32", 10).WriteFile(Path.Combine(main, "model.safetensors"));

        // When
        var model = CheckpointLoader.TryLoad(repo)!;

        // Then
        Assert.Equal("org/tiny", model.Name);
        Assert.Equal(10, model.Inventory.TotalParameters.Value);
    }

    [Fact]
    public void TryLoad_ConfigOnly_ReturnsNull()
    {
        var d = Folder("config-only");
        var config = Path.Combine(d, "config.json");
        File.WriteAllText(config, TinyLlamaConfig);
        Assert.Null(CheckpointLoader.TryLoad(d));
        Assert.Null(CheckpointLoader.TryLoad(config));
    }

    [Fact]
    public void TryLoad_UnsupportedConfigBesideWeights_WarnsAndCountsFiles()
    {
        var d = Folder("unsupported");
        File.WriteAllText(Path.Combine(d, "config.json"), """{"model_type": "no_such_family"}""");
        new SafetensorsWriter().Add("w", "F16", 3, 3).WriteFile(Path.Combine(d, "model.safetensors"));
        var model = CheckpointLoader.TryLoad(d)!;
        Assert.Null(model.Architecture);
        Assert.Equal(9, model.Inventory.TotalParameters.Value);
        Assert.Contains("no_such_family", Assert.Single(model.Warnings));
    }

    [Fact]
    public void TryLoad_GptqCheckpoint_CountsLogicalWeightsAndMarksAux()
    {
        // Given one GPTQ 4-bit linear of in 64 × out 32, group size 32: qweight I32 [64/8, 32], qzeros I32 [2, 32/8],
        // scales F16 [2, 32], g_idx I32 [64], and a plain F16 bias [32].
        var d = Folder("gptq");
        new SafetensorsWriter()
            .Add("model.layers.0.mlp.down_proj.qweight", "I32", 8, 32)
            .Add("model.layers.0.mlp.down_proj.qzeros", "I32", 2, 4)
            .Add("model.layers.0.mlp.down_proj.scales", "F16", 2, 32)
            .Add("model.layers.0.mlp.down_proj.g_idx", "I32", 64)
            .Add("model.layers.0.mlp.down_proj.bias", "F16", 32)
            .WriteFile(Path.Combine(d, "model.safetensors"));

        var inv = CheckpointLoader.TryLoad(d)!.Inventory;

        // Then: parameters are 64 × 32 = 2,048 logical weights + 32 bias; the rest is side data.
        Assert.Equal(2_048 + 32, inv.TotalParameters.Value);
        Assert.Equal(3, inv.Tensors.Count(t => t.Kind == TensorKind.QuantizationAux));
        Assert.Equal(2_048, inv.Tensors.Single(t => t.Name.EndsWith("qweight", StringComparison.Ordinal)).Elements);
        Assert.All(inv.Tensors, t => Assert.Equal((TensorGroup.Mlp, 0), (t.Group, t.Layer!.Value)));
    }

    [Fact]
    public void TryLoad_BitsAndBytes4Bit_TwoWeightsPerByte()
    {
        // A bnb nf4 weight of 16 × 8 = 128 values is stored as U8 [64, 1] with absmax, quant_map and quant_state.
        var d = Folder("bnb");
        new SafetensorsWriter()
            .Add("model.layers.0.self_attn.q_proj.weight", "U8", 64, 1)
            .Add("model.layers.0.self_attn.q_proj.weight.absmax", "F32", 2)
            .Add("model.layers.0.self_attn.q_proj.weight.quant_map", "F32", 16)
            .Add("model.layers.0.self_attn.q_proj.weight.quant_state.bitsandbytes__nf4", "U8", 100)
            .WriteFile(Path.Combine(d, "model.safetensors"));
        var inv = CheckpointLoader.TryLoad(d)!.Inventory;
        Assert.Equal(128, inv.TotalParameters.Value);
        Assert.Equal(3, inv.Tensors.Count(t => t.Kind == TensorKind.QuantizationAux));
    }

    [Fact]
    public void TryLoad_Gpt2Buffers_NotCounted()
    {
        // GPT-2 checkpoints store the causal mask h.N.attn.bias [1, 1, 1024, 1024] and attn.masked_bias next to c_attn.bias.
        var d = Folder("gpt2");
        new SafetensorsWriter()
            .Add("h.0.attn.bias", "F32", 1, 1, 4, 4)
            .Add("h.0.attn.masked_bias", "F32")
            .Add("h.0.attn.c_attn.bias", "F32", 24)
            .Add("h.0.attn.c_attn.weight", "F32", 8, 24)
            .Add("wte.weight", "F32", 10, 8)
            .Add("h.0.ln_1.weight", "F32", 8)
            .WriteFile(Path.Combine(d, "model.safetensors"));
        var inv = CheckpointLoader.TryLoad(d)!.Inventory;

        // 24 + 192 attention, 80 embedding, 8 norm = 304; the mask and masked_bias are buffers.
        Assert.Equal(304, inv.TotalParameters.Value);
        Assert.Equal(2, inv.Tensors.Count(t => t.Kind == TensorKind.Buffer));
        Assert.Equal(216, inv.ByGroup()[TensorGroup.Attention].Value);
        Assert.Equal(8, inv.ByGroup()[TensorGroup.Norm].Value);
        Assert.Equal(80, inv.ByGroup()[TensorGroup.Embedding].Value);
    }

    [Fact]
    public void TryLoad_HfMoeExperts_PoolFromConfig()
    {
        // Classification only (no Mixtral family needed): experts by name, router in Mlp.
        var d = Folder("moe");
        new SafetensorsWriter()
            .Add("model.layers.3.block_sparse_moe.experts.0.w1.weight", "BF16", 4, 2)
            .Add("model.layers.3.block_sparse_moe.gate.weight", "BF16", 8, 2)
            .WriteFile(Path.Combine(d, "model.safetensors"));
        var inv = CheckpointLoader.TryLoad(d)!.Inventory;
        Assert.Equal((TensorGroup.Experts, 3), (inv.Tensors[0].Group, inv.Tensors[0].Layer!.Value));
        Assert.Equal(TensorGroup.Mlp, inv.Tensors[1].Group);
    }

    [Fact]
    public void TryLoad_FolderWithOneGguf_LoadsIt()
    {
        var d = Folder("gguf-folder");
        GgufWriter.TinyLlama().WriteFile(Path.Combine(d, "m.gguf"));
        var model = CheckpointLoader.TryLoad(d)!;
        Assert.Equal(ModelSourceKind.Gguf, model.Source);

        // TinyLlama default (d 64, V 320, L 2, kv width 32, ff 128): embeddings + output 2·320·64 = 40,960; output_norm 64;
        // per layer norms 2·64 = 128, q + o 2·64·64 = 8,192, k + v 2·64·32 = 4,096, MLP 3·64·128 = 24,576 → 36,992; ×2 = 73,984.
        // Total 40,960 + 64 + 73,984 = 115,008.
        Assert.Equal(115_008, model.Inventory.TotalParameters.Value);
        Assert.Equal("llama", model.Architecture!.Family);
        Assert.Equal("tiny-llama", model.Metadata!["general.name"]);
        Assert.Equal("[320 × string]", model.Metadata["tokenizer.ggml.tokens"]);
    }

    [Fact]
    public void TryLoad_GgufWithoutExtension_DetectedByMagic()
    {
        var path = Path.Combine(_dir, "model.bin");
        GgufWriter.TinyLlama().WriteFile(path);
        Assert.Equal(ModelSourceKind.Gguf, CheckpointLoader.TryLoad(path)!.Source);
    }

    [Fact]
    public void ModelResolver_SafetensorsFolder_UsesCheckpointLoader()
    {
        var d = Folder("resolver");
        File.WriteAllText(Path.Combine(d, "config.json"), TinyLlamaConfig);
        var w = new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 64, 16);
        AddTinyLlamaLayer(w, 0);
        AddTinyLlamaLayer(w, 1);
        w.Add("model.norm.weight", "BF16", 16).Add("lm_head.weight", "BF16", 64, 16).WriteFile(Path.Combine(d, "model.safetensors"));
        var model = ModelResolver.Resolve(d);
        Assert.Equal(ModelSourceKind.Safetensors, model.Source);
        Assert.Equal(TinyLlamaParams, model.Inventory.TotalParameters.Value);
    }

    private static void WriteIndex(string dir, long totalSize, params (string File, SafetensorsWriter Writer)[] shards)
    {
        var entries = new List<string>();
        foreach (var (file, writer) in shards)
        {
            var names = System.Text.Json.JsonDocument.Parse(writer.HeaderJson()).RootElement.EnumerateObject()
                .Where(p => p.Name != "__metadata__").Select(p => p.Name);
            entries.AddRange(names.Select(n => $"\"{n}\": \"{file}\""));
        }

        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"),
            "{\"metadata\": {\"total_size\": " + totalSize + "}, \"weight_map\": {" + string.Join(", ", entries) + "}}");
    }
}

public sealed class CheckpointLoaderQuantizedTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llmsizer-q-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TryLoad_MlxFourBit_WordsHoldEightWeights()
    {
        // MLX 4-bit (config quantization.bits 4, group 64): a 32 × 128 weight is U32 [32, 16] with scales/biases [32, 2].
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "no_family", "quantization": {"group_size": 64, "bits": 4}}""");
        new SafetensorsWriter()
            .Add("model.layers.0.mlp.up_proj.weight", "U32", 32, 16)
            .Add("model.layers.0.mlp.up_proj.scales", "F16", 32, 2)
            .Add("model.layers.0.mlp.up_proj.biases", "F16", 32, 2)
            .WriteFile(Path.Combine(_dir, "model.safetensors"));
        var inv = CheckpointLoader.TryLoad(_dir)!.Inventory;
        Assert.Equal(32 * 128, inv.TotalParameters.Value);
        Assert.Equal(2, inv.Tensors.Count(t => t.Kind == TensorKind.QuantizationAux));
    }

    [Fact]
    public void TryLoad_Gptq8Bit_WordsHoldFourWeights()
    {
        // GPTQ 8-bit (quantization_config.bits 8): qweight I32 [64 / 4, 32] holds 64 × 32 weights.
        File.WriteAllText(Path.Combine(_dir, "config.json"), """{"model_type": "no_family", "quantization_config": {"bits": 8, "quant_method": "gptq"}}""");
        new SafetensorsWriter().Add("model.layers.0.mlp.up_proj.qweight", "I32", 16, 32).WriteFile(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal(64 * 32, CheckpointLoader.TryLoad(_dir)!.Inventory.TotalParameters.Value);
    }

    [Fact]
    public void TryLoad_HuggingFaceSnapshotOfSymlinks_SizesFromTargets()
    {
        // The hub cache stores blobs/<hash> and snapshots/<rev>/<file> → ../../blobs/<hash>.
        var repo = Path.Combine(_dir, "models--org--linked");
        var blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
        var snap = Directory.CreateDirectory(Path.Combine(repo, "snapshots", "r1")).FullName;
        var blob = Path.Combine(blobs, "abc");
        new SafetensorsWriter().Add("w", "F32", 100).WriteFile(blob);
        File.CreateSymbolicLink(Path.Combine(snap, "model.safetensors"), Path.Combine("..", "..", "blobs", "abc"));
        var model = CheckpointLoader.TryLoad(repo)!;
        Assert.Equal(100, model.Inventory.TotalParameters.Value);
        Assert.Equal(new FileInfo(blob).Length, model.FileBytes!.Value.Bytes);
    }
}
