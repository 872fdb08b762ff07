using LlmSizer.DataTypes;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Checkpoints;

public class InventoryComparisonTests
{
    private static TensorInfo T(string name, TensorGroup group, params long[] shape) => new(name, [.. shape], DataType.F32, group);

    [Fact]
    public void Compare_PrefixlessCheckpointNames_MatchStateDictNames()
    {
        // Given the GPT2LMHeadModel state-dict names and the original gpt2 file names without "transformer."
        var expected = new TensorInventory([T("transformer.wte.weight", TensorGroup.Embedding, 50257, 768), T("transformer.h.0.ln_1.weight", TensorGroup.Norm, 768)]);
        var actual = new TensorInventory([T("wte.weight", TensorGroup.Embedding, 50257, 768), T("h.0.ln_1.weight", TensorGroup.Norm, 768)]);

        // When / Then
        var result = InventoryComparison.Compare(expected, actual);
        Assert.True(result.IsMatch);
        Assert.Equal(2, result.Matched);
    }

    [Fact]
    public void Compare_TiedHeadStoredTwice_NotExtra()
    {
        var expected = new TensorInventory([T("model.embed_tokens.weight", TensorGroup.Embedding, 32000, 64)]);
        var actual = new TensorInventory([T("model.embed_tokens.weight", TensorGroup.Embedding, 32000, 64), T("lm_head.weight", TensorGroup.LmHead, 32000, 64)]);
        Assert.True(InventoryComparison.Compare(expected, actual).IsMatch);
    }

    [Fact]
    public void Compare_MissingExtraAndMisshapen_AllListed()
    {
        var expected = new TensorInventory([T("a.weight", TensorGroup.Mlp, 4, 4), T("b.weight", TensorGroup.Mlp, 4, 4)]);
        var actual = new TensorInventory([T("a.weight", TensorGroup.Mlp, 4, 8), T("c.weight", TensorGroup.Mlp, 2)]);
        var result = InventoryComparison.Compare(expected, actual);
        Assert.Equal("b.weight", Assert.Single(result.Missing).Name);
        Assert.Equal("c.weight", Assert.Single(result.Extra).Name);
        Assert.Equal("a.weight", Assert.Single(result.Misshapen).Name);
        Assert.False(result.IsMatch);
    }

    [Fact]
    public void Compare_OldBertGammaBeta_MatchWeightBias()
    {
        var expected = new TensorInventory([T("bert.embeddings.LayerNorm.weight", TensorGroup.Norm, 768), T("bert.embeddings.LayerNorm.bias", TensorGroup.Norm, 768)]);
        var actual = new TensorInventory([T("bert.embeddings.LayerNorm.gamma", TensorGroup.Norm, 768), T("bert.embeddings.LayerNorm.beta", TensorGroup.Norm, 768)]);
        Assert.True(InventoryComparison.Compare(expected, actual).IsMatch);
    }
}
