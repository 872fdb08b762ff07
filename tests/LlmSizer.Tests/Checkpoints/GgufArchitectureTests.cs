using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Errors;
using LlmSizer.Tensors;
using G = LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

public sealed class GgufArchitectureTests
{
    private static ArchitectureSpec Spec(G w) =>
        GgufArchitecture.TryRead(GgufReader.Read(MemoryByteSource.Create(w.ToArray(), "arch.gguf")), null)!;

    private static G Base(string arch, int layers = 4, int hidden = 256, int heads = 8, int? kv = 2, int ff = 512, int vocab = 1000)
    {
        var w = new G();
        w.AddString("general.architecture", arch);
        w.AddUInt32(arch + ".block_count", (uint)layers).AddUInt32(arch + ".embedding_length", (uint)hidden)
         .AddUInt32(arch + ".attention.head_count", (uint)heads).AddUInt32(arch + ".feed_forward_length", (uint)ff)
         .AddUInt32(arch + ".context_length", 4096);
        if (kv is { } k)
        {
            w.AddUInt32(arch + ".attention.head_count_kv", (uint)k);
        }

        w.AddArray("tokenizer.ggml.tokens", G.MetaType.String, Enumerable.Range(0, vocab).Select(i => "t" + i).ToArray());
        return w;
    }

    [Theory]
    [InlineData("llama", "llama")]
    [InlineData("qwen2", "qwen2")]
    [InlineData("qwen3", "qwen3")]
    [InlineData("gemma", "gemma")]
    [InlineData("phi3", "phi3")]
    [InlineData("command-r", "cohere")]
    [InlineData("gptneox", "gpt_neox")]
    [InlineData("refact", "refact")]
    [InlineData("starcoder2", "starcoder2")]
    public void TryRead_DenseFamilies_CommonFieldsAndHfName(string arch, string family)
    {
        var s = Spec(Base(arch));
        Assert.Equal((family, 4, 256, 8, 2, 32, 512, 1000, 4096), (s.Family, s.Layers, s.Hidden, s.Heads, s.KvHeads, s.HeadDim, s.Intermediate, s.Vocab, s.MaxPositions));
        Assert.Null(s.Moe);
    }

    [Fact]
    public void TryRead_ExplicitKeyAndValueLength_HeadDimFromKeys()
    {
        // Gemma-7B style: hidden 3072, 16 heads, head_dim 256 (not 3072 / 16 = 192).
        var w = Base("gemma", hidden: 3072, heads: 16, kv: 16);
        w.AddUInt32("gemma.attention.key_length", 256).AddUInt32("gemma.attention.value_length", 256);
        var s = Spec(w);
        Assert.Equal(256, s.HeadDim);
        Assert.Null(s.ValueHeadDim);
        Assert.True(s.TiedEmbeddings);
    }

    [Fact]
    public void TryRead_Gemma2_AlternatingSlidingLayers()
    {
        // llama.cpp set_swa_pattern(2): layer il slides when il % 2 < 1, i.e. even layers.
        var w = Base("gemma2");
        w.AddUInt32("gemma2.attention.sliding_window", 4096);
        var s = Spec(w);
        Assert.Equal("gemma2", s.Family);
        Assert.Equal(4096, s.SlidingWindow);
        Assert.Equal([AttentionLayerKind.Sliding, AttentionLayerKind.Full, AttentionLayerKind.Sliding, AttentionLayerKind.Full], s.LayerKinds.ToArray());
    }

    [Fact]
    public void TryRead_Gemma3_FiveSlidingThenOneGlobal()
    {
        var w = Base("gemma3", layers: 12);
        w.AddUInt32("gemma3.attention.sliding_window", 1024);
        var s = Spec(w);
        Assert.Equal("gemma3_text", s.Family);
        var global = Enumerable.Range(0, 12).Where(l => s.LayerKind(l) == AttentionLayerKind.Full).ToArray();
        Assert.Equal([5, 11], global);
    }

    [Fact]
    public void TryRead_SlidingWindowPatternArray_Overrides()
    {
        var w = Base("llama");
        w.AddUInt32("llama.attention.sliding_window", 512);
        w.AddArray("llama.attention.sliding_window_pattern", G.MetaType.Bool, new[] { true, true, true, false });
        Assert.Equal([AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Full], Spec(w).LayerKinds.ToArray());
    }

