using System.Text.Json;

namespace LlmSizer.Tests.Cli;

public class ParamsCommandTests
{
    [Fact]
    public void Params_Llama31_8B_Json_HasContractFields()
    {
        // When
        var r = CliRunner.Run("params", "llama-3.1-8b", "--json");

        // Then: 8,030,261,248 is the published safetensors total (huggingface.js parse-safetensors-metadata.spec.ts);
        // 291 tensors = embed + 32 x 9 + norm + lm_head; BF16 bytes = 2 x total.
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama-3.1-8b", root.GetProperty("model").GetString());
        Assert.Equal("catalog", root.GetProperty("source").GetString());
        var arch = root.GetProperty("architecture");
        Assert.Equal("llama", arch.GetProperty("family").GetString());
        Assert.Equal(32, arch.GetProperty("layers").GetInt32());
        Assert.Equal(4096, arch.GetProperty("hidden").GetInt32());
        Assert.Equal(32, arch.GetProperty("heads").GetInt32());
        Assert.Equal(8, arch.GetProperty("kv_heads").GetInt32());
        Assert.Equal(128, arch.GetProperty("head_dim").GetInt32());
        Assert.Equal(14336, arch.GetProperty("intermediate").GetInt32());
        Assert.Equal(128256, arch.GetProperty("vocab").GetInt32());
        Assert.False(arch.GetProperty("tied_embeddings").GetBoolean());
        Assert.Equal(JsonValueKind.Null, arch.GetProperty("experts").ValueKind);
        var parameters = root.GetProperty("parameters");
        Assert.Equal(8_030_261_248L, parameters.GetProperty("total").GetInt64());
        Assert.Equal(8_030_261_248L, parameters.GetProperty("active").GetInt64());
        var groups = parameters.GetProperty("groups");
        foreach (var name in new[] { "embedding", "attention", "mlp", "experts", "norm", "lm_head", "other" })
        {
            Assert.True(groups.TryGetProperty(name, out _), name);
        }

        // 128,256 x 4,096 = 525,336,576 for the embedding and again for the untied head.
        Assert.Equal(525_336_576L, groups.GetProperty("embedding").GetInt64());
        Assert.Equal(525_336_576L, groups.GetProperty("lm_head").GetInt64());
        Assert.Equal(291, root.GetProperty("tensors").GetInt32());
        Assert.Equal(8_030_261_248L, root.GetProperty("by_dtype").GetProperty("BF16").GetInt64());
        Assert.Equal(16_060_522_496L, root.GetProperty("weight_bytes").GetInt64());
    }

    [Fact]
    public void Params_Llama31_8B_Table_ShowsGroupedAndShortTotals()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("8,030,261,248", r.Stdout);
        Assert.Contains("8.03 B", r.Stdout);
        Assert.Contains("lm_head", r.Stdout);
    }

    [Fact]
    public void Params_TensorsAndLayersDetail_ListsEveryTensor()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b", "--json", "--tensors", "--layers-detail");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var list = doc.RootElement.GetProperty("tensor_list");
        Assert.Equal(291, list.GetArrayLength());
        var q = list.EnumerateArray().First(t => t.GetProperty("name").GetString() == "model.layers.0.self_attn.k_proj.weight");
        Assert.Equal(1024, q.GetProperty("shape")[0].GetInt64());
        Assert.Equal(4096, q.GetProperty("shape")[1].GetInt64());
        Assert.Equal(4_194_304L, q.GetProperty("elements").GetInt64());
        Assert.Equal(8_388_608L, q.GetProperty("bytes").GetInt64());
        // Per layer: 218,112,000 (hand sum in LlamaFamilyTests).
        var layers = doc.RootElement.GetProperty("layers");
        Assert.Equal(32, layers.GetArrayLength());
        Assert.All(layers.EnumerateArray(), l => Assert.Equal(218_112_000L, l.GetProperty("parameters").GetInt64()));
    }

    [Fact]
    public void Params_TensorsTable_ShowsShapesAndLayers()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b", "--tensors", "--layers-detail");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("model.layers.31.mlp.down_proj.weight", r.Stdout);
        Assert.Contains("[1024, 4096]", r.Stdout);
        Assert.Contains("218,112,000", r.Stdout);
    }

    [Fact]
    public void Params_ConfigFileAndFolder_SourceIsConfig()
    {
        // Given a config.json copied from the catalog values of Llama-3.1-8B
        using var dir = new TempDir();
        dir.Write("config.json", """
            {"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":4096,"intermediate_size":14336,
             "num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"vocab_size":128256,"tie_word_embeddings":false}
            """);

        foreach (var arg in new[] { dir.Path, Path.Combine(dir.Path, "config.json") })
        {
            var r = CliRunner.Run("params", arg, "--json");
            Assert.Equal(0, r.ExitCode);
            using var doc = JsonDocument.Parse(r.Stdout);
            Assert.Equal("config", doc.RootElement.GetProperty("source").GetString());
            Assert.Equal(8_030_261_248L, doc.RootElement.GetProperty("parameters").GetProperty("total").GetInt64());
        }
    }

    [Fact]
    public void Params_ManualGpt2Small_EqualsPublishedCount()
    {
        // GPT-2 small: 12 layers, 768 hidden, 12 heads, vocab 50,257, 1,024 learned positions, biases, LayerNorm, tied head.
        // Published: 124,439,808 (openai-community/gpt2; /work/shared/samples/configs/counts.json). By hand:
        // wte 50,257 x 768 = 38,597,376; wpe 1,024 x 768 = 786,432; per layer 7,087,872 x 12 = 85,054,464; ln_f 1,536.
        var r = CliRunner.Run("params", "--layers", "12", "--hidden", "768", "--heads", "12", "--vocab", "50257",
            "--max-positions", "1024", "--learned-positions", "--bias", "--tied", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("manual", doc.RootElement.GetProperty("source").GetString());
        Assert.Equal("manual", doc.RootElement.GetProperty("architecture").GetProperty("family").GetString());
        Assert.Equal(38_597_376L + 786_432 + 85_054_464 + 1_536, doc.RootElement.GetProperty("parameters").GetProperty("total").GetInt64());
        Assert.Equal(124_439_808L, doc.RootElement.GetProperty("parameters").GetProperty("total").GetInt64());
    }

    [Fact]
    public void Params_ManualMoe_ActiveBelowTotal()
    {
        // 2 layers, hidden 64, 4 heads, vocab 100, 8 experts of 128 (gated), top-2.
        // Per layer: attention 4 x 64 x 64 = 16,384; router 8 x 64 = 512; experts 8 x 3 x 128 x 64 = 196,608; norms 128.
        // Total: 2 x 213,632 + embed 6,400 + final norm 64 + head 6,400 = 440,128. Active: experts 2/8 -> 49,152 per layer.
        var r = CliRunner.Run("params", "--layers", "2", "--hidden", "64", "--heads", "4", "--vocab", "100",
            "--gated", "--experts", "8", "--top-k", "2", "--expert-intermediate", "128", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var p = doc.RootElement.GetProperty("parameters");
        Assert.Equal(440_128L, p.GetProperty("total").GetInt64());
        Assert.Equal(440_128L - (2 * (196_608 - 49_152)), p.GetProperty("active").GetInt64());
        Assert.Equal(8, doc.RootElement.GetProperty("architecture").GetProperty("experts").GetInt32());
    }

    [Fact]
    public void Params_CheckOnCatalogModel_ExitsOneNamingFlag()
    {
        var r = CliRunner.Run("params", "llama-3.1-8b", "--check");

        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains("--check", r.Stderr);
    }
}
