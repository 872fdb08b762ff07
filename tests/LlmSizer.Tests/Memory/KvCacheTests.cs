using LlmSizer.Tests.Memory;
using System.Collections.Immutable;
using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

public class KvCacheTests
{
    private const long MiB = ByteSize.MiB;

    [Fact]
    public void Llama3_8B_Bf16_Is131072BytesPerToken()
    {
        // measured.json case 1 (vllm PR #10511): KV per token = 2 × 32 × 8 × 128 × 2 B = 131,072 B (128 KiB).
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Engine = InferenceEngine.Hf, Context = 1000 });
        Assert.Equal(1000L * 131_072, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Llama31_8B_Vllm_1952BlocksOf16Tokens_Is3904MiB()
    {
        // measured.json case 3 (vllm #10517): 1952 blocks × 16 tokens × 128 KiB = 3904 MiB = 3.81 GiB.
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 1952 * 16 });
        Assert.Equal(3904 * MiB, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Vllm_RoundsEachSequenceUpToWholeBlocks()
    {
        // 17 tokens occupy two 16-token blocks per sequence (vLLM block_size 16).
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 17, Batch = 3 });
        Assert.Equal(3L * 32 * 131_072, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Llama2_70B_Tp4_BlockPerGpuIs1_25MiB()
    {
        // measured.json case 6 (vllm PR #2031): per GPU block = 16 × 80 layers × 2 × (8/4 heads) × 128 × 2 B = 1.25 MiB.
        var m = MemoryTestModels.Llama("llama-2-70b", 80, 8192, 64, 8, 128, 28672, 32000, 4096);
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 16, Tp = 4, Gpus = 4 });
        Assert.Equal(1.25 * MiB, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Pixtral12B_8192Tokens_Is1_25GiB()
    {
        // measured.json case 11 (Aphrodite PR #1320): 8192 × 40 × 2 × 8 × 128 × 2 B = 1.25 GiB.
        var m = MemoryTestModels.Llama("mistral-nemo-12b", 40, 5120, 32, 8, 128, 14336, 131072);
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 8192 });
        Assert.Equal(1.25 * ByteSize.GiB, e["kv_cache"].Bytes);
    }

    [Fact]
    public void CommandR_LlamaCpp_4096Ctx_Is5120MiB()
    {
        // measured.json case 13 (llama.cpp PR #6122): KV self size = 5120.00 MiB = 40 × 4096 × 8192 × 2 × 2 B (MHA, 64 × 128).
        var m = MemoryTestModels.Llama("command-r", 40, 8192, 64, 64, 128, 22528, 256000, 131072, tied: true);
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 4096, Dtype = "q4_k_m" });
        Assert.Equal(5120 * MiB, e["kv_cache"].Bytes);
    }

    [Fact]
    public void TriLM_LlamaCpp_512Ctx_Is180MiB()
    {
        // measured.json case 15 (llamafile PR #552): CUDA0 KV = 180.00 MiB = 30 × 512 × 3072 × 2 × 2 B.
        var m = MemoryTestModels.Llama("trilm-3.9b", 30, 3072, 24, 24, 128, 9216, 50688, 2048);
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 512, Dtype = "f16", FlashAttn = FlashAttention.Off });
        Assert.Equal(180 * MiB, e["kv_cache"].Bytes);
        Assert.Equal(50688L * 4, e["output_buffer"].Bytes); // 0.19 MiB CUDA_Host output buffer
    }

    [Fact]
    public void DeepSeekR1_Mla_32768Ctx_Is2196MiB()
    {
        // memory-physics.md §1.2, ik_llama.cpp PR #235 log: "KV self size = 2196.00 MiB, c^KV (f16)":
        // 32768 × 61 × (512 + 64) × 2 B = 2,302,672,896 B = 2196.00 MiB. Only the latent (one "head") is cached.
        var spec = new ArchitectureSpec
        {
            Family = "deepseek_v3", Layers = 61, Hidden = 7168, Heads = 128, KvHeads = 128, HeadDim = 192, ValueHeadDim = 128,
            Intermediate = 18432, Vocab = 129280, MaxPositions = 163840,
            Mla = new MlaSpec { QLoraRank = 1536, KvLoraRank = 512, QkNopeHeadDim = 128, QkRopeHeadDim = 64, VHeadDim = 128 },
        };
        var m = new ModelInfo { Name = "deepseek-r1", Source = ModelSourceKind.Manual, Architecture = spec, Inventory = new Tensors.TensorInventory([]) };
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 32768 });
        Assert.Equal(2196 * MiB, e["kv_cache"].Bytes);

        // vLLM also caches the 576-wide latent, one head (coef 1): 70,272 B per token.
        var v = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 16, Dtype = "bf16" });
        Assert.Equal(16L * 61 * 576 * 2, v["kv_cache"].Bytes);
    }

    [Fact]
    public void LlamaCpp_QuantizedCache_UsesWholeBlocksPerRow()
    {
        // q8_0: 34 B per 32 values; Llama-3-8B row n_embd_k_gqa = 1024 → 32 blocks × 34 = 1088 B per K or V row.
        // 4096 cells × 32 layers × 2 × 1088 B = 285,212,672 B.
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Dtype = "q4_k_m", Context = 4096, KvDtype = "q8_0" });
        Assert.Equal(4096L * 32 * 2 * 1088, e["kv_cache"].Bytes);
        Assert.Contains(e.Warnings, w => w.Contains("flash attention"));
    }

    [Fact]
    public void LlamaCpp_PadsContextTo256Cells()
    {
        var e = MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Dtype = "q8_0", Context = 1000 });
        Assert.Equal(1024L * 131_072, e["kv_cache"].Bytes);
    }

    [Fact]
    public void SlidingWindow_LlamaCpp_CapsSwaLayersPerIswaRule()
    {
        // Gemma-2-like: alternating local (window 4096) and global layers. n_ctx 32768, ubatch 512:
        // size_swa = GGML_PAD(min(32768, 4096 × 1 + 512), 256) = 4608 cells (src/llama-kv-cache-iswa.cpp). Family gemma2:
        // llama.cpp builds the sliding-window cache only for the architectures that have one.
        var kinds = Enumerable.Range(0, 4).Select(i => i % 2 == 0 ? AttentionLayerKind.Sliding : AttentionLayerKind.Full).ToImmutableArray();
        var spec = new ArchitectureSpec
        {
            Family = "gemma2", Layers = 4, Hidden = 256, Heads = 4, KvHeads = 2, HeadDim = 64, Intermediate = 512, Vocab = 1000,
            MaxPositions = 32768, SlidingWindow = 4096, LayerKinds = kinds,
        };
        var m = MemoryTestModels.FromSpec("swa", spec);
        long perCellLayer = 2L * 2 * 64 * 2; // K + V, 2 kv heads × 64 × f16
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Dtype = "f16", Context = 32768 });
        Assert.Equal(perCellLayer * (2 * 32768 + 2 * 4608), e["kv_cache"].Bytes);
        var full = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Dtype = "f16", Context = 32768, SwaFull = true });
        Assert.Equal(perCellLayer * 4 * 32768, full["kv_cache"].Bytes);
    }

    [Fact]
    public void SlidingWindow_Vllm_UsesSlidingWindowSpecBlocks()
    {
        // Mistral-7B-v0.1-like: every layer window 4096. vLLM V1 SlidingWindowSpec.max_memory_usage_bytes:
        // (cdiv(min(4096 − 1 + 32768, 32768), 16) + 1) × 16 = 32784 tokens > the full-attention 32768, so capped at 32768;
        // with max_num_batched_tokens 2048: (cdiv(min(4095 + 2048, 32768), 16) + 1) × 16 = 6160 tokens.
        var spec = new ArchitectureSpec
        {
            Family = "llama", Layers = 2, Hidden = 256, Heads = 4, KvHeads = 2, HeadDim = 64, Intermediate = 512, Vocab = 1000,
            MaxPositions = 32768, SlidingWindow = 4096,
        };
        var m = MemoryTestModels.FromSpec("mistral-like", spec);
        long perToken = 2L * 2 * 2 * 64 * 2; // 2 layers × (K + V) × 2 kv heads × 64 × bf16
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 32768, MaxBatchedTokens = 2048 });
        Assert.Equal(perToken * 6160, e["kv_cache"].Bytes);
        // V1's default for vllm serve on a GPU under 70 GiB (or not given) is that same 2048 (arg_utils.py get_batch_defaults).
        var v1Default = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 32768 });
        Assert.Equal(perToken * 6160, v1Default["kv_cache"].Bytes);
        // V0 profiled max(max_model_len, 2048) = 32768 batched tokens: the window is no saving, capped at 32768.
        var noCap = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, VllmProfile = VllmProfile.V0, Context = 32768 });
        Assert.Equal(perToken * 32768, noCap["kv_cache"].Bytes);
    }

    [Fact]
    public void TensorParallel_BeyondKvHeads_ReplicatesHeads()
    {
        // Llama-3-8B has 8 KV heads: TP 8 → 1 head per rank; TP 16 still 1 head per rank (replicated, vLLM get_num_kv_heads).
        var m = MemoryTestModels.Llama3_8B();
        var tp8 = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 1024, Tp = 8, Gpus = 8 });
        var tp16 = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 1024, Tp = 16, Gpus = 16 });
        Assert.Equal(1024L * 131_072 / 8, tp8["kv_cache"].Bytes);
        Assert.Equal(tp8["kv_cache"], tp16["kv_cache"]);
    }

    [Fact]
    public void TensorParallel_NotDividingHeads_IsAnError()
    {
        var ex = Assert.Throws<InvalidSettingException>(() =>
            MemoryEstimator.Estimate(MemoryTestModels.Llama3_8B(), new FlatWorkload { Tp = 3, Gpus = 3 }));
        Assert.Equal("tensor_parallel", ex.Setting);
        Assert.Contains("32 attention heads", ex.Message);
    }

    [Fact]
    public void PipelineParallel_SplitsLayers()
    {
        var m = MemoryTestModels.Llama3_8B();
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Vllm, Context = 1024, Pp = 2, Gpus = 2 });
        Assert.Equal(1024L * 131_072 / 2, e["kv_cache"].Bytes);
    }
}
