using System.Net;
using System.Text;
using System.Text.Json;

namespace LlmSizer.Web.Tests;

[Collection(WebHostGroup.Name)]
public sealed class ApiTests(WebHostFixture host)
{
    private HttpClient Client => host.Client;

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode status, string? setting)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (setting is not null)
        {
            Assert.Equal(setting, problem.GetProperty("setting").GetString());
        }

        var text = problem.GetRawText();
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", text, StringComparison.Ordinal);
        return problem;
    }

    [Fact]
    public async Task Healthz_Get_AnswersOk()
    {
        // When
        var response = await Client.GetAsync("/healthz");

        // Then
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Models_Get_ListsTheCatalog()
    {
        var json = await Json(await Client.GetAsync("/api/models"));
        var models = json.GetProperty("models").EnumerateArray().ToList();
        Assert.Contains(models, m => m.GetProperty("id").GetString() == "llama-3.1-8b" && m.GetProperty("parameters").GetInt64() == 8_030_261_248);
    }

    [Fact]
    public async Task Gpus_Get_ListsUsableMemory()
    {
        var json = await Json(await Client.GetAsync("/api/gpus"));
        var h100 = json.GetProperty("gpus").EnumerateArray().Single(g => g.GetProperty("id").GetString() == "h100-sxm-80gb");
        // nvidia-smi shows 81,559 MiB for an H100 SXM 80GB (docs/gpus.md).
        Assert.Equal(81_559L * 1024 * 1024, h100.GetProperty("usable_memory_bytes").GetInt64());
        Assert.Equal(80L << 30, h100.GetProperty("marketed_memory_bytes").GetInt64());
    }

    [Fact]
    public async Task Seed_Get_HasThePostsNumbers()
    {
        var json = await Json(await Client.GetAsync("/api/seed"));
        Assert.Equal(60_637_184, json.GetProperty("parameters").GetProperty("total").GetInt64());
        Assert.Equal(61_423_616, json.GetProperty("published").GetProperty("total").GetInt64());
        Assert.NotEmpty(json.GetProperty("errata").EnumerateArray());
    }

    [Fact]
    public async Task SeedPage_Get_ServesHtml()
    {
        var response = await Client.GetAsync("/seed");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("/seed.js", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Params_CatalogModel_CountsExactly()
    {
        var json = await Json(await Client.GetAsync("/api/params?model=llama-3.1-8b&tensors=true&layers_detail=1"));
        Assert.Equal(8_030_261_248, json.GetProperty("parameters").GetProperty("total").GetInt64());
        Assert.Equal(291, json.GetProperty("tensor_list").GetArrayLength());
        Assert.Equal(32, json.GetProperty("layers").GetArrayLength());
    }

    [Fact]
    public async Task Params_Alias_Resolves()
    {
        var json = await Json(await Client.GetAsync("/api/params?model=meta-llama/Llama-3.1-8B"));
        Assert.Equal("llama-3.1-8b", json.GetProperty("model").GetString());
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("config.json")]
    [InlineData("https://example.com/model.gguf")]
    [InlineData("hf:meta-llama/Llama-3.1-8B")]
    [InlineData("no-such-model")]
    [InlineData("")]
    public async Task Params_NotACatalogId_Is400NamingModel(string model)
    {
        var response = await Client.GetAsync("/api/params?model=" + Uri.EscapeDataString(model));
        await Problem(response, HttpStatusCode.BadRequest, "model");
    }

    [Fact]
    public async Task Params_MissingModel_Is400NamingModel() =>
        await Problem(await Client.GetAsync("/api/params"), HttpStatusCode.BadRequest, "model");

    [Fact]
    public async Task Params_BadFlag_Is400NamingIt() =>
        await Problem(await Client.GetAsync("/api/params?model=gpt2&tensors=maybe"), HttpStatusCode.BadRequest, "tensors");

    [Fact]
    public async Task Params_PostConfig_CountsIt()
    {
        // Given GPT-2 small's config.json (124,439,808 parameters, the published count)
        const string config = """{"model_type":"gpt2","n_layer":12,"n_embd":768,"n_head":12,"vocab_size":50257,"n_positions":1024,"tie_word_embeddings":true}""";

        // When
        var response = await Client.PostAsync("/api/params", new StringContent(config, Encoding.UTF8, "application/json"));

        // Then
        var json = await Json(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(124_439_808, json.GetProperty("parameters").GetProperty("total").GetInt64());
        Assert.Equal("config", json.GetProperty("source").GetString());
    }

    [Theory]
    [InlineData("{", "body")]
    [InlineData("[1,2]", "config")]
    [InlineData("{\"model_type\":\"nope\"}", "config")]
    [InlineData("", "body")]
    public async Task Params_PostBadConfig_Is400(string body, string setting) =>
        await Problem(await Client.PostAsync("/api/params", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, setting);

    [Fact]
    public async Task Params_PostWrongMediaType_Is415() =>
        await Problem(await Client.PostAsync("/api/params", new StringContent("<x/>", Encoding.UTF8, "application/xml")), HttpStatusCode.UnsupportedMediaType, null);

    [Fact]
    public async Task Memory_Get_UsesTheCoreParser()
    {
        // 32k means 32,768 here as on the CLI.
        var json = await Json(await Client.GetAsync("/api/memory?model=llama-3.1-8b&context=32k&batch=4"));
        Assert.Equal(32768, json.GetProperty("assumptions").GetProperty("context").GetInt32());
        Assert.Equal(4, json.GetProperty("assumptions").GetProperty("batch").GetInt32());
        Assert.True(json.GetProperty("per_gpu_bytes").GetInt64() > 16_060_522_496);
    }

    [Fact]
    public async Task Memory_Images_AddTheImageTokens_AndVllmV0IsAnEngineName()
    {
        // Gemma-3-4B: 256 image tokens per image (mm_tokens_per_image); two images make the sequence longer.
        var plain = await Json(await Client.GetAsync("/api/memory?model=gemma-3-4b&engine=vllm-v0"));
        var two = await Json(await Client.GetAsync("/api/memory?model=gemma-3-4b&engine=vllm-v0&images=2"));

        Assert.Equal(2, two.GetProperty("assumptions").GetProperty("images").GetInt32());
        Assert.True(two.GetProperty("per_gpu_bytes").GetInt64() > plain.GetProperty("per_gpu_bytes").GetInt64());
        Assert.Equal("v0", two.GetProperty("assumptions").GetProperty("vllm_profile").GetString());
    }

    [Theory]
    [InlineData("images=-1", "images")]
    [InlineData("context=-5", "context")]
    [InlineData("context=abc", "context")]
    [InlineData("context=99999999999999999999", "context")]
    [InlineData("context=1e9", "context")]
    [InlineData("batch=0", "batch")]
    [InlineData("batch=2000000", "batch")]
    [InlineData("tensor_parallel=abc", "tensor_parallel")]
    [InlineData("tensor_parallel=-1", "tensor_parallel")]
    [InlineData("dtype=q9_z", "dtype")]
    [InlineData("kv_dtype=banana", "kv_dtype")]
    [InlineData("engine=tgi", "engine")]
    [InlineData("mode=sleep", "mode")]
    [InlineData("zero_stage=3", "zero_stage")]
    [InlineData("mode=training&zero_stage=7", "zero_stage")]
    [InlineData("mode=training&optimizer=adam9", "optimizer")]
    [InlineData("gpu_utilization=2", "gpu_utilization")]
    [InlineData("gpu_memory=24", "gpu_memory")]
    [InlineData("engine=vllm&ubatch=512", "ubatch")]
    [InlineData("contxt=4096", "contxt")]
    [InlineData("context=1&context=2", "context")]
    public async Task Memory_BadValue_Is400NamingTheField(string query, string setting) =>
        await Problem(await Client.GetAsync("/api/memory?model=llama-3.1-8b&" + query), HttpStatusCode.BadRequest, setting);

    [Fact]
    public async Task Memory_HugeValue_Is400NotEchoedWhole()
    {
        var huge = new string('9', 5000);
        var problem = await Problem(await Client.GetAsync("/api/memory?model=llama-3.1-8b&context=" + huge), HttpStatusCode.BadRequest, "context");
        Assert.True(problem.GetProperty("detail").GetString()!.Length < 400);
    }

    [Fact]
    public async Task Memory_UnknownModel_Is400NamingModel() =>
        await Problem(await Client.GetAsync("/api/memory?model=./models/x.gguf"), HttpStatusCode.BadRequest, "model");

    [Fact]
    public async Task Memory_PostBody_EqualsGet()
    {
        // Given the same settings as JSON (numbers as numbers, a boolean as a boolean) and as a query
        const string body = """{"model":"llama-3.1-8b","mode":"training","context":2048,"qlora":true,"lora_rank":16}""";

        // When
        var post = await Client.PostAsync("/api/memory", new StringContent(body, Encoding.UTF8, "application/json"));
        var get = await Client.GetAsync("/api/memory?model=llama-3.1-8b&mode=training&context=2048&qlora=true&lora_rank=16");

        // Then
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(await get.Content.ReadAsStringAsync(), await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Memory_PostConfig_Estimates()
    {
        const string body = """{"config":{"model_type":"gpt2","n_layer":12,"n_embd":768,"n_head":12,"vocab_size":50257,"n_positions":1024},"context":"1k"}""";
        var response = await Client.PostAsync("/api/memory", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await Json(response);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1024, json.GetProperty("assumptions").GetProperty("context").GetInt32());
    }

    [Theory]
    [InlineData("""{"context":4096}""", "model")]
    [InlineData("""{"model":"llama-3.1-8b","config":{}}""", "model")]
    [InlineData("""{"model":"/etc/passwd"}""", "model")]
    [InlineData("""{"model":"llama-3.1-8b","context":[1]}""", "context")]
    [InlineData("""{"model":"llama-3.1-8b","context":{"a":1}}""", "context")]
    [InlineData("""{"model":"llama-3.1-8b","context":-1}""", "context")]
    [InlineData("""{"model":"llama-3.1-8b","context":1.5}""", "context")]
    [InlineData("""{"model":"llama-3.1-8b","tensor_parallel":"abc"}""", "tensor_parallel")]
    [InlineData("""{"model":"llama-3.1-8b","bogus":1}""", "bogus")]
    [InlineData("""{"model":"llama-3.1-8b","context":1,"context":2}""", "context")]
    [InlineData("""[]""", "body")]
    [InlineData("""not json""", "body")]
    [InlineData("""{"config":{"model_type":"no-such-family"}}""", "config")]
    [InlineData("""{"config":{"model_type":"llama","num_hidden_layers":-2}}""", "config")]
    [InlineData("""{"config":"x"}""", "config")]
    public async Task Memory_PostBadBody_Is400NamingTheField(string body, string setting) =>
        await Problem(await Client.PostAsync("/api/memory", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, setting);

    [Fact]
    public async Task Memory_DeepJson_Is400()
    {
        var deep = new string('[', 200) + new string(']', 200);
        var body = "{\"model\":\"llama-3.1-8b\",\"x\":" + deep + "}";
        var problem = await Problem(await Client.PostAsync("/api/memory", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "body");
        Assert.Contains("deeper", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Params_DeepConfig_Is400()
    {
        var deep = "{\"a\":" + string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 101);
        await Problem(await Client.PostAsync("/api/params", new StringContent(deep, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "body");
    }

    [Theory]
    [InlineData("/api/memory")]
    [InlineData("/api/params")]
    public async Task Post_OversizedBody_Is413(string path)
    {
        // Given a body just over 1 MiB
        var body = "{\"model\":\"" + new string('a', 1024 * 1024) + "\"}";

        // When (Expect: 100-continue, as curl sends for large bodies: the server answers before the body is sent, so the
        // client is not left writing into a connection the server has closed)
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        var response = await Client.SendAsync(request);

        // Then
        await Problem(response, HttpStatusCode.RequestEntityTooLarge, "body");
    }

    [Fact]
    public async Task Post_OversizedChunkedBody_Is413()
    {
        // Given a body without Content-Length (chunked), so only the server's limit can stop it
        var bytes = Encoding.UTF8.GetBytes("{\"model\":\"" + new string('a', (1024 * 1024) + 512) + "\"}");
        var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/memory") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        // When
        var response = await Client.SendAsync(request);

        // Then
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task MaxContext_Get_IsTheSolversAnswer()
    {
        var json = await Json(await Client.GetAsync("/api/max_context?model=llama-3.1-8b&gpu=h100-sxm-80gb"));
        var max = json.GetProperty("max_context").GetInt32();
        var budget = json.GetProperty("budget_bytes").GetInt64();
        Assert.Equal(81_559L * 1024 * 1024, budget);

        // The answer fits and one more token does not (both checked through /api/memory with the same settings).
        var gpuMemory = $"&gpu_memory={budget}B";
        var at = await Json(await Client.GetAsync($"/api/memory?model=llama-3.1-8b&context={max}{gpuMemory}"));
        var over = await Json(await Client.GetAsync($"/api/memory?model=llama-3.1-8b&context={max + 1}{gpuMemory}"));
        Assert.True(at.GetProperty("per_gpu_bytes").GetInt64() <= budget);
        Assert.True(over.GetProperty("per_gpu_bytes").GetInt64() > budget);
    }

    [Theory]
    [InlineData("gpu=h200x", "gpu")]
    [InlineData("", "gpu")]
    [InlineData("gpu=h100&context=abc", "context")]
    public async Task MaxContext_BadInput_Is400(string query, string setting) =>
        await Problem(await Client.GetAsync("/api/max_context?model=llama-3.1-8b&" + query), HttpStatusCode.BadRequest, setting);

    [Fact]
    public async Task MaxContext_Post_EqualsGet()
    {
        var get = await Client.GetAsync("/api/max_context?model=qwen3-8b&gpu=rtx-4090&batch=2");
        var post = await Client.PostAsync("/api/max_context", new StringContent("""{"model":"qwen3-8b","gpu":"rtx-4090","batch":2}""", Encoding.UTF8, "application/json"));
        Assert.Equal(await get.Content.ReadAsStringAsync(), await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OpenApi_Document_ListsEveryEndpoint()
    {
        var json = await Json(await Client.GetAsync("/openapi/v1.json"));
        var paths = json.GetProperty("paths");
        foreach (var path in new[] { "/healthz", "/api/models", "/api/gpus", "/api/seed", "/api/params", "/api/memory", "/api/max_context" })
        {
            Assert.True(paths.TryGetProperty(path, out _), path);
        }

        var memoryParams = paths.GetProperty("/api/memory").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("tensor_parallel", memoryParams);
        Assert.Contains("kv_dtype", memoryParams);

        // The schemas name fields as the documents do (snake_case).
        var memory = json.GetProperty("components").GetProperty("schemas").GetProperty("MemoryDocument").GetProperty("properties");
        Assert.True(memory.TryGetProperty("per_gpu_bytes", out _));
        Assert.True(memory.TryGetProperty("assumption_details", out _));
    }

    [Fact]
    public async Task ForcedError_Is500ProblemWithoutStackOrMessage()
    {
        var response = await Client.GetAsync(WebHostFixture.ThrowPath);
        var problem = await Problem(response, HttpStatusCode.InternalServerError, null);
        Assert.DoesNotContain(WebHostFixture.SecretMessage, problem.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperation", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownRoute_Is404Problem() =>
        await Problem(await Client.GetAsync("/api/no-such-endpoint?model=llama-3.1-8b"), HttpStatusCode.NotFound, null);

    [Theory]
    [InlineData("/")]
    [InlineData("/api/memory?model=llama-3.1-8b")]
    [InlineData("/api/memory?model=bad")]
    [InlineData("/app.js")]
    [InlineData("/nope")]
    public async Task EveryResponse_HasSecurityHeaders(string path)
    {
        var response = await Client.GetAsync(path);
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task Page_HasNoInlineScriptOrStyle()
    {
        foreach (var page in new[] { "/", "/seed.html" })
        {
            var html = await Client.GetStringAsync(page);
            Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)", html);
            Assert.DoesNotContain("<style", html, StringComparison.Ordinal);
            Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
            Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ConcurrencyLimiter_ManyParallelRequests_AllAnswered()
    {
        // 64 at once: the limiter queues what it cannot run; every request gets 200 or 429, never an error.
        var tasks = Enumerable.Range(0, 64).Select(i => Client.GetAsync($"/api/memory?model=llama-3.1-8b&context={1024 + i}"));
        var responses = await Task.WhenAll(tasks);
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, r.StatusCode.ToString()));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
    }
}
