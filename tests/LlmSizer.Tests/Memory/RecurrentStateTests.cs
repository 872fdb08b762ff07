using LlmSizer.Architecture;
using LlmSizer.DataTypes;
using LlmSizer.Memory;

namespace LlmSizer.Tests.Memory;

/// <summary>Recurrent-state bytes per sequence, checked by hand against llama.cpp's n_embd_r/n_embd_s and vLLM's
/// MambaStateShapeCalculator formulas (see <see cref="RecurrentState"/>).</summary>
public class RecurrentStateTests
{
    private static ArchitectureSpec Read(string json)
    {
        var (spec, _) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json"));
        return spec;
    }

    [Fact]
    public void BytesPerSequence_Mamba28bF32_IsConvPlusSsmPerLayer()
    {
        // Given state-spaces/mamba-2.8b-hf (d_inner 5120, N 16, d_conv 4, 64 layers) and llama.cpp's F32 state
        var (spec, _) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "mamba-2.8b-hf.json"));

        // When sized
        var bytes = RecurrentState.BytesPerSequence(spec, DataType.F32, DataType.F32);

        // Then conv (4 - 1) x 5120 = 15,360 and SSM 16 x 5120 = 81,920 elements per layer; x 4 bytes = 389,120; x 64 layers
        Assert.Equal(15_360L, RecurrentState.ConvStateElements(spec.Ssm!));
        Assert.Equal(81_920L, RecurrentState.SsmStateElements(spec.Ssm!));
        Assert.Equal(389_120L * 64, bytes.Bytes);
    }

    [Fact]
    public void BytesPerSequence_CodestralShapedMamba2Bf16_CountsGroupsInConv()
    {
        // Given Mamba-Codestral-7B's geometry: hidden 4096, d_inner 8192 = 128 heads x 64, 8 groups, N 128, 64 layers
        var spec = Read("""
            {"model_type":"mamba2","hidden_size":4096,"expand":2,"num_heads":128,"head_dim":64,"n_groups":8,"state_size":128,
             "conv_kernel":4,"num_hidden_layers":64,"vocab_size":32768}
            """);

        // When sized at the model dtype (vLLM's "auto" cache dtypes)
        var bytes = RecurrentState.BytesPerSequence(spec, DataType.BF16, DataType.BF16);

        // Then conv 3 x (8192 + 2*8*128) = 30,720 and SSM 128 x 64 x 128 = 1,048,576 elements per layer;
        // x 2 bytes = 2,158,592 per layer; x 64 = 138,149,888
        Assert.Equal(30_720L, RecurrentState.ConvStateElements(spec.Ssm!));
        Assert.Equal(1_048_576L, RecurrentState.SsmStateElements(spec.Ssm!));
        Assert.Equal(138_149_888L, bytes.Bytes);
    }

    [Fact]
    public void ConvStateElements_TensorParallelNotDividingGroups_PadsGroups()
    {
        // Given 2 groups of N 16 over d_inner 128 (4 heads x 32) and tp 4
        var ssm = new SsmSpec { Kind = SsmKind.Mamba2, StateSize = 16, ConvKernel = 4, Expand = 2, InnerSize = 128, Groups = 2, Heads = 4, HeadDim = 32 };

        // Then vLLM's extra_groups_for_head_shards adds 4 - 2 = 2 groups: conv 3 x (128 + 2*4*16) / 4 = 192; SSM 1 x 32 x 16 = 512
        Assert.Equal(192L, RecurrentState.ConvStateElements(ssm, 4));
        Assert.Equal(512L, RecurrentState.SsmStateElements(ssm, 4));

        // And at tp 1: conv 3 x (128 + 64) = 576, SSM 4 x 32 x 16 = 2,048 (= N x d_inner)
        Assert.Equal(576L, RecurrentState.ConvStateElements(ssm));
        Assert.Equal(2048L, RecurrentState.SsmStateElements(ssm));
    }

    [Fact]
    public void BytesPerSequence_AttentionOnlyModel_IsZero()
    {
        // Given a Llama (no SSM layers), when sized, then there is no recurrent state
        var spec = Read("""{"model_type":"llama","hidden_size":64,"num_attention_heads":4,"num_hidden_layers":2,"intermediate_size":128,"vocab_size":100}""");
        Assert.Equal(0L, RecurrentState.BytesPerSequence(spec, DataType.F32, DataType.F32).Bytes);
        Assert.Equal(0, RecurrentState.SsmLayers(spec));
    }

    [Fact]
    public void ConvStateElements_ZeroTensorParallel_Throws()
    {
        // Given a valid geometry, when tp is 0, then the argument is rejected
        var ssm = new SsmSpec { Kind = SsmKind.Mamba1, StateSize = 16, ConvKernel = 4, Expand = 2, InnerSize = 128 };
        Assert.Throws<ArgumentOutOfRangeException>(() => RecurrentState.ConvStateElements(ssm, 0));
    }
}
