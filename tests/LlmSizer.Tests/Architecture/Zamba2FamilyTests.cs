using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Zamba2: Mamba-2 layers with shared transformer blocks on the hybrid layers, counted by hand (the blocks once,
/// their per-invocation adapters each time), and the KV cache only on the shared-block invocations.</summary>
public class Zamba2FamilyTests
{
    [Fact]
    public void Zamba2_1_2B_CountedByHand_EqualsThePublishedCountAndTensorCount()
    {
        // Given Zyphra/Zamba2-1.2B: hidden 2048, 38 layers (hybrid at 5, 11, ..., 35), one shared block, attention adapters
        var (spec, inv) = ReadSpecConfig("zamba2-1.2b.json");

        // Then a Mamba-2 decoder per layer (d_inner 4096, conv_dim 4096 + 2 x 128 = 4352, 64 heads): in_proj
        // [4096 + 4352 + 64, 2048] = 17,432,576; conv1d [4352, 1, 4] + bias = 21,760; dt_bias, A_log, D 192; norm 4096;
        // out_proj [2048, 4096] = 8,388,608; input_layernorm 2048 -> 25,849,280
        long mamba = 17_432_576L + 21_760 + 192 + 4096 + 8_388_608 + 2048;
        Assert.Equal(25_849_280L, mamba);

        // And the shared block once: input_layernorm [4096], q/k/v [32 x 128, 4096] = 3 x 16,777,216, o [2048, 4096],
        // pre_ff_layernorm [2048], gate_up [16384, 2048] = 33,554,432, down [2048, 8192] = 16,777,216 -> 109,058,048
        long block = 4096L + (3 * 16_777_216L) + 8_388_608 + 2048 + 33_554_432 + 16_777_216;

        // And per hybrid invocation an MLP adapter [128, 2048] + [16384, 128] = 2,359,296 and q/k/v adapters
        // 3 x ([128, 4096] + [4096, 128]) = 3,145,728, a linear [2048, 2048]; tied embedding 32000 x 2048; final norm
        long perHybrid = 2_359_296L + 3_145_728 + (2048L * 2048);
        long total = (38 * mamba) + block + (6 * perHybrid) + (32_000L * 2048) + 2048;
        Assert.Equal(1_215_064_704L, total);
        Assert.Equal(total, inv.TotalParameters.Value);

        // And 38 x 9 Mamba-decoder tensors + 6 linears + 8 block tensors + 6 x 8 adapter tensors + embed + final norm = 406,
        // the parameter tensors of Zamba2ForCausalLM
        Assert.Equal(406, inv.Tensors.Length);
        Assert.Equal([8512L, 2048L], Shape(inv, "model.layers.0.mamba.in_proj.weight"));
        Assert.Equal([4096L, 4096L], Shape(inv, "model.layers.5.shared_transformer.self_attn.q_proj.weight"));
        Assert.Equal([128L, 4096L], Shape(inv, "model.layers.5.shared_transformer.self_attn.linear_q_adapter_list.5.0.weight"));
        Assert.Equal([16384L, 128L], Shape(inv, "model.layers.5.shared_transformer.feed_forward.gate_up_proj_adapter_list.3.1.weight"));
        Assert.Equal([8512L, 2048L], Shape(inv, "model.layers.35.mamba_decoder.mamba.in_proj.weight"));
        Assert.False(Has(inv, "model.layers.11.shared_transformer.self_attn.q_proj.weight"));
        Assert.Equal((128, 32, 32), (spec.HeadDim, spec.Heads, spec.KvHeads));
    }

    [Fact]
    public void SharedBlocks_RoundRobin_AdaptersPerInvocation_CountedByHand()
    {
        // Given two shared blocks over three hybrid layers (0, 2, 3: blocks 0, 1, 0), attention adapters of rank 2
        var (spec, inv) = Read("""
            {"model_type":"zamba2","hidden_size":4,"num_hidden_layers":4,"layers_block_type":["hybrid","mamba","hybrid","hybrid"],
             "num_attention_heads":2,"num_key_value_heads":1,"intermediate_size":6,"vocab_size":10,"num_mem_blocks":2,
             "use_shared_attention_adapter":true,"adapter_rank":2,"mamba_d_state":2,"n_mamba_heads":2,"mamba_d_conv":3,
             "tie_word_embeddings":false}
            """);

        // Then by hand: Mamba per layer (d_inner 8, conv_dim 12, 2 heads): in_proj 22 x 4 = 88, conv1d 36 + 12, dt/A/D 6,
        // norm 8, out_proj 32, input_layernorm 4 -> 186, x 4. Linear 4 x 4 on the 3 hybrid layers. Each of the 2 blocks
        // (head_dim 2 x 4 / 2 = 4): input_layernorm 8, q 8 x 8, k, v 4 x 8, o 4 x 8, pre_ff 4, gate_up 12 x 4, down 4 x 6
        // -> 244. Each of the 3 invocations: q/k/v adapters 3 x (2 x 8 + 8 x 2) = 96, MLP adapter 2 x 4 + 12 x 2 = 32.
        // Embed 40, untied head 40, final norm 4
        Assert.Equal((4 * 186L) + (3 * 16) + (2 * 244) + (3 * (96 + 32)) + 40 + 40 + 4, inv.TotalParameters.Value);

        // And the third invocation's adapters sit in block 0 (first used at layer 0) at index 2; block 1 lives at layer 2
        Assert.Equal([2L, 4L], Shape(inv, "model.layers.0.shared_transformer.feed_forward.gate_up_proj_adapter_list.2.0.weight"));
        Assert.Equal([8L, 2L], Shape(inv, "model.layers.2.shared_transformer.self_attn.linear_v_adapter_list.1.1.weight"));
        Assert.False(Has(inv, "model.layers.0.shared_transformer.feed_forward.gate_up_proj_adapter_list.1.0.weight"));
        Assert.False(Has(inv, "model.layers.3.shared_transformer.input_layernorm.weight"));
        Assert.Equal([4L, 4L], Shape(inv, "model.layers.3.linear.weight"));
        Assert.Equal([LayerMixer.AttentionAndSsm, LayerMixer.Ssm, LayerMixer.AttentionAndSsm, LayerMixer.AttentionAndSsm], Enumerable.Range(0, 4).Select(spec.MixerOf));
        Assert.Equal(AttentionLayerKind.None, spec.LayerKind(1));
    }

    [Fact]
    public void Defaults_AreZamba2ConfigsDefaultPatternAndWidths()
    {
        // Given only the model type: 54 layers of the default layers_block_type, ["mamba"] + (["mamba"] * 5 + ["hybrid"]) * 7
        // + ["mamba"] * 4 + ["hybrid"] + ["mamba"] * 3 + ["hybrid"] + ["mamba"] * 2 (hybrid at 6, 12, ..., 42, 47, 51),
        // hidden 2560, 32 heads
        var (spec, inv) = Read("""{"model_type":"zamba2"}""");

        Assert.Equal([6, 12, 18, 24, 30, 36, 42, 47, 51], Enumerable.Range(0, 54).Where(l => spec.MixerOf(l) == LayerMixer.AttentionAndSsm));
        Assert.Equal((2560, 10240, 160, 32000), (spec.Hidden, spec.Intermediate, spec.HeadDim, spec.Vocab));
        Assert.Equal((64, 8, 640), (spec.Ssm!.StateSize, spec.Ssm.Heads, spec.Ssm.HeadDim));
        Assert.True(spec.TiedEmbeddings);
        Assert.False(Has(inv, "lm_head.weight"));

        // And MLP adapters are built even without use_shared_mlp_adapter (Zamba2MLP builds them unconditionally)
        Assert.True(Has(inv, "model.layers.6.shared_transformer.feed_forward.gate_up_proj_adapter_list.8.1.weight"));
        Assert.False(Has(inv, "model.layers.6.shared_transformer.self_attn.linear_q_adapter_list.0.0.weight"));
    }

    [Theory]
    [InlineData("""{"model_type":"zamba2","num_hidden_layers":2,"layers_block_type":["mamba"]}""", "layers_block_type")]
    [InlineData("""{"model_type":"zamba2","num_hidden_layers":1,"layers_block_type":["attention"]}""", "layers_block_type[0]")]
    [InlineData("""{"model_type":"zamba2","num_hidden_layers":12}""", "layers_block_type")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Memory_Zamba2_1_2B_KvOnlyForTheSixSharedBlockInvocations_StateForAllLayers()
    {
        // Given the catalog model with transformers, 1,000 tokens of context, bf16 KV
        var model = Sizer.Load("zamba2-1.2b");
        var e = MemoryEstimator.Estimate(model, new Workload { Engine = InferenceEngine.Hf, Context = 1000, KvType = DataTypes.DataType.BF16 });

        // Then K and V of 32 heads x head_dim 128 in bf16 for the 6 hybrid layers only: 6 x 2 x 32 x 128 x 2 B = 98,304 B
        // per token (96 KiB; not 38 layers' 622,592)
        Assert.Equal(1000L * 98_304, e["kv_cache"].Bytes);

        // And all 38 layers keep a Mamba-2 state per sequence: conv (4 - 1) x 4352 = 13,056 and SSM 64 x 64 x 128 = 524,288
        // values, 2 B each in bf16
        const long perLayer = 13_056 + 524_288;
        Assert.Equal(38L * perLayer * 2, RecurrentState.BytesPerSequence(model.Architecture!, DataTypes.DataType.BF16, DataTypes.DataType.BF16).Bytes);
        Assert.Equal(38, RecurrentState.SsmLayers(model.Architecture!));
        Assert.True(e["recurrent_state"].Bytes > 0 && e["recurrent_state"].Bytes % (38 * perLayer) == 0);
    }
}
