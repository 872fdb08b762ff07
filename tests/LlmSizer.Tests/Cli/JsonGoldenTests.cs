using System.Text.Json;

namespace LlmSizer.Tests.Cli;

/// <summary>Golden files of every command's JSON (the contract in README "JSON contract"). They pin names, order and
/// types; the numbers in them are asserted against published counts and hand calculations in the other tests. The
/// params, models and seed files were checked byte for byte against the output of the hand-written JSON writers they
/// replace; the memory files differ from that output only where the contract says (typed assumptions, added fields).</summary>
public class JsonGoldenTests
{
    [Theory]
    [InlineData("Json/Params_Llama31_8B", new[] { "params", "llama-3.1-8b", "--json" })]
    [InlineData("Json/Params_Gpt2_Tensors_Layers", new[] { "params", "gpt2", "--json", "--tensors", "--layers-detail" })]
    [InlineData("Json/Params_Manual", new[] { "params", "--layers", "2", "--hidden", "64", "--heads", "4", "--vocab", "100", "--json" })]
    [InlineData("Json/Models", new[] { "models", "--json" })]
    [InlineData("Json/Seed", new[] { "seed", "--json" })]
    [InlineData("Json/Memory_Llama31_8B_Vllm", new[] { "memory", "llama-3.1-8b", "--json" })]
    [InlineData("Json/Memory_Llama31_8B_Training_Zero3", new[] { "memory", "llama-3.1-8b", "--mode", "training", "--zero", "3", "--gpus", "8", "--recompute", "full", "--json" })]
    [InlineData("Json/Memory_Llama31_8B_Qlora", new[] { "memory", "llama-3.1-8b", "--mode", "training", "--qlora", "--lora-rank", "16", "--context", "2048", "--json" })]
    [InlineData("Json/Memory_Qwen3_8B_LlamaCpp", new[] { "memory", "qwen3-8b", "--engine", "llamacpp", "--dtype", "q4_k_m", "--kv-dtype", "q8_0", "--flash-attn", "on", "--context", "32768", "--json" })]
    public void Json_MatchesGolden(string golden, string[] args)
    {
        // Given the command, When it runs with --json
        var r = CliRunner.Run(args);

        // Then it succeeds, the output is one JSON document, and it equals the golden file
        Assert.Equal(0, r.ExitCode);
        using (JsonDocument.Parse(r.Stdout))
        {
        }

        Golden.Match(r.Stdout, golden);
    }

    [Fact]
    public void MemoryJson_AssumptionValues_AreTypedAndTextKeptCompatible()
    {
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--context", "32k", "--json");

        using var doc = JsonDocument.Parse(r.Stdout);
        var a = doc.RootElement.GetProperty("assumptions");
        Assert.Equal(JsonValueKind.Number, a.GetProperty("context").ValueKind);
        Assert.Equal(32768, a.GetProperty("context").GetInt64());
        Assert.Equal(JsonValueKind.String, a.GetProperty("dtype").ValueKind);
        Assert.Equal(JsonValueKind.Number, a.GetProperty("gpu_util").ValueKind);
        Assert.Equal("32768", doc.RootElement.GetProperty("assumptions_text").GetProperty("context").GetString());
        var context = doc.RootElement.GetProperty("assumption_details").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "context");
        Assert.False(context.GetProperty("default").GetBoolean());
        var dtype = doc.RootElement.GetProperty("assumption_details").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "dtype");
        Assert.True(dtype.GetProperty("default").GetBoolean());
        Assert.Contains("torch_dtype", dtype.GetProperty("reason").GetString());
    }

    [Fact]
    public void MemoryJson_OptimizerName_RoundTrips()
    {
        // --optimizer sgd-momentum used to come back as "sgdmomentum".
        var r = CliRunner.Run("memory", "llama-3.1-8b", "--mode", "training", "--optimizer", "sgd-momentum", "--json");

        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("sgd-momentum", doc.RootElement.GetProperty("assumptions").GetProperty("optimizer").GetString());
    }
}
