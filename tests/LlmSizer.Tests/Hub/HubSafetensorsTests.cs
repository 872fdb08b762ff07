using Xunit.Abstractions;
using LlmSizer.Errors;
using LlmSizer.Hub;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Hub;

public sealed class HubSafetensorsTests : IDisposable
{
    private readonly LoopbackHub _server = new();
    private readonly HubTestKit _kit;
    private readonly ITestOutputHelper _output;

    public HubSafetensorsTests(ITestOutputHelper output)
    {
        _kit = new HubTestKit(_server);
        _output = output;
    }

    public void Dispose()
    {
        _kit.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Load_ShardedSafetensors_ReadsOnlyHeaders_AndCountsExactly()
    {
        // Given: three shards (one with a >64 KiB header) behind an index, and a config
        var files = HubFixtures.ShardedLlama(out long headerBytes);
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, files);

        // When
        var result = _kit.Load("hf:acme/tiny-llama");

        // Then: the count is the hand count; the architecture came from config.json
        Assert.Equal(HubFixtures.ShardedLlamaParameters, result.Model.Parameters().Total.Value);
        Assert.Equal("acme/tiny-llama", result.Model.Name);
        Assert.Equal(ModelSourceKind.Safetensors, result.Model.Source);
        Assert.Equal(2, result.Model.Architecture!.Layers);
        Assert.Equal(2 * HubFixtures.ShardedLlamaParameters, result.Model.Inventory.Tensors.Sum(t => t.Bytes.Bytes));
        Assert.Equal(HubOrigin.Network, result.Transfer.Origin);

        // Bytes of the three shards: at most their headers plus 64 KiB each; at most two requests per shard.
        var shards = _server.Seen.Where(r => r.Path.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        long shardBytes = shards.Sum(r => r.BodyBytes);
        Assert.True(shardBytes <= headerBytes + (3 * 64 * 1024), $"{shardBytes} bytes for headers of {headerBytes}");
        Assert.All(shards.GroupBy(r => r.Path), g => Assert.True(g.Count() <= 2, $"{g.Key}: {g.Count()} requests"));
        long fileLengths = files.Where(f => f.Key.EndsWith(".safetensors", StringComparison.Ordinal)).Sum(f => f.Value.Length);
        Assert.True(shardBytes < fileLengths / 10, $"{shardBytes} of {fileLengths}");
        Assert.Equal(_server.FileBytesSent, result.Transfer.FileBytesReceived);
        _output.WriteLine($"sharded safetensors: {shards.Count} shard requests, {shardBytes:N0} shard bytes for {headerBytes:N0} header bytes in {fileLengths:N0}-byte files; " +
            $"all: {_server.Requests} requests, {_server.Seen.Sum(r => r.BodyBytes):N0} body bytes");
    }

    [Fact]
    public async Task Load_Shards_ReportProgress_OneFileAtATimeWhenAskedTo()
    {
        // Given: three shards, read one at a time
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        var reports = new System.Collections.Concurrent.ConcurrentQueue<HubProgress>();
        var options = _kit.Options() with { Progress = new Collect(reports), Client = _kit.Client with { MaxConcurrentFiles = 1 } };

        // When
        var result = await HubModels.LoadAsync("hf:acme/tiny-llama", options);

        // Then: one report per shard, counting up to 3
        Assert.Equal(HubFixtures.ShardedLlamaParameters, result.Model.Parameters().Total.Value);
        Assert.Equal([1, 2, 3], reports.Select(r => r.Done).Order().ToArray());
        Assert.All(reports, r => Assert.Equal(3, r.Total));
    }

    private sealed class Collect(System.Collections.Concurrent.ConcurrentQueue<HubProgress> into) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => into.Enqueue(value);
    }

    [Fact]
    public void Load_SecondTime_TransfersNoFileBytes_AndAtMostOneRevalidation()
    {
        // Given: a model read once
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        var first = _kit.Load("hf:acme/tiny-llama");
        _server.ResetCounters();

        // When
        var second = _kit.Load("hf:acme/tiny-llama");

        // Then: one request (the revision, answered 304) and no file byte
        Assert.Equal(first.Model.Parameters().Total, second.Model.Parameters().Total);
        Assert.Equal(0, _server.FileBytesSent);
        Assert.Equal(1, _server.Requests);
        Assert.Equal(304, _server.Seen[0].Status);
        Assert.Equal(HubOrigin.HeaderCache, second.Transfer.Origin);
        Assert.Equal(0, second.Transfer.FileBytesReceived);

        // --refresh fetches the headers again
        _server.ResetCounters();
        var refreshed = _kit.Load("hf:acme/tiny-llama", refresh: true);
        Assert.True(_server.FileBytesSent > 0);
        Assert.Equal(HubOrigin.Network, refreshed.Transfer.Origin);
    }

