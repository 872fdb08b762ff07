using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Whisper: the audio encoder and the text decoder counted by hand, per component.</summary>
public class WhisperFamilyTests
{
    [Fact]
    public void WhisperLargeV3_Components_CountedByHand()
    {
        // Given openai/whisper-large-v3 (d 1280, 32 + 32 layers, ffn 5120, 128 mel bins, vocab 51866)
        var (spec, inv) = ReadSpecConfig("whisper-large-v3.json");
        var components = inv.ByComponent();

        // Then the audio encoder: conv1 1280*128*3 + 1280 = 492,800; conv2 1280*1280*3 + 1280 = 4,916,480; positions
        // 1500*1280 = 1,920,000; per layer attention 4*1280^2 + 3*1280 (no k_proj bias) = 6,557,440, fc1 5120*1280 + 5120 =
        // 6,558,720, fc2 1280*5120 + 1280 = 6,554,880, two LayerNorms 5,120 -> 19,676,160 x 32 = 629,637,120; layer_norm
        // 2,560 -> 636,970,880.
        Assert.Equal(492_800L + 4_916_480L + 1_920_000L + 629_637_120L + 2560L, components[ModelComponent.AudioEncoder].Value);

        // And the decoder: embed_tokens 51866*1280 = 66,388,480 (proj_out tied); positions 448*1280 = 573,440; per layer
        // self + cross attention 2*6,557,440, MLP 13,113,600, three LayerNorms 7,680 -> 26,236,160 x 32 = 839,557,120;
        // layer_norm 2,560 -> 906,521,600.
        Assert.Equal(66_388_480L + 573_440L + 839_557_120L + 2560L, components[ModelComponent.LanguageModel].Value);
        Assert.Equal(1_543_490_560L, inv.TotalParameters.Value);
        Assert.DoesNotContain(inv.Tensors, t => t.Name == "model.encoder.layers.0.self_attn.k_proj.bias");
        Assert.DoesNotContain(inv.Tensors, t => t.Name == "proj_out.weight");
        Assert.Equal([1280L, 128L, 3L], [.. inv.Tensors.Single(t => t.Name == "model.encoder.conv1.weight").Shape]);
        Assert.Equal((32, 32, 20, 64), (spec.Layers, spec.DecoderLayers!.Value, spec.Heads, spec.HeadDim));
    }

    [Fact]
    public void WhisperTurbo_FourDecoderLayers_DropsTwentyEightLayers()
    {
        // Given whisper-large-v3-turbo: the same encoder, 4 decoder layers
        var (_, inv) = ReadSpecConfig("whisper-large-v3-turbo.json");

        // Then 1,543,490,560 - 28 x 26,236,160 = 808,878,080
        Assert.Equal(1_543_490_560L - (28L * 26_236_160), inv.TotalParameters.Value);
    }

    [Theory]
    [InlineData("""{"model_type":"whisper","d_model":384,"decoder_attention_heads":7}""", "decoder_attention_heads")]
    [InlineData("""{"model_type":"whisper","num_mel_bins":0}""", "num_mel_bins")]
    [InlineData("""{"model_type":"whisper","architectures":["WhisperForAudioClassification"]}""", "architectures[0]")]
    public void Read_BadField_ThrowsOneLineNamingField(string json, string field)
    {
        // Given one bad field, when read, then a one-line error names it
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json")));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
