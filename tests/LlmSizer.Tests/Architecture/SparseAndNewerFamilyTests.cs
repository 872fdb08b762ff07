using LlmSizer.Architecture;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>DeepSeek-V3.2's sparse-attention indexer and the newer text and multimodal families (GLM-4.5, ERNIE 4.5,
/// EXAONE 4.0, Falcon-H1, Llama 4, Llama 3.2 Vision): the layout traps behind their spec-table rows, by hand.</summary>
public class SparseAndNewerFamilyTests
{
    private const string DeepseekV32Tiny = """
        {"architectures":["DeepseekV32ForCausalLM"],"model_type":"deepseek_v32","hidden_size":32,"num_hidden_layers":4,
         "num_attention_heads":2,"num_key_value_heads":2,"vocab_size":10,"intermediate_size":64,"moe_intermediate_size":8,
         "n_routed_experts":4,"n_shared_experts":1,"num_experts_per_tok":2,"first_k_dense_replace":2,"q_lora_rank":16,
         "kv_lora_rank":8,"qk_nope_head_dim":4,"qk_rope_head_dim":2,"v_head_dim":4,"index_n_heads":3,"index_head_dim":8,
         "index_topk":5,"num_nextn_predict_layers":1}
        """;

    [Fact]
    public void DeepseekV32_Indexer_AddsItsProjectionsToEveryLayer()
    {
        // Given the tiny DeepSeek-V3 of DecoderFamilyTests (26,880 parameters) as a V3.2 with a 3-head indexer of width 8
        var (spec, inv) = Read(DeepseekV32Tiny);

        // Then each layer adds wq_b [3*8, q_lora_rank 16] = 384 (it reads the query latent, not the hidden state),
        // wk [8, 32] = 256, k_norm weight 8 + bias 8, weights_proj [3, 32] = 96 -> 752; 4 layers -> 26,880 + 3,008
        Assert.Equal(26_880L + (4 * 752L), inv.TotalParameters.Value);
        Assert.Equal([24L, 16L], Shape(inv, "model.layers.0.self_attn.indexer.wq_b.weight"));
        Assert.Equal([8L, 32L], Shape(inv, "model.layers.3.self_attn.indexer.wk.weight"));
        Assert.Equal([8L], Shape(inv, "model.layers.3.self_attn.indexer.k_norm.bias"));
        Assert.Equal([3L, 32L], Shape(inv, "model.layers.1.self_attn.indexer.weights_proj.weight"));
        Assert.Equal("deepseek_v32", spec.Family);
        Assert.Equal(new SparseIndexerSpec { Heads = 3, HeadDim = 8, TopK = 5 }, spec.Mla!.Indexer);

        // And the router's correction bias stays a buffer, as in V3
        Assert.Equal(TensorKind.Buffer, inv.Tensors.Single(t => t.Name == "model.layers.2.mlp.gate.e_score_correction_bias").Kind);
    }

    [Fact]
    public void DeepseekV32_Published_IsV3PlusSixtyOneIndexers()
    {
        // Given deepseek-ai/DeepSeek-V3.2 and DeepSeek-V3
        var (_, v32) = ReadSpecConfig("deepseek-v3.2.json");
        var (_, v3) = ReadSpecConfig("deepseek-v3.json");

        // Then the difference is 61 indexers of 64*128*1536 + 128*7168 + 128 + 128 + 64*7168 = 13,959,424
        Assert.Equal(13_959_424L, (64L * 128 * 1536) + (128L * 7168) + 256 + (64L * 7168));
        Assert.Equal(61 * 13_959_424L, v32.TotalParameters.Value - v3.TotalParameters.Value);
        Assert.Equal(671_877_929_216L, v32.TotalParameters.Value);
    }