    [Fact]
    public void TryRead_Qwen2Moe_ExpertsAndSharedExpert()
    {
        // Qwen1.5-MoE-A2.7B hparams: 60 experts, top-4, expert ff 1408, shared expert ff 5632.
        var w = Base("qwen2moe", hidden: 2048, heads: 16, kv: 16, ff: 5632);
        w.AddUInt32("qwen2moe.expert_count", 60).AddUInt32("qwen2moe.expert_used_count", 4)
         .AddUInt32("qwen2moe.expert_feed_forward_length", 1408).AddUInt32("qwen2moe.expert_shared_feed_forward_length", 5632);
        var s = Spec(w);
        Assert.Equal("qwen2_moe", s.Family);
        Assert.Equal((60, 4, 1408, 1, 5632, true), (s.Moe!.Experts, s.Moe.ActiveExperts, s.Moe.ExpertIntermediate, s.Moe.SharedExperts, s.Moe.SharedIntermediate, s.Moe.SharedExpertGate));
    }

    [Fact]
    public void TryRead_Qwen3Moe_NoSharedExperts()
    {
        var w = Base("qwen3moe");
        w.AddUInt32("qwen3moe.expert_count", 128).AddUInt32("qwen3moe.expert_used_count", 8).AddUInt32("qwen3moe.expert_feed_forward_length", 768);
        var s = Spec(w);
        Assert.Equal(("qwen3_moe", 128, 8, 768, 0), (s.Family, s.Moe!.Experts, s.Moe.ActiveExperts, s.Moe.ExpertIntermediate, s.Moe.SharedExperts));
    }

    [Fact]
    public void TryRead_Deepseek2_MlaAndLeadingDenseLayers()
    {
        // DeepSeek-V2-Lite (config.json): 27 layers, hidden 2048, 16 heads, kv_lora_rank 512, q_lora_rank null,
        // qk_nope 128 + qk_rope 64 = 192, v_head_dim 128, 64 experts top-6, moe ff 1408, 2 shared, first_k_dense_replace 1.
        var w = Base("deepseek2", layers: 27, hidden: 2048, heads: 16, kv: 16, ff: 10944, vocab: 500);
        w.AddUInt32("deepseek2.attention.kv_lora_rank", 512).AddUInt32("deepseek2.rope.dimension_count", 64)
         .AddUInt32("deepseek2.attention.key_length", 192).AddUInt32("deepseek2.attention.value_length", 128)
         .AddUInt32("deepseek2.expert_count", 64).AddUInt32("deepseek2.expert_used_count", 6)
         .AddUInt32("deepseek2.expert_feed_forward_length", 1408).AddUInt32("deepseek2.expert_shared_count", 2)
         .AddUInt32("deepseek2.leading_dense_block_count", 1);
        var s = Spec(w);
        Assert.Equal("deepseek_v2", s.Family);
        Assert.Equal((512, (int?)null, 128, 64, 128), (s.Mla!.KvLoraRank, s.Mla.QLoraRank, s.Mla.QkNopeHeadDim, s.Mla.QkRopeHeadDim, s.Mla.VHeadDim));
        Assert.Equal((192, 128), (s.HeadDim, s.VHeadDim));
        Assert.Equal((2, 2816), (s.Moe!.SharedExperts, s.Moe.SharedIntermediate));
        Assert.False(s.Moe.MoeLayers[0]);
        Assert.True(s.Moe.MoeLayers[1]);
    }

    [Fact]
    public void TryRead_Deepseek2AbsorbedMlaKeys_UsesPerHeadWidths()
    {
        // Newer conversions: key_length = kv_lora_rank + rope (576), value_length = kv_lora_rank (512); *_mla hold 192/128.
        var w = Base("deepseek2", heads: 16, kv: 1);
        w.AddUInt32("deepseek2.attention.kv_lora_rank", 512).AddUInt32("deepseek2.rope.dimension_count", 64)
         .AddUInt32("deepseek2.attention.q_lora_rank", 1536)
         .AddUInt32("deepseek2.attention.key_length", 576).AddUInt32("deepseek2.attention.value_length", 512)
         .AddUInt32("deepseek2.attention.key_length_mla", 192).AddUInt32("deepseek2.attention.value_length_mla", 128);
        var s = Spec(w);
        Assert.Equal((1536, 128, 192, 128), (s.Mla!.QLoraRank, s.Mla.QkNopeHeadDim, s.HeadDim, s.VHeadDim));
    }

