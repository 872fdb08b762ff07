using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Qwen3.5 MoE: the hybrid delta-net / gated-attention decoder with fused routed experts and a gated shared expert
/// in every layer, and the Qwen3.5 vision tower, counted by hand and reconciled with the Hub total of Qwen3.5-35B-A3B.</summary>
public class Qwen35MoeFamilyTests
{
    [Fact]
    public void Qwen35_35B_A3B_LanguageModelVisionAndMtp_ReconcileWithTheHubTotal()
    {
        // Given Qwen/Qwen3.5-35B-A3B, whose Hub safetensors total is 35,951,822,704 (35,951,817,904 BF16 + 4,800 FP32)
        var (spec, inv) = ReadSpecConfig("qwen3.5-35b-a3b.json");
        var parts = inv.ByComponent();

        // Then the language model by hand. Delta net (Kdim 16*128 = 2048, Vdim 32*128 = 4096): in_proj_qkv [8192, 2048]
        // = 16,777,216; in_proj_z [4096, 2048] = 8,388,608; in_proj_b, in_proj_a [32, 2048] = 131,072; conv1d [8192, 1, 4]
        // = 32,768; dt_bias, A_log [32]; norm [128]; out_proj [2048, 4096] = 8,388,608 -> 33,718,464. Gated attention:
        // q_proj [2*16*256, 2048] = 16,777,216; k, v [512, 2048] = 2,097,152; o_proj [2048, 4096] = 8,388,608; q/k norm
        // [256] -> 27,263,488. MoE in every layer: router [256, 2048] = 524,288; experts gate_up [256, 1024, 2048] +
        // down [256, 2048, 512] = 805,306,368; shared expert 3 x 512 x 2048 = 3,145,728; shared_expert_gate [1, 2048]
        // -> 808,978,432. Two norms per layer; embed + untied head 2 x 248320 x 2048; final norm.
        const long moe = 524_288L + 805_306_368L + 3_145_728L + 2048L;
        long lm = (30 * 33_718_464L) + (10 * 27_263_488L) + (40 * (moe + 4096)) + (2L * 248_320 * 2048) + 2048;
        Assert.Equal(34_660_610_688L, lm);
        Assert.Equal(lm, parts[ModelComponent.LanguageModel].Value);

        // And the vision tower: patch_embed [1152, 3, 2, 16, 16] + bias = 1,770,624; pos_embed [2304, 1152] = 2,654,208;
        // 27 blocks of norm1/norm2 (2 x 2,304), qkv 3456 x 1152 + 3456, proj 1152 x 1152 + 1152, fc1 4304 x 1152 + 4304,
        // fc2 1152 x 4304 + 1152 = 15,239,504 each
        Assert.Equal(1_770_624L + 2_654_208L + (27 * 15_239_504L), parts[ModelComponent.VisionTower].Value);

        // And the merger: LayerNorm [1152] with bias, fc1 [4608, 4608] + bias, fc2 [2048 (out_hidden_size), 4608] + bias
        Assert.Equal(2304L + (4608L * 4608) + 4608 + (2048L * 4608) + 2048, parts[ModelComponent.Projector].Value);
        Assert.Equal(35_107_181_936L, inv.TotalParameters.Value);

        // And the MTP block the checkpoint adds (one gated attention layer with its MoE block and two norms, fc [2048, 4096],
        // pre_fc_norm_embedding, pre_fc_norm_hidden and norm [2048]) closes the gap to the Hub total exactly
        long mtp = 27_263_488L + moe + 4096 + (2048L * 4096) + (3 * 2048);
        Assert.Equal(844_640_768L, mtp);
        Assert.Equal(35_951_822_704L, inv.TotalParameters.Value + mtp);

        // And 30 delta-net layers of 18 tensors, 10 attention layers of 15, embed, norm, head; 3 + 27 x 12 + 6 vision tensors
        Assert.Equal((30 * 18) + (10 * 15) + 3 + 3 + (27 * 12) + 6, inv.Tensors.Length);
        Assert.Equal(LayerMixer.LinearAttention, spec.MixerOf(0));
        Assert.Equal(LayerMixer.Attention, spec.MixerOf(39));
    }

