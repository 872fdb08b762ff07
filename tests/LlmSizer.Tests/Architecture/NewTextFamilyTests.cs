using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>OLMo, OLMoE, Granite and SmolLM3: the layout traps behind their spec-table rows, by hand.</summary>
public class NewTextFamilyTests
{
    [Fact]
    public void Olmo_NonParametricNorms_HaveNoTensors()
    {
        // Given allenai/OLMo-1B-hf (OlmoLayerNorm: no weight, no bias)
        var (_, inv) = ReadSpecConfig("olmo-1b-hf.json");

        // Then 7 matrices per layer x 16 + the tied embedding = 113 tensors and no norm at all
        Assert.Equal(113, inv.Tensors.Length);
        Assert.Equal(0L, inv.ByGroup()[TensorGroup.Norm].Value);
        Assert.DoesNotContain(inv.Tensors, t => t.Name.Contains("norm", StringComparison.Ordinal));
    }

    [Fact]
    public void Olmoe_Experts_CountedByHandWithTensorCount()
    {
        // Given allenai/OLMoE-1B-7B-0924
        var (spec, inv) = ReadSpecConfig("olmoe-1b-7b-0924.json");

        // Then per layer: q,k,v,o 4*2048^2 = 16,777,216; q_norm 2048 + k_norm 2048; router 64*2048 = 131,072; experts
        // 64*3*2048*1024 = 402,653,184; norms 4,096 -> 419,569,664 x 16 = 6,713,114,624; embed + untied head
        // 2*50304*2048 = 206,045,184; norm 2,048 -> 6,919,161,856 in 201*16 + 3 = 3,219 tensors (the published header count)
        Assert.Equal(6_713_114_624L + 206_045_184L + 2048L, inv.TotalParameters.Value);
        Assert.Equal(3219, inv.Tensors.Length);
        Assert.Equal([2048L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.self_attn.q_norm.weight").Shape]);
        Assert.Equal([1024L, 2048L], [.. inv.Tensors.Single(t => t.Name == "model.layers.15.mlp.experts.63.gate_proj.weight").Shape]);

        // And 8 of 64 experts are active: 6,919,161,856 - 56/64 x 16 x 402,653,184 = 1,281,880,064
        Assert.Equal(6_919_161_856L - (16L * 402_653_184 / 64 * 56), inv.ActiveParameters.Value);
        Assert.Equal((64, 8, 1024), (spec.Moe!.Experts, spec.Moe.ActiveExperts, spec.Moe.ExpertIntermediate));
    }

    [Fact]
    public void Granite_Multipliers_AddNoTensors()
    {
        // Given ibm-granite/granite-3.3-2b-instruct (embedding/residual/attention multipliers, logits_scaling)
        var (_, inv) = ReadSpecConfig("granite-3.3-2b-instruct.json");

        // Then by hand: embed 49159*2048 = 100,677,632 (tied); per layer q 2048^2, k,v 512*2048, o 2048^2 = 10,485,760,
        // mlp 3*2048*8192 = 50,331,648, norms 4,096 -> 60,821,504 x 40 = 2,432,860,160; norm 2,048
        Assert.Equal(100_677_632L + 2_432_860_160L + 2048L, inv.TotalParameters.Value);
    }

    [Fact]
    public void SmolLM3_NoRopeLayers_AddNoTensors()
    {
        // Given HuggingFaceTB/SmolLM3-3B
        var (spec, inv) = ReadSpecConfig("smollm3-3b.json");

        // Then by hand: embed 128256*2048 = 262,668,288 (tied); per layer q 2048^2, k,v 512*2048, o 2048^2 = 10,485,760,
        // mlp 3*2048*11008 = 67,633,152, norms 4,096 -> 78,123,008 x 36 = 2,812,428,288; norm 2,048
        Assert.Equal(262_668_288L + 2_812_428_288L + 2048L, inv.TotalParameters.Value);
        Assert.True(spec.TiedEmbeddings);
        Assert.Equal((16, 4, 128), (spec.Heads, spec.KvHeads, spec.HeadDim));
    }

    [Theory]
    [InlineData("""{"model_type":"olmoe","num_experts":4,"num_experts_per_tok":8}""", "num_experts_per_tok")]
    [InlineData("""{"model_type":"granite","num_key_value_heads":5}""", "num_key_value_heads")]
    [InlineData("""{"model_type":"smollm3","hidden_size":-3}""", "hidden_size")]
    [InlineData("""{"model_type":"olmo","num_hidden_layers":0}""", "num_hidden_layers")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => Read(json));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