    [Fact]
    public void Load_PinnedCommit_SecondTimeMakesNoRequestAtAll()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _kit.Load($"hf:acme/tiny-llama@{HubFixtures.Commit}");
        _server.ResetCounters();

        var again = _kit.Load($"hf:acme/tiny-llama@{HubFixtures.Commit}");

        Assert.Equal(0, _server.Requests);
        Assert.Equal(HubFixtures.ShardedLlamaParameters, again.Model.Parameters().Total.Value);
    }

    [Fact]
    public void Load_RedirectToOtherHost_SendsTokenToTheHubOnly()
    {
        // Given: a gated repo whose files redirect to another host (the CDN)
        _server.AddRepo("acme/gated", HubFixtures.Commit, HubFixtures.ShardedLlama(out _), gatedToken: HubTestKit.Token);
        _server.RedirectFilesToOtherHost = true;
        _kit.Variables["HF_TOKEN"] = HubTestKit.Token;

        // When
        var result = _kit.Load("hf:acme/gated");

        // Then
        Assert.Equal(HubFixtures.ShardedLlamaParameters, result.Model.Parameters().Total.Value);
        var toCdn = _server.Seen.Where(r => r.Host.StartsWith("localhost", StringComparison.Ordinal)).ToList();
        var toHub = _server.Seen.Where(r => r.Host.StartsWith("127.0.0.1", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(toCdn);
        Assert.All(toCdn, r => Assert.Null(r.Authorization));
        Assert.All(toHub, r => Assert.Equal("Bearer " + HubTestKit.Token, r.Authorization));
        Assert.DoesNotContain(HubTestKit.Token, string.Join("\n", result.Model.Files) + string.Join("\n", result.Model.Warnings) + _kit.Environment);
    }

    [Fact]
    public void Load_ServerWithoutRanges_StopsReadingAfterTheHeader()
    {
        // Given: one safetensors file of (virtually) 1 GiB, on a server that ignores Range
        var writer = new SafetensorsWriter().Add("w", "F32", 16384, 16384);
        _server.AddRepo("acme/big", HubFixtures.Commit, new Dictionary<string, VirtualFile> { ["model.safetensors"] = HubFixtures.Safetensors(writer) });
        _server.RangeSupport = false;

        // When
        var result = _kit.Load("hf:acme/big");

        // Then: 16384 × 16384 = 268,435,456 parameters, and nowhere near the file's 1 GiB sent
        Assert.Equal(268_435_456L, result.Model.Parameters().Total.Value);
        Assert.True(result.Transfer.FileBytesReceived <= 64 * 1024, $"{result.Transfer.FileBytesReceived} bytes read");
        Assert.True(_server.FileBytesSent < 64L * 1024 * 1024, $"{_server.FileBytesSent} bytes sent");
    }

    [Fact]
    public void Load_HostileHeaderLength_IsOneLineErrorNotAnAllocation()
    {
        // Given: a safetensors file whose first 8 bytes claim a 2^60-byte header, in a 2^62-byte file
        var head = new byte[64];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(head, 1UL << 60);
        _server.AddRepo("acme/hostile", HubFixtures.Commit, new Dictionary<string, VirtualFile> { ["model.safetensors"] = new(head, 1L << 62) });

        // When
        var e = Assert.Throws<ModelFileFormatException>(() => _kit.Load("hf:acme/hostile"));

        // Then
        Assert.Contains("model.safetensors", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(_server.FileBytesSent <= 64 * 1024);
    }

    [Fact]
    public void Load_HostileGguf_TensorCountOf2To60_IsOneLineError()
    {
        // Given: a GGUF whose tensor_count claims 2^60 in a file claiming 2^62 bytes
        var writer = GgufWriter.TinyLlama();
        writer.TensorCountOverride = 1UL << 60;
        var (file, _) = HubFixtures.Gguf(writer);
        _server.AddRepo("acme/hostile-GGUF", HubFixtures.Commit, new Dictionary<string, VirtualFile> { ["x.gguf"] = new(file.Head, 1L << 62) });

        // When
        var e = Assert.Throws<ModelFileFormatException>(() => _kit.Load("hf:acme/hostile-GGUF"));

        // Then
        Assert.Contains("x.gguf", e.Message);
        Assert.Contains("tensor_count", e.Message);
        Assert.True(_server.FileBytesSent <= 64 * 1024, _server.FileBytesSent.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Load_UnknownModelType_CountsFromHeaders_AndMemoryUsesGenericGeometry()
    {
        // Given: the same checkpoint, but a model_type no family reader knows
        _server.AddRepo("acme/zorblax", HubFixtures.Commit, HubFixtures.ShardedLlama(out _, modelType: "zorblax"));

        // When
        var model = _kit.Load("hf:acme/zorblax").Model;
        var estimate = Sizer.Memory(new MemoryRequest { Model = new ModelRequest { Loaded = model }, Workload = new LlmSizer.Memory.Workload { Context = 1024 } });

        // Then: parameters exact from headers; the KV cache from num_hidden_layers 2, num_key_value_heads 2, head_dim 64:
        // 2 (K and V) × 2 layers × 2 heads × 64 × 1024 tokens × 2 bytes (bf16) = 1,048,576 bytes (1024 tokens: a whole
        // number of vLLM's 16-token blocks)
        Assert.Equal(HubFixtures.ShardedLlamaParameters, model.Parameters().Total.Value);
        Assert.Null(model.Family);
        Assert.Contains(model.Warnings, w => w.Contains("zorblax", StringComparison.Ordinal) && w.Contains("generic", StringComparison.Ordinal));
        var kv = estimate.Components.Single(c => c.Name == "kv_cache");
        Assert.Equal(1_048_576L, kv.Total.Bytes);
    }

    [Fact]
    public void Load_Url_ReadsHeader_AndRevalidatesWithItsETag()
    {
        // Given: a plain URL of a safetensors file: 1000 × 256 F16 = 256,000 parameters
        var url = _server.AddUrl("embed.safetensors", HubFixtures.Safetensors(new SafetensorsWriter().Add("embed.weight", "F16", 1000, 256)));

        // When
        var first = _kit.Load(url.ToString());
        _server.ResetCounters();
        var second = _kit.Load(url.ToString());

        // Then: the second read is one conditional request answered 304
        Assert.Equal(256_000L, first.Model.Parameters().Total.Value);
        Assert.Equal(256_000L, second.Model.Parameters().Total.Value);
        Assert.Equal(0, _server.FileBytesSent);
        Assert.Equal(304, Assert.Single(_server.Seen).Status);
    }
}

public sealed class HubAdapterTests : IDisposable
{
    private readonly LoopbackHub _server = new();
    private readonly HubTestKit _kit;

    public HubAdapterTests() => _kit = new HubTestKit(_server);

    public void Dispose()
    {
        _kit.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Load_LoraAdapterRepo_CountsTheAdapter_AndNamesItsBase()
    {
        // Given: a PEFT LoRA of rank 8 on q_proj of one layer of a 256-wide model: A is 8×256, B is 256×8
        var adapter = new SafetensorsWriter()
            .Add("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "F32", 8, 256)
            .Add("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", "F32", 256, 8);
        _server.AddRepo("acme/tiny-lora", HubFixtures.Commit, new Dictionary<string, VirtualFile>
        {
            ["adapter_model.safetensors"] = HubFixtures.Safetensors(adapter),
            ["adapter_config.json"] = VirtualFile.Text("""{"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"], "base_model_name_or_path": "acme/tiny-llama"}"""),
        });

        // When
        var model = _kit.Load("hf:acme/tiny-lora").Model;

        // Then: 8·256 + 256·8 = 4,096 parameters, reported as an adapter on acme/tiny-llama
        Assert.Equal(4_096L, model.Parameters().Total.Value);
        var warning = Assert.Single(model.Warnings, w => w.Contains("adapter", StringComparison.Ordinal));
        Assert.Contains("LORA adapter (rank 8; alpha 16; targets q_proj) on base model acme/tiny-llama", warning);
        Assert.Contains("hf:acme/tiny-llama", warning);
    }
}

public sealed class HubLayoutTests : IDisposable
{
    private readonly LoopbackHub _server = new();
    private readonly HubTestKit _kit;

    public HubLayoutTests() => _kit = new HubTestKit(_server);

    public void Dispose()
    {
        _kit.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Load_DiffusersPipeline_CountsEveryComponent_NamedByFolder()
    {
        // Given: unet conv 320×4×3×3 = 11,520 + bias 320; vae conv 512×4×3×3 = 18,432; text encoder embedding
        // 1000×64 = 64,000. Total 94,272. The scheduler and tokenizer folders hold no weights.
        _server.AddRepo("acme/tiny-diffusion", HubFixtures.Commit, new Dictionary<string, VirtualFile>
        {
            ["model_index.json"] = VirtualFile.Text("""{"_class_name": "StableDiffusionPipeline"}"""),
            ["unet/config.json"] = VirtualFile.Text("""{"_class_name": "UNet2DConditionModel"}"""),
            ["unet/diffusion_pytorch_model.safetensors"] = HubFixtures.Safetensors(new SafetensorsWriter().Add("conv_in.weight", "F16", 320, 4, 3, 3).Add("conv_in.bias", "F16", 320)),
            ["vae/config.json"] = VirtualFile.Text("""{"_class_name": "AutoencoderKL"}"""),
            ["vae/diffusion_pytorch_model.safetensors"] = HubFixtures.Safetensors(new SafetensorsWriter().Add("decoder.conv_in.weight", "F32", 512, 4, 3, 3)),
            ["text_encoder/config.json"] = VirtualFile.Text("""{"model_type": "clip_text_model"}"""),
            ["text_encoder/model.safetensors"] = HubFixtures.Safetensors(new SafetensorsWriter().Add("text_model.embeddings.token_embedding.weight", "F16", 1000, 64)),
            ["scheduler/scheduler_config.json"] = VirtualFile.Text("{}"),
            ["tokenizer/vocab.json"] = VirtualFile.Text("{}"),
        });

        // When
        var model = _kit.Load("hf:acme/tiny-diffusion").Model;

        // Then
        Assert.Equal(94_272L, model.Parameters().Total.Value);
        Assert.Contains(model.Inventory.Tensors, t => t.Name == "unet/conv_in.weight");
        Assert.Contains(model.Inventory.Tensors, t => t.Name == "vae/decoder.conv_in.weight");
        var warning = Assert.Single(model.Warnings, w => w.Contains("Diffusers", StringComparison.Ordinal));
        Assert.Contains("text_encoder 64,000", warning);
        Assert.Contains("unet 11,840", warning);
        Assert.Contains("vae 18,432", warning);
        Assert.Contains("94,272 in all", warning);
    }

    [Fact]
    public void Load_SentenceTransformers_CountsTheDenseModulesToo()
    {
        // Given: the transformer at the root (embedding 1000×64 = 64,000) and a Dense module 2_Dense (128×64 + 128 =
        // 8,320); the Pooling module has no weights. Total 72,320.
        _server.AddRepo("acme/tiny-embedder", HubFixtures.Commit, new Dictionary<string, VirtualFile>
        {
            ["modules.json"] = VirtualFile.Text("""
                [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                 {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                 {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"}]
                """),
            ["model.safetensors"] = HubFixtures.Safetensors(new SafetensorsWriter().Add("embeddings.word_embeddings.weight", "F32", 1000, 64)),
            ["1_Pooling/config.json"] = VirtualFile.Text("""{"pooling_mode_mean_tokens": true}"""),
            ["2_Dense/config.json"] = VirtualFile.Text("""{"in_features": 64, "out_features": 128, "bias": true}"""),
            ["2_Dense/model.safetensors"] = HubFixtures.Safetensors(new SafetensorsWriter().Add("linear.weight", "F32", 128, 64).Add("linear.bias", "F32", 128)),
        });

        // When
        var model = _kit.Load("hf:acme/tiny-embedder").Model;

        // Then
        Assert.Equal(72_320L, model.Parameters().Total.Value);
        Assert.Contains(model.Inventory.Tensors, t => t.Name == "2_Dense/linear.weight");
        var warning = Assert.Single(model.Warnings, w => w.Contains("sentence-transformers", StringComparison.Ordinal));
        Assert.Contains("transformer 64,000, Dense 2_Dense 8,320", warning);
    }
}
