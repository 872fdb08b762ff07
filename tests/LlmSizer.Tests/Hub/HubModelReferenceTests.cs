using LlmSizer.Errors;
using LlmSizer.Hub;

namespace LlmSizer.Tests.Hub;

public class HubModelReferenceTests
{
    [Theory]
    [InlineData("hf:org/name", "org/name", "main", null, null)]
    [InlineData("hf:org/name@v1.0", "org/name", "v1.0", null, null)]
    [InlineData("hf:org/name/sub/dir/model.gguf", "org/name", "main", "sub/dir/model.gguf", null)]
    [InlineData("hf:org/name@dev/model.safetensors", "org/name", "dev", "model.safetensors", null)]
    [InlineData("hf:org/name-GGUF:Q4_K_M", "org/name-GGUF", "main", null, "Q4_K_M")]
    [InlineData("HF:org/name@abc:IQ2_XXS", "org/name", "abc", null, "IQ2_XXS")]
    public void Parse_HubForms(string text, string repo, string revision, string? file, string? quant)
    {
        var r = HubModelReference.Parse(text);

        Assert.Equal(repo, r.Repo);
        Assert.Equal(revision, r.Revision);
        Assert.Equal(file, r.FilePath);
        Assert.Equal(quant, r.Quant);
    }

    [Theory]
    [InlineData("hf:justname")]
    [InlineData("hf:org/../etc")]
    [InlineData("hf:org/name/../../x.gguf")]
    [InlineData("hf:org/name@bad rev")]
    [InlineData("hf:org/name/file.gguf:Q4_K_M")]
    [InlineData("ftp://host/model.gguf")]
    [InlineData("https://user:pass@host/model.gguf")]
    public void Parse_Malformed_IsOneLineNamingTheForms(string text)
    {
        var e = Assert.Throws<UnknownModelException>(() => HubModelReference.Parse(text));

        Assert.StartsWith("MODEL:", e.Message);
        Assert.DoesNotContain("user:pass@", e.Message);
    }

    [Fact]
    public void Environment_Defaults_FollowTheHuggingFaceLibraries()
    {
        var env = HubEnvironment.FromVariables(name => name == "HOME" ? "/home/u" : null);

        Assert.Equal("https://huggingface.co/", env.Endpoint.ToString());
        Assert.Equal("/home/u/.cache/huggingface/hub", env.HuggingFaceCache);
        Assert.Equal("/home/u/.cache/llmsize", env.HeaderCache);
        Assert.False(env.Offline);
    }

    [Fact]
    public void Environment_Variables_Override()
    {
        var vars = new Dictionary<string, string>
        {
            ["HOME"] = "/home/u", ["HF_HOME"] = "/hf", ["XDG_CACHE_HOME"] = "/xdg", ["HF_HUB_OFFLINE"] = "true",
            ["HF_ENDPOINT"] = "http://mirror.local:8080", ["HF_TOKEN"] = HubTestKit.Token,
        };
        var env = HubEnvironment.FromVariables(n => vars.GetValueOrDefault(n));

        Assert.Equal("/hf/hub", env.HuggingFaceCache);
        Assert.Equal("/xdg/llmsize", env.HeaderCache);
        Assert.True(env.Offline);
        Assert.Equal("http://mirror.local:8080/", env.Endpoint.ToString());
        Assert.Equal(HubTestKit.Token, env.Token);
        Assert.DoesNotContain(HubTestKit.Token, env.ToString());
        Assert.Contains("HF_TOKEN", env.ToString());
    }
}
