using System.Collections.Immutable;
using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Cli;
using LlmSizer.Cli.Commands;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Cli;

/// <summary><c>params --check</c> against a model "read from files": a fake resolver hands the command an inventory
/// that differs from the config's on purpose (the checkpoint readers live on another branch).</summary>
public class ParamsCheckTests
{
    private static readonly string Config = """
        {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":64,"intermediate_size":128,
         "num_attention_heads":4,"num_hidden_layers":2,"num_key_value_heads":2,"vocab_size":100,"tie_word_embeddings":false}
        """;

    private static ModelInfo FakeCheckpoint(Func<TensorInventory, TensorInventory> edit)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(Config, "fake/config.json"));
        return new ModelInfo
        {
            Name = "fake",
            Source = ModelSourceKind.Safetensors,
            Architecture = spec,
            Family = family,
            Inventory = edit(family.Generate(spec)),
            Files = ["fake/model.safetensors"],
        };
    }

    private static CliResult Run(ModelInfo model, params string[] extra)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = LlmSizeApp.Run(["params", "fake", "--check", .. extra], stdout, stderr, 160, [new ParamsCommand(_ => model)]);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Check_FilesMatchConfig_ExitsZero()
    {
        var r = Run(FakeCheckpoint(inv => inv));

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("check: OK", r.Stdout);
    }

    [Fact]
    public void Check_MissingExtraMisshapen_ListsEachAndExitsThree()
    {
        // Given files that lack layer 1's k_proj, hold an extra tensor, and store v_proj of layer 0 with a wrong shape
        var model = FakeCheckpoint(inv => new TensorInventory(inv.Tensors
            .Where(t => t.Name != "model.layers.1.self_attn.k_proj.weight")
            .Select(t => t.Name == "model.layers.0.self_attn.v_proj.weight" ? t with { Shape = ImmutableArray.Create(64L, 64L) } : t)
            .Append(new TensorInfo("model.layers.0.self_attn.rotary.weight", [16], t0(inv).DataType, TensorGroup.Other))));

        // When
        var r = Run(model, "--json");

        // Then
        Assert.Equal(3, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var check = doc.RootElement.GetProperty("check");
        Assert.False(check.GetProperty("match").GetBoolean());
        Assert.Equal("model.layers.1.self_attn.k_proj.weight", Assert.Single(check.GetProperty("missing").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal("model.layers.0.self_attn.rotary.weight", Assert.Single(check.GetProperty("extra").EnumerateArray()).GetProperty("name").GetString());
        var bad = Assert.Single(check.GetProperty("misshapen").EnumerateArray());
        Assert.Equal("model.layers.0.self_attn.v_proj.weight", bad.GetProperty("name").GetString());
        Assert.Equal("[32, 64]", bad.GetProperty("expected_shape").GetString());
        Assert.Equal("[64, 64]", bad.GetProperty("actual_shape").GetString());

        var table = Run(model);
        Assert.Equal(3, table.ExitCode);
        Assert.Contains("MISMATCH", table.Stdout);
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", table.Stdout);
        Assert.Contains("misshapen", table.Stdout);
    }

    private static TensorInfo t0(TensorInventory inv) => inv.Tensors[0];
}
