using System.Text.Json;

namespace LlmSizer.Tests.Cli;

public class SeedAndModelsCommandTests
{
    [Fact]
    public void Seed_Json_HasThePostsFiguresAndCorrections()
    {
        var r = CliRunner.Run("seed", "--json");

        // Figures from the post's text (seed-post.md) and hand arithmetic:
        // 50,000 x 512 = 25,600,000; 12 x 8 x (512 x 512 / 8) = 3,145,728; 12 x 2 x 512^2 = 6,291,456;
        // 25,600,000 x 2 + 3,145,728 + 6,291,456 = 60,637,184; printed 3,932,160 and 61,423,616.
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        var p = root.GetProperty("parameters");
        Assert.Equal(25_600_000L, p.GetProperty("embedding").GetInt64());
        Assert.Equal(3_145_728L, p.GetProperty("attention").GetInt64());
        Assert.Equal(6_291_456L, p.GetProperty("feedforward").GetInt64());
        Assert.Equal(25_600_000L, p.GetProperty("output").GetInt64());
        Assert.Equal(60_637_184L, p.GetProperty("total").GetInt64());
        Assert.Equal(3_932_160L, root.GetProperty("published").GetProperty("attention").GetInt64());
        Assert.Equal(61_423_616L, root.GetProperty("published").GetProperty("total").GetInt64());
        var vram = root.GetProperty("vram_bytes");
        Assert.Equal(245_694_464L, vram.GetProperty("fp32").GetInt64());
        Assert.Equal(122_847_232L, vram.GetProperty("fp16").GetInt64());
        Assert.Equal(61_423_616L, vram.GetProperty("int8").GetInt64());
        var t = root.GetProperty("training_estimate_mib");
        Assert.Equal(234, t.GetProperty("parameters").GetInt32());
        Assert.Equal(200, t.GetProperty("activations").GetInt32());
        Assert.Equal(468, t.GetProperty("optimizer").GetInt32());
        Assert.Equal(50, t.GetProperty("input").GetInt32());
        Assert.Equal(952, t.GetProperty("total").GetInt32());
        Assert.True(root.GetProperty("errata").GetArrayLength() >= 3);
        Assert.Equal(JsonValueKind.Object, root.GetProperty("exact").ValueKind);
    }

    [Fact]
    public void Seed_Table_ShowsPrintedAndCorrectedFigures()
    {
        var r = CliRunner.Run("seed");

        Assert.Equal(0, r.ExitCode);
        foreach (var s in new[] { "3,932,160", "3,145,728", "61,423,616", "60,637,184", "245,694,464", "234.3", "117.2", "58.6", "952" })
        {
            Assert.Contains(s, r.Stdout);
        }
    }

    [Fact]
    public void Models_Json_ListsCatalogWithLlama()
    {
        var r = CliRunner.Run("models", "--json");

        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var models = doc.RootElement.GetProperty("models");
        Assert.True(models.GetArrayLength() >= 1);
        var llama = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == "llama-3.1-8b");
        Assert.Equal("llama", llama.GetProperty("family").GetString());
        Assert.Equal(8_030_261_248L, llama.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Models_Table_ListsIdsAndShortSizes()
    {
        var r = CliRunner.Run("models");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("llama-3.1-8b", r.Stdout);
        Assert.Contains("8.03 B", r.Stdout);
    }
}
