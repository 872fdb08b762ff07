using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>Mistral 3: Pixtral tower, patch-merger projector and the Mistral language model, counted by hand.</summary>
public class Mistral3FamilyTests
{
    [Fact]
    public void MistralSmall31_Components_CountedByHand()
    {
        // Given mistralai/Mistral-Small-3.1-24B-Instruct-2503
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "mistral-small-3.1-24b-instruct-2503.json"));
        var inv = family.Generate(spec);
        var c = inv.ByComponent();

        // Then the language model: embed + untied head 2*131072*5120 = 1,342,177,280; per layer q 4096*5120, k,v 1024*5120,
        // o 5120*4096 = 52,428,800, mlp 3*5120*32768 = 503,316,480, norms 10,240 -> 555,755,520 x 40 = 22,230,220,800;
        // norm 5,120 -> 23,572,403,200.
        Assert.Equal(1_342_177_280L + 22_230_220_800L + 5120L, c[ModelComponent.LanguageModel].Value);

        // And the Pixtral tower: patch_conv 1024*3*14*14 = 602,112; ln_pre 1,024; per layer norms 2,048, q,k,v,o 4*1024^2 =
        // 4,194,304, gated MLP 3*1024*4096 = 12,582,912 -> 16,779,264 x 24 = 402,702,336.
        Assert.Equal(602_112L + 1024L + 402_702_336L, c[ModelComponent.VisionTower].Value);

        // And the projector: norm 1,024; merging_layer 1024 x 4*1024 = 4,194,304; linear_1 5120*1024; linear_2 5120^2 (no biases)
        Assert.Equal(1024L + 4_194_304L + 5_242_880L + 26_214_400L, c[ModelComponent.Projector].Value);
        Assert.Equal(24_011_361_280L, inv.TotalParameters.Value);
        Assert.Equal([1024L, 4096L], [.. inv.Tensors.Single(t => t.Name == "multi_modal_projector.patch_merger.merging_layer.weight").Shape]);
        Assert.DoesNotContain(inv.Tensors, t => t.Name == "multi_modal_projector.linear_1.bias");
    }

    [Fact]
    public void Read_MissingVisionConfig_ThrowsNamingField()
    {
        // Given a Mistral 3 config without its vision_config, when read, then the error names it
        var json = """{"model_type":"mistral3","text_config":{"model_type":"mistral"}}""";
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains("vision_config", e.Message);
    }
}
