using LlmSizer.Architecture;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

public class LlamaFamilyTests
{
    [Fact]
    public void Read_Llama31_8B_TotalEqualsPublishedCount()
    {
        // Given the catalog config of meta-llama/Llama-3.1-8B
        var model = ModelResolver.Resolve("llama-3.1-8b");

        // When / Then: 8,030,261,248 is the published safetensors total (huggingface.js parse-safetensors-metadata.spec.ts).
        // By hand: embed 128256*4096 = 525,336,576; lm_head the same; per layer q 4096*4096 + k,v 2*1024*4096 + o 4096*4096
        // = 41,943,040, mlp 3*14336*4096 = 176,160,768, norms 8192 -> 218,112,000 x 32 = 6,979,584,000; final norm 4096.
        Assert.Equal(525_336_576L * 2 + 6_979_584_000L + 4096, model.Inventory.TotalParameters.Value);
        Assert.Equal(8_030_261_248L, model.Inventory.TotalParameters.Value);
        Assert.Equal(291, model.Inventory.Tensors.Length);
    }

    [Fact]
    public void Read_HeadsNotDividingHidden_ThrowsNamingField()
    {
        var config = ConfigObject.Parse("""{"model_type":"llama","hidden_size":100,"num_attention_heads":7}""", "x/config.json");
        var ex = Assert.Throws<LlmSizer.Errors.ModelConfigException>(() => HuggingFaceConfigReader.Read(config));
        Assert.Contains("x/config.json", ex.Message);
        Assert.Contains("num_attention_heads", ex.Message);
    }

    [Fact]
    public void Groups_Llama31_8B_EmbeddingAndHeadSeparate()
    {
        var groups = ModelResolver.Resolve("llama-3.1-8b").Inventory.ByGroup();
        Assert.Equal(525_336_576L, groups[TensorGroup.Embedding].Value);
        Assert.Equal(525_336_576L, groups[TensorGroup.LmHead].Value);
    }
}
