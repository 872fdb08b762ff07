using LlmSizer.Catalog;
using LlmSizer.Explain;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Explain;

/// <summary>params --explain: every printed equation holds (parsed back and evaluated) on every catalog model; each
/// group's derivation equals the inventory's count; the traps are named where they apply; the numbers of five models
/// against hand calculations written here.</summary>
public class ParameterExplanationTests
{
    public static TheoryData<string> CatalogIds()
    {
        var data = new TheoryData<string>();
        foreach (var entry in ModelCatalog.All)
        {
            data.Add(entry.Id);
        }

        return data;
    }

    private static ParameterExplanation ExplainOf(string id) => Sizer.Explain(Sizer.Parameters(id));

    [Theory]
    [MemberData(nameof(CatalogIds))]
    public void Explain_EveryCatalogModel_EveryPrintedEquationHolds(string id)
    {
        // Given
        var lines = ExplainText.Lines(ExplainOf(id));

        // When
        var report = EquationChecker.Check(lines, EquationChecker.Symbols(lines));

        // Then: no side disagrees, every group line and the sum were checked, and the symbolic sides were evaluated.
        Assert.True(report.Failures.Count == 0, id + ":\n" + string.Join('\n', report.Failures));
        Assert.True(report.Equations >= 4, $"{id}: only {report.Equations} equations checked");
        Assert.True(report.SymbolicSides >= 3, $"{id}: only {report.SymbolicSides} symbolic sides evaluated");
    }

    [Theory]
    [MemberData(nameof(CatalogIds))]
    public void Explain_EveryCatalogModel_GroupsEqualInventoryAndSumToTotal(string id)
    {
        // Given
        var model = Sizer.Load(id);
        var groups = model.Inventory.ByGroup();

        // When
        var e = ParameterDerivations.Explain(model);

        // Then
        foreach (var d in e.Groups)
        {
            var group = Enum.GetValues<TensorGroup>().Single(g => LlmSizer.Contract.ContractMapper.GroupName(g) == d.Name);
            Assert.Equal(groups[group].Value, d.Result);
            Assert.Equal(d.Result, d.Terms.Sum(t => t.Total));
        }

        Assert.Equal(model.Inventory.TotalParameters.Value, e.Total.Result);
        Assert.Equal(model.Inventory.ActiveParameters.Value, e.Active?.Result ?? e.Total.Result);
        Assert.Equal(e.Total.Result, e.Groups.Sum(g => g.Result));
    }

    [Fact]
    public void Explain_Llama31_8B_AttentionIsFourProjectionsWithSmallerKv()
    {
        // Given: 32 layers, d = 4096, 32 query heads and 8 KV heads of 128.
        var e = ExplainOf("llama-3.1-8b");

        // When
        var attention = e.Groups.Single(g => g.Name == "attention");

        // Then: Q and O are 4096 × 4096, K and V 1024 × 4096: 32 × (2 × 16,777,216 + 2 × 4,194,304) = 1,342,177,280.
        Assert.Equal(1_342_177_280L, attention.Result);
        Assert.Equal("L·(n_q·d_h·d + 2·n_kv·d_h·d + d·n_q·d_h)", attention.Formula);
        Assert.Contains(attention.Notes, n => n.StartsWith("GQA", StringComparison.Ordinal));
        // The post's L·H·(d·d/H) = 32 × 4096² = 536,870,912: one projection of four.
        Assert.Equal(536_870_912L, attention.PostValue);
        Assert.Equal(["embedding", "attention", "mlp", "norm", "lm_head"], e.Groups.Select(g => g.Name));
    }

    [Fact]
    public void Explain_Mixtral_ExpertsAndActiveParameters()
    {
        // Given: 32 layers × 8 experts of three 14336 × 4096 matrices, top-2.
        var e = ExplainOf("mixtral-8x7b");

        // When
        var experts = e.Groups.Single(g => g.Name == "experts");

        // Then: 256 × 3 × 58,720,256 = 45,097,156,608; active = total − 6/8 of the experts
        // = 46,702,792,704 − 33,822,867,456 = 12,879,925,248.
        Assert.Equal(45_097_156_608L, experts.Result);
        Assert.Equal("L·E·(2·d_e·d + d·d_e)", experts.Formula);
        Assert.Equal(12_879_925_248L, e.Active!.Result);
        Assert.Contains(experts.Notes, n => n.StartsWith("MoE", StringComparison.Ordinal));
        // The router is E × d = 8 × 4096 per layer: 32 × 32,768 = 1,048,576.
        Assert.Equal("L·E·d", e.Groups.Single(g => g.Name == "mlp").Formula);
    }