    [Fact]
    public void TryRead_GptOss_ExpertsAndAlternatingWindow()
    {
        // gpt-oss-20b: 24 layers, hidden 2880, 64 heads, 8 kv, head_dim 64, 32 experts top-4, expert ff 2880, window 128.
        var w = Base("gpt-oss", layers: 24, hidden: 2880, heads: 64, kv: 8, ff: 2880);
        w.AddUInt32("gpt-oss.attention.key_length", 64).AddUInt32("gpt-oss.attention.value_length", 64)
         .AddUInt32("gpt-oss.expert_count", 32).AddUInt32("gpt-oss.expert_used_count", 4)
         .AddUInt32("gpt-oss.expert_feed_forward_length", 2880).AddUInt32("gpt-oss.attention.sliding_window", 128);
        var s = Spec(w);
        Assert.Equal(("gpt_oss", 64, 32, 4), (s.Family, s.HeadDim, s.Moe!.Experts, s.Moe.ActiveExperts));
        Assert.Equal(12, s.LayerKinds.Count(k => k == AttentionLayerKind.Sliding));
        Assert.Equal(AttentionLayerKind.Sliding, s.LayerKind(0));
    }

    [Fact]
    public void TryRead_PerLayerHeadCountArray_TakesLargest()
    {
        var w = new G();
        w.AddString("general.architecture", "openelm");
        w.AddUInt32("openelm.block_count", 3).AddUInt32("openelm.embedding_length", 1280)
         .AddArray("openelm.attention.head_count", G.MetaType.Int32, new[] { 12, 16, 20 })
         .AddArray("openelm.attention.head_count_kv", G.MetaType.Int32, new[] { 3, 4, 5 })
         .AddArray("openelm.feed_forward_length", G.MetaType.Int32, new[] { 768, 1024, 2048 })
         .AddUInt32("openelm.attention.key_length", 64).AddUInt32("openelm.vocab_size", 32000);
        var s = Spec(w);
        Assert.Equal((20, 5, 2048, 64, 32000), (s.Heads, s.KvHeads, s.Intermediate, s.HeadDim, s.Vocab));
    }

    [Fact]
    public void TryRead_NegativeBlockCount_Throws()
    {
        var w = new G();
        w.AddString("general.architecture", "llama").AddInt32("llama.block_count", -1).AddUInt32("llama.embedding_length", 8).AddUInt32("llama.attention.head_count", 2);
        var e = Assert.Throws<ModelFileFormatException>(() => Spec(w));
        Assert.Contains("llama.block_count", e.Message);
    }

    [Fact]
    public void TryRead_NoArchitectureKey_Null() =>
        Assert.Null(GgufArchitecture.TryRead(GgufReader.Read(MemoryByteSource.Create(new G().AddString("k", "v").ToArray())), null));

