using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Jamba: the attention/Mamba and dense/MoE layer patterns from the config, counted by hand.</summary>
public class JambaFamilyTests
{
    [Fact]
    public void JambaV01_LayerPattern_CountedByHand()
    {
        // Given ai21labs/Jamba-v0.1 (attention at i % 8 == 4, experts at i % 2 == 1)
        var (spec, inv) = ReadSpecConfig("jamba-v0.1.json");

        // Then the pattern: 4 attention layers (4, 12, 20, 28), 28 Mamba layers; 16 MoE layers (odd i)
        Assert.Equal([4, 12, 20, 28], Enumerable.Range(0, 32).Where(i => spec.MixerOf(i) == LayerMixer.Attention));
        Assert.Equal(AttentionLayerKind.None, spec.LayerKind(0));
        Assert.Equal(AttentionLayerKind.Full, spec.LayerKind(4));
        Assert.Equal(16, spec.Moe!.MoeLayers.Count(m => m));

        // And by hand: attention q,o 2*4096^2 + k,v 2*1024*4096 = 41,943,040. Mamba (d_inner 8192, N 16, dt_rank 256):
        // in_proj 16384*4096 = 67,108,864; conv1d 8192*4 + 8192 = 40,960; x_proj (256 + 32)*8192 = 2,359,296; dt_proj
        // 8192*256 + 8192 = 2,105,344; A_log 131,072; D 8,192; out_proj 33,554,432; dt/b/c norms 256 + 16 + 16 -> 105,308,448.
        // Dense MLP 3*4096*14336 = 176,160,768; MoE router 65,536 + 16 experts x 176,160,768 = 2,818,637,824.
        // Norms 8,192 per layer. Embed + untied head 2*65536*4096 = 536,870,912; final norm 4,096.
        long total = 536_870_912L + (4 * 41_943_040L) + (28 * 105_308_448L) + (16 * 176_160_768L) + (16 * 2_818_637_824L)
            + (32 * 8192L) + 4096L;
        Assert.Equal(51_570_323_328L, total);
        Assert.Equal(total, inv.TotalParameters.Value);
        Assert.Equal([256L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.mamba.dt_layernorm.weight").Shape]);
        Assert.Contains(inv.Tensors, t => t.Name == "model.layers.1.feed_forward.experts.15.down_proj.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "model.layers.4.self_attn.k_proj.weight");

        // And 2 of 16 experts are active: 14 x 16 layers x 176,160,768 idle
        Assert.Equal(total - (14L * 16 * 176_160_768), inv.ActiveParameters.Value);
    }

    [Fact]
    public void RecurrentState_JambaV01_CountsOnlyMambaLayers()
    {
        // Given Jamba-v0.1's 28 Mamba layers (d_inner 8192, N 16, d_conv 4) at llama.cpp's F32
        var (spec, _) = ReadSpecConfig("jamba-v0.1.json");

        // Then 28 x (3*8192 + 16*8192) x 4 bytes = 28 x 622,592 = 17,432,576
        Assert.Equal(28, RecurrentState.SsmLayers(spec));
        Assert.Equal(17_432_576L, RecurrentState.BytesPerSequence(spec, DataType.F32, DataType.F32).Bytes);
    }

    [Fact]
    public void Read_LayersBlockTypeList_OverridesPeriod()
    {
        // Given an explicit layers_block_type
        var json = """
            {"model_type":"jamba","hidden_size":64,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":128,
             "num_hidden_layers":3,"vocab_size":100,"num_experts":1,"layers_block_type":["mamba","attention","mamba"]}
            """;
        var (spec, _) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json"));

        // Then the list decides, and num_experts 1 leaves every layer dense
        Assert.Equal([LayerMixer.Ssm, LayerMixer.Attention, LayerMixer.Ssm], spec.LayerMixers.ToArray());
        Assert.Null(spec.Moe);
    }

    [Theory]
    [InlineData("""{"model_type":"jamba","num_hidden_layers":2,"layers_block_type":["mamba"]}""", "layers_block_type")]
    [InlineData("""{"model_type":"jamba","num_hidden_layers":1,"layers_block_type":["moe"]}""", "layers_block_type[0]")]
    [InlineData("""{"model_type":"jamba","num_experts":4,"num_experts_per_tok":5}""", "num_experts_per_tok")]
    [InlineData("""{"model_type":"jamba","mamba_dt_rank":"wide"}""", "mamba_dt_rank")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
