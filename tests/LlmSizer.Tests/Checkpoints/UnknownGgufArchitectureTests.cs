using LlmSizer.Tests.Cli;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>A GGUF whose <c>general.architecture</c> we have no family for is counted from its tensors and says so.</summary>
public sealed class UnknownGgufArchitectureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-unknown-arch-" + Guid.NewGuid().ToString("N"));

    public UnknownGgufArchitectureTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string arch, bool withKeys)
    {
        var w = new GgufWriter().AddString("general.architecture", arch);
        if (withKeys)
        {
            w.AddUInt32(arch + ".block_count", 1).AddUInt32(arch + ".embedding_length", 64).AddUInt32(arch + ".attention.head_count", 4)
                .AddUInt32(arch + ".context_length", 256);
        }

        // GGUF dims are innermost first: token_embd [vocab 32, hidden 64] is written as (64, 32).
        w.AddTensor("token_embd.weight", GgmlType.F16, 64, 32)
            .AddTensor("blk.0.attn_q.weight", GgmlType.F16, 64, 64)
            .AddTensor("blk.0.attn_k.weight", GgmlType.F16, 64, 64)
            .AddTensor("blk.0.attn_v.weight", GgmlType.F16, 64, 64)
            .AddTensor("output_norm.weight", GgmlType.F32, 64);
        var path = Path.Combine(_dir, arch + ".gguf");
        File.WriteAllBytes(path, w.ToArray());
        return path;
    }

    [Fact]
    public void Params_UnknownArchitecture_CountsTheTensors_AndNamesTheArchitecture()
    {
        // 32 × 64 + 3 × 64 × 64 + 64 = 14,400 parameters, whatever the architecture is called.
        var r = CliRunner.Run("params", Write("mystery", withKeys: true));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("14,400", r.Stdout);
        Assert.Contains("mystery", r.Stderr);
    }

    [Fact]
    public void Params_ArchitectureWithoutItsKeys_CountsTheTensors_AndSaysMemoryCannotBeSized()
    {
        var r = CliRunner.Run("params", Write("enigma", withKeys: false));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("14,400", r.Stdout);
        Assert.Contains("enigma.block_count", r.Stderr);
    }

    [Fact]
    public void Load_UnknownArchitecture_WarnsOnceInOneLine_NamingTheFileAndTheGenericGeometry()
    {
        var path = Write("mystery", withKeys: true);

        var warning = Assert.Single(Sizer.Load(path).Warnings);

        Assert.Equal($"{path}: architecture 'mystery' has no llmsize family: parameters and bytes come from the tensors; memory uses the generic decoder geometry of its metadata (layers, heads, KV heads, head size).", warning);
    }

    /// <summary>A 4-layer hybrid header: three recurrent layers and one attention layer (2 KV heads of 128), with the
    /// <c>{arch}.ssm.*</c> keys llama.cpp reads for its Mamba-2 or gated delta-net layers unless <paramref name="ssm"/> is false.</summary>
    private string WriteHybrid(string arch, bool ssm = true)
    {
        var w = new GgufWriter().AddString("general.architecture", arch).AddUInt32(arch + ".block_count", 4)
            .AddUInt32(arch + ".embedding_length", 1024).AddUInt32(arch + ".attention.head_count", 8)
            .AddUInt32(arch + ".attention.key_length", 128).AddUInt32(arch + ".attention.value_length", 128);
        if (arch is "qwen3next" or "qwen35" or "qwen35moe")
        {
            w.AddUInt32(arch + ".attention.head_count_kv", 2).AddUInt32(arch + ".full_attention_interval", 4);
        }
        else
        {
            w.AddArray(arch + ".attention.head_count_kv", MetaType.UInt32, new uint[] { 0, 0, 0, 2 });
        }

        if (ssm)
        {
            w.AddUInt32(arch + ".ssm.conv_kernel", 4).AddUInt32(arch + ".ssm.inner_size", 2048).AddUInt32(arch + ".ssm.state_size", 128)
                .AddUInt32(arch + ".ssm.time_step_rank", 32).AddUInt32(arch + ".ssm.group_count", 8);
        }

        w.AddTensor("token_embd.weight", GgmlType.F16, 1024, 32).AddTensor("output_norm.weight", GgmlType.F32, 1024);
        var path = Path.Combine(_dir, arch + (ssm ? "" : "-nossm") + ".gguf");
        File.WriteAllBytes(path, w.ToArray());
        return path;
    }

    [Theory]
    [InlineData("qwen3next")]
    [InlineData("qwen35")]
    [InlineData("qwen35moe")]
    [InlineData("granitehybrid")]
    [InlineData("falcon-h1")]
    [InlineData("nemotron_h")]
    [InlineData("nemotron_h_moe")]
    [InlineData("jamba")]
    public void Load_HybridArchitecture_ReadFromItsSsmKeys_HasNoGenericGeometryWarning(string arch)
    {
        // Their layer pattern and recurrent state are read from {arch}.ssm.* and the per-layer attention keys, as
        // llama.cpp reads them: nothing about their memory geometry is generic.
        var model = Sizer.Load(WriteHybrid(arch));

        Assert.True(model.Architecture!.Ssm is not null || model.Architecture.LinearAttention is not null);
        Assert.Empty(model.Warnings);
    }

    [Theory]
    [InlineData("granitehybrid")]
    [InlineData("qwen3next")]
    [InlineData("jamba")] // has a family (jamba), but the recurrent state still cannot be sized
    public void Load_HybridArchitectureWithoutItsSsmKeys_SaysInOneLineThatNoRecurrentStateIsSized(string arch)
    {
        var path = WriteHybrid(arch, ssm: false);

        var warning = Assert.Single(Sizer.Load(path).Warnings);

        Assert.Equal($"{path}: architecture '{arch}' is a hybrid state-space model, but its {arch}.ssm.* keys (conv_kernel, inner_size, state_size, time_step_rank, group_count) are incomplete: parameters and bytes come from the tensors; memory treats every layer with KV heads as attention and sizes no recurrent state.", warning);
    }

    [Fact]
    public void Check_OnAGguf_SaysWhatIsMissing_WithoutContradictingItself()
    {
        // A GGUF's architecture comes from the same metadata as its tensors: there is no config to compare with.
        var r = CliRunner.Run("params", Write("llama", withKeys: true), "--check");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--check", r.Stderr);
        Assert.Contains("found a GGUF file", r.Stderr);
        Assert.DoesNotContain("safetensors or GGUF", r.Stderr);
    }
}
