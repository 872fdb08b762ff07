using System.Text.Json;
using LlmSizer.Catalog;
using LlmSizer.Errors;

namespace LlmSizer.Tests.Catalog;

public class ModelCatalogTests
{
    /// <summary>The model_types issue 2 lists as supported (gemma3 is read through its text_config).</summary>
    private static readonly HashSet<string> SupportedModelTypes = new(StringComparer.Ordinal)
    {
        "gpt2", "gptj", "gpt_neox", "opt", "bloom", "falcon", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3",
        "qwen3_moe", "gemma", "gemma2", "gemma3_text", "gemma3", "phi", "phi3", "olmo2", "starcoder2", "cohere", "deepseek_v2",
        "deepseek_v3", "gpt_oss", "bert", "roberta", "t5", "mamba", "olmo", "olmoe", "granite", "smollm3", "whisper", "qwen2_vl", "qwen2_5_vl", "jamba", "llava", "mistral3", "granitemoehybrid", "idefics3", "smolvlm", "qwen3_next", "glm4",
        "deepseek_v32", "glm4_moe", "ernie4_5", "ernie4_5_moe", "exaone4", "falcon_h1", "llama4", "mllama", "granitemoe", "qwen3_5", "qwen3_5_moe", "zamba2",
        "gemma4",
    };

    public static TheoryData<string> AllIds()
    {
        var data = new TheoryData<string>();
        foreach (var entry in ModelCatalog.All)
        {
            data.Add(entry.Id);
        }

        return data;
    }

    [Fact]
    public void All_AtLeastFortyModels_IdsUniqueAndLowerCase()
    {
        var all = ModelCatalog.All;

        Assert.True(all.Count >= 40, $"only {all.Count} catalog entries");
        Assert.Equal(all.Count, all.Select(e => e.Id).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        Assert.All(all, e => Assert.Equal(e.Id.ToLowerInvariant(), e.Id));
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Entry_HasRepositorySourceAndSupportedModelType(string id)
    {
        // Given
        Assert.True(ModelCatalog.TryGet(id, out var entry));

        // Then: the source is the official config.json of the named repository.
        Assert.Contains('/', entry.Repository);
        Assert.Equal($"https://huggingface.co/{entry.Repository}/blob/main/config.json", entry.Source);
        var modelType = entry.Config.String("model_type");
        Assert.NotNull(modelType);
        Assert.Contains(modelType, SupportedModelTypes);
        if (modelType == "gemma3")
        {
            // Multimodal Gemma 3 keeps its language model under text_config.
            Assert.Equal("gemma3_text", entry.Config.Object("text_config")?.String("model_type"));
        }

        Assert.Equal(JsonValueKind.Array, entry.Config.Element.GetProperty("architectures").ValueKind);
    }

    [Theory]
    [MemberData(nameof(AllIds))]
    public void Entry_AliasesFindTheSameEntry(string id)
    {
        Assert.True(ModelCatalog.TryGet(id, out var entry));
        Assert.True(ModelCatalog.TryGet(id.ToUpperInvariant(), out var upper));
        Assert.Same(entry, upper);
        foreach (var alias in entry.Aliases)
        {
            Assert.True(ModelCatalog.TryGet(alias, out var byAlias), alias);
            Assert.Same(entry, byAlias);
        }
    }

    [Fact]
    public void Catalog_CoversTheIssuesFamilies()
    {
        var types = ModelCatalog.All.Select(e => e.Config.String("model_type")).ToHashSet(StringComparer.Ordinal);

        foreach (var required in new[] { "llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text", "gemma3", "phi3", "deepseek_v2", "deepseek_v3", "gpt_oss", "olmo2", "gpt2", "bert", "roberta", "t5", "falcon", "phi", "bloom" })
        {
            Assert.Contains(required, types);
        }
    }

    /// <summary>Llama-family entries resolve on every branch; their totals are the published checkpoint counts.</summary>
    /// <remarks>Sources: Hugging Face Hub safetensors parameter totals of each repository (the "Model size" the Hub shows
    /// from the safetensors metadata); Llama-2-7B and Llama-3.1-8B are also in /work/shared/samples/configs/counts.json
    /// (huggingface.js gguf.spec.ts and parse-safetensors-metadata.spec.ts). By hand for Llama-3.2-1B (tied):
    /// embed 128,256 x 2,048 = 262,668,288; per layer q 2048x2048 + k,v 2 x 512x2048 + o 2048x2048 = 10,485,760,
    /// mlp 3 x 8,192 x 2,048 = 50,331,648, norms 4,096 -> 60,821,504 x 16 = 973,144,064; final norm 2,048
    /// -> 1,235,814,400.</remarks>
    [Theory]
    [InlineData("llama-2-7b", 6_738_415_616L)]
    [InlineData("llama-2-13b", 13_015_864_320L)]
    [InlineData("llama-2-70b", 68_976_648_192L)]
    [InlineData("llama-3-8b", 8_030_261_248L)]
    [InlineData("llama-3-70b", 70_553_706_496L)]
    [InlineData("llama-3.1-8b", 8_030_261_248L)]
    [InlineData("llama-3.1-70b", 70_553_706_496L)]
    [InlineData("llama-3.1-405b", 405_853_388_800L)]
    [InlineData("llama-3.2-1b", 1_235_814_400L)]
    [InlineData("llama-3.2-3b", 3_212_749_824L)]
    [InlineData("llama-3.3-70b", 70_553_706_496L)]
    [InlineData("smollm2-135m", 134_515_008L)]
    [InlineData("smollm2-360m", 361_821_120L)]
    [InlineData("smollm2-1.7b", 1_711_376_384L)]
    public void LlamaEntries_TotalEqualsPublishedCount(string id, long published)
    {
        Assert.Equal(published, ModelResolver.Resolve(id).Inventory.TotalParameters.Value);
    }

    [Fact]
    public void Llama32_1B_HandFormula()
    {
        const long v = 128_256, d = 2_048, kv = 512, i = 8_192, layers = 16;
        long perLayer = (2 * d * d) + (2 * kv * d) + (3 * i * d) + (2 * d);
        Assert.Equal(1_235_814_400L, (v * d) + (layers * perLayer) + d);
    }

    [Fact]
    public void AllEntries_ResolveAndCount()
    {
        var counts = PublishedCounts();
        var failures = new List<string>();
        foreach (var entry in ModelCatalog.All)
        {
            try
            {
                var model = ModelResolver.Resolve(entry.Id);
                var total = model.Inventory.TotalParameters.Value;
                if (total <= 0 || model.Inventory.ActiveParameters.Value > total)
                {
                    failures.Add($"{entry.Id}: total {total}, active {model.Inventory.ActiveParameters.Value}");
                }

                if (counts.TryGetValue(entry.Id, out var published) && published != total)
                {
                    failures.Add($"{entry.Id}: total {total:N0}, published {published:N0}");
                }
            }
            catch (LlmSizerException ex)
            {
                failures.Add(ex.Message);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Published totals from /work/shared/samples/configs/counts.json (each with its source there), when present.</summary>
    private static Dictionary<string, long> PublishedCounts()
    {
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        if (TestPaths.SharedSamples is not { } samples)
        {
            return result;
        }

        var file = Path.Combine(samples, "configs", "counts.json");
        if (!File.Exists(file))
        {
            return result;
        }

        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            result[p.Name] = p.Value.GetProperty("params").GetInt64();
        }

        return result;
    }
}