    [Fact]
    public void DeepseekV32_IndexerKeyCache_AddsFp8KeyPerTokenAndLayerInVllm()
    {
        // Given DeepSeek-V3.2 and DeepSeek-V3 (same MLA), 4,096 tokens of context in vLLM with a bf16 cache
        var workload = new Workload { Context = 4096, Engine = InferenceEngine.Vllm, KvType = DataTypes.DataType.BF16 };

        // When both are estimated
        long kv32 = Sizer.Memory(Path.Combine(TestPaths.SpecsDir, "configs", "deepseek-v3.2.json"), workload)["kv_cache"].Bytes;
        long kv3 = Sizer.Memory(Path.Combine(TestPaths.SpecsDir, "configs", "deepseek-v3.json"), workload)["kv_cache"].Bytes;

        // Then V3's MLA cache is 61 layers x (512 + 64) x 2 B = 70,272 B/token and V3.2 adds 61 x (128 fp8 + 4 B scale)
        Assert.Equal(4096L * 61 * 576 * 2, kv3);
        Assert.Equal(kv3 + (4096L * 61 * 132), kv32);
    }

    [Theory]
    [InlineData("glm-4.5-air.json", 4096L, 46, 128, 110_468_824_832L)]
    [InlineData("glm-4.5.json", 5120L, 92, 160, 358_337_791_296L)]
    public void Glm4Moe_PublishedSafetensorsTotal_IsCountPlusMtpLayerAndRouterBuffers(string config, long h, int layers, int experts, long hubTotal)
    {
        // Given GLM-4.5-Air / GLM-4.5, whose Hub safetensors totals include the MTP layer and the router buffers
        var (spec, inv) = ReadSpecConfig(config);
        long vocab = spec.Vocab;

        // When the MTP layer is rebuilt from the last MoE layer: the same decoder layer, plus enorm, hnorm and
        // shared_head.norm [h], eh_proj [h, 2h], and its own embed_tokens and shared_head.head [vocab, h]
        long moeLayer = inv.Tensors.Where(t => t.Layer == layers - 1 && t.Kind == TensorKind.Parameter).Sum(t => t.Elements);
        long mtp = moeLayer + (3 * h) + (2 * h * h) + (2 * vocab * h);
        long buffers = (layers - spec.Moe!.MoeLayers.Count(m => !m) + 1) * (long)experts;

        // Then count + MTP + buffers (one per MoE layer, the MTP layer's included) is the published total exactly
        Assert.Equal(hubTotal, inv.TotalParameters.Value + mtp + buffers);
        Assert.Equal(TensorKind.Buffer, inv.Tensors.Single(t => t.Name == $"model.layers.{layers - 1}.mlp.gate.e_score_correction_bias").Kind);
    }

    [Fact]
    public void Glm4Moe_FirstDenseLayerAndSharedExpert_CountedByHand()
    {
        // Given zai-org/GLM-4.5-Air
        var (spec, inv) = ReadSpecConfig("glm-4.5-air.json");

        // Then attention q [96*128, 4096] + bias, k and v [8*128, 4096] + biases, o [4096, 12288] without bias
        // = 109,066,240 per layer; layer 0 is dense (3*4096*10944); layers 1..45 hold a router 128*4096, 128 experts of
        // 3*4096*1408 and one shared expert of the same width; norms 2*4096 per layer
        long attn = (4096L * 12288) + 12288 + (2 * ((4096L * 1024) + 1024)) + (12288L * 4096);
        Assert.Equal(109_066_240L, attn);
        long dense = attn + (3L * 4096 * 10944) + 8192;
        long moe = attn + (128L * 4096) + (129L * 3 * 4096 * 1408) + 8192;
        Assert.Equal(dense + (45 * moe) + (2L * 151552 * 4096) + 4096, inv.TotalParameters.Value);
        Assert.False(Has(inv, "model.layers.0.mlp.gate.weight"));
        Assert.Equal([1408L, 4096L], Shape(inv, "model.layers.1.mlp.shared_experts.gate_proj.weight"));
        Assert.False(Has(inv, "model.layers.1.self_attn.o_proj.bias"));
        Assert.False(Has(inv, "model.layers.1.self_attn.q_norm.weight"));
        Assert.Equal((8, 128), (spec.Moe!.ActiveExperts, spec.HeadDim));

        // And GLM-4.5 (use_qk_norm true) has per-head q_norm and k_norm of head_dim
        var (_, full) = ReadSpecConfig("glm-4.5.json");
        Assert.Equal([128L], Shape(full, "model.layers.0.self_attn.k_norm.weight"));
    }

