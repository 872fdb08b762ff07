using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Qwen2-VL and Qwen2.5-VL: vision tower, patch merger and language model counted by hand.</summary>
public class Qwen2VlFamilyTests
{
    [Fact]
    public void Qwen25Vl7b_Components_MatchPublishedVisualAndLanguageCounts()
    {
        // Given Qwen/Qwen2.5-VL-7B-Instruct
        var (spec, inv) = ReadSpecConfig("qwen2.5-vl-7b-instruct.json");
        var c = inv.ByComponent();

        // Then the tower by hand: patch_embed 1280*3*2*14*14 = 1,505,280 (no bias); per block RMSNorms 2,560, qkv
        // 3840*1280 + 3840 = 4,919,040, proj 1,639,680, gate/up 2*(3420*1280 + 3420) = 8,762,040, down 3420*1280 + 1280 =
        // 4,378,880 -> 19,702,200 x 32 = 630,470,400 -> 631,975,680.
        Assert.Equal(1_505_280L + 630_470_400L, c[ModelComponent.VisionTower].Value);

        // And the merger: ln_q 1,280; mlp.0 5120*5120 + 5120 = 26,219,520; mlp.2 3584*5120 + 3584 = 18,353,664 -> 44,574,464.
        Assert.Equal(1280L + 26_219_520L + 18_353_664L, c[ModelComponent.Projector].Value);

        // And together they are the published model.visual count, 676,550,144; the language model is Qwen2.5-7B's 7,615,616,512
        Assert.Equal(676_550_144L, c[ModelComponent.VisionTower].Value + c[ModelComponent.Projector].Value);
        Assert.Equal(7_615_616_512L, c[ModelComponent.LanguageModel].Value);
        Assert.Equal([1280L, 3L, 2L, 14L, 14L], [.. inv.Tensors.Single(t => t.Name == "visual.patch_embed.proj.weight").Shape]);
        Assert.Equal((2, 2), (spec.Vision!.TemporalPatchSize, spec.Vision.SpatialMergeSize));
    }

    [Fact]
    public void Qwen2Vl7b_LayerNormTowerWithFc_CountedByHand()
    {
        // Given Qwen/Qwen2-VL-7B-Instruct (LayerNorms with bias, fc1/fc2 of 4 x 1280)
        var (_, inv) = ReadSpecConfig("qwen2-vl-7b-instruct.json");
        var c = inv.ByComponent();

        // Then per block: norms 5,120, qkv 4,919,040, proj 1,639,680, fc1 5120*1280 + 5120 = 6,558,720, fc2 1280*5120 + 1280 =
        // 6,554,880 -> 19,677,440 x 32 = 629,678,080, + patch_embed 1,505,280; merger ln_q 2,560 + 26,219,520 + 18,353,664.
        Assert.Equal(1_505_280L + 629_678_080L, c[ModelComponent.VisionTower].Value);
        Assert.Equal(2560L + 26_219_520L + 18_353_664L, c[ModelComponent.Projector].Value);
        Assert.Equal(8_291_375_616L, inv.TotalParameters.Value);
    }

    [Fact]
    public void Read_MergerOutputNotLanguageWidth_ThrowsNamingField()
    {
        // Given a vision config whose merger would not feed the language model
        var json = """{"model_type":"qwen2_5_vl","hidden_size":1024,"num_attention_heads":8,"num_key_value_heads":8,"vision_config":{"out_hidden_size":2048}}""";

        // When read, then the error names the field
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains("vision_config.out_hidden_size", e.Message);
    }
}
