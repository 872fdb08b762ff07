using System.Text.Json;

namespace LlmSizer.Tests.Hub;

/// <summary>The CLI against the loopback Hub: HF_ENDPOINT and the other variables are given to the run (the process
/// environment is never changed), output and exit codes checked as a user sees them.</summary>
public sealed class HubCliTests : IDisposable
{
    private readonly LoopbackHub _server = new();
    private readonly HubTestKit _kit;

    public HubCliTests()
    {
        _kit = new HubTestKit(_server);
        _server.AddRepo("acme/tiny-llama", HubFixtures.Commit, HubFixtures.ShardedLlama(out _));
        _server.AddRepo("acme/gated", HubFixtures.Commit, HubFixtures.ShardedLlama(out _), gatedToken: HubTestKit.Token);
        _server.AddRepo("acme/zorblax", HubFixtures.Commit, HubFixtures.ShardedLlama(out _, modelType: "zorblax"));
    }

    public void Dispose()
    {
        _kit.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void Params_HubId_Json_CountsFromHeaders()
    {
        var r = _kit.Cli("params", "hf:acme/tiny-llama", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("acme/tiny-llama", doc.RootElement.GetProperty("model").GetString());
        Assert.Equal("safetensors", doc.RootElement.GetProperty("source").GetString());
        Assert.Equal(HubFixtures.ShardedLlamaParameters, doc.RootElement.GetProperty("parameters").GetProperty("total").GetInt64());
        Assert.Equal(HubFixtures.ShardedLlamaParameters, doc.RootElement.GetProperty("by_dtype").GetProperty("BF16").GetInt64());
        Assert.Equal(2 * HubFixtures.ShardedLlamaParameters, doc.RootElement.GetProperty("weight_bytes").GetInt64());
        Assert.Equal(21, doc.RootElement.GetProperty("tensors").GetInt32()); // embed + 2 layers × 9 + norm + lm_head
    }

    [Fact]
    public void Params_HubId_Check_HeadersMatchTheConfig()
    {
        // The shards hold exactly the tensors a llama config of these sizes implies (official names and shapes).
        var r = _kit.Cli("params", "hf:acme/tiny-llama", "--check");

        Assert.Equal(0, r.ExitCode);
    }

    [Fact]
    public void Fit_HubId_PlansOnAGpu()
    {
        var r = _kit.Cli("fit", "hf:acme/tiny-llama", "--gpu", "h100", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("acme/tiny-llama", doc.RootElement.GetProperty("model").GetString());
        Assert.True(doc.RootElement.GetProperty("results")[0].GetProperty("fits_on_one").GetBoolean());
    }

    [Fact]
    public void Params_Twice_SecondRunMovesNoFileBytes_AndRefreshDoes()
    {
        Assert.Equal(0, _kit.Cli("params", "hf:acme/tiny-llama").ExitCode);
        _server.ResetCounters();

        var again = _kit.Cli("params", "hf:acme/tiny-llama");
        long second = _server.FileBytesSent;
        _server.ResetCounters();
        var refreshed = _kit.Cli("params", "hf:acme/tiny-llama", "--refresh");

        Assert.Equal(0, again.ExitCode);
        Assert.Contains("1,692,928", again.Stdout);
        Assert.Equal(0, second);
        Assert.Equal(0, refreshed.ExitCode);
        Assert.True(_server.FileBytesSent > 0);
    }

    [Fact]
    public void Memory_UnknownFamily_WarnsWhichPartsAreGeneric()
    {
        var r = _kit.Cli("memory", "hf:acme/zorblax", "--context", "1024", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("zorblax", r.Stderr);
        Assert.Contains("generic attention geometry", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var kv = doc.RootElement.GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "kv_cache");
        Assert.Equal(1_048_576L, kv.GetProperty("bytes").GetInt64()); // 2 × 2 layers × 2 KV heads × 64 × 1024 × 2 bytes
    }

    [Fact]
    public void Params_Gated_WithoutToken_Exit4_OneLine()
    {
        var r = _kit.Cli("params", "hf:acme/gated");

        Assert.Equal(4, r.ExitCode);
        var line = Assert.Single(r.StderrLines);
        Assert.StartsWith("error: hf:acme/gated: 401", line);
        Assert.Contains("HF_TOKEN", line);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Token_NeverInOutput_OnSuccessOrFailure_EvenVerbose()
    {
        // Given: the right token for acme/gated, files redirected to another host
        _kit.Variables["HF_TOKEN"] = HubTestKit.Token;
        _server.RedirectFilesToOtherHost = true;

        var ok = _kit.Cli("params", "hf:acme/gated", "--tensors", "--verbose");
        var notFound = _kit.Cli("params", "hf:acme/gated/nope.gguf", "--verbose");
        var missingRepo = _kit.Cli("memory", "hf:acme/missing", "--verbose", "--json");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(4, notFound.ExitCode);
        Assert.Equal(4, missingRepo.ExitCode);
        foreach (var r in new[] { ok, notFound, missingRepo })
        {
            Assert.DoesNotContain(HubTestKit.Token, r.Stdout + r.Stderr);
        }

        Assert.All(_server.Seen.Where(s => s.Host.StartsWith("localhost", StringComparison.Ordinal)), s => Assert.Null(s.Authorization));
    }

    [Fact]
    public void Errors_MapToExitCodes()
    {
        Assert.Equal(4, _kit.Cli("params", "hf:acme/nope").ExitCode);
        Assert.Equal(1, _kit.Cli("params", "hf:not-a-repo").ExitCode);
        _kit.Variables["HF_HUB_OFFLINE"] = "1";
        var offline = _kit.Cli("params", "hf:acme/other");
        Assert.Equal(4, offline.ExitCode);
        Assert.Contains("HF_HUB_OFFLINE", offline.Stderr);
    }

    [Fact]
    public void CatalogIds_StillWorkOffline()
    {
        _kit.Variables["HF_HUB_OFFLINE"] = "1";

        var r = _kit.Cli("params", "llama-3.1-8b", "--json");

        Assert.Equal(0, r.ExitCode);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public void Readme_HubExample_IsWhatTheLoopbackServerPrints()
    {
        // Given: the README's example, between its markers: a command line, then the output
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
        const string Start = "<!-- hub-example: tests/LlmSizer.Tests/Hub/HubCliTests.cs -->";
        int from = readme.IndexOf(Start, StringComparison.Ordinal);
        Assert.True(from >= 0, "README has no hub example");
        var block = readme[(readme.IndexOf("```text", from, StringComparison.Ordinal) + 7)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        var lines = block.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.StartsWith("$ llmsize params hf:acme/tiny-llama", lines[0]);

        // When
        var r = _kit.Cli("params", "hf:acme/tiny-llama");

        // Then: every output line of the README is a line of the real output, in order
        var actual = r.Stdout.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Equal(lines.Skip(1).ToList(), actual);
    }
}
