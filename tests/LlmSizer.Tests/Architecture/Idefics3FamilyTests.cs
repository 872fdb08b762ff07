using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>Idefics3 / SmolVLM: SigLIP-style tower, pixel-shuffle connector and SmolLM2 text model, counted by hand.</summary>
public class Idefics3FamilyTests
{
    [Fact]
    public void SmolVlm256m_Components_CountedByHand()
    {
        // Given HuggingFaceTB/SmolVLM-256M-Instruct (SmolLM2-135M text with vocab 49280, SigLIP base 512/16, scale factor 4)
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "smolvlm-256m-instruct.json"));
        var inv = family.Generate(spec);
        var c = inv.ByComponent();

        // Then the text model: embed 49280*576 = 28,385,280; per layer q, o 2*576^2 = 663,552, k, v 2*192*576 = 221,184, mlp
        // 3*576*1536 = 2,654,208, norms 1,152 -> 3,540,096 x 30 = 106,202,880; norm 576; untied lm_head 28,385,280.
        Assert.Equal((2 * 28_385_280L) + 106_202_880L + 576L, c[ModelComponent.LanguageModel].Value);

        // And the tower: patch conv 768*3*16*16 + 768 = 590,592; positions (512/16)^2 = 1024 x 768 = 786,432; per layer
        // attention 4*(768^2 + 768) = 2,362,368, MLP 2*768*3072 + 3072 + 768 = 4,722,432, norms 3,072 -> 7,087,872 x 12 =
        // 85,054,464; post_layernorm 1,536 -> 86,433,024.
        Assert.Equal(590_592L + 786_432L + 85_054_464L + 1536L, c[ModelComponent.VisionTower].Value);

        // And the connector: proj [576, 768 x 4^2 = 12,288] = 7,077,888, no bias
        Assert.Equal(7_077_888L, c[ModelComponent.Projector].Value);
        Assert.Equal(256_484_928L, inv.TotalParameters.Value);
        Assert.Contains(inv.Tensors, t => t.Name == "model.text_model.layers.29.self_attn.k_proj.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "lm_head.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "model.vision_model.post_layernorm.bias");
    }

    [Fact]
    public void Read_TextConfigNotADecoder_ThrowsNamingField()
    {
        // Given a text_config of a family Idefics3 cannot wrap, when read, then the error names text_config.model_type
        var json = """{"model_type":"idefics3","text_config":{"model_type":"whisper"}}""";
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains("text_config.model_type", e.Message);
    }
}