    [Fact]
    public void Ernie45_Dense_CountedByHand()
    {
        // Given baidu/ERNIE-4.5-0.3B-PT (head_dim 128 with 16 heads over hidden 1024: q is 2048 wide)
        var (_, inv) = ReadSpecConfig("ernie-4.5-0.3b-pt.json");

        // Then per layer q [2048, 1024] + k, v [256, 1024] + o [1024, 2048] = 4,718,592, mlp 3*1024*3072 = 9,437,184,
        // norms 2,048 -> 14,157,824 x 18 = 254,840,832; tied embedding 103424*1024 = 105,906,176; norm 1,024
        Assert.Equal(254_840_832L + 105_906_176L + 1024L, inv.TotalParameters.Value);
        Assert.False(Has(inv, "lm_head.weight"));
        Assert.False(Has(inv, "model.layers.0.self_attn.q_proj.bias"));
    }

    [Fact]
    public void Ernie45Moe_StartIndexSharedExpertsAndStatics_CountedByHand()
    {
        // Given baidu/ERNIE-4.5-21B-A3B-PT: layer 0 dense, layers 1..27 sparse (moe_layer_start_index 1, end -1)
        var (spec, inv) = ReadSpecConfig("ernie-4.5-21b-a3b-pt.json");

        // Then attention (2560*2560*2 + 2*2560*512) = 15,728,640 per layer; dense layer mlp 3*2560*12288 = 94,371,840;
        // sparse layer: router 64*2560 = 163,840, moe_statics [1, 64] (a Parameter, counted), 64 experts of
        // 3*2560*1536 = 11,796,480 each, shared experts one MLP of 2*1536 = 3072 wide (23,592,960); norms 5,120 per layer
        long attn = (2L * 2560 * 2560) + (2L * 2560 * 512);
        long dense = attn + (3L * 2560 * 12288) + 5120;
        long sparse = attn + 163_840 + 64 + (64 * 11_796_480L) + 23_592_960 + 5120;
        Assert.Equal(dense + (27 * sparse) + (103_424L * 2560) + 2560, inv.TotalParameters.Value);
        Assert.Equal(21_825_437_888L, inv.TotalParameters.Value);
        Assert.Equal([1L, 64L], Shape(inv, "model.layers.1.mlp.moe_statics.e_score_correction_bias"));
        Assert.Equal(TensorKind.Parameter, inv.Tensors.Single(t => t.Name == "model.layers.27.mlp.moe_statics.e_score_correction_bias").Kind);
        Assert.Equal([3072L, 2560L], Shape(inv, "model.layers.1.mlp.shared_experts.up_proj.weight"));
        Assert.True(Has(inv, "model.layers.0.mlp.gate_proj.weight"));
        Assert.False(Has(inv, "model.layers.0.mlp.gate.weight"));

        // And 6 of 64 experts are active: 58 x 11,796,480 x 27 fewer
        Assert.Equal(inv.TotalParameters.Value - (27L * 58 * 11_796_480), inv.ActiveParameters.Value);
        Assert.Equal(6, spec.Moe!.ActiveExperts);

        // And the layout gives the 389 GGUF tensors a public llama.cpp conversion of this checkpoint reports: per expert
        // set one fused tensor each of gate/up/down (so 9 tensors on the dense layer, 14 on each sparse one) + token_embd
        // + output_norm
        Assert.Equal(389, 9 + (27 * 14) + 2);
    }