    [Fact]
    public void Explain_DeepSeekV3_NamesMlaRanksAndDenseFirstLayers()
    {
        // Given
        var e = ExplainOf("deepseek-v3");

        // When
        var attention = e.Groups.Single(g => g.Name == "attention");
        var mlp = e.Groups.Single(g => g.Name == "mlp");

        // Then: kv_a_proj_with_mqa is (512 + 64) × 7168 per layer; 3 dense layers of 3 × 18432 × 7168.
        Assert.Contains("(r_kv+d_R)·d", attention.Formula, StringComparison.Ordinal);
        Assert.Contains(attention.Notes, n => n.StartsWith("MLA", StringComparison.Ordinal) && n.Contains("576", StringComparison.Ordinal));
        Assert.StartsWith("L_dense·(2·d_ff·d + d·d_ff)", mlp.Formula, StringComparison.Ordinal);
        Assert.Equal(3L * 3 * 18_432 * 7_168 + (58L * ((256 * 7_168) + (3L * 2_048 * 7_168))), mlp.Result);
    }

    [Fact]
    public void Explain_Gemma2_9B_TiedHeadCountedOnceAndSlidingPatternNamed()
    {
        // Given
        var e = ExplainOf("gemma-2-9b");

        // When
        var head = e.Groups.Single(g => g.Name == "lm_head");
        var attention = e.Groups.Single(g => g.Name == "attention");

        // Then: the head is the embedding (0 more); 16 heads × 256 = 4096 ≠ d = 3584; 21 sliding and 21 global layers.
        Assert.Equal(0L, head.Result);
        Assert.Contains(head.Notes, n => n.StartsWith("tied head", StringComparison.Ordinal));
        Assert.Contains(attention.Notes, n => n.Contains("4,096 ≠ d = 3,584", StringComparison.Ordinal));
        Assert.Contains(attention.Notes, n => n.Contains("21 sliding-window layers", StringComparison.Ordinal));
        Assert.Equal(256_000L * 3_584, e.Groups.Single(g => g.Name == "embedding").Result);
    }

    [Fact]
    public void Explain_T5_EncoderAndDecoderLayersSeparately()
    {
        // Given: 12 + 12 layers of d = 768, d_ff = 3072; the decoder adds cross-attention (4 more d × d per layer).
        var e = ExplainOf("t5-base");

        // When
        var attention = e.Groups.Single(g => g.Name == "attention");

        // Then: 12 × 4 × 589,824 + 12 × 8 × 589,824 + 2 relative-bias tables of 32 × 12 = 84,935,424.
        Assert.Equal((12L * 4 * 589_824) + (12L * 8 * 589_824) + (2 * 32 * 12), attention.Result);
        Assert.Equal("L_enc·(4·d·d) + 2·32·n_q + L_dec·(8·d·d)", attention.Formula);
        Assert.Contains(e.Notes, n => n.StartsWith("encoder–decoder", StringComparison.Ordinal));
    }

    [Fact]
    public void Explain_Gpt2_PositionTableBiasesAndLayerNorms()
    {
        // Given
        var e = ExplainOf("gpt2");

        // When
        var embedding = e.Groups.Single(g => g.Name == "embedding");

        // Then: 50,257 × 768 + 1,024 × 768 = 38,597,376 + 786,432 = 39,383,808.
        Assert.Equal(39_383_808L, embedding.Result);
        Assert.Equal("V·d + P·d", embedding.Formula);
        Assert.Contains(e.Groups.Single(g => g.Name == "attention").Notes, n => n.StartsWith("biases", StringComparison.Ordinal));
        Assert.Contains(e.Groups.Single(g => g.Name == "norm").Notes, n => n.StartsWith("LayerNorm", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("qwen3-8b", "QK-norm")]
    [InlineData("qwen2.5-7b", "biases")]
    [InlineData("falcon-7b", "MQA")]
    public void Explain_AttentionTrap_IsNamed(string id, string trap)
    {
        var attention = ExplainOf(id).Groups.Single(g => g.Name == "attention");

        Assert.Contains(attention.Notes, n => n.StartsWith(trap, StringComparison.Ordinal));
    }

    [Fact]
    public void Explain_SymbolSources_NameTheConfigField()
    {
        var e = ExplainOf("gpt2");

        Assert.Equal("catalog gpt2 config.json n_embd", e.Symbols.Single(s => s.Name == "d").Source);
        Assert.Equal(64L, e.Symbols.Single(s => s.Name == "d_h").Value);
        Assert.StartsWith("d / n_q", e.Symbols.Single(s => s.Name == "d_h").Source, StringComparison.Ordinal);
    }

    [Fact]
    public void Checker_CatchesAWrongEquation()
    {
        // The checker must be able to fail: a wrong product, a wrong symbolic side.
        var symbols = new Dictionary<string, System.Numerics.BigInteger> { ["d"] = 512, ["L"] = 12 };
        var report = EquationChecker.Check(["   a = L·d·d = 12·512·512 = 3,145,729", "   b: L·2·d² = 12·2·512·512 = 6,291,456", "   c = L·d = 6,000"], symbols);

        Assert.Equal(2, report.Failures.Count);
        Assert.Equal(3, report.Equations);
    }
}
