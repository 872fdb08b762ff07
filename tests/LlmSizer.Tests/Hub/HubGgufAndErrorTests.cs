using Xunit.Abstractions;
using LlmSizer.Errors;
using LlmSizer.Hub;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Tests.Hub;

public sealed class HubGgufAndErrorTests : IDisposable
{
    private readonly LoopbackHub _server = new();
    private readonly HubTestKit _kit;
    private readonly ITestOutputHelper _output;

    public HubGgufAndErrorTests(ITestOutputHelper output)
    {
        _kit = new HubTestKit(_server);
        _output = output;
    }

    public void Dispose()
    {
        _kit.Dispose();
        _server.Dispose();
    }

    /// <summary>TinyLlama with 20,000 tokens: the tokenizer arrays put the tensor infos past the first 64 KiB read.</summary>
    private static GgufWriter.LlamaOptions BigVocab => new() { Vocab = 20_000 };

    /// <summary>By hand, from GgufWriter.TinyLlama's shapes (d 64, 2 layers, 4 heads, 2 KV heads, ff 128, V 20,000):
    /// token_embd and output V·d = 1,280,000 each; output_norm 64; per layer two norms 2·64 = 128, wq and wo 64·64 =
    /// 4,096 each, wk and wv 64·32 = 2,048 each (head_dim 64/4 = 16, 2 KV heads), three MLP matrices 64·128 = 8,192
    /// each: 128 + 8,192 + 4,096 + 24,576 = 36,992; two layers 73,984. Total 2,560,000 + 64 + 73,984 = 2,634,048.</summary>
    private const long BigVocabParameters = 2_634_048;

    [Fact]
    public void Load_Gguf_ReadsMetadataAndTensorInfosOnly_InGrowingChunks()
    {
        // Given
        var (file, headerEnd) = HubFixtures.Gguf(GgufWriter.TinyLlama(BigVocab));
        _server.AddRepo("acme/tiny-GGUF", HubFixtures.Commit, new Dictionary<string, VirtualFile> { ["tiny-F16.gguf"] = file });

        // When
        var model = _kit.Load("hf:acme/tiny-GGUF").Model;

        // Then: the bytes are those of the header rounded up to the chunk in force: chunks grow 64 KiB, 128 KiB, 256 KiB,
        // ... (each the bytes held so far), so the prefix read is the first of 64 Ki · 2^k at or past the header's end.
        Assert.Equal(BigVocabParameters, model.Parameters().Total.Value);
        Assert.Equal(ModelSourceKind.Gguf, model.Source);
        long bound = 64 * 1024;
        while (bound < headerEnd)
        {
            bound *= 2;
        }

        Assert.True(headerEnd > 64 * 1024, "the fixture's header should need more than one chunk");
        Assert.True(_server.FileBytesSent <= bound, $"{_server.FileBytesSent} bytes for a {headerEnd}-byte header (bound {bound})");
        Assert.True(_server.FileBytesSent >= headerEnd);
        _output.WriteLine($"gguf: header {headerEnd:N0} bytes of {file.Length:N0}; {_server.FileBytesSent:N0} bytes in {_server.Seen.Count(r => r.Path.EndsWith(".gguf", StringComparison.Ordinal))} requests (bound {bound:N0})");
    }