    [Fact]
    public void Qwen35_35B_A3B_Experts_AreFusedAndTheSharedExpertGateIsOneRow()
    {
        // Given the checkpoint's names (model.language_model.layers.N.mlp.experts.gate_up_proj, no .weight suffix)
        var (_, inv) = ReadSpecConfig("qwen3.5-35b-a3b.json");
        const string P = "model.language_model.layers.0.mlp.";

        // Then the experts are two 3-D tensors, not 256 x 3 per-expert matrices
        Assert.Equal([256L, 1024L, 2048L], Shape(inv, P + "experts.gate_up_proj"));
        Assert.Equal([256L, 2048L, 512L], Shape(inv, P + "experts.down_proj"));
        Assert.DoesNotContain(inv.Tensors, t => t.Name.Contains("experts.0.", StringComparison.Ordinal));

        // And the router and the shared expert with its sigmoid gate [1, hidden]
        Assert.Equal([256L, 2048L], Shape(inv, P + "gate.weight"));
        Assert.Equal([1L, 2048L], Shape(inv, P + "shared_expert_gate.weight"));
        Assert.Equal([512L, 2048L], Shape(inv, P + "shared_expert.gate_proj.weight"));
        Assert.Equal([2048L, 512L], Shape(inv, P + "shared_expert.down_proj.weight"));
        Assert.Equal([8192L, 2048L], Shape(inv, "model.language_model.layers.0.linear_attn.in_proj_qkv.weight"));
        Assert.Equal([32L, 2048L], Shape(inv, "model.language_model.layers.0.linear_attn.in_proj_b.weight"));
        Assert.Equal([8192L, 2048L], Shape(inv, "model.language_model.layers.3.self_attn.q_proj.weight"));
    }

    [Fact]
    public void Qwen35_35B_A3B_Active_IsEightOf256RoutedExperts()
    {
        // Given 40 layers of 256 experts of 3 x 512 x 2048 = 3,145,728 parameters, 8 routed per token
        var (_, inv) = ReadSpecConfig("qwen3.5-35b-a3b.json");

        // Then the 248 idle experts of each layer are not active
        Assert.Equal(35_107_181_936L - (40L * 248 * 3_145_728), inv.ActiveParameters.Value);
    }

    [Fact]
    public void TextOnly_EveryLayerIsSparse_WhateverDecoderSparseStepAndMlpOnlyLayersSay()
    {
        // Given a tiny qwen3_5_moe_text whose config carries keys Qwen3_5MoeTextConfig deletes (decoder_sparse_step 2,
        // mlp_only_layers [0]): Qwen3_5MoeDecoderLayer builds the sparse block in every layer regardless
        var (spec, inv) = Read("""
            {"model_type":"qwen3_5_moe_text","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,
             "num_key_value_heads":1,"head_dim":4,"vocab_size":10,"num_experts":4,"num_experts_per_tok":2,
             "moe_intermediate_size":3,"shared_expert_intermediate_size":5,"linear_num_key_heads":1,
             "linear_num_value_heads":2,"linear_key_head_dim":2,"linear_value_head_dim":2,"linear_conv_kernel_dim":3,
             "full_attention_interval":2,"decoder_sparse_step":2,"mlp_only_layers":[0]}
            """);

        // Then by hand: layer 0 delta net (Kdim 2, Vdim 4): in_proj_qkv 8 x 8 = 64, in_proj_z 4 x 8 = 32, in_proj_b/a
        // 2 x 8 each = 32, conv1d 8 x 1 x 3 = 24, dt_bias + A_log 4, norm 2, out_proj 8 x 4 = 32 -> 190. Layer 1 attention:
        // q_proj (2 x 2 x 4) x 8 = 128, k/v 4 x 8 each = 64, o_proj 8 x 8 = 64, q/k norm 8 -> 264. MoE per layer: router
        // 4 x 8 = 32, gate_up 4 x 6 x 8 = 192, down 4 x 8 x 3 = 96, shared expert 3 x 5 x 8 = 120, shared gate 8 -> 448.
        // Two norms of 8 per layer; embed 80 + untied head 80; final norm 8
        Assert.Equal(190L + 264 + (2 * (448 + 16)) + 80 + 80 + 8, inv.TotalParameters.Value);
        Assert.Equal([true, true], spec.Moe!.MoeLayers.ToArray());
        Assert.Equal([4L, 6L, 8L], Shape(inv, "model.layers.0.mlp.experts.gate_up_proj"));
        Assert.Equal([1L, 8L], Shape(inv, "model.layers.1.mlp.shared_expert_gate.weight"));
        Assert.Equal([10L, 8L], Shape(inv, "lm_head.weight"));

        // And two of four experts of 72 parameters are idle in each layer
        Assert.Equal(1550L - (2 * 2 * 72), inv.ActiveParameters.Value);
    }

