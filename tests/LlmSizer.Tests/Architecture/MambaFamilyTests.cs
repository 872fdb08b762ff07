using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

using static LlmSizer.Tests.Architecture.FamilyFixtures;

namespace LlmSizer.Tests.Architecture;

/// <summary>Mamba-1 and Mamba-2: tensor lists and counts by hand, layer kinds and SSM geometry, bad input.</summary>
public class MambaFamilyTests
{
    private const string File = "fixture/config.json";

    private const string Mamba2Tiny = """
        {"architectures":["Mamba2ForCausalLM"],"model_type":"mamba2","hidden_size":64,"expand":2,"num_heads":4,"head_dim":32,
         "n_groups":2,"state_size":16,"conv_kernel":4,"num_hidden_layers":2,"vocab_size":100}
        """;

    private static (ArchitectureSpec Spec, TensorInventory Inventory) Read(string json)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, File));
        return (spec, family.Generate(spec));
    }

    [Fact]
    public void Mamba1_Mamba28b_CountedByHand()
    {
        // Given state-spaces/mamba-2.8b-hf's config
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "mamba-2.8b-hf.json"));
        var inv = family.Generate(spec);

        // Then by hand (d_inner 5120, N 16, dt_rank 160): in_proj 10240*2560 = 26,214,400; conv1d 5120*4 + 5120 = 25,600;
        // x_proj (160 + 32)*5120 = 983,040; dt_proj 5120*160 + 5120 = 824,320; A_log 5120*16 = 81,920; D 5,120;
        // out_proj 2560*5120 = 13,107,200; norm 2,560 -> 41,244,160 per layer x 64 = 2,639,626,240; embeddings
        // 50280*2560 = 128,716,800 (tied head); norm_f 2,560 -> 2,768,345,600 in 642 tensors.
        Assert.Equal(2_639_626_240L + 128_716_800L + 2560L, inv.TotalParameters.Value);
        Assert.Equal(642, inv.Tensors.Length);
        Assert.Equal([5120L, 1L, 4L], Shape(inv, "backbone.layers.63.mixer.conv1d.weight"));
        Assert.Equal([192L, 5120L], Shape(inv, "backbone.layers.0.mixer.x_proj.weight"));
        Assert.Equal([5120L, 16L], Shape(inv, "backbone.layers.0.mixer.A_log"));
        Assert.DoesNotContain(inv.Tensors, t => t.Name == "lm_head.weight");
        Assert.Equal(SsmKind.Mamba1, spec.Ssm!.Kind);
        Assert.Equal(160, spec.Ssm.TimeStepRank);
        Assert.Equal(5120, spec.Ssm.InnerSize);
        Assert.All(Enumerable.Range(0, 64), l => Assert.Equal(LayerMixer.Ssm, spec.MixerOf(l)));
        Assert.All(Enumerable.Range(0, 64), l => Assert.Equal(AttentionLayerKind.None, spec.LayerKind(l)));
    }

    [Fact]
    public void Mamba1_TimeStepRankAuto_IsCeilingOfHiddenOver16()
    {
        // Given MambaConfig's default time_step_rank "auto" and hidden 770
        var (spec, inv) = Read("""{"model_type":"mamba","hidden_size":770,"num_hidden_layers":1,"time_step_rank":"auto"}""");

        // Then dt_rank = ceil(770 / 16) = 49 and x_proj is [49 + 2*16, 1540]
        Assert.Equal(49, spec.Ssm!.TimeStepRank);
        Assert.Equal([81L, 1540L], Shape(inv, "backbone.layers.0.mixer.x_proj.weight"));
    }

    [Fact]
    public void Mamba2_Tiny_CountedByHand()
    {
        // Given a tiny Mamba-2: hidden 64, d_inner 128 = 4 heads x 32, 2 groups, N 16, untied (Mamba2Config's default)
        var (spec, inv) = Read(Mamba2Tiny);

        // Then per layer: in_proj (2*128 + 2*2*16 + 4) = 324 x 64 = 20,736; conv1d (128 + 64) = 192 channels x 4 + 192 =
        // 960; dt_bias, A_log, D 3 x 4 = 12; gated norm 128; out_proj 64*128 = 8,192; layer norm 64 -> 30,092 x 2 =
        // 60,184; embeddings 100*64 = 6,400, lm_head 6,400, norm_f 64 -> 73,048.
        Assert.Equal(73_048L, inv.TotalParameters.Value);
        Assert.Equal([324L, 64L], Shape(inv, "backbone.layers.1.mixer.in_proj.weight"));
        Assert.Equal([192L, 1L, 4L], Shape(inv, "backbone.layers.0.mixer.conv1d.weight"));
        Assert.Equal([128L], Shape(inv, "backbone.layers.0.mixer.norm.weight"));
        Assert.Equal([100L, 64L], Shape(inv, "lm_head.weight"));
        Assert.Equal(60_184L, inv.ByGroup()[TensorGroup.Ssm].Value + (2 * 64));
        Assert.Equal(SsmKind.Mamba2, spec.Ssm!.Kind);
        Assert.Equal((4, 32, 2, 16, 4), (spec.Ssm.Heads, spec.Ssm.HeadDim, spec.Ssm.Groups, spec.Ssm.StateSize, spec.Ssm.ConvKernel));
    }

    [Theory]
    [InlineData("""{"model_type":"mamba2","hidden_size":64,"num_heads":5,"head_dim":32}""", "num_heads")]
    [InlineData("""{"model_type":"mamba2","hidden_size":64,"num_heads":4,"head_dim":32,"n_groups":3}""", "n_groups")]
    [InlineData("""{"model_type":"mamba","time_step_rank":"big"}""", "time_step_rank")]
    [InlineData("""{"model_type":"mamba","state_size":0}""", "state_size")]
    [InlineData("""{"model_type":"mamba","num_hidden_layers":100000}""", "num_hidden_layers")]
    [InlineData("""{"model_type":"mamba","hidden_size":1048576,"expand":1024,"num_hidden_layers":10000}""", "hidden_size")]
    public void Read_BadField_ThrowsNamingField(string json, string field)
    {
        // Given a config with one bad field, when it is read, then the one-line error names the field
        var e = Assert.Throws<ModelConfigException>(() => Read(json));
        Assert.Contains(field, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