    [Fact]
    public void Load_QuantSelector_PicksThatFile_AndKeepsProjectorsApart()
    {
        // Given: two quantizations and a vision projector (the bytes are the same tiny model; names pick)
        var (small, _) = HubFixtures.Gguf(GgufWriter.TinyLlama());
        var (big, _) = HubFixtures.Gguf(GgufWriter.TinyLlama(BigVocab));
        _server.AddRepo("acme/tiny-GGUF", HubFixtures.Commit, new Dictionary<string, VirtualFile>
        {
            ["tiny-Q4_K_M.gguf"] = small,
            ["tiny-Q8_0.gguf"] = big,
            ["mmproj-tiny-f16.gguf"] = small,
        });

        // When
        var q8 = _kit.Load("hf:acme/tiny-GGUF:Q8_0").Model;
        var named = _kit.Load("hf:acme/tiny-GGUF/tiny-Q8_0.gguf").Model;
        var none = Assert.Throws<UnknownModelException>(() => _kit.Load("hf:acme/tiny-GGUF"));
        var missing = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-GGUF:Q2_K"));

        // Then
        Assert.Equal(BigVocabParameters, q8.Parameters().Total.Value);
        Assert.Equal("acme/tiny-GGUF:Q8_0", q8.Name);
        Assert.Contains(q8.Warnings, w => w.Contains("mmproj-tiny-f16.gguf", StringComparison.Ordinal));
        Assert.Equal(BigVocabParameters, named.Parameters().Total.Value);
        Assert.Contains("Q4_K_M", none.Message);
        Assert.Contains("Q8_0", none.Message);
        Assert.Equal(RemoteErrorKind.NotFound, missing.Kind);
        Assert.Contains("Q2_K", missing.Message);
    }

    [Fact]
    public void Load_QuantSelector_PicksASplitSet_ReadsShardsConcurrently()
    {
        // Given: a gguf-split set of two shards in a quantization folder, as llama.cpp gguf-split writes them (split.no
        // u16 0-based, split.count u16, split.tensors.count i32 in every shard; model metadata in shard 1), and a Q8_0
        // single file. Parameters by hand: token_embd 16×64 = 1,024; output_norm 16; blk.0.attn_q 16×16 = 256;
        // output 16×64 = 1,024. Total 2,320 in 4 tensors.
        var shards = new GgufWriter[2];
        for (int i = 0; i < 2; i++)
        {
            var w = new GgufWriter();
            if (i == 0)
            {
                w.AddString("general.architecture", "llama").AddUInt32("llama.block_count", 1).AddUInt32("llama.embedding_length", 16)
                 .AddUInt32("llama.attention.head_count", 4).AddUInt32("llama.attention.head_count_kv", 2)
                 .AddUInt32("llama.feed_forward_length", 32).AddUInt32("llama.vocab_size", 64);
            }

            shards[i] = w.AddUInt16("split.no", (ushort)i).AddUInt16("split.count", 2).AddInt32("split.tensors.count", 4);
        }

        shards[0].AddTensor("token_embd.weight", GgufWriter.GgmlType.F32, 16, 64).AddTensor("output_norm.weight", GgufWriter.GgmlType.F32, 16);
        shards[1].AddTensor("blk.0.attn_q.weight", GgufWriter.GgmlType.F32, 16, 16).AddTensor("output.weight", GgufWriter.GgmlType.F16, 16, 64);
        var (single, _) = HubFixtures.Gguf(GgufWriter.TinyLlama());
        _server.AddRepo("acme/split-GGUF", HubFixtures.Commit, new Dictionary<string, VirtualFile>
        {
            ["Q4_K_M/tiny-Q4_K_M-00001-of-00002.gguf"] = HubFixtures.Gguf(shards[0]).File,
            ["Q4_K_M/tiny-Q4_K_M-00002-of-00002.gguf"] = HubFixtures.Gguf(shards[1]).File,
            ["tiny-Q8_0.gguf"] = single,
        });

        // When
        var result = _kit.Load("hf:acme/split-GGUF:Q4_K_M");

        // Then: both shards, one request each (their headers fit the first 64 KiB read)
        Assert.Equal(2_320L, result.Model.Parameters().Total.Value);
        Assert.Equal(4, result.Model.Inventory.Tensors.Length);
        Assert.Equal(2, result.Model.Files.Count);
        Assert.Equal(2, _server.Seen.Count(r => r.Path.EndsWith(".gguf", StringComparison.Ordinal)));
    }

    [Fact]
    public void Load_GatedWithoutToken_SaysHowToSetHfTokenAndAcceptTheLicence()
    {
        _server.AddRepo("acme/gated", HubFixtures.Commit, HubFixtures.ShardedLlama(out _), gatedToken: HubTestKit.Token);

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/gated"));

        Assert.Equal(RemoteErrorKind.Unauthorized, e.Kind);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.Contains("licence", e.Message);
        Assert.Contains("acme/gated", e.Message);
    }

