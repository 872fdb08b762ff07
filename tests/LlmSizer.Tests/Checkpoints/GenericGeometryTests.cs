using LlmSizer.Architecture;
using LlmSizer.Tests.Cli;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Configs whose model_type has no family reader: the standard fields still give the attention geometry.</summary>
public class GenericGeometryTests
{
    [Fact]
    public void TryRead_HeadDimFromHiddenOverHeads_AndTextConfig()
    {
        // Given: a multimodal-style config with the language model's fields under text_config, no head_dim
        var config = ConfigObject.Parse("""
            {"model_type": "zorblax_vl", "text_config": {"num_hidden_layers": 6, "hidden_size": 512, "num_attention_heads": 8,
             "num_key_value_heads": 2, "vocab_size": 3200, "max_position_embeddings": 2048}}
            """, "config.json");

        // When
        var spec = GenericGeometry.TryRead(config, "zorblax_vl", out var described);

        // Then: head_dim 512 / 8 = 64; intermediate defaults to 4 × 512
        Assert.NotNull(spec);
        Assert.Equal(6, spec.Layers);
        Assert.Equal(2, spec.KvHeads);
        Assert.Equal(64, spec.HeadDim);
        Assert.Equal(2048, spec.Intermediate);
        Assert.Contains("hidden_size / num_attention_heads", described);
    }

    [Fact]
    public void TryRead_WithoutLayersOrHeads_IsNull()
    {
        var config = ConfigObject.Parse("""{"model_type": "zorblax", "hidden_size": 512}""", "config.json");

        Assert.Null(GenericGeometry.TryRead(config, "zorblax", out _));
    }

    [Fact]
    public void LocalFolder_UnknownFamily_MemoryWorksWithAWarning()
    {
        // Given: a local folder with an unknown model_type and one safetensors file (1000 × 256 BF16 = 256,000 parameters)
        using var dir = new TempDir();
        dir.Write("config.json", """
            {"model_type": "zorblax", "num_hidden_layers": 4, "hidden_size": 256, "num_attention_heads": 4, "num_key_value_heads": 1,
             "head_dim": 64, "vocab_size": 1000, "torch_dtype": "bfloat16"}
            """);
        new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 1000, 256).WriteFile(Path.Combine(dir.Path, "model.safetensors"));

        // When
        var r = CliRunner.Run("memory", dir.Path, "--context", "1024", "--json");

        // Then: KV 2 × 4 layers × 1 KV head × 64 × 1024 tokens × 2 bytes = 1,048,576
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("generic attention geometry", r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var kv = doc.RootElement.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "kv_cache");
        Assert.Equal(1_048_576L, kv.GetProperty("bytes").GetInt64());
    }
}
