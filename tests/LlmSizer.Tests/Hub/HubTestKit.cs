using LlmSizer.Hub;
using LlmSizer.Tests.Cli;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Hub;

/// <summary>An isolated environment for Hub tests: a temporary HOME (so both caches start empty), variables given to
/// <see cref="HubEnvironment.FromVariables"/> (never the process environment), fast retries.</summary>
internal sealed class HubTestKit : IDisposable
{
    /// <summary>A token nobody could mistake for anything else: tests look for it in every output.</summary>
    public const string Token = "hf_SECRETtoken_4242_DoNotLeak";

    private readonly TempDir _home = new();

    public HubTestKit(LoopbackHub server)
    {
        Server = server;
        Variables["HOME"] = _home.Path;
        Variables["HF_ENDPOINT"] = server.Endpoint.ToString();
    }

    public LoopbackHub Server { get; }

    public string Home => _home.Path;

    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    public HubClientOptions Client { get; set; } = new()
    {
        RetryDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromSeconds(3),
        AttemptTimeout = TimeSpan.FromSeconds(10),
    };

    public HubEnvironment Environment => HubEnvironment.FromVariables(name => Variables.GetValueOrDefault(name));

    public HubLoadOptions Options(bool refresh = false) => new() { Environment = Environment, Client = Client, Refresh = refresh };

    public HubLoadResult Load(string model, bool refresh = false) => HubModels.LoadAsync(model, Options(refresh)).GetAwaiter().GetResult();

    /// <summary>Runs the CLI in process with this environment.</summary>
    public CliResult Cli(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = LlmSizer.Cli.LlmSizeApp.Run(args, stdout, stderr, 160, LlmSizer.Cli.Commands.CommandRegistry.CreateAll(), Options());
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose() => _home.Dispose();
}

/// <summary>Checkpoint fixtures for the loopback Hub, written by the test writers; the expected counts in the tests
/// are worked out by hand from the shapes here.</summary>
internal static class HubFixtures
{
    public const string Commit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>A safetensors file as the server holds it: the header, then (virtual) zeros for the data.</summary>
    public static VirtualFile Safetensors(SafetensorsWriter writer)
    {
        using var ms = new MemoryStream();
        long length = writer.WriteTo(ms, writeData: false);
        return new VirtualFile(ms.ToArray(), length);
    }

    /// <summary>A GGUF file as the server holds it, and where its tensor infos end.</summary>
    public static (VirtualFile File, long HeaderEnd) Gguf(GgufWriter writer)
    {
        using var ms = new MemoryStream();
        var layout = writer.WriteTo(ms, writeData: false);
        return (new VirtualFile(ms.ToArray(), layout.TotalBytes), layout.HeaderEnd);
    }

    /// <summary>A llama config: hidden 256, 2 layers, 4 heads of 64, 2 KV heads, intermediate 512, vocab 1000, untied.</summary>
    public static string LlamaConfig(string modelType = "llama") => $$"""
        {"model_type": "{{modelType}}", "architectures": ["LlamaForCausalLM"], "hidden_size": 256, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64, "intermediate_size": 512, "vocab_size": 1000,
         "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, "tie_word_embeddings": false, "torch_dtype": "bfloat16"}
        """;

    /// <summary>The llama of <see cref="LlamaConfig"/> in three BF16 shards with an index: embeddings in shard 1, one
    /// layer in each of shards 2 and 3 (shard 3 also holds the final norm and lm_head). Shard 2 carries ~100 KB of
    /// __metadata__, so its header is longer than the first 64 KiB read.</summary>
    public static Dictionary<string, VirtualFile> ShardedLlama(out long headerBytes, string modelType = "llama")
    {
        var shard1 = new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 1000, 256);
        var shard2 = Layer(new SafetensorsWriter(), 0).Metadata("notes", new string('x', 100_000));
        var shard3 = Layer(new SafetensorsWriter(), 1).Add("model.norm.weight", "BF16", 256).Add("lm_head.weight", "BF16", 1000, 256);
        var files = new Dictionary<string, VirtualFile>(StringComparer.Ordinal)
        {
            ["config.json"] = VirtualFile.Text(LlamaConfig(modelType)),
            ["README.md"] = VirtualFile.Text("# tiny"),
        };
        var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
        headerBytes = 0;
        var shards = new[] { shard1, shard2, shard3 };
        for (int i = 0; i < 3; i++)
        {
            var name = $"model-{i + 1:D5}-of-00003.safetensors";
            var file = Safetensors(shards[i]);
            files[name] = file;
            headerBytes += file.Head.Length;
            foreach (var tensor in TensorNames(shards[i]))
            {
                weightMap[tensor] = name;
            }
        }

        long total = shards.Sum(s => s.DataBytes);
        files["model.safetensors.index.json"] = VirtualFile.Text(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, long> { ["total_size"] = total },
            ["weight_map"] = weightMap,
        }));
        return files;
    }

    private static SafetensorsWriter Layer(SafetensorsWriter w, int i)
    {
        string p = $"model.layers.{i}.";
        return w.Add(p + "input_layernorm.weight", "BF16", 256)
            .Add(p + "self_attn.q_proj.weight", "BF16", 256, 256)
            .Add(p + "self_attn.k_proj.weight", "BF16", 128, 256)
            .Add(p + "self_attn.v_proj.weight", "BF16", 128, 256)
            .Add(p + "self_attn.o_proj.weight", "BF16", 256, 256)
            .Add(p + "post_attention_layernorm.weight", "BF16", 256)
            .Add(p + "mlp.gate_proj.weight", "BF16", 512, 256)
            .Add(p + "mlp.up_proj.weight", "BF16", 512, 256)
            .Add(p + "mlp.down_proj.weight", "BF16", 256, 512);
    }

    private static List<string> TensorNames(SafetensorsWriter w)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(w.HeaderJson());
        return doc.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").ToList();
    }

    /// <summary>Hand count of <see cref="ShardedLlama"/>: embed 1000·256 = 256,000; per layer q 256·256 = 65,536, k and v
    /// 128·256 = 32,768 each, o 65,536, gate/up/down 512·256 = 131,072 each, two norms 256 each: 590,336; two layers
    /// 1,180,672; final norm 256; lm_head 256,000. Total 1,692,928.</summary>
    public const long ShardedLlamaParameters = 256_000 + (2 * 590_336) + 256 + 256_000;
}
