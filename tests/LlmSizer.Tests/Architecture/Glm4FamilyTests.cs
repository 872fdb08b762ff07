using LlmSizer.Architecture;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>GLM-4: four norms per layer and a fused gate/up projection, counted by hand.</summary>
public class Glm4FamilyTests
{
    [Fact]
    public void Glm4_9b_0414_CountedByHand()
    {
        // Given THUDM/GLM-4-9B-0414's shapes (no published count of this checkpoint was found, so the figure is derived
        // here; llama.cpp reports n_params 9,400,279,040 for a glm4-architecture GGUF of the same shapes, n_embd 4096 and
        // n_vocab 151552, the GLM-4.6V-Flash language model, in a public server configuration)
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "glm-4-9b-0414.json"));
        var inv = family.Generate(spec);

        // Then per layer: q 4096*4096 + 4096 = 16,781,312; k, v 2*(256*4096 + 256) = 2,097,664; o 4096*4096 = 16,777,216
        // (no bias); gate_up 2*13696 x 4096 + down 4096 x 13696 = 168,296,448; four norms 16,384 -> 203,969,024 x 40 =
        // 8,158,760,960; embed + untied head 2*151552*4096 = 1,241,513,984; norm 4,096 -> 9,400,279,040.
        Assert.Equal(8_158_760_960L + 1_241_513_984L + 4096L, inv.TotalParameters.Value);
        Assert.Equal(9_400_279_040L, inv.TotalParameters.Value);
        Assert.Equal([27392L, 4096L], [.. inv.Tensors.Single(t => t.Name == "model.layers.0.mlp.gate_up_proj.weight").Shape]);
        Assert.Contains(inv.Tensors, t => t.Name == "model.layers.39.post_mlp_layernorm.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "model.layers.0.self_attn.k_proj.bias");
        Assert.DoesNotContain(inv.Tensors, t => t.Name == "model.layers.0.self_attn.o_proj.bias");
    }
}