    [Fact]
    public void TextOnly_OmittedKeys_TakeTheQwen35MoeTextConfigDefaults()
    {
        // Given only the model type: vocab 248320, hidden 2048, 40 layers, 16 heads, 2 KV heads, head_dim 256,
        // 256 experts (8 active) of 512, shared expert 512, full attention every 4th layer
        var (spec, _) = Read("""{"model_type":"qwen3_5_moe_text"}""");

        Assert.Equal((248320, 2048, 40, 16, 2, 256), (spec.Vocab, spec.Hidden, spec.Layers, spec.Heads, spec.KvHeads, spec.HeadDim));
        Assert.Equal((256, 8, 512, 512), (spec.Moe!.Experts, spec.Moe.ActiveExperts, spec.Moe.ExpertIntermediate, spec.Moe.SharedIntermediate));
        Assert.Equal(10, Enumerable.Range(0, 40).Count(i => spec.MixerOf(i) == LayerMixer.Attention));
        Assert.False(spec.TiedEmbeddings);
    }

    [Theory]
    [InlineData("""{"model_type":"qwen3_5_moe"}""", "text_config")]
    [InlineData("""{"model_type":"qwen3_5_moe_text","num_experts":4,"num_experts_per_tok":6}""", "num_experts_per_tok")]
    [InlineData("""{"model_type":"qwen3_5_moe_text","num_hidden_layers":2,"layer_types":["full_attention"]}""", "layer_types")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Memory_Qwen35_35B_A3B_KvOnlyForTheTenAttentionLayers_StateForTheThirtyDeltaNets()
    {
        // Given the catalog model in bf16 with transformers, 1,000 tokens of context
        var model = Sizer.Load("qwen3.5-35b-a3b");
        var e = MemoryEstimator.Estimate(model, new Workload { Engine = InferenceEngine.Hf, Context = 1000 });

        // Then the KV cache holds K and V of 2 KV heads x head_dim 256 in bf16 for the 10 full-attention layers only:
        // 10 x 2 x 2 x 256 x 2 B = 20,480 B per token (not 40 layers' 81,920)
        Assert.Equal(1000L * 20_480, e["kv_cache"].Bytes);

        // And each of the 30 delta-net layers keeps, per sequence, a conv state of (4 - 1) x (2 x 2048 + 4096) = 24,576
        // and a recurrent state of 32 x 128 x 128 = 524,288 values, in the model dtype (bf16): 30 x 1,097,728 B
        Assert.Equal(30L * ((24_576 + 524_288) * 2), e["recurrent_state"].Bytes);
        Assert.Equal(30L * ((24_576 * 2) + (524_288 * 4)), RecurrentState.BytesPerSequence(model.Architecture!, DataType.BF16, DataType.F32).Bytes);
    }
}
