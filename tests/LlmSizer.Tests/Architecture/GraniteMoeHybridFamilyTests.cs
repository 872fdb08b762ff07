using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Granite 4.0 (granitemoehybrid): the dense attention checkpoints by hand, and the Mamba-2 and expert layers
/// of the hybrid variants by hand on a small config (no published count of a hybrid checkpoint was found).</summary>
public class GraniteMoeHybridFamilyTests
{
    [Fact]
    public void GraniteMicro_AttentionOnly_CountedByHand()
    {
        // Given ibm-granite/granite-4.0-micro (40 attention layers, no experts, shared MLP 8192, tied)
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "granite-4.0-micro.json"));
        var inv = family.Generate(spec);

        // Then per layer: q, o 2*2560^2 = 13,107,200; k, v 2*512*2560 = 2,621,440; shared_mlp input 16384*2560 = 41,943,040
        // and output 2560*8192 = 20,971,520; norms 5,120 -> 78,648,320 x 40 = 3,145,932,800; embed 100352*2560 =
        // 256,901,120; norm 2,560 -> 3,402,836,480.
        Assert.Equal(3_145_932_800L + 256_901_120L + 2560L, inv.TotalParameters.Value);
        Assert.Null(spec.Moe);
        Assert.Null(spec.Ssm);
        Assert.Equal([16384L, 2560L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.shared_mlp.input_linear.weight").Shape]);
    }

    [Fact]
    public void HybridWithExperts_MambaAndMoeLayers_CountedByHand()
    {
        // Given a small hybrid: hidden 64, layers [mamba, attention], 4 experts (top 2) of 32, shared MLP 48,
        // Mamba-2 with expand 2 (d_inner 128), 4 heads of 32, 1 group, N 16, d_conv 4; vocab 100, tied
        var (spec, inv) = Read("""
            {"model_type":"granitemoehybrid","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
             "intermediate_size":32,"num_local_experts":4,"num_experts_per_tok":2,"shared_intermediate_size":48,
             "layer_types":["mamba","attention"],"mamba_n_heads":4,"mamba_d_head":32,"mamba_n_groups":1,"mamba_d_state":16,
             "mamba_d_conv":4,"mamba_expand":2,"vocab_size":100,"tie_word_embeddings":true}
            """);

        // Then the Mamba mixer: in_proj (2*128 + 2*16 + 4) = 292 x 64 = 18,688; conv1d (128 + 32) = 160 x 4 + 160 = 800;
        // dt_bias, A_log, D 12; norm 128; out_proj 64*128 = 8,192 -> 27,820. Attention: q, o 2*64^2 = 8,192, k, v
        // 2*32*64 = 4,096 -> 12,288. Every layer: norms 128, shared MLP 96*64 + 64*48 = 9,216, router 4*64 = 256, experts
        // 4*64*64 + 4*64*32 = 24,576 -> 34,176. Total 27,820 + 12,288 + 2*34,176 + embed 6,400 + norm 64 = 114,924.
        Assert.Equal(114_924L, inv.TotalParameters.Value);
        Assert.Equal([4L, 64L, 64L], [.. inv.Tensors.Single(t => t.Name == "model.layers.1.block_sparse_moe.input_linear.weight").Shape]);
        Assert.Equal([292L, 64L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.mamba.in_proj.weight").Shape]);
        Assert.Equal([LayerMixer.Ssm, LayerMixer.Attention], spec.LayerMixers.ToArray());

        // And 2 of 4 experts are active: half of 2 x 24,576 idle
        Assert.Equal(114_924L - 24_576L, inv.ActiveParameters.Value);

        // And one Mamba layer holds conv 3 x 160 and SSM 4 x 32 x 16 elements: (480 + 2,048) x 4 bytes at F32
        Assert.Equal(10_112L, RecurrentState.BytesPerSequence(spec, DataType.F32, DataType.F32).Bytes);
    }

    [Theory]
    [InlineData("""{"model_type":"granitemoehybrid","num_hidden_layers":2,"layer_types":["attention"]}""", "layer_types")]
    [InlineData("""{"model_type":"granitemoehybrid","num_hidden_layers":1,"layer_types":["ssm"]}""", "layer_types[0]")]
    [InlineData("""{"model_type":"granitemoehybrid","num_hidden_layers":1,"hidden_size":64,"num_attention_heads":4,"mamba_n_heads":3}""", "mamba_n_heads")]
    [InlineData("""{"model_type":"granitemoehybrid","num_local_experts":2,"num_experts_per_tok":3}""", "num_experts_per_tok")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => Read(json));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
