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
    public void LlavaNext_Mistral7b_IsLlavaPlusTheImageNewline_CountedByHand()
    {
        // Given llava-hf/llava-v1.6-mistral-7b-hf's config (the keys that shape tensors; MistralConfig defaults fill
        // the rest: hidden 4096, 32 layers, 32 heads, 8 KV heads, head_dim 128; vision_config CLIP ViT-L/14 at 336 px).
        var json = """
            { "model_type": "llava_next", "architectures": ["LlavaNextForConditionalGeneration"], "torch_dtype": "float16",
              "text_config": { "model_type": "mistral", "intermediate_size": 14336, "max_position_embeddings": 32768,
                               "num_key_value_heads": 8, "rope_theta": 1000000.0, "vocab_size": 32064 },
              "vision_config": { "model_type": "clip_vision_model", "hidden_size": 1024, "image_size": 336, "intermediate_size": 4096,
                                 "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768 },
              "vision_feature_layer": -2, "image_grid_pinpoints": [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]] }
            """;
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json"));
        var inv = family.Generate(spec);
        var c = inv.ByComponent();

        // Then the language model is Mistral-7B-v0.1's 7,241,732,096 with 64 more vocabulary rows in the embedding and
        // the untied head (2 × 64 × 4,096); the tower and projector are LLaVA-1.5's (above); LLaVA-NeXT adds one learned
        // image_newline of the text hidden size (modeling_llava_next.py). Sum 7,566,747,648 — the Hub page's "7.57B".
        Assert.Equal(7_241_732_096L + (2 * 64 * 4096L), c[ModelComponent.LanguageModel].Value);
        Assert.Equal(303_507_456L, c[ModelComponent.VisionTower].Value);
        Assert.Equal(4_198_400L + 16_781_312L + 4_096L, c[ModelComponent.Projector].Value);
        Assert.Equal(7_566_747_648L, inv.TotalParameters.Value);
        Assert.Contains(inv.Tensors, t => t.Name == "image_newline" && t.Shape.SequenceEqual([4096L]));
        Assert.Equal("llava_next", spec.Family);
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
