using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>LLaVA: CLIP tower, MLP projector and the language model of text_config, counted by hand.</summary>
public class LlavaFamilyTests
{
    [Fact]
    public void Llava15_7b_Components_CountedByHand()
    {
        // Given llava-hf/llava-1.5-7b-hf (Vicuna-7B text_config with vocab 32064, CLIP ViT-L/14 at 336 px)
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "llava-1.5-7b-hf.json"));
        var inv = family.Generate(spec);
        var c = inv.ByComponent();

        // Then the language model: Llama-2-7B's 6,738,415,616 with 64 more rows in the embedding and the head: + 2*64*4096
        Assert.Equal(6_738_415_616L + (2 * 64 * 4096L), c[ModelComponent.LanguageModel].Value);

        // And the CLIP tower: class embedding 1,024; patch conv 1024*3*14*14 = 602,112 (no bias); positions (24^2 + 1) = 577
        // rows x 1024 = 590,848; pre_layrnorm 2,048; per layer q,k,v,out 4*(1024^2 + 1024) = 4,198,400, fc1 4096*1024 + 4096
        // = 4,198,400, fc2 1024*4096 + 1024 = 4,195,328, two LayerNorms 4,096 -> 12,596,224 x 24 = 302,309,376;
        // post_layernorm 2,048 -> 303,507,456.
        Assert.Equal(1024L + 602_112L + 590_848L + 2048L + 302_309_376L + 2048L, c[ModelComponent.VisionTower].Value);

        // And the projector: linear_1 4096*1024 + 4096 = 4,198,400; linear_2 4096*4096 + 4096 = 16,781,312
        Assert.Equal(4_198_400L + 16_781_312L, c[ModelComponent.Projector].Value);
        Assert.Equal(7_063_427_072L, inv.TotalParameters.Value);
        Assert.Contains(inv.Tensors, t => t.Name == "language_model.model.layers.31.mlp.down_proj.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "language_model.lm_head.weight");
        Assert.Contains(inv.Tensors, t => t.Name == "vision_tower.vision_model.pre_layrnorm.weight");
        Assert.Equal("llava", spec.Family);
        Assert.Equal(577L, spec.Vision!.Patches + 1);
    }

    [Fact]
    public void Read_TextConfigNotADecoder_ThrowsNamingField()
    {
        // Given a text_config of a family LLaVA cannot wrap
        var json = """{"model_type":"llava","text_config":{"model_type":"t5"}}""";

        // When read, then the error names text_config.model_type
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains("text_config.model_type", e.Message);
    }
}
