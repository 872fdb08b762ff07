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