    [Fact]
    public void LoadGguf_MoeExpertTensors_PoolAndActiveFromMetadata()
    {
        // Given a 1-layer qwen3moe with fused expert tensors [E=4, ff=32, d=16] (GGUF dims [16, 32, 4]), top-2.
        var w = Base("qwen3moe", layers: 1, hidden: 16, heads: 2, kv: 1, ff: 32, vocab: 260);
        w.AddUInt32("qwen3moe.expert_count", 4).AddUInt32("qwen3moe.expert_used_count", 2).AddUInt32("qwen3moe.expert_feed_forward_length", 32);
        w.AddTensor("token_embd.weight", G.GgmlType.F32, 16, 260);
        w.AddTensor("blk.0.ffn_gate_inp.weight", G.GgmlType.F32, 16, 4);
        w.AddTensor("blk.0.ffn_gate_exps.weight", G.GgmlType.F16, 16, 32, 4);
        w.AddTensor("blk.0.ffn_up_exps.weight", G.GgmlType.F16, 16, 32, 4);
        w.AddTensor("blk.0.ffn_down_exps.weight", G.GgmlType.F16, 32, 16, 4);
        var path = Path.Combine(Path.GetTempPath(), $"llmsizer-moe-{Guid.NewGuid():N}.gguf");
        try
        {
            w.WriteFile(path);

            // When
            var model = CheckpointLoader.TryLoad(path)!;

            // Then: experts 3 × 16 × 32 × 4 = 6,144 params, active 6,144 × 2 / 4 = 3,072; router 64 in Mlp; embedding 4,160.
            var inv = model.Inventory;
            var gate = inv.Tensors.Single(t => t.Name == "blk.0.ffn_gate_exps.weight");
            Assert.Equal([4L, 32L, 16L], gate.Shape.ToArray());
            Assert.Equal((TensorGroup.Experts, 4, 2, 0), (gate.Group, gate.ExpertPool, gate.ActiveExperts, gate.Layer!.Value));
            Assert.Equal(6144, inv.ByGroup()[TensorGroup.Experts].Value);
            Assert.Equal(64, inv.ByGroup()[TensorGroup.Mlp].Value);
            Assert.Equal(4160 + 64 + 6144, inv.TotalParameters.Value);
            Assert.Equal(4160 + 64 + 3072, inv.ActiveParameters.Value);
            Assert.True(model.Architecture!.TiedEmbeddings);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

public sealed class GgufLoaderRobustnessTests
{
    [Fact]
    public void LoadGguf_SeededRandomMutations_OnlyLlmSizerExceptions()
    {
        // Given a small MoE + MLA + sliding-window header (exercises the architecture mapping and classification too).
        var w = new G();
        w.AddString("general.architecture", "deepseek2");
        w.AddUInt32("deepseek2.block_count", 3).AddUInt32("deepseek2.embedding_length", 32).AddUInt32("deepseek2.attention.head_count", 4)
         .AddUInt32("deepseek2.feed_forward_length", 64).AddUInt32("deepseek2.attention.kv_lora_rank", 16).AddUInt32("deepseek2.rope.dimension_count", 4)
         .AddUInt32("deepseek2.expert_count", 4).AddUInt32("deepseek2.expert_used_count", 2).AddUInt32("deepseek2.expert_shared_count", 1)
         .AddUInt32("deepseek2.leading_dense_block_count", 1).AddUInt32("deepseek2.attention.sliding_window", 8)
         .AddArray("deepseek2.attention.head_count_kv", G.MetaType.Int32, new[] { 4, 4, 4 })
         .AddStrings("tokenizer.ggml.tokens", "a", "b");
        w.AddTensor("token_embd.weight", G.GgmlType.F32, 32, 2);
        w.AddTensor("blk.1.ffn_up_exps.weight", G.GgmlType.F16, 32, 8, 4);
        var original = w.ToArray();
        var rng = new Random(42);

        // When / Then: thousands of seeded byte changes; only the library's exception type may escape.
        for (int i = 0; i < 3000; i++)
        {
            var bytes = (byte[])original.Clone();
            for (int f = 1 + rng.Next(3); f > 0; f--)
            {
                bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            }

            var ex = Record.Exception(() => CheckpointLoader.LoadGguf(MemoryByteSource.Create(bytes, "m.gguf")));
            Assert.True(ex is null or LlmSizerException, $"mutation {i}: {ex}");
        }
    }

    [Fact]
    public void LoadGguf_AbsurdBlockCount_Refused()
    {
        var w = new G();
        w.AddString("general.architecture", "llama").AddUInt32("llama.block_count", 2_000_000_000).AddUInt32("llama.embedding_length", 8)
         .AddUInt32("llama.attention.head_count", 2).AddUInt32("llama.attention.sliding_window", 4);
        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.LoadGguf(MemoryByteSource.Create(w.ToArray(), "big.gguf")));
        Assert.Contains("big.gguf", e.Message);
        Assert.Contains("llama.block_count", e.Message);
    }
}
