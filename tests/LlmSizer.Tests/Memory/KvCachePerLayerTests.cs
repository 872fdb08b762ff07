using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Memory;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Memory;

/// <summary>Per-layer KV geometry: a layer's own head dimension (<see cref="ArchitectureSpec.LayerHeadDims"/>) and layers
/// with zero KV heads, which read another layer's cache and hold none of their own.</summary>
public class KvCachePerLayerTests
{
    // Four layers: two sliding (head_dim 256, 2 kv heads), one full with its own head_dim 512, and a last layer that
    // shares an earlier layer's cache (0 kv heads).
    private static ArchitectureSpec Spec() => new()
    {
        Family = "llama", Layers = 4, Hidden = 1024, Heads = 8, KvHeads = 2, HeadDim = 256, Intermediate = 4096, Vocab = 1000,
        SlidingWindow = 512,
        LayerKinds = [AttentionLayerKind.Sliding, AttentionLayerKind.Sliding, AttentionLayerKind.Full, AttentionLayerKind.Full],
        LayerHeadDims = [256, 256, 512, 512],
        LayerKvHeads = [2, 2, 2, 0],
    };

    [Fact]
    public void BytesPerToken_LayerWithOwnHeadDim_UsesIt()
    {
        // Given a full layer with head_dim 512 beside sliding layers of 256
        var spec = Spec();

        // When its bf16 bytes per token are computed
        // Then K and V are 2 kv heads × 512 × 2 B each: 2 × 2 × 512 × 2 = 4,096 B; a sliding layer 2 × 2 × 256 × 2 = 2,048 B
        Assert.Equal(4096, KvCache.BytesPerToken(spec, 2, 1, InferenceEngine.Hf, DataType.BF16));
        Assert.Equal(2048, KvCache.BytesPerToken(spec, 0, 1, InferenceEngine.Hf, DataType.BF16));
    }

    [Fact]
    public void BytesPerToken_KvSharedLayer_IsZero()
    {
        // Given a layer with zero KV heads (it reads another layer's cache)
        var spec = Spec();

        // When / Then it holds no cache
        Assert.Equal(0, KvCache.BytesPerToken(spec, 3, 1, InferenceEngine.Vllm, DataType.BF16));
        Assert.Equal(0, KvCache.BytesPerToken(spec, 3, 1, InferenceEngine.LlamaCpp, DataType.F16));
    }

    [Fact]
    public void HeadDimOf_WithoutPerLayerDims_IsHeadDim()
    {
        // Given a spec without per-layer head dims
        var spec = Spec() with { LayerHeadDims = [], ValueHeadDim = 128 };

        // When / Then every layer has head_dim for K and the value head dim for V
        Assert.Equal(256, spec.HeadDimOf(2));
        Assert.Equal(128, spec.VHeadDimOf(2));
    }

    [Theory]
    [InlineData("model.embed_vision.embedding_projection.weight")]
    [InlineData("model.embed_audio.embedding_projection.weight")]
    public void FromTensorName_GemmaMultimodalEmbedder_IsProjector(string name) =>
        Assert.Equal(ModelComponent.Projector, ModelComponents.FromTensorName(name));
}
