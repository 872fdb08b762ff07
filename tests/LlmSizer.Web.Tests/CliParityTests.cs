using LlmSizer.Cli;

namespace LlmSizer.Web.Tests;

/// <summary>The API answers with the CLI's <c>--json</c> document for the same inputs, byte for byte.</summary>
[Collection(WebHostGroup.Name)]
public sealed class CliParityTests(WebHostFixture host)
{
    private static string Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = LlmSizeApp.Run(args, stdout, stderr, 120);
        Assert.True(code == 0, stderr.ToString());
        return stdout.ToString().TrimEnd('\n', '\r');
    }

    private async Task<string> Api(string path)
    {
        var response = await host.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return body;
    }

    [Theory]
    [InlineData("/api/models", "models --json")]
    [InlineData("/api/seed", "seed --json")]
    [InlineData("/api/gpus", "gpus --json")]
    [InlineData("/api/params?model=llama-3.1-8b", "params llama-3.1-8b --json")]
    [InlineData("/api/params?model=mixtral-8x7b&tensors=true&layers_detail=true", "params mixtral-8x7b --json --tensors --layers-detail")]
    [InlineData("/api/memory?model=llama-3.1-8b", "memory llama-3.1-8b --json")]
    [InlineData("/api/memory?model=llama-3.1-8b&context=32k&batch=4", "memory llama-3.1-8b --context 32k --batch 4 --json")]
    [InlineData("/api/memory?model=llama-3.1-70b&tensor_parallel=4&dtype=fp8&kv_dtype=fp8", "memory llama-3.1-70b --tp 4 --dtype fp8 --kv-dtype fp8 --json")]
    [InlineData("/api/memory?model=qwen3-8b&engine=llamacpp&dtype=q4_k_m&kv_dtype=q8_0&flash_attention=on&context=32768", "memory qwen3-8b --engine llamacpp --dtype q4_k_m --kv-dtype q8_0 --flash-attn on --context 32768 --json")]
    [InlineData("/api/memory?model=llama-3.1-8b&mode=training&zero_stage=3&gpus=8&recompute=full", "memory llama-3.1-8b --mode training --zero 3 --gpus 8 --recompute full --json")]
    [InlineData("/api/memory?model=llama-3.1-8b&mode=training&qlora=true&lora_rank=16&context=2048", "memory llama-3.1-8b --mode training --qlora --lora-rank 16 --context 2048 --json")]
    [InlineData("/api/memory?model=gemma-3-27b&gpu_memory=24GiB&gpu_utilization=90%25&max_batched_tokens=8192", "memory gemma-3-27b --gpu-memory 24GiB --gpu-util 90% --max-batched-tokens 8192 --json")]
    [InlineData("/api/fit?model=llama-3.1-8b&gpu=rtx-4090&context=8192", "fit llama-3.1-8b --gpu rtx-4090 --context 8192 --json")]
    [InlineData("/api/fit?model=llama-3.1-70b&dtype=fp8", "fit llama-3.1-70b --dtype fp8 --json")]
    [InlineData("/api/fit?model=qwen3-8b&budget=12GiB&engine=llamacpp&dtype=q4_k_m", "fit qwen3-8b --budget 12GiB --engine llamacpp --dtype q4_k_m --json")]
    public async Task Api_SameInputs_SameJsonAsCli(string path, string cli)
    {
        // When
        var fromCli = Cli(cli.Split(' '));
        var fromApi = await Api(path);

        // Then
        Assert.Equal(fromCli, fromApi);
    }

    [Fact]
    public async Task PostConfig_SameDocumentAsCliOnTheFile_ButNameAndFiles()
    {
        // Given a config.json on disk for the CLI and the same text as the API's body
        var dir = Directory.CreateTempSubdirectory("llmsize-web-");
        try
        {
            const string config = """{"model_type":"llama","hidden_size":2048,"intermediate_size":5632,"num_hidden_layers":22,"num_attention_heads":32,"num_key_value_heads":4,"vocab_size":32000,"max_position_embeddings":2048,"torch_dtype":"bfloat16"}""";
            var path = Path.Combine(dir.FullName, "config.json");
            await File.WriteAllTextAsync(path, config);

            // When
            var fromCli = System.Text.Json.Nodes.JsonNode.Parse(Cli("params", path, "--json", "--layers-detail"))!.AsObject();
            var response = await host.Client.PostAsync("/api/params?layers_detail=true", new StringContent(config, System.Text.Encoding.UTF8, "application/json"));
            var fromApi = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();

            // Then only the display name (the folder vs "config") and the CLI's file list differ
            foreach (var doc in new[] { fromCli, fromApi })
            {
                doc.Remove("model");
                doc.Remove("files");
            }

            Assert.Equal(fromCli.ToJsonString(), fromApi.ToJsonString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task ApiError_NamesTheLogicalSettingTheCliShowsAsItsFlag()
    {
        // Given a bad tensor-parallel size on both front ends
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        LlmSizeApp.Run(["memory", "llama-3.1-8b", "--tp", "abc"], stdout, stderr, 120);
        var response = await host.Client.GetAsync("/api/memory?model=llama-3.1-8b&tensor_parallel=abc");
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        // Then the detail is the same text; the CLI prefixes its flag, the API names the setting
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Equal("tensor_parallel", problem.RootElement.GetProperty("setting").GetString());
        Assert.Contains("--tp", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains(detail, stderr.ToString(), StringComparison.Ordinal);
    }
}

[Collection(WebHostGroup.Name)]
public sealed class FitEndpointTests(WebHostFixture host)
{
    [Theory]
    [InlineData("/api/fit?model=llama-3.1-8b&gpu=rtx-4900", "gpu")]
    [InlineData("/api/fit?model=llama-3.1-8b&gpu=h100&budget=24GiB", "budget")]
    [InlineData("/api/fit?model=llama-3.1-8b&tensor_parallel=3&gpu=h100", "tensor_parallel")]
    [InlineData("/api/fit?model=llama-3.1-8b&max_gpus=0", "max_gpus")]
    public async Task Fit_BadInput_IsAProblemNamingTheField(string path, string field)
    {
        var response = await host.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, body);
        Assert.DoesNotContain("   at ", body);
    }

    [Fact]
    public async Task Fit_Post_GivesThePlans()
    {
        using var content = new StringContent("{\"model\": \"llama-3.1-8b\", \"gpu\": \"h100\", \"context\": 8192}", System.Text.Encoding.UTF8, "application/json");
        var response = await host.Client.PostAsync("/api/fit", content);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = System.Text.Json.JsonDocument.Parse(body);
        Assert.True(doc.RootElement.GetProperty("results")[0].GetProperty("fits_on_one").GetBoolean());
    }
}
