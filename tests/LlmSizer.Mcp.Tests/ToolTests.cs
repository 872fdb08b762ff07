using System.Text.Json;
using System.Text.Json.Nodes;
using static LlmSizer.Mcp.Tests.McpServerProcess;

namespace LlmSizer.Mcp.Tests;

public sealed class ToolTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private McpServerProcess Server => fixture.Server;

    [Fact]
    public async Task ListTools_NamesAndSchemas()
    {
        var tools = await Server.Client.ListToolsAsync();
        Assert.Equal(["params", "memory", "fit", "gpus", "models"], tools.Select(t => t.Name));
        foreach (var tool in tools)
        {
            var schema = tool.ProtocolTool.InputSchema;
            Assert.Equal("object", schema.GetProperty("type").GetString());
            Assert.False(schema.GetProperty("additionalProperties").GetBoolean());
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.True(tool.ProtocolTool.Annotations?.ReadOnlyHint);
            foreach (var p in schema.GetProperty("properties").EnumerateObject())
            {
                Assert.Matches("^[a-z][a-z0-9_]*$", p.Name);
                Assert.True(p.Value.GetProperty("description").GetString()!.Length > 20, $"{tool.Name}.{p.Name} has no real description");
            }
        }

        var memory = tools.Single(t => t.Name == "memory").ProtocolTool.InputSchema.GetProperty("properties");
        string[] expected = ["model", "config_json", "mode", "dtype", "unquantized_dtype", "context", "batch", "kv_dtype", "gpus", "tensor_parallel",
            "pipeline_parallel", "engine", "attention", "gpu_memory", "overhead", "zero_stage", "optimizer", "lora_rank", "lora_targets", "qlora",
            "recompute", "sequence_parallel", "gradient_accumulation", "ubatch", "flash_attention", "swa_full", "gpu_utilization",
            "max_batched_tokens", "max_seqs", "max_multimodal_tokens", "interconnect", "images"];
        Assert.Equal(expected, memory.EnumerateObject().Select(p => p.Name));
        Assert.Contains("32k", memory.GetProperty("context").GetProperty("description").GetString());
        Assert.Contains("vllm", memory.GetProperty("engine").GetProperty("description").GetString());

        var fit = tools.Single(t => t.Name == "fit").ProtocolTool.InputSchema.GetProperty("properties");
        foreach (var name in new[] { "gpu", "budget", "gpu_memory", "gpu_only", "max_gpus", "context", "dtype" })
        {
            Assert.True(fit.TryGetProperty(name, out _), name);
        }

        var models = tools.Single(t => t.Name == "models").ProtocolTool.InputSchema.GetProperty("properties");
        Assert.Equal(["query"], models.EnumerateObject().Select(p => p.Name));
    }

    public static TheoryData<string, string, string[]> Parity => new()
    {
        { "params", """{"model":"llama-3.1-8b"}""", ["params", "llama-3.1-8b"] },
        { "params", """{"model":"Qwen/Qwen3-8B","tensors":true,"layers_detail":true}""", ["params", "Qwen/Qwen3-8B", "--tensors", "--layers-detail"] },
        { "memory", """{"model":"llama-3.1-8b","context":"32k","batch":4}""", ["memory", "llama-3.1-8b", "--context", "32k", "--batch", "4"] },
        { "memory", """{"model":"gemma-3-4b","images":2,"engine":"vllm-v0"}""", ["memory", "gemma-3-4b", "--images", "2", "--engine", "vllm-v0"] },
        { "memory", """{"model":"llama-3.1-8b","engine":"llamacpp","dtype":"q4_k_m","context":8192,"flash_attention":"on"}""",
            ["memory", "llama-3.1-8b", "--engine", "llamacpp", "--dtype", "q4_k_m", "--context", "8192", "--flash-attn", "on"] },
        { "memory", """{"model":"qwen3-8b","mode":"training","lora_rank":16,"qlora":true,"optimizer":"adamw8bit"}""",
            ["memory", "qwen3-8b", "--mode", "training", "--lora-rank", "16", "--qlora", "--optimizer", "adamw8bit"] },
        { "memory", """{"model":"llama-3.1-70b","tensor_parallel":4,"gpu_memory":"80GiB","gpu_utilization":0.95}""",
            ["memory", "llama-3.1-70b", "--tp", "4", "--gpu-memory", "80GiB", "--gpu-util", "0.95"] },
        { "fit", """{"model":"llama-3.1-8b","gpu":"rtx-4090","context":8192}""", ["fit", "llama-3.1-8b", "--gpu", "rtx-4090", "--context", "8192"] },
        { "fit", """{"model":"llama-3.1-8b","budget":"24GiB"}""", ["fit", "llama-3.1-8b", "--budget", "24GiB"] },
        { "fit", """{"model":"qwen3-8b","gpu_memory":"48GiB","gpu_bandwidth":"960GB/s","max_gpus":2}""",
            ["fit", "qwen3-8b", "--gpu-memory", "48GiB", "--gpu-bandwidth", "960GB/s", "--max-gpus", "2"] },
        { "gpus", "{}", ["gpus"] },
        { "models", "{}", ["models"] },
    };

    [Theory]
    [MemberData(nameof(Parity))]
    public async Task Tool_EqualsCliJson(string tool, string argumentsJson, string[] cliArgs)
    {
        var result = await Server.CallAsync(tool, Arguments(argumentsJson));
        Assert.NotEqual(true, result.IsError);
        var (code, cli, stderr) = RunCli([.. cliArgs, "--json"]);
        Assert.True(code == 0, stderr);
        Assert.Equal(cli, JsonText(result));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(cli), JsonNode.Parse(Structured(result).GetRawText())));
        Assert.False(string.IsNullOrWhiteSpace(Summary(result)));
    }

    [Fact]
    public async Task Summaries_PutTheKeyNumberFirst()
    {
        Assert.StartsWith("8,030,261,248 parameters", Summary(await Server.CallAsync("params", new() { ["model"] = "llama-3.1-8b" })));
        Assert.Matches(@"^\d+\.\d\d GiB per GPU", Summary(await Server.CallAsync("memory", new() { ["model"] = "llama-3.1-8b" })));
        Assert.StartsWith("1 × NVIDIA GeForce RTX 4090", Summary(await Server.CallAsync("fit", new() { ["model"] = "llama-3.1-8b", ["gpu"] = "rtx-4090" })));
    }

    [Fact]
    public async Task Models_Query_FiltersTheCatalog()
    {
        var result = await Server.CallAsync("models", new() { ["query"] = "LLAMA" });
        var all = JsonNode.Parse(RunCli("models", "--json").Stdout)!["models"]!.AsArray();
        var expected = all.Where(m => $"{m!["id"]} {m["repository"]} {m["family"]}".Contains("llama", StringComparison.OrdinalIgnoreCase)).ToList();
        var got = JsonNode.Parse(JsonText(result))!["models"]!.AsArray();
        Assert.NotEmpty(got);
        Assert.True(got.Count < all.Count);
        Assert.Equal(expected.Count, got.Count);
        Assert.All(got.Zip(expected), p => Assert.True(JsonNode.DeepEquals(p.First, p.Second)));
    }

    [Fact]
    public async Task ConfigJson_CountsLikeTheCatalogEntry()
    {
        var config = CatalogConfig("qwen3-8b");
        var asText = await Server.CallAsync("params", new() { ["config_json"] = config });
        var asObject = await Server.CallAsync("params", new() { ["config_json"] = JsonDocument.Parse(config).RootElement });
        var cli = JsonNode.Parse(RunCli("params", "qwen3-8b", "--json").Stdout)!;
        foreach (var result in new[] { asText, asObject })
        {
            Assert.NotEqual(true, result.IsError);
            var doc = JsonNode.Parse(JsonText(result))!;
            Assert.Equal("config", doc["model"]!.GetValue<string>());
            Assert.Equal("config", doc["source"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(cli["parameters"], doc["parameters"]));
        }

        var memory = await Server.CallAsync("memory", new() { ["config_json"] = config, ["context"] = "16k" });
        Assert.NotEqual(true, memory.IsError);
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { "memory", """{"model":"llama-3.1-8b","context":"abc"}""", "context" },
        { "memory", """{"model":"llama-3.1-8b","context":1.5}""", "context" },
        { "memory", """{"model":"llama-3.1-8b","context":true}""", "context" },
        { "memory", """{"model":"llama-3.1-8b","tensor_parallel":"-2"}""", "tensor_parallel" },
        { "memory", """{"model":"llama-3.1-8b","zero_stage":"2"}""", "zero_stage" },
        { "memory", """{"model":"llama-3.1-8b","engine":"tgi"}""", "engine" },
        { "memory", """{"model":"llama-3.1-8b","contxt":"4k"}""", "contxt" },
        { "memory", """{"context":"4k"}""", "model" },
        { "memory", """{"model":"llama-3.1-8b","config_json":"{}"}""", "model" },
        { "memory", """{"model":"no-such-model-xyz"}""", "model" },
        { "params", """{"config_json":"{not json"}""", "config_json" },
        { "params", """{"config_json":"{\"model_type\":\"nonesuch\"}"}""", "config_json" },
        { "params", """{"model":"llama-3.1-8b","check":true}""", "check" },
        { "fit", """{"model":"llama-3.1-8b","gpu":"rtx-4090","budget":"24GiB"}""", "budget" },
        { "fit", """{"model":"llama-3.1-8b","gpu":"rtx-4900"}""", "gpu" },
        { "fit", """{"model":"llama-3.1-8b","gpu":"local"}""", "gpu" },
        { "fit", """{"model":"llama-3.1-8b","budget":"lots"}""", "budget" },
        { "fit", """{"model":"llama-3.1-8b","gpu_bandwidth":"1TB/s"}""", "gpu_bandwidth" },
        { "models", """{"query":["a"]}""", "query" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_IsAToolErrorNamingTheField_AndTheServerAnswersTheNextCall(string tool, string argumentsJson, string field)
    {
        var result = await Server.CallAsync(tool, Arguments(argumentsJson));
        Assert.True(result.IsError);
        var error = Structured(result);
        Assert.Equal(field, error.GetProperty("setting").GetString());
        Assert.StartsWith(field + ":", error.GetProperty("error").GetString());
        Assert.StartsWith("error: " + field + ":", ((ModelContextProtocol.Protocol.TextContentBlock)result.Content[0]).Text);

        var next = await Server.CallAsync("params", new() { ["model"] = "llama-3.1-8b" });
        Assert.NotEqual(true, next.IsError);
    }

    [Fact]
    public async Task HubId_IsRefused_SayingTheHubIsNotAvailable()
    {
        var result = await Server.CallAsync("params", new() { ["model"] = "hf:meta-llama/Llama-3.1-8B" });
        Assert.True(result.IsError);
        Assert.Equal("model", Structured(result).GetProperty("setting").GetString());
        Assert.Contains("Hub is not available", Structured(result).GetProperty("error").GetString());

        var url = await Server.CallAsync("params", new() { ["model"] = "https://huggingface.co/meta-llama/Llama-3.1-8B/raw/main/config.json" });
        Assert.True(url.IsError);
        Assert.Contains("no network", Structured(url).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Path_IsRefused_WithoutAllowPath()
    {
        using var dir = new TempDir();
        var config = dir.Write("config.json", CatalogConfig("qwen3-8b"));
        foreach (var path in new[] { config, dir.Path, "/etc/passwd", "../../../../etc/hostname" })
        {
            var result = await Server.CallAsync("params", new() { ["model"] = path });
            Assert.True(result.IsError, path);
            Assert.Equal("model", Structured(result).GetProperty("setting").GetString());
            Assert.Contains("--allow-path", Structured(result).GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task UnknownTool_IsAToolError()
    {
        var result = await Server.CallAsync("rm", new() { ["model"] = "x" });
        Assert.True(result.IsError);
    }

    internal static Dictionary<string, object?> Arguments(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone());

    internal static string CatalogConfig(string id)
    {
        using var entry = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoRoot, "src", "LlmSizer", "Catalog", "Models", id + ".json")));
        return entry.RootElement.GetProperty("config").GetRawText();
    }
}

internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "llmsize-mcp-" + Guid.NewGuid().ToString("N"));

    public string Write(string name, string text)
    {
        var file = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
