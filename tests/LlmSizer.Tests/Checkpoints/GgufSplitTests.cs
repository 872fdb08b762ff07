using LlmSizer.Tests.Memory;
using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

public sealed class GgufSplitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llmsizer-split-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Three shards as llama.cpp gguf-split writes them (tools/gguf-split/gguf-split.cpp): every shard has split.no (u16,
    // 0-based), split.count (u16) and split.tensors.count (i32); shard 1 alone has the model metadata.
    // Tensors (GGUF dims innermost first), parameters by hand:
    //   shard 1: token_embd.weight 16×64 = 1,024; output_norm.weight 16
    //   shard 2: blk.0.attn_q.weight 16×16 = 256; blk.0.attn_k.weight 16×8 = 128
    //   shard 3: blk.1.attn_q.weight 16×16 = 256; output.weight 16×64 = 1,024
    // Total 6 tensors, 1,024 + 16 + 256 + 128 + 256 + 1,024 = 2,704 parameters.
    private const int TotalTensors = 6;
    private const long TotalParams = 2_704;

    private string[] WriteShards(string folder, int tensorsCount = TotalTensors, ushort lastShardCount = 3)
    {
        Directory.CreateDirectory(folder);
        var shards = new GgufWriter[3];
        for (int i = 0; i < 3; i++)
        {
            var w = new GgufWriter();
            if (i == 0)
            {
                w.AddString("general.architecture", "llama")
                 .AddString("general.name", "tiny")
                 .AddUInt32("llama.block_count", 2)
                 .AddUInt32("llama.embedding_length", 16)
                 .AddUInt32("llama.attention.head_count", 4)
                 .AddUInt32("llama.attention.head_count_kv", 2)
                 .AddUInt32("llama.feed_forward_length", 32)
                 .AddUInt32("llama.vocab_size", 64);
            }

            w.AddUInt16("split.no", (ushort)i).AddUInt16("split.count", i == 2 ? lastShardCount : (ushort)3).AddInt32("split.tensors.count", tensorsCount);
            shards[i] = w;
        }

        shards[0].AddTensor("token_embd.weight", GgmlType.F32, 16, 64).AddTensor("output_norm.weight", GgmlType.F32, 16);
        shards[1].AddTensor("blk.0.attn_q.weight", GgmlType.F32, 16, 16).AddTensor("blk.0.attn_k.weight", GgmlType.F32, 16, 8);
        shards[2].AddTensor("blk.1.attn_q.weight", GgmlType.F32, 16, 16).AddTensor("output.weight", GgmlType.F16, 16, 64);
        var paths = new string[3];
        for (int i = 0; i < 3; i++)
        {
            paths[i] = Path.Combine(folder, $"tiny-0000{i + 1}-of-00003.gguf");
            shards[i].WriteFile(paths[i]);
        }

        return paths;
    }

    [Fact]
    public void TryLoad_FirstShard_LoadsEveryShardAsOneModel()
    {
        // Given
        var paths = WriteShards(Path.Combine(_dir, "a"));

        // When
        var model = CheckpointLoader.TryLoad(paths[0])!;

        // Then
        Assert.Equal(ModelSourceKind.Gguf, model.Source);
        Assert.Equal(TotalTensors, model.Inventory.Tensors.Length);
        Assert.Equal(TotalParams, model.Inventory.TotalParameters.Value);
        Assert.Equal(paths, model.Files);
        Assert.Equal(paths.Sum(p => new FileInfo(p).Length), model.FileBytes!.Value.Bytes);
        Assert.Equal(16, model.Architecture!.Hidden);
        Assert.Equal(2, model.Architecture.Layers);
        Assert.False(model.Architecture.TiedEmbeddings); // output.weight is in shard 3
        Assert.Equal("tiny", model.Name);
    }

    [Fact]
    public void TryLoad_LastShard_LoadsTheWholeSetFromShardOne()
    {
        var paths = WriteShards(Path.Combine(_dir, "last"));

        var model = CheckpointLoader.TryLoad(paths[2])!;

        Assert.Equal(TotalParams, model.Inventory.TotalParameters.Value);
        Assert.Equal(paths[0], model.Files[0]);
        Assert.Equal(16, model.Architecture!.Hidden);
    }

    [Fact]
    public void TryLoad_FolderWithOneSplitSet_LoadsEveryShard()
    {
        var folder = Path.Combine(_dir, "tiny-gguf");
        WriteShards(folder);

        var model = CheckpointLoader.TryLoad(folder)!;

        Assert.Equal("tiny-gguf", model.Name);
        Assert.Equal(TotalParams, model.Inventory.TotalParameters.Value);
        Assert.Equal(3, model.Files.Count);
    }

    [Fact]
    public void TryLoad_MissingShard_ThrowsOneLineNamingTheShard()
    {
        var paths = WriteShards(Path.Combine(_dir, "b"));
        File.Delete(paths[1]);

        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(paths[0]));

        Assert.Contains("tiny-00002-of-00003.gguf", e.Message, StringComparison.Ordinal);
        Assert.Contains("split.count", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TryLoad_TensorCountDisagrees_ThrowsNamingSplitTensorsCount()
    {
        // split.tensors.count says 7; the shards hold 6.
        var paths = WriteShards(Path.Combine(_dir, "c"), tensorsCount: 7);

        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(paths[0]));

        Assert.Contains(paths[0], e.Message, StringComparison.Ordinal);
        Assert.Contains("split.tensors.count: expected 7", e.Message, StringComparison.Ordinal);
        Assert.Contains("found 6", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TryLoad_ShardSplitCountDisagrees_ThrowsNamingThatShard()
    {
        // Shard 3 says split.count 2 while its name says 3.
        var paths = WriteShards(Path.Combine(_dir, "d"), lastShardCount: 2);

        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(paths[0]));

        Assert.Contains(paths[2], e.Message, StringComparison.Ordinal);
        Assert.Contains("split.count: expected 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_ShardNotNamedAsShard_LoadsAloneWithWarning()
    {
        // Shard 2's header under a plain name: its 2 tensors (256 + 128 = 384 parameters) and a warning.
        var paths = WriteShards(Path.Combine(_dir, "e"));
        var lonely = Path.Combine(_dir, "lonely.gguf");
        File.Copy(paths[1], lonely);

        var model = CheckpointLoader.TryLoad(lonely)!;

        Assert.Equal(384, model.Inventory.TotalParameters.Value);
        Assert.Contains(model.Warnings, w => w.Contains("split.count is 3", StringComparison.Ordinal));
    }

    [Fact]
    public void TryLoad_FolderWithUnrelatedGgufs_StillAsksForTheFile()
    {
        var folder = Path.Combine(_dir, "two");
        Directory.CreateDirectory(folder);
        GgufWriter.TinyLlama().WriteFile(Path.Combine(folder, "a.gguf"));
        GgufWriter.TinyLlama().WriteFile(Path.Combine(folder, "b.gguf"));

        Assert.Throws<UnknownModelException>(() => CheckpointLoader.TryLoad(folder));
    }

    [Fact]
    public void LoadGguf_PerLayerKvHeads_ZeroLayersHaveNoCacheAndKvBytesArePerLayer()
    {
        // Given a 4-layer llama-arch GGUF, hidden 16, 4 heads (head_dim 16 / 4 = 4), head_count_kv per layer [2, 0, 1, 0]
        // (as a hybrid model writes it: 0 for recurrent layers).
        var w = new GgufWriter()
            .AddString("general.architecture", "llama")
            .AddUInt32("llama.block_count", 4)
            .AddUInt32("llama.embedding_length", 16)
            .AddUInt32("llama.attention.head_count", 4)
            .AddArray("llama.attention.head_count_kv", MetaType.UInt32, new uint[] { 2, 0, 1, 0 })
            .AddUInt32("llama.feed_forward_length", 32)
            .AddUInt32("llama.vocab_size", 64)
            .AddTensor("token_embd.weight", GgmlType.F32, 16, 64);
        var path = Path.Combine(_dir, "hybrid.gguf");
        w.WriteFile(path);

        // When
        var model = CheckpointLoader.TryLoad(path)!;
        var spec = model.Architecture!;
        var e = MemoryEstimator.Estimate(model, new FlatWorkload { Engine = InferenceEngine.Hf, Context = 1000, KvDtype = "f16" });

        // Then: layers 1 and 3 hold no KV; the largest count stays in KvHeads.
        Assert.Equal(2, spec.KvHeads);
        Assert.Equal(new[] { 2, 0, 1, 0 }, spec.LayerKvHeads.ToArray());
        Assert.Equal(new[] { AttentionLayerKind.Full, AttentionLayerKind.None, AttentionLayerKind.Full, AttentionLayerKind.None }, spec.LayerKinds.ToArray());

        // By hand (llama.cpp n_embd_k_gqa(il) = head_dim × n_head_kv(il)): per token Σ_l kv_l × (4 + 4) × 2 B
        // = (2 + 0 + 1 + 0) × 8 × 2 = 48 B; 1,000 tokens = 48,000 B.
        Assert.Equal(48_000L, e["kv_cache"].Bytes);

        // llama.cpp: 1,000 cells padded to 256 → 1,024 cells × 48 B (f16 K and V rows) = 49,152 B.
        var cpp = MemoryEstimator.Estimate(model, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 1000 });
        Assert.Equal(49_152L, cpp["kv_cache"].Bytes);
    }

    [Fact]
    public void LoadGguf_UniformPerLayerKvHeads_LeavesLayerKvHeadsEmpty()
    {
        var w = new GgufWriter()
            .AddString("general.architecture", "llama")
            .AddUInt32("llama.block_count", 2)
            .AddUInt32("llama.embedding_length", 16)
            .AddUInt32("llama.attention.head_count", 4)
            .AddArray("llama.attention.head_count_kv", MetaType.UInt32, new uint[] { 2, 2 })
            .AddTensor("token_embd.weight", GgmlType.F32, 16, 64);
        var path = Path.Combine(_dir, "uniform.gguf");
        w.WriteFile(path);

        var spec = CheckpointLoader.TryLoad(path)!.Architecture!;

        Assert.Equal(2, spec.KvHeads);
        Assert.True(spec.LayerKvHeads.IsDefaultOrEmpty);
        Assert.True(spec.LayerKinds.IsDefaultOrEmpty);
    }
}
