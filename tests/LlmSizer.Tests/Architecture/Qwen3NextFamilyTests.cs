using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Qwen3-Next: linear-attention and gated full-attention layers with 512 experts, counted by hand.</summary>
public class Qwen3NextFamilyTests
{
    [Fact]
    public void Qwen3CoderNext_Layers_CountedByHandWithTensorCount()
    {
        // Given Qwen/Qwen3-Coder-Next (48 layers, full attention every 4th, 512 experts of 512, shared expert 512)
        var (spec, inv) = ReadSpecConfig("qwen3-coder-next.json");

        // Then linear attention (Kdim 16*128 = 2048, Vdim 32*128 = 4096): in_proj_qkvz (2*2048 + 2*4096) x 2048 = 25,165,824;
        // in_proj_ba 64 x 2048 = 131,072; conv1d (2*2048 + 4096) x 4 = 32,768; dt_bias, A_log 64; norm 128; out_proj
        // 2048 x 4096 = 8,388,608 -> 33,718,464. Gated attention: q_proj 2*16*256 x 2048 = 16,777,216; k, v 2 x 512 x 2048 =
        // 2,097,152; o_proj 2048 x 4096 = 8,388,608; q/k norms 512 -> 27,263,488. MoE: router 512 x 2048 = 1,048,576;
        // experts 512 x 3 x 512 x 2048 = 1,610,612,736; shared expert 3,145,728; shared_expert_gate 2,048 -> 1,614,809,088.
        // Norms 4,096 per layer; embed + untied head 2 x 151936 x 2048 = 622,329,856; final norm 2,048.
        long total = (36 * 33_718_464L) + (12 * 27_263_488L) + (48 * (1_614_809_088L + 4096L)) + 622_329_856L + 2048L;
        Assert.Equal(79_674_391_296L, total);
        Assert.Equal(total, inv.TotalParameters.Value);

        // And 36 x 1,550 + 12 x 1,549 + 3 = 74,391 tensors, the published tensor count
        Assert.Equal(74_391, inv.Tensors.Length);
        Assert.Equal([3, 7, 11], Enumerable.Range(0, 12).Where(i => spec.MixerOf(i) == LayerMixer.Attention));
        Assert.Equal(AttentionLayerKind.None, spec.LayerKind(0));
        Assert.Equal([8192L, 2048L], [.. inv.Tensors.Single(t => t.Name == "model.layers.3.self_attn.q_proj.weight").Shape]);
        Assert.Equal([8192L, 1L, 4L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.linear_attn.conv1d.weight").Shape]);
    }

    [Fact]
    public void RecurrentState_Qwen3CoderNext_SizesLinearAttentionLayers()
    {
        // Given the 36 gated-delta-net layers, with a bf16 conv state and an fp32 recurrent state (the dtypes vLLM logs for
        // these models' MambaSpec)
        var (spec, _) = ReadSpecConfig("qwen3-coder-next.json");

        // Then per layer conv 3 x 8192 = 24,576 and state 32 x 128 x 128 = 524,288 elements: 49,152 + 2,097,152 bytes
        Assert.Equal(24_576L, RecurrentState.LinearConvStateElements(spec.LinearAttention!));
        Assert.Equal(524_288L, RecurrentState.LinearStateElements(spec.LinearAttention!));
        Assert.Equal(36L * 2_146_304, RecurrentState.BytesPerSequence(spec, DataType.BF16, DataType.F32).Bytes);

        // And at tp 4: conv 3 x 2048, state 8 x 128 x 128
        Assert.Equal(6144L, RecurrentState.LinearConvStateElements(spec.LinearAttention!, 4));
        Assert.Equal(131_072L, RecurrentState.LinearStateElements(spec.LinearAttention!, 4));
    }

    [Theory]
    [InlineData("""{"model_type":"qwen3_next","num_hidden_layers":2,"layer_types":["full_attention"]}""", "layer_types")]
    [InlineData("""{"model_type":"qwen3_next","num_hidden_layers":1,"layer_types":["sliding_attention"]}""", "layer_types[0]")]
    [InlineData("""{"model_type":"qwen3_next","num_experts":4,"num_experts_per_tok":6}""", "num_experts_per_tok")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