    [Fact]
    public void Ernie45Moe_LayerWindow_FollowsStartEndAndInterval()
    {
        // Given 6 layers, sparse from index 1 to 4 on every second layer
        var (spec, _) = Read("""
            {"model_type":"ernie4_5_moe","hidden_size":32,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":6,
             "vocab_size":10,"intermediate_size":64,"moe_intermediate_size":8,"moe_num_experts":4,"moe_k":2,
             "moe_layer_start_index":1,"moe_layer_end_index":4,"moe_layer_interval":2}
            """);

        // Then layers 1 and 3 are sparse ((i + 1) % 2 == 0 and 1 <= i <= 4); layer 5 is past the end
        Assert.Equal([false, true, false, true, false, false], spec.Moe!.MoeLayers.ToArray());
    }

    [Fact]
    public void Exaone4_PostNormsAndPerHeadQkNorm_CountedByHand()
    {
        // Given LGAI-EXAONE/EXAONE-4.0-32B
        var (spec, inv) = ReadSpecConfig("exaone-4.0-32b.json");

        // Then per layer q [5120, 5120], k, v [1024, 5120], o [5120, 5120] = 62,914,560, q_norm + k_norm 2*128,
        // mlp 3*5120*27392 = 420,741,120, post_attention + post_feedforward norms 10,240 -> 483,666,176 x 64;
        // untied embeddings 2*102400*5120; norm 5120
        Assert.Equal((64 * 483_666_176L) + (2L * 102_400 * 5120) + 5120, inv.TotalParameters.Value);
        Assert.Equal([128L], Shape(inv, "model.layers.0.self_attn.q_norm.weight"));
        Assert.True(Has(inv, "model.layers.0.post_feedforward_layernorm.weight"));
        Assert.False(Has(inv, "model.layers.0.input_layernorm.weight"));

        // And three local layers in four: layer 3 global, 4096-token window
        Assert.Equal(AttentionLayerKind.Sliding, spec.LayerKind(0));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(3));
        Assert.Equal(48, Enumerable.Range(0, 64).Count(l => spec.LayerKind(l) == AttentionLayerKind.Sliding));
        Assert.Equal(4096, spec.SlidingWindow);
    }

    [Theory]
    [InlineData("\"sliding_window_pattern\":\"LLLG\"", "SSSF SSSF")]
    [InlineData("\"sliding_window_pattern\":2", "SFSF SFSF")]
    [InlineData("\"sliding_window\":null", "FFFF FFFF")]
    [InlineData("\"layer_types\":[\"full_attention\",\"sliding_attention\",\"full_attention\",\"full_attention\",\"full_attention\",\"full_attention\",\"full_attention\",\"sliding_attention\"]", "FSFF FFFS")]
    public void Exaone4_LayerPattern_FromLettersIntegerNullWindowOrLayerTypes(string key, string expected)
    {
        // Given 8 layers and one way of giving the hybrid pattern
        var (spec, _) = Read($$"""{"model_type":"exaone4","hidden_size":32,"num_attention_heads":4,"num_key_value_heads":2,"num_hidden_layers":8,"vocab_size":10,"intermediate_size":64,{{key}}}""");

        // Then the layer kinds follow it (S sliding, F full)
        var kinds = string.Concat(Enumerable.Range(0, 8).Select(l => (l == 4 ? " " : "") + (spec.LayerKind(l) == AttentionLayerKind.Sliding ? "S" : "F")));
        Assert.Equal(expected, kinds);
    }

    [Fact]
    public void FalconH1_ParallelAttentionAndMamba_CountedByHandWithTensorCount()
    {
        // Given tiiuae/Falcon-H1-1.5B-Instruct: attention and a Mamba-2 mixer in every one of 24 layers
        var (spec, inv) = ReadSpecConfig("falcon-h1-1.5b-instruct.json");

        // Then per layer: attention q [1024, 2048], k, v [256, 2048], o [2048, 1024] = 5,242,880;
        // mamba in_proj [d_ssm 3072 + conv_dim (3072 + 2*256) + 48 heads = 6,704, 2048] = 13,729,792, conv1d
        // [3,584, 1, 4] + bias 3,584 = 17,920, dt_bias, A_log, D 3*48, gated norm [3072], out_proj [2048, 3072] = 6,291,456;
        // feed_forward 3*2048*4608 = 28,311,552; 2 norms 4,096
        long attn = 5_242_880L;
        long mamba = 13_729_792L + 17_920 + 144 + 3072 + 6_291_456;
        long layer = attn + mamba + 28_311_552 + 4096;
        Assert.Equal((24 * layer) + (2L * 65_537 * 2048) + 2048, inv.TotalParameters.Value);
        Assert.Equal([6704L, 2048L], Shape(inv, "model.layers.0.mamba.in_proj.weight"));
        Assert.Equal([3584L, 1L, 4L], Shape(inv, "model.layers.23.mamba.conv1d.weight"));
        Assert.True(Has(inv, "model.layers.0.feed_forward.down_proj.weight"));
        Assert.True(Has(inv, "model.final_layernorm.weight"));

        // And 17 tensors per layer + embed, final norm and lm_head = the 411 named parameters the published load asserts
        Assert.Equal(411, inv.Tensors.Length);
        Assert.All(Enumerable.Range(0, 24), l => Assert.Equal(LayerMixer.AttentionAndSsm, spec.MixerOf(l)));
    }

    [Fact]
    public void FalconH1_Memory_HoldsKvInEveryLayerAndAMambaStatePerSequence()
    {
        // Given Falcon-H1-1.5B-Instruct in vLLM, bf16, 4,096 tokens, 2 sequences
        var workload = new Workload { Context = 4096, Batch = 2, Engine = InferenceEngine.Vllm, KvType = DataTypes.DataType.BF16 };

        // When it is estimated
        var e = Sizer.Memory(Path.Combine(TestPaths.SpecsDir, "configs", "falcon-h1-1.5b-instruct.json"), workload);

        // Then every layer caches K and V: 24 x 2 x 2 heads x 128 x 2 B = 24,576 B/token, 4,096 tokens x 2 seqs
        Assert.Equal(2L * 4096 * 24 * 2 * 2 * 128 * 2, e["kv_cache"].Bytes);

        // And every layer keeps a Mamba-2 state: conv (4 - 1) x 3,584 + SSM 48 x 64 x 256 elements, bf16, per sequence
        Assert.Equal(2L * 24 * ((3L * 3584) + (48L * 64 * 256)) * 2, e["recurrent_state"].Bytes);
    }

    [Fact]
    public void Llama4Scout_Components_CountedByHand()
    {
        // Given meta-llama/Llama-4-Scout-17B-16E-Instruct (every layer MoE: 16 experts, top-1, one shared expert)
        var (spec, inv) = ReadSpecConfig("llama-4-scout-17b-16e-instruct.json");
        var parts = inv.ByComponent();

        // Then the language model: attention 2*5120*5120 + 2*5120*1024 = 62,914,560; router 16*5120; fused experts
        // 16 x 3 x 5120 x 8192; shared expert 3 x 5120 x 8192; norms 2 x 5120 -> per layer, x 48; embed + lm_head
        // 2 x 202048 x 5120; norm 5120
        long layer = 62_914_560L + (16 * 5120) + (16L * 3 * 5120 * 8192) + (3L * 5120 * 8192) + (2 * 5120);
        Assert.Equal((48 * layer) + (2L * 202_048 * 5120) + 5120, parts[ModelComponent.LanguageModel].Value);

        // And the vision tower: patch linear 1408 x 588, class embedding 1408, positions (24^2 + 1) x 1408, two outer
        // LayerNorms; 34 layers of q, k, v, o with biases, fc1/fc2 with biases and two LayerNorms; adapter fc1
        // [4096, 5632] and fc2 [4096, 4096]
        long v = (1408L * 588) + 1408 + (577L * 1408) + (4 * 1408)
            + (34 * ((4 * ((1408L * 1408) + 1408)) + (2 * 1408L * 5632) + 5632 + 1408 + (4 * 1408)))
            + (4096L * 5632) + (4096L * 4096);
        Assert.Equal(v, parts[ModelComponent.VisionTower].Value);
        Assert.Equal(850_960_896L, v);

        // And the projector: linear_1 [5120, vision_output_dim 4096]
        Assert.Equal(5120L * 4096, parts[ModelComponent.Projector].Value);
        Assert.Equal([16L, 5120L, 16384L], Shape(inv, "language_model.model.layers.0.feed_forward.experts.gate_up_proj"));
        Assert.Equal(AttentionLayerKind.Sliding, spec.LayerKind(0));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(3));
        Assert.Equal(8192, spec.SlidingWindow);

        // And one routed expert of 16 is active per token: 15 x 3 x 5120 x 8192 fewer per layer
        Assert.Equal(inv.TotalParameters.Value - (48L * 15 * 3 * 5120 * 8192), inv.ActiveParameters.Value);
    }

    [Fact]
    public void Llama4Maverick_InterleavedMoe_DenseLayersUseIntermediateSizeMlp()
    {
        // Given Maverick: MoE on odd layers (interleave_moe_layer_step 2), 128 experts
        var (spec, inv) = ReadSpecConfig("llama-4-maverick-17b-128e-instruct.json");

        // Then even layers are dense MLPs of intermediate_size_mlp 16384 and odd layers hold 128 fused experts + shared
        Assert.Equal([16384L, 5120L], Shape(inv, "language_model.model.layers.0.feed_forward.gate_proj.weight"));
        Assert.False(Has(inv, "language_model.model.layers.0.feed_forward.router.weight"));
        Assert.Equal([128L, 8192L, 5120L], Shape(inv, "language_model.model.layers.1.feed_forward.experts.down_proj"));
        Assert.Equal([8192L, 5120L], Shape(inv, "language_model.model.layers.1.feed_forward.shared_expert.up_proj.weight"));
        Assert.Equal(24, spec.Moe!.MoeLayers.Count(m => m));

        // And by hand: 24 dense layers (attention 62,914,560 + 3 x 5120 x 16384 + norms) + 24 MoE layers + embeddings +
        // Scout's vision tower and projector
        long attn = 62_914_560L, norms = 2 * 5120;
        long dense = attn + (3L * 5120 * 16384) + norms;
        long moe = attn + (128 * 5120) + (129L * 3 * 5120 * 8192) + norms;
        long lm = (24 * dense) + (24 * moe) + (2L * 202_048 * 5120) + 5120;
        Assert.Equal(lm + 850_960_896L + (5120L * 4096), inv.TotalParameters.Value);
    }

    [Fact]
    public void Llama4Text_ModelTypeLlama4Text_HasNoVisionAndModelPrefix()
    {
        // Given a Llama4ForCausalLM text config
        var (spec, inv) = Read("""
            {"architectures":["Llama4ForCausalLM"],"model_type":"llama4_text","hidden_size":32,"num_hidden_layers":2,"num_attention_heads":4,
             "num_key_value_heads":2,"head_dim":8,"vocab_size":10,"intermediate_size":16,"intermediate_size_mlp":64,"num_local_experts":2,
             "interleave_moe_layer_step":2}
            """);

        // Then layer 0 is dense (64 wide), layer 1 MoE, tensors under model., no vision
        Assert.Null(spec.Vision);
        Assert.True(Has(inv, "model.layers.0.feed_forward.down_proj.weight"));
        Assert.Equal([2L, 32L, 32L], Shape(inv, "model.layers.1.feed_forward.experts.gate_up_proj"));
        Assert.True(Has(inv, "lm_head.weight"));
    }

    [Fact]
    public void Mllama_CrossLayersTilesAndGates_CountedByHandPerComponent()
    {
        // Given meta-llama/Llama-3.2-11B-Vision-Instruct
        var (spec, inv) = ReadSpecConfig("llama-3.2-11b-vision-instruct.json");
        var parts = inv.ByComponent();

        // Then the language model: 32 self-attention layers (attention 2*4096^2 + 2*4096*1024 = 41,943,040, mlp
        // 3*4096*14336 = 176,160,768, norms 8,192) and 8 cross layers with q_norm/k_norm [128] and two scalar gates more;
        // the embedding has vocab + 8 = 128,264 rows, the untied head 128,256; norm 4,096
        long self = 41_943_040L + 176_160_768 + 8192;
        long cross = self + 256 + 2;
        Assert.Equal((32 * self) + (8 * cross) + (128_264L * 4096) + (128_256L * 4096) + 4096, parts[ModelComponent.LanguageModel].Value);
        Assert.Equal(9_775_192_080L, parts[ModelComponent.LanguageModel].Value);

        // And the vision tower: patch conv 1280*3*14*14, class embedding, gated positions (1 + 1601 x 1280) and tile
        // positions 9 x (4 x 1601 x 1280), pre/post tile embeddings 2 x (1 + 9 x 4 x 1280), two LayerNorms; 32 local
        // layers of q, k, v, o (no biases) + fc1/fc2 with biases + two LayerNorms, and 8 global layers with two gates more
        long layer = (4L * 1280 * 1280) + (2L * 1280 * 5120) + 5120 + 1280 + (4 * 1280);
        long v = (1280L * 3 * 14 * 14) + 1280 + 1 + (1601L * 1280) + (9L * 4 * 1601 * 1280) + (2 * (1 + (9L * 4 * 1280))) + (4 * 1280)
            + (32 * layer) + (8 * (layer + 2));
        Assert.Equal(v, parts[ModelComponent.VisionTower].Value);

        // And the projector: [4096, 7680] with bias
        Assert.Equal((4096L * 7680) + 4096, parts[ModelComponent.Projector].Value);
        Assert.Equal([1L], Shape(inv, "language_model.model.layers.3.cross_attn_attn_gate"));
        Assert.True(Has(inv, "language_model.model.layers.3.cross_attn.k_norm.weight"));
        Assert.False(Has(inv, "language_model.model.layers.3.self_attn.q_proj.weight"));
        Assert.True(Has(inv, "vision_model.global_transformer.layers.7.gate_ffn"));

        // And the cross layers hold no text KV cache; each image is 4 tiles x 1,601 tokens
        Assert.Equal(AttentionLayerKind.None, spec.LayerKind(3));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(4));
        Assert.Equal(6404, spec.Vision!.TokensPerImage);
    }

    [Fact]
    public void GraniteMoe_FusedExperts_CountedByHand()
    {
        // Given ibm-granite/granite-3.0-1b-a400m-base: every layer 32 experts of 512, top-8, tied embeddings
        var (spec, inv) = ReadSpecConfig("granite-3.0-1b-a400m-base.json");

        // Then per layer q, o [1024, 1024], k, v [512, 1024] = 3,145,728; router 32 x 1024; input_linear
        // [32, 1024, 1024]; output_linear [32, 1024, 512]; norms 2,048 -> 53,512,192 x 24; embedding 49155 x 1024; norm
        long layer = 3_145_728L + (32 * 1024) + (32L * 1024 * 1024) + (32L * 1024 * 512) + 2048;
        Assert.Equal((24 * layer) + (49_155L * 1024) + 1024, inv.TotalParameters.Value);
        Assert.Equal([32L, 1024L, 1024L], Shape(inv, "model.layers.0.block_sparse_moe.input_linear.weight"));
        Assert.Equal([32L, 1024L, 512L], Shape(inv, "model.layers.23.block_sparse_moe.output_linear.weight"));
        Assert.False(Has(inv, "lm_head.weight"));

        // And 8 of 32 experts are active: 24/32 of the expert weights drop out
        Assert.Equal(inv.TotalParameters.Value - (24L * 24 * 3 * 1024 * 512), inv.ActiveParameters.Value);
        Assert.Equal(8, spec.Moe!.ActiveExperts);
    }

    [Fact]
    public void FalconH1_7B_TensorCountMatchesThePublished751()
    {
        // Given tiiuae/Falcon-H1-7B-Base (44 layers, gated norm on)
        var (_, inv) = ReadSpecConfig("falcon-h1-7b-base.json");

        // Then 17 tensors per layer + embed, final norm and lm_head, and the published total
        Assert.Equal((17 * 44) + 3, inv.Tensors.Length);
        Assert.Equal(7_585_648_736L, inv.TotalParameters.Value);
        Assert.Equal([3072L], Shape(inv, "model.layers.43.mamba.norm.weight"));
    }

    [Fact]
    public void Qwen35_HybridDecoderAndVisionTower_ReconcileWithTheHubTotals()
    {
        // Given Qwen/Qwen3.5-9B, whose Hub headers hold 9,653,104,368 parameters in 775 tensors, 9,197,093,888 of them
        // under the language model (its MTP block included)
        var (spec, inv) = ReadSpecConfig("qwen3.5-9b.json");
        var parts = inv.ByComponent();

        // Then the language model by hand: 24 delta-net layers (in_proj_qkv [2*2048 + 4096, 4096], in_proj_z
        // [4096, 4096], in_proj_b/a [32, 4096], conv1d [8192, 1, 4], dt_bias, A_log [32], norm [128], out_proj
        // [4096, 4096] = 67,403,968), 8 gated attention layers (q [2*16*256, 4096], k, v [1024, 4096], o [4096, 4096],
        // q_norm/k_norm [256] = 58,720,768), a 3*4096*12288 MLP and two norms in each; untied embeddings; norm
        long mlp = 3L * 4096 * 12288, norms = 2 * 4096;
        long lm = (24 * (67_403_968L + mlp + norms)) + (8 * (58_720_768L + mlp + norms)) + (2L * 248_320 * 4096) + 4096;
        Assert.Equal(lm, parts[ModelComponent.LanguageModel].Value);

        // And the MTP block the checkpoint adds (one attention layer, fc [4096, 8192], three norms) closes the gap
        long mtp = 58_720_768L + mlp + norms + (4096L * 8192) + (3 * 4096);
        Assert.Equal(9_197_093_888L, lm + mtp);

        // And the vision tower and merger are the rest of the Hub total
        Assert.Equal(9_653_104_368L - 9_197_093_888L, parts[ModelComponent.VisionTower].Value + parts[ModelComponent.Projector].Value);
        Assert.Equal((4608L * 4608) + 4608 + (4096L * 4608) + 4096 + 2304, parts[ModelComponent.Projector].Value);

        // And the tensors: 760 here + the 15 of the MTP block = the 775 in the headers
        Assert.Equal(775 - 15, inv.Tensors.Length);
        Assert.Equal([8192L, 4096L], Shape(inv, "model.language_model.layers.0.linear_attn.in_proj_qkv.weight"));
        Assert.Equal([8192L, 4096L], Shape(inv, "model.language_model.layers.3.self_attn.q_proj.weight"));
        Assert.Equal([1152L, 3L, 2L, 16L, 16L], Shape(inv, "model.visual.patch_embed.proj.weight"));
        Assert.Equal(LayerMixer.LinearAttention, spec.MixerOf(0));
        Assert.Equal(LayerMixer.Attention, spec.MixerOf(3));
    }
}
