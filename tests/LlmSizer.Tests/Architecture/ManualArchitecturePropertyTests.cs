using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>Properties of manual architectures over hundreds of generated shapes (seeded, reproducible).</summary>
public class ManualArchitecturePropertyTests
{
    private const int Cases = 300;

    private static IEnumerable<ManualArchitecture> Generate(int seed)
    {
        var random = new Random(seed);
        for (int n = 0; n < Cases; n++)
        {
            var headDim = random.Next(1, 9) * 8;
            var kvHeads = random.Next(1, 5);
            var heads = kvHeads * random.Next(1, 5);
            var moe = random.Next(4) == 0;
            var positions = random.Next(2) == 0 ? (int?)random.Next(1, 2048) : null;
            yield return new ManualArchitecture
            {
                Layers = random.Next(1, 13),
                Hidden = heads * headDim,
                Heads = heads,
                KvHeads = kvHeads,
                Vocab = random.Next(1, 5000),
                Intermediate = random.Next(2) == 0 ? random.Next(1, 1024) : null,
                Gated = random.Next(2) == 0,
                Tied = random.Next(2) == 0,
                Bias = random.Next(2) == 0,
                Norm = random.Next(3) switch { 0 => NormKind.LayerNorm, 1 => NormKind.RmsNorm, _ => null },
                MaxPositions = positions,
                LearnedPositions = positions is not null && random.Next(2) == 0,
                Experts = moe ? random.Next(2, 9) : null,
                TopK = moe ? 1 : null,
                ExpertIntermediate = moe ? random.Next(1, 256) : null,
            };
        }
    }

    private static TensorInventory Inventory(ManualArchitecture m) => ManualFamily.Instance.Generate(m.ToSpec());

    private static long Total(ManualArchitecture m) => Inventory(m).TotalParameters.Value;

    [Fact]
    public void MoreLayers_NeverFewerParameters()
    {
        foreach (var m in Generate(1))
        {
            Assert.True(Total(m with { Layers = m.Layers + 1 }) >= Total(m), m.ToString());
        }
    }

    [Fact]
    public void Gqa_NeverMoreThanMha()
    {
        foreach (var m in Generate(2))
        {
            Assert.True(Total(m) <= Total(m with { KvHeads = m.Heads }), m.ToString());
        }
    }

    [Fact]
    public void Tied_NeverMoreThanUntied()
    {
        foreach (var m in Generate(3))
        {
            Assert.True(Total(m with { Tied = true }) <= Total(m with { Tied = false }), m.ToString());
        }
    }

    [Fact]
    public void Gated_AtLeastDense_ForSameIntermediate()
    {
        foreach (var m in Generate(4))
        {
            // Same norm on both sides, so that only the MLP differs.
            var norm = m.Norm ?? NormKind.RmsNorm;
            Assert.True(Total(m with { Gated = true, Norm = norm }) >= Total(m with { Gated = false, Norm = norm }), m.ToString());
        }
    }

    [Fact]
    public void Total_EqualsSumOfGroups()
    {
        foreach (var m in Generate(5))
        {
            var inventory = Inventory(m);
            Assert.Equal(inventory.TotalParameters.Value, inventory.ByGroup().Values.Sum(c => c.Value));
        }
    }

    [Fact]
    public void Active_NeverMoreThanTotal()
    {
        foreach (var m in Generate(6))
        {
            var inventory = Inventory(m);
            Assert.True(inventory.ActiveParameters <= inventory.TotalParameters, m.ToString());
            if (m.Experts is null)
            {
                Assert.Equal(inventory.TotalParameters, inventory.ActiveParameters);
            }
        }
    }

    [Fact]
    public void DenseGpt_EqualsClosedFormula()
    {
        // Closed form for the GPT-style layout without biases, LayerNorm (weight + bias), no positions, untied:
        // 2*V*d + L*(d*(q + 2kv) + q*d + 2*d*i + 4d) + 2d.
        foreach (var m in Generate(7).Select(m => m with { Gated = false, Experts = null, TopK = null, ExpertIntermediate = null, Norm = NormKind.LayerNorm, Bias = false, LearnedPositions = false, Tied = false }))
        {
            long d = m.Hidden, q = m.Hidden, kv = (long)m.KvHeads!.Value * (m.Hidden / m.Heads), i = m.Intermediate ?? 4 * d;
            long expected = (2L * m.Vocab * d) + (m.Layers * ((d * (q + (2 * kv))) + (q * d) + (2 * d * i) + (4 * d))) + (2 * d);
            Assert.Equal(expected, Total(m));
        }
    }

    [Theory]
    [InlineData(0, 512, 8, 100, "layers")]
    [InlineData(2, -1, 8, 100, "hidden")]
    [InlineData(2, 512, 0, 100, "heads")]
    [InlineData(2, 512, 8, 0, "vocab")]
    [InlineData(2, 500, 7, 100, "heads")]
    public void ToSpec_Invalid_ThrowsNamingFlag(int layers, int hidden, int heads, int vocab, string flag)
    {
        var m = new ManualArchitecture { Layers = layers, Hidden = hidden, Heads = heads, Vocab = vocab };

        var ex = Assert.Throws<InvalidSettingException>(() => m.ToSpec());
        Assert.Equal(flag, ex.Setting);
        Assert.StartsWith(flag + ":", ex.Message);
    }

    [Fact]
    public void ToSpec_HeadDimGiven_HeadsNeedNotDivideHidden()
    {
        var spec = new ManualArchitecture { Layers = 1, Hidden = 500, Heads = 7, HeadDim = 64, Vocab = 10 }.ToSpec();

        Assert.Equal(64, spec.HeadDim);
    }

    [Fact]
    public void ToSpec_KvHeadsNotDividingHeads_ThrowsNamingFlag()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => new ManualArchitecture { Layers = 1, Hidden = 64, Heads = 8, KvHeads = 3, Vocab = 10 }.ToSpec());

        Assert.Equal("kv_heads", ex.Setting);
    }

    [Fact]
    public void ToSpec_ExpertsWithoutTopK_ThrowsNamingFlag()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => new ManualArchitecture { Layers = 1, Hidden = 64, Heads = 8, Vocab = 10, Experts = 4 }.ToSpec());

        Assert.Equal("top_k", ex.Setting);
    }

    [Fact]
    public void Read_FlagNamedJson_BuildsSameSpecAsFlags()
    {
        // GPT-2 small as JSON with the flag names: 124,439,808 parameters (openai-community/gpt2, shared counts.json).
        var config = ConfigObject.Parse("""{"layers":12,"hidden":768,"heads":12,"vocab":50257,"max_positions":1024,"learned_positions":true,"bias":true,"tied":true}""", "manual.json");

        var spec = ManualFamily.Instance.Read(config);

        Assert.Equal(124_439_808L, ManualFamily.Instance.Generate(spec).TotalParameters.Value);
    }
}
