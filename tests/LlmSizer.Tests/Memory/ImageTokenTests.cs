using LlmSizer.Errors;
using LlmSizer.Memory;

namespace LlmSizer.Tests.Memory;

/// <summary>Images per sequence (<see cref="Workload.Images"/>): their tokens join the context, or fill the
/// cross-attention cache of Llama 3.2 Vision.</summary>
public sealed class ImageTokenTests
{
    [Fact]
    public void Memory_ImagesOnLlava_AddTheirTokensToTheContext()
    {
        // Given LLaVA-1.5-7B (CLIP 336 px, patch 14: 576 tokens per image), 2 images and 1,000 text tokens
        var withImages = Sizer.Memory("llava-1.5-7b", new Workload { Engine = InferenceEngine.Hf, Context = 1000, Images = 2 });

        // When the same is sized as 1000 + 2 x 576 text tokens
        var asText = Sizer.Memory("llava-1.5-7b", new Workload { Engine = InferenceEngine.Hf, Context = 1000 + (2 * 576) });

        // Then the KV cache is the same, and the assumptions show the image tokens
        Assert.Equal(asText["kv_cache"].Bytes, withImages["kv_cache"].Bytes);
        Assert.Contains(withImages.Assumptions, a => a.Name == "image_tokens" && a.ValueText == "1152");
        Assert.Contains(withImages.Assumptions, a => a.Name == "context" && a.ValueText == "2152");
    }

    [Fact]
    public void Memory_ImagesOnMllama_FillTheCrossAttentionCacheNotTheContext()
    {
        // Given Llama-3.2-11B-Vision in vLLM, bf16 cache, 1 image per sequence, 2 sequences
        var workload = new Workload { Engine = InferenceEngine.Vllm, Context = 4096, Batch = 2, Images = 1, KvType = DataTypes.DataType.BF16 };

        // When it is sized
        var e = Sizer.Memory("llama-3.2-11b-vision", workload);

        // Then each image is 4 tiles x 1,601 = 6,404 vision tokens (6,416 in 16-token blocks), cached by 8 cross layers x
        // K and V x 8 kv heads x 128 x 2 B = 32,768 B/token
        Assert.Equal(2L * 6416 * 8 * 2 * 8 * 128 * 2, e["cross_attention_kv"].Bytes);

        // And the 32 self-attention layers cache the 4,096 text tokens only
        Assert.Equal(2L * 4096 * 32 * 2 * 8 * 128 * 2, e["kv_cache"].Bytes);
    }

    [Fact]
    public void Memory_ImagesOnTextModel_NameTheImagesSetting()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => Sizer.Memory("llama-3.1-8b", new Workload { Images = 1 }));
        Assert.Equal(SettingNames.Images, ex.Setting);
        Assert.Contains("vision", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Memory_ImagesOnDynamicResolutionTower_NameTheImagesSetting()
    {
        // Qwen2-VL takes images at their own resolution: no fixed token count per image
        var ex = Assert.Throws<InvalidSettingException>(() => Sizer.Memory("qwen2-vl-7b", new Workload { Images = 1 }));
        Assert.Equal(SettingNames.Images, ex.Setting);
    }

    [Fact]
    public void Cli_MemoryImages_ShowsCrossAttentionCache()
    {
        var r = Cli.CliRunner.Run("memory", "llama-3.2-11b-vision", "--images", "1", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("cross_attention_kv", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"image_tokens\"", r.Stdout, StringComparison.Ordinal);
    }
}
