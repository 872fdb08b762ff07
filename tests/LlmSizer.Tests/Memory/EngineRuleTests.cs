using LlmSizer.Memory;
using LlmSizer.Requests;
using LlmSizer.Tests.Fixtures;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>Engine rules behind the default numbers (issue "right by default"), each with its source.</summary>
public sealed class EngineRuleTests
{
    [Fact]
    public void LlamaCpp_PipelineStages_KvTotalIsEveryStage()
    {
        // llama.cpp's layer split (--split-mode layer) gives each GPU the KV of its own layers (llama-kv-cache.cpp
        // allocates each layer's K/V on the layer's device). Llama-3.1-8B, 8,192 cells, f16:
        // 8,192 × 32 layers × 2 (K, V) × 8 kv heads × 128 × 2 B = 1,073,741,824 B = 1 GiB in all; 16 layers per stage = 512 MiB.
        var m = MemoryTestModels.Llama3_8B();
        var one = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 8192 });
        var two = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.LlamaCpp, Context = 8192, Pp = 2 });

        Assert.Equal(1_073_741_824L, one.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(1_073_741_824L, two.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(536_870_912L, two.Component("kv_cache")!.PerGpu.Bytes);
    }

    [Fact]
    public void Vllm_PipelineStagesOfUnequalSize_KvTotalIsTheSumNotLargestTimesStages()
    {
        // 32 layers over 3 stages: vLLM get_pp_indices gives 10/11/11 (stage = ⌊layer × 3 / 32⌋ here: 11/11/10);
        // the total is still every layer once: 8,192 tokens × 32 × 2 × 8 × 128 × 2 B = 1 GiB.
        var m = MemoryTestModels.Llama3_8B();
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Engine = InferenceEngine.Hf, Context = 8192, Pp = 3 });
        Assert.Equal(1_073_741_824L, e.Component("kv_cache")!.Total.Bytes);
        Assert.Equal(11L * 8192 * 2 * 8 * 128 * 2, e.Component("kv_cache")!.PerGpu.Bytes);
    }

    // Gemma-2-9B's config says torch_dtype float32; its 9,241,705,984 parameters (the model card; the catalog count).
    private const long Gemma2_9BParameters = 9_241_705_984;

    [Fact]
    public void Vllm_Float32Checkpoint_IsServedInBf16()
    {
        // vllm/config/model.py _resolve_auto_dtype: "Downcast for float32 models" to supported_dtypes[0] (bfloat16 on
        // CUDA ≥ 8.0): 9,241,705,984 × 2 B = 18,483,411,968 B = 17.21 GiB, what vLLM loads (issue: "vLLM loads 17.2 GiB").
        var e = Sizer.Memory("gemma-2-9b", new Workload { Engine = InferenceEngine.Vllm });
        Assert.Equal(Gemma2_9BParameters * 2, e["weights"].Bytes);
        Assert.Equal("bf16", e.Assumption("dtype")!.ValueText);
        Assert.Contains("_resolve_auto_dtype", e.Assumption("dtype")!.Reason);
    }

    [Fact]
    public void LlamaCpp_Float32Checkpoint_IsConvertedToF16()
    {
        // convert_hf_to_gguf.py --outtype defaults to f16; llama.cpp keeps token_embd on the host, so the device holds
        // every parameter but the 256,000 × 3,584 embedding: (9,241,705,984 − 917,504,000) × 2 B.
        var e = Sizer.Memory("gemma-2-9b", new Workload { Engine = InferenceEngine.LlamaCpp });
        Assert.Equal((Gemma2_9BParameters - 256_000L * 3_584) * 2, e["weights"].Bytes);
        Assert.Equal(256_000L * 3_584 * 2, e["host_weights"].Bytes);
    }

    [Fact]
    public void Transformers_Float32Checkpoint_StaysFloat32_AndSaysWhy()
    {
        // transformers v5 (PR #42805) defaults to dtype "auto": the config's float32, 4 B per parameter.
        var e = Sizer.Memory("gemma-2-9b", new Workload { Engine = InferenceEngine.Hf });
        Assert.Equal(Gemma2_9BParameters * 4, e["weights"].Bytes);
        Assert.Contains("PR #42805", e.Assumption("dtype")!.Reason);
    }

    [Fact]
    public void Vllm_Float32SafetensorsFile_IsServedInBf16_ButAGivenDtypeIsKept()
    {
        // A model folder: a 1-layer llama config and a safetensors file of float32 tensors, 2 × 64 × 64 + 64 = 8,256 parameters.
        using var dir = new TempFolder();
        var path = dir.Path;
        File.WriteAllText(Path.Combine(path, "config.json"), """
            { "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4,
              "num_key_value_heads": 4, "intermediate_size": 64, "vocab_size": 32, "max_position_embeddings": 128 }
            """);
        new SafetensorsWriter().Add("model.layers.0.mlp.up_proj.weight", "F32", 64, 64)
            .Add("model.layers.0.mlp.down_proj.weight", "F32", 64, 64)
            .Add("model.norm.weight", "F32", 64).WriteFile(Path.Combine(path, "model.safetensors"));

        var served = Sizer.Memory(path, new Workload { Engine = InferenceEngine.Vllm, Context = 128 });
        var asked = Sizer.Memory(path, new Workload { Engine = InferenceEngine.Vllm, Context = 128, Format = LlmSizer.Quantization.WeightFormat.F32 });

        Assert.Equal(8_256L * 2, served["weights"].Bytes);
        Assert.Equal(8_256L * 4, asked["weights"].Bytes);
    }

    [Fact]
    public void Transformers_T5_KeepsTheCrossAttentionKv()
    {
        // EncoderDecoderCache: each of T5-small's 6 decoder layers keeps K and V of the 512-token encoder output,
        // 8 heads × d_kv 64, bf16: 512 × 6 × 2 × 8 × 64 × 2 B = 6,291,456 B, beside the self-attention cache of the same size.
        var e = Sizer.Memory("t5-small", new Workload { Engine = InferenceEngine.Hf, Context = 512 });
        Assert.Equal(512L * 6 * 2 * 8 * 64 * 2, e["cross_attention_kv"].Bytes);
        Assert.Equal(512L * 6 * 2 * 8 * 64 * 2, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Transformers_Whisper_CrossAttentionCoversTheFixedAudioWindow()
    {
        // Whisper-large-v3: 32 decoder layers × 20 heads × 64, fp16, over max_source_positions 1,500 encoder frames
        // whatever the decoded length: 1,500 × 32 × 2 × 20 × 64 × 2 B = 245,760,000 B.
        var e = Sizer.Memory("whisper-large-v3", new Workload { Engine = InferenceEngine.Hf, Context = 100 });
        Assert.Equal(1_500L * 32 * 2 * 20 * 64 * 2, e["cross_attention_kv"].Bytes);
    }

    [Fact]
    public void DecoderOnly_HasNoCrossAttentionKv()
    {
        var e = Sizer.Memory("llama-3.1-8b", new Workload { Engine = InferenceEngine.Hf, Context = 512 });
        Assert.Null(e.Component("cross_attention_kv"));
    }

    [Fact]
    public void Vllm_EncoderOnly_HasNoSamplerStage()
    {
        // BERT-base in vLLM is a pooling model: the profile peak is the layer stage alone, 2,048 batched tokens ×
        // (3h + 3i) = (3 × 768 + 3 × 3,072) elements × 2 B = 23,040 B/token → 47,185,920 B. With a sampler over
        // 256 seqs × 30,522 vocab × 40 B it would be 0.29 GiB.
        var e = Sizer.Memory("bert-base-uncased", new Workload { Engine = InferenceEngine.Vllm, Context = 512 });
        Assert.Equal(2_048L * 23_040, e["activations"].Bytes);
    }

    [Theory]
    [InlineData(80.0, 8192L, 1024L)]
    [InlineData(24.0, 2048L, 256L)]
    public void VllmV1_BatchDefaults_FollowGpuMemory(double gpuGiB, long batched, long seqs)
    {
        // vllm/engine/arg_utils.py EngineArgs.get_batch_defaults (v0.10–v0.11), usage context OPENAI_API_SERVER:
        // ≥ 70 GiB (not an A100) → 8192 tokens and 1024 seqs; otherwise 2048 and 256.
        var e = Sizer.Memory("llama-3.1-8b", new Workload { Engine = InferenceEngine.Vllm, Context = 32768, GpuMemory = ByteSize.FromGiB(gpuGiB) });

        Assert.Equal(batched, e.Assumption("max_num_batched_tokens")!.Value);
        Assert.Equal(seqs, e.Assumption("max_num_seqs")!.Value);
        Assert.Equal("v1", e.Assumption("vllm_profile")!.ValueText);
    }

    [Fact]
    public void VllmV1_A100_KeepsTheSmallDefaults()
    {
        // PR #17885: a large max_num_batched_tokens lowers A100 throughput, so get_batch_defaults excludes "a100".
        Assert.Equal(2048, VllmDefaults.MaxBatchedTokens(VllmProfile.V1, 32768, 80L << 30, "NVIDIA A100-SXM4-80GB"));
        Assert.Equal(256, VllmDefaults.MaxSeqs(VllmProfile.V1, 80L << 30, "NVIDIA A100-SXM4-80GB"));
    }

    [Fact]
    public void VllmV0_ProfilesTheWholeContext()
    {
        // V0 without chunked prefill: max_num_batched_tokens = max(max_model_len, 2048).
        var w = WorkloadParser.Parse(new WorkloadOptions { Engine = "vllm-v0", Context = "32768" });
        var e = Sizer.Memory("llama-3.1-8b", w);

        Assert.Equal(VllmProfile.V0, w.Vllm.Profile);
        Assert.Equal(32768L, e.Assumption("max_num_batched_tokens")!.Value);
        Assert.Equal(256L, e.Assumption("max_num_seqs")!.Value);
    }

    [Fact]
    public void VllmV1_GptOss120bOnH100_ProfileMatchesTheLoggedNegativeBudget()
    {
        // serving-logs case 25 (vLLM ~0.10.1, one H100, vllm serve defaults): weights 65.9651 GiB and "Available KV cache
        // memory: -2.14 GiB", so activations + non-torch = 0.9 × 79.22 − 65.9651 + 2.14 = 7.47 GiB. Hand calculation of
        // ours: sampler 1,024 seqs × 201,088 vocab × 40 B + 8,192 × 2,880 × 2 B = 7.715 GiB, + 0.2 GiB non-torch.
        var e = Sizer.Memory("gpt-oss-120b", new Workload { Engine = InferenceEngine.Vllm, Context = 131072, GpuMemory = ByteSize.FromGiB(79.22) });
        double logged = 0.9 * 79.22 - 65.9651 + 2.14;
        double ours = (e["activations"].Bytes + e["overhead"].Bytes) / (double)ByteSize.GiB;

        Assert.Equal(1024L * 201_088 * 40 + 8192L * 2880 * 2, e["activations"].Bytes);
        Assert.InRange(ours, logged * 0.9, logged * 1.1);
    }

    [Fact]
    public void VllmV1_SamplerRowsAreCappedByTheBatchedTokens()
    {
        // _dummy_run spreads max_num_batched_tokens over min(max_num_seqs, max_num_batched_tokens) requests: with 64
        // batched tokens and 256 seqs the sampler sees 64 rows: 64 × 128,256 × 40 B + 64 × 4,096 × 2 B.
        var e = Sizer.Memory("llama-3.1-8b", new Workload { Engine = InferenceEngine.Vllm, Context = 64, Vllm = new VllmSettings { MaxBatchedTokens = 64 } });
        Assert.Equal(64L * 128_256 * 40 + 64L * 4_096 * 2, e["activations"].Bytes);
    }

    [Fact]
    public void LlamaCpp_Mistral7Bv01_CachesTheFullContext()
    {
        // convert_hf_to_gguf.py writes MistralForCausalLM as arch "llama", which llama.cpp builds without a
        // sliding-window cache: 32,768 cells × 32 layers × 2 × 8 kv heads × 128 × 2 B (f16) = 4 GiB, not a 4,096 window.
        var e = Sizer.Memory("mistral-7b-v0.1", new Workload { Engine = InferenceEngine.LlamaCpp, Context = 32768 });
        Assert.Equal(32_768L * 32 * 2 * 8 * 128 * 2, e["kv_cache"].Bytes);
        Assert.Contains(e.Warnings, w => w.Contains("no sliding-window cache", StringComparison.Ordinal));
    }

    [Fact]
    public void Transformers_Gemma2_HybridCacheCapsTheLocalLayers()
    {
        // Gemma-2-9B: 42 layers alternating local (window 4,096) and global; HybridCache keeps at most the window on the
        // 21 local layers. Per layer and token 2 × 8 kv heads × 256 × 4 B (float32, the config's dtype) = 16,384 B:
        // 21 × 16,384 × (8,192 + 4,096) = 4,227,858,432 B.
        var e = Sizer.Memory("gemma-2-9b", new Workload { Engine = InferenceEngine.Hf, Context = 8192 });
        Assert.Equal(21L * 16_384 * (8_192 + 4_096), e["kv_cache"].Bytes);
    }

    [Fact]
    public void Transformers_Mistral_DynamicCacheKeepsEveryToken()
    {
        // Mistral's window is an attention mask in transformers; DynamicCache still stores all 16,384 tokens:
        // 16,384 × 32 × 2 × 8 × 128 × 2 B.
        var e = Sizer.Memory("mistral-7b-v0.1", new Workload { Engine = InferenceEngine.Hf, Context = 16384 });
        Assert.Equal(16_384L * 32 * 2 * 8 * 128 * 2, e["kv_cache"].Bytes);
    }

    private sealed class TempFolder : IDisposable
    {
        public TempFolder() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "llmsize-rules-" + Guid.NewGuid().ToString("N"));

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
