using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Quantization;
using LlmSizer.Tensors;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

public class WeightFormatTests
{
    // measured.json case 20: sizes printed by llama.cpp tools/quantize/quantize.cpp QUANT_OPTIONS for Llama-3-8B ("G" = GiB of file).
    [Theory]
    [InlineData("q4_0", 4.34)]
    [InlineData("q4_1", 4.78)]
    [InlineData("q5_0", 5.21)]
    [InlineData("q5_1", 5.65)]
    [InlineData("q2_k", 2.96)]
    [InlineData("q3_k_s", 3.41)]
    [InlineData("q3_k_m", 3.74)]
    [InlineData("q3_k_l", 4.03)]
    [InlineData("q4_k_s", 4.37)]
    [InlineData("q4_k_m", 4.58)]
    [InlineData("q5_k_s", 5.21)]
    [InlineData("q5_k_m", 5.33)]
    [InlineData("q6_k", 6.14)]
    [InlineData("q8_0", 7.96)]
    public void LlamaCppMix_Llama3_8B_Within1PercentOfQuantizeTable(string ftype, double gib)
    {
        var m = ModelResolver.Resolve("llama-3.1-8b"); // same tensor shapes as Meta-Llama-3-8B
        var stored = WeightFormat.Parse(ftype).Apply(m.Inventory, m.Architecture);
        double ours = stored.TotalBytes.Bytes / (double)ByteSize.GiB;
        Assert.InRange(ours, gib * 0.99, gib * 1.01);
    }

    [Fact]
    public void Q4_K_M_UsesMoreBitsOnHalfTheAttnVAndFfnDownLayers()
    {
        // use_more_bits(i, 32): i < 4 || i >= 28 || (i − 4) % 3 == 2 → 16 of 32 layers get Q6_K (llama-quant.cpp).
        var m = ModelResolver.Resolve("llama-3.1-8b");
        var stored = WeightFormat.Parse("Q4_K_M").Apply(m.Inventory, m.Architecture);
        Assert.Equal(16, stored.Tensors.Count(t => t.Name.EndsWith("v_proj.weight") && t.DataType == DataType.Q6_K));
        Assert.Equal(16, stored.Tensors.Count(t => t.Name.EndsWith("down_proj.weight") && t.DataType == DataType.Q6_K));
        Assert.Equal(DataType.Q6_K, stored.Tensors.Single(t => t.Name == "lm_head.weight").DataType);
        Assert.Equal(DataType.Q4_K, stored.Tensors.Single(t => t.Name == "model.embed_tokens.weight").DataType);
        Assert.All(stored.Tensors.Where(t => t.Shape.Length == 1), t => Assert.Equal(DataType.F32, t.DataType));
    }

    [Theory]
    [InlineData("Q4_K", 4000, "Q5_0")] // 4000 % 256 ≠ 0, 4000 % 32 = 0
    [InlineData("Q5_K", 4000, "Q5_1")]
    [InlineData("Q6_K", 4000, "Q8_0")]
    [InlineData("Q3_K", 4000, "IQ4_NL")]
    [InlineData("Q6_K", 100, "F16")] // no 32-block fits either
    [InlineData("Q4_K", 4096, "Q4_K")]
    public void RowSizeFallback_FollowsTensorTypeFallback(string type, long row, string expected)
    {
        Assert.Equal(expected, LlamaCppMix.Fallback(DataType.Parse(type), row).Name);
    }

    [Fact]
    public void Gptq_Int4_G128_AddsScalesZerosAndGIdx()
    {
        // One [4096 out, 4096 in] linear: int4 payload 4096·4096/2 = 8,388,608 B; scales 32 groups × 4096 × 2 B = 262,144 B;
        // packed 4-bit zeros 32 × 4096 / 2 = 65,536 B; g_idx 4096 × 4 B = 16,384 B → 4 + 20/128 bits + g_idx.
        var inv = new TensorInventory([new TensorInfo("model.layers.0.self_attn.q_proj.weight", [4096, 4096], DataType.BF16, TensorGroup.Attention) { Layer = 0 }]);
        var stored = WeightFormat.Parse("gptq").Apply(inv, null);
        Assert.Equal(8_388_608L + 262_144 + 65_536 + 16_384, stored.TotalBytes.Bytes);
        Assert.Equal(4096L * 4096, stored.TotalParameters.Value);
    }

    [Fact]
    public void Nf4_Is4Point5Bits_DoubleQuantIs4Point127()
    {
        // QLoRA §3: 4 + 32/64 = 4.5 bpw; double quantization 4 + 8/64 + 32/(64·256) = 4.127 bpw.
        var inv = new TensorInventory([new TensorInfo("model.layers.0.mlp.up_proj.weight", [16384, 4096], DataType.BF16, TensorGroup.Mlp) { Layer = 0 }]);
        long n = 16384L * 4096;
        Assert.Equal(n / 2 + n / 64 * 4, WeightFormat.Parse("nf4").Apply(inv, null).TotalBytes.Bytes);
        Assert.Equal(n / 2 + n / 64 + n / 64 / 256 * 4 + 4, WeightFormat.Parse("qlora").Apply(inv, null).TotalBytes.Bytes);
    }

    [Fact]
    public void BlockFormats_KeepEmbeddingsAndHeadUnquantized()
    {
        var m = ModelResolver.Resolve("llama-3.1-8b");
        var stored = WeightFormat.Parse("awq").Apply(m.Inventory, m.Architecture);
        Assert.Equal(DataType.F16, stored.Tensors.Single(t => t.Name == "lm_head.weight").DataType);
        Assert.Equal(DataType.F16, stored.Tensors.Single(t => t.Name == "model.embed_tokens.weight").DataType);
        // About 5.3–5.7 GiB for a real 8B GPTQ/AWQ int4 checkpoint (memory-physics.md §2.4), not 4 GiB.
        Assert.InRange(stored.TotalBytes.Bytes / (double)ByteSize.GiB, 5.3, 5.8);
    }

    [Theory]
    [InlineData("f16", "f16")]
    [InlineData("FP16", "f16")]
    [InlineData("float16", "f16")]
    [InlineData("half", "f16")]
    [InlineData("bfloat16", "bf16")]
    [InlineData("Q4_K_M", "q4_k_m")]
    [InlineData("gguf-q8_0", "q8_0")]
    [InlineData("gptq-int4", "gptq-int4-g128")]
    [InlineData("GPTQ-int8-g32", "gptq-int8-g32")]
    [InlineData("awq", "awq-g128")]
    [InlineData("fp8", "fp8")]
    [InlineData("f8_e4m3", "fp8")]
    [InlineData("nf4", "nf4")]
    [InlineData("int8", "int8")]
    public void Parse_AcceptsForgivingNames(string input, string canonical)
    {
        Assert.Equal(canonical, WeightFormat.Parse(input).Name);
    }

    [Fact]
    public void Parse_Unknown_ListsKnownNames()
    {
        var ex = Assert.Throws<InvalidSettingException>(() => WeightFormat.Parse("q9_z"));
        Assert.Equal("dtype", ex.Setting);
        Assert.Contains("q4_k_m", ex.Message);
        Assert.Contains("gptq-int4", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