    [Fact]
    public void Load_WrongToken_NeverShowsTheToken()
    {
        _server.AddRepo("acme/gated", HubFixtures.Commit, HubFixtures.ShardedLlama(out _), gatedToken: "hf_the_right_one");
        _kit.Variables["HF_TOKEN"] = HubTestKit.Token;

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/gated"));

        Assert.Equal(RemoteErrorKind.Unauthorized, e.Kind);
        Assert.Contains("HF_TOKEN", e.Message);
        Assert.DoesNotContain(HubTestKit.Token, e.ToString());
    }

    [Fact]
    public void Load_TokenFile_IsUsedWhenHfTokenIsUnset()
    {
        _server.AddRepo("acme/gated", HubFixtures.Commit, HubFixtures.ShardedLlama(out _), gatedToken: HubTestKit.Token);
        var hfHome = Path.Combine(_kit.Home, "hf");
        Directory.CreateDirectory(hfHome);
        File.WriteAllText(Path.Combine(hfHome, "token"), HubTestKit.Token + "\n");
        _kit.Variables["HF_HOME"] = hfHome;

        var model = _kit.Load("hf:acme/gated").Model;

        Assert.Equal(HubFixtures.ShardedLlamaParameters, model.Parameters().Total.Value);
        Assert.DoesNotContain(HubTestKit.Token, _kit.Environment.ToString());
    }

