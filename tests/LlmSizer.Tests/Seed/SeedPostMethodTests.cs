using LlmSizer.Seed;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Seed;

/// <summary>Every number of the post "Sizing an LLM: Parameters" (/work/shared/brief/seed-post.md), checked against the
/// post's text and against hand arithmetic written here, independently of the code under test.</summary>
public class SeedPostMethodTests
{
    private static readonly SeedPostResult Result = SeedPostMethod.Compute();

    [Fact]
    public void Compute_Embedding_MatchesPost()
    {
        // Post: "50,000 x 512 = 25,600,000".
        Assert.Equal(25_600_000L, Result.Embedding);
    }

    [Fact]
    public void Compute_Attention_FollowsFormulaNotPrintedFigure()
    {
        // Post's formula 12 x 8 x (512 x 512 / 8) = 12 x 8 x 32,768 = 3,145,728; it prints 3,932,160.
        Assert.Equal(12L * 8 * 32_768, Result.Attention);
        Assert.Equal(3_145_728L, Result.Attention);
        Assert.Equal(3_932_160L, Result.PublishedAttention);
    }

    [Fact]
    public void Compute_FeedForwardAndOutput_MatchPost()
    {
        // Post: "12 x 2 x 512^2 = 6,291,456" and "512 x 50,000 = 25,600,000".
        Assert.Equal(12L * 2 * 262_144, Result.FeedForward);
        Assert.Equal(6_291_456L, Result.FeedForward);
        Assert.Equal(25_600_000L, Result.Output);
    }

    [Fact]
    public void Compute_Totals_PrintedAndCorrected()
    {
        // Printed: 25,600,000 + 3,932,160 + 6,291,456 + 25,600,000 = 61,423,616.
        // Corrected: 25,600,000 + 3,145,728 + 6,291,456 + 25,600,000 = 60,637,184.
        Assert.Equal(61_423_616L, Result.PublishedTotal);
        Assert.Equal(25_600_000L + 3_932_160 + 6_291_456 + 25_600_000, Result.PublishedTotal);
        Assert.Equal(60_637_184L, Result.Total);
    }

    [Fact]
    public void Compute_VramBytes_MatchPost()
    {
        // Post: 61,423,616 x 4 = 245,694,464; x 2 = 122,847,232; x 1 = 61,423,616.
        Assert.Equal(245_694_464L, Result.VramBytesFp32);
        Assert.Equal(122_847_232L, Result.VramBytesFp16);
        Assert.Equal(61_423_616L, Result.VramBytesInt8);
    }

    [Fact]
    public void Compute_VramMiB_ArePostsMB()
    {
        // Post: "roughly 234 MB", "117 MB", "58.6 MB". 245,694,464 / 1,048,576 = 234.31; 122,847,232 / 1,048,576 = 117.16;
        // 61,423,616 / 1,048,576 = 58.58. In SI MB they would be 245.7 / 122.8 / 61.4, so the post's MB are MiB.
        Assert.Equal(234, Math.Round(SeedPostResult.MiB(Result.VramBytesFp32)));
        Assert.Equal(117, Math.Round(SeedPostResult.MiB(Result.VramBytesFp16)));
        Assert.Equal(58.6, Math.Round(SeedPostResult.MiB(Result.VramBytesInt8), 1));
        Assert.NotEqual(234, Math.Round(Result.VramBytesFp32 / 1e6));
    }

    [Fact]
    public void Compute_TrainingRuleOfThumb_MatchesPostAndNamesGradients()
    {
        // Post: 234 + 200 + 468 + 50 = 952; gradients (another 234) are left out.
        Assert.Equal(234, Result.TrainingParametersMiB);
        Assert.Equal(200, Result.TrainingActivationsMiB);
        Assert.Equal(468, Result.TrainingOptimizerMiB);
        Assert.Equal(50, Result.TrainingInputMiB);
        Assert.Equal(952, Result.TrainingTotalMiB);
        Assert.Equal(234, Result.TrainingGradientsMiB);
        Assert.Contains(Result.Errata, e => e.Contains("gradients", StringComparison.Ordinal));
        Assert.Contains(Result.Errata, e => e.Contains("3,932,160", StringComparison.Ordinal) && e.Contains("3,145,728", StringComparison.Ordinal));
        Assert.Contains(Result.Errata, e => e.Contains("MiB", StringComparison.Ordinal));
    }

    [Fact]
    public void Exact_GptStyleModel_EqualsHandFormula()
    {
        // Hand formula for a GPT-2-style model (V = 50,000, d = 512, L = 12, P = 1,024 positions, 4x MLP, biases,
        // LayerNorm with weight and bias):
        //   token embedding V*d            = 25,600,000
        //   position embedding P*d         =    524,288
        //   per layer: ln_1 + ln_2 4d      =      2,048
        //              c_attn d*3d + 3d    =    787,968
        //              c_proj d*d + d      =    262,656
        //              c_fc d*4d + 4d      =  1,050,624
        //              c_proj 4d*d + d     =  1,049,088   -> 3,152,384 x 12 = 37,828,608
        //   final ln_f 2d                  =      1,024
        // tied: 63,953,920; untied adds the head d*V = 25,600,000 -> 89,553,920.
        const long V = 50_000, d = 512, L = 12, P = 1024;
        long perLayer = (4 * d) + ((d * 3 * d) + (3 * d)) + ((d * d) + d) + ((d * 4 * d) + (4 * d)) + ((4 * d * d) + d);
        long tied = (V * d) + (P * d) + (L * perLayer) + (2 * d);
        Assert.Equal(63_953_920L, tied);
        Assert.Equal(tied, Result.ExactTied.Total.Value);
        Assert.Equal(tied + (V * d), Result.ExactUntied.Total.Value);
        Assert.Equal(89_553_920L, Result.ExactUntied.Total.Value);
        Assert.Equal(V * d, Result.ExactUntied.Groups[TensorGroup.LmHead].Value);
        Assert.Equal(0L, Result.ExactTied.Groups[TensorGroup.LmHead].Value);
    }

    [Fact]
    public void ExactTraining_SixteenBytesPerParameter()
    {
        // ZeRO (Rajbhandari et al. 2020) section 3.1: mixed-precision Adam keeps 2 + 2 + 12 = 16 bytes per parameter.
        var t = Result.ExactTraining;
        Assert.Equal(16, t.BytesPerParameter);
        Assert.Equal(63_953_920L * 16, t.ModelStatesBytesTied);
        Assert.Equal(89_553_920L * 16, t.ModelStatesBytesUntied);

        // Korthikanti et al. 2022 §4.1: s*b*h*(34 + 5*a*s/h) per layer = 1024*1*512*(34 + 5*8*1024/512) = 59,768,832; x 12
        // = 717,225,984. Plus the embedding output kept for backward, 2*s*b*h = 2*1024*512 = 1,048,576, and the cross-entropy
        // logits s*b*V*(2 bf16 + 4 fp32 upcast + 4 fp32 grad) = 1024*50,000*10 = 512,000,000 (memory-physics.md §4.3).
        Assert.Equal(59_768_832L * 12 + 1_048_576L + 512_000_000L, t.ActivationBytes);
        Assert.Equal(1024, t.SequenceLength);
        Assert.Equal(1, t.Batch);
    }
}