    [Fact]
    public void Load_NoSuchRepoRevisionOrFile_NamesIt()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));

        var repo = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/nope"));
        var revision = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama@v9"));
        var file = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama/missing.safetensors"));

        Assert.Equal(RemoteErrorKind.NotFound, repo.Kind);
        Assert.Contains("acme/nope", repo.Message);
        Assert.Contains("'v9'", revision.Message);
        Assert.Contains("missing.safetensors", file.Message);
        Assert.Equal(RemoteErrorKind.NotFound, file.Kind);
    }

    [Fact]
    public void Load_UnknownRepoAnswered401LikeTheHub_IsNotFoundNotGated()
    {
        // Given: the real Hub answers 401 + X-Error-Code: RepoNotFound for a repo an anonymous caller cannot see
        _server.UnknownRepoIs401 = true;

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/typo-in-name"));

        Assert.Equal(RemoteErrorKind.NotFound, e.Kind);
        Assert.Contains("no repository acme/typo-in-name", e.Message);
        Assert.Contains("private", e.Message);
        Assert.DoesNotContain("gated", e.Message);
    }

    [Fact]
    public void Load_429WithRetryAfter_WaitsAndRetries()
    {
        // Given: the first two answers are 429 with Retry-After: 1 (the retry delay of the test client is 20 ms)
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _server.TooManyRequests = 2;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // When
        var model = _kit.Load("hf:acme/tiny-llama").Model;

        // Then: retried, after waiting what the server asked (2 × 1 s; a 20 ms backoff alone would be far less)
        Assert.Equal(HubFixtures.ShardedLlamaParameters, model.Parameters().Total.Value);
        Assert.Equal(2, _server.Seen.Count(r => r.Status == 429));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.8), clock.Elapsed.ToString());
    }

    [Fact]
    public void Load_429Forever_GivesUpWithOneLine()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _server.TooManyRequests = 100;
        _kit.Client = _kit.Client with { MaxRetries = 1 };

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama"));

        Assert.Equal(429, e.StatusCode);
        Assert.Contains("retries", e.Message);
    }

    [Fact]
    public void Load_SlowServer_TimesOut()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _server.Delay = TimeSpan.FromSeconds(5);
        _kit.Client = _kit.Client with { AttemptTimeout = TimeSpan.FromMilliseconds(300), MaxRetries = 1 };

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama"));

        Assert.Equal(RemoteErrorKind.Timeout, e.Kind);
        Assert.Contains("timeout", e.Message);
    }

    [Fact]
    public void Load_ConnectionRefused_IsConnectionError()
    {
        // Given: an endpoint where nothing listens (a port taken from the OS and released)
        var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _kit.Variables["HF_ENDPOINT"] = $"http://127.0.0.1:{port}";
        _kit.Client = _kit.Client with { MaxRetries = 1 };

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama"));

        Assert.Equal(RemoteErrorKind.Connection, e.Kind);
        Assert.Contains("127.0.0.1", e.Message);
    }

    [Fact]
    public void Load_Offline_WithEmptyCaches_SaysWhatIsMissing()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _kit.Variables["HF_HUB_OFFLINE"] = "1";

        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama"));

        Assert.Equal(RemoteErrorKind.Offline, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Contains("models--acme--tiny-llama", e.Message);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public void Load_Offline_AfterOneOnlineRead_UsesTheHeaderCache()
    {
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _kit.Load("hf:acme/tiny-llama");
        _server.ResetCounters();
        _kit.Variables["HF_HUB_OFFLINE"] = "1";

        var model = _kit.Load("hf:acme/tiny-llama").Model;

        Assert.Equal(HubFixtures.ShardedLlamaParameters, model.Parameters().Total.Value);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public void Load_HuggingFaceCacheSnapshot_IsReadWithoutNetwork()
    {
        // Given: a Hugging Face cache holding refs/main and a snapshot with config.json and model.safetensors
        var hubCache = Path.Combine(_kit.Home, "hf-cache");
        var repo = Path.Combine(hubCache, "models--acme--cached");
        var snapshot = Path.Combine(repo, "snapshots", HubFixtures.Commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), HubFixtures.Commit);
        File.WriteAllText(Path.Combine(snapshot, "config.json"), HubFixtures.LlamaConfig());
        new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 1000, 256).WriteFile(Path.Combine(snapshot, "model.safetensors"));
        _kit.Variables["HF_HUB_CACHE"] = hubCache;

        // When: the server does not even know the repo
        var result = _kit.Load("hf:acme/cached");

        // Then: 1000 × 256 = 256,000 parameters, no request
        Assert.Equal(256_000L, result.Model.Parameters().Total.Value);
        Assert.Equal(HubOrigin.HuggingFaceCache, result.Transfer.Origin);
        Assert.Equal(0, _server.Requests);
        Assert.Equal("acme/cached", result.Model.Name);
    }

    [Fact]
    public void Load_HuggingFaceCacheWithoutAllShards_GoesToTheNetwork()
    {
        // Given: a snapshot with the index and only the first shard
        var files = HubFixtures.ShardedLlama(out _);
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, files);
        var hubCache = Path.Combine(_kit.Home, "hf-cache");
        var snapshot = Path.Combine(hubCache, "models--acme--tiny-llama", "snapshots", HubFixtures.Commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(hubCache, "models--acme--tiny-llama", "refs"));
        File.WriteAllText(Path.Combine(hubCache, "models--acme--tiny-llama", "refs", "main"), HubFixtures.Commit);
        File.WriteAllBytes(Path.Combine(snapshot, "model.safetensors.index.json"), files["model.safetensors.index.json"].Head);
        _kit.Variables["HF_HUB_CACHE"] = hubCache;

        // When
        var result = _kit.Load("hf:acme/tiny-llama");

        // Then
        Assert.Equal(HubFixtures.ShardedLlamaParameters, result.Model.Parameters().Total.Value);
        Assert.Equal(HubOrigin.Network, result.Transfer.Origin);

        // And offline, the message names the missing shard
        _kit.Variables["HF_HUB_OFFLINE"] = "1";
        _kit.Variables["XDG_CACHE_HOME"] = Path.Combine(_kit.Home, "empty-cache");
        var e = Assert.Throws<RemoteModelException>(() => _kit.Load("hf:acme/tiny-llama"));
        Assert.Contains("model-00002-of-00003.safetensors", e.Message);
    }
}
