using LlmSizer.Contract;

namespace LlmSizer.Tests.Architecture;

/// <summary>"Active" with and without the input embedding, and which one a model card quotes.</summary>
public sealed class ActiveParameterTests
{
    [Fact]
    public void GptOss120b_ActiveWithoutEmbedding_IsTheModelCardFigure()
    {
        // OpenAI's gpt-oss model card (table 1) gives 5.13 B active for gpt-oss-120b, which leaves out the input
        // embedding: vocab 201,088 × hidden 2,880 = 579,133,440 parameters. Hand calculation of the with-embedding
        // figure: 5,132,849,472 + 579,133,440 = 5,711,982,912.
        var result = Sizer.Parameters("gpt-oss-120b");

        Assert.Equal(5_711_982_912L, result.Report.Active.Value);
        Assert.Equal(5_711_982_912L - 201_088L * 2_880, result.Report.ActiveWithoutEmbeddings.Value);
        Assert.Equal(5.13, Math.Round(result.Report.ActiveWithoutEmbeddings.Value / 1e9, 2));
        Assert.False(result.CardActive!.WithEmbeddings);
    }

    [Fact]
    public void Mixtral_ModelCardCountsTheEmbedding()
    {
        // Mistral's announcement: 12.9 B parameters used per token, which is the with-embedding figure
        // (without the 32,000 × 4,096 input embedding it would be 12.7 B).
        var result = Sizer.Parameters("mixtral-8x7b");

        Assert.Equal(12.9, Math.Round(result.Report.Active.Value / 1e9, 1));
        Assert.Equal(result.Report.Active.Value - 32_000L * 4_096, result.Report.ActiveWithoutEmbeddings.Value);
        Assert.True(result.CardActive!.WithEmbeddings);
    }

    [Fact]
    public void Json_NamesBothFigures_AndTheCardsChoice()
    {
        var doc = ContractMapper.Params(Sizer.Parameters("gpt-oss-20b"));

        Assert.Equal(doc.Parameters.Active - 201_088L * 2_880, doc.Parameters.ActiveWithoutEmbeddings);
        Assert.Equal("without_embeddings", doc.Parameters.ModelCard!.ActiveCounts);
        Assert.Equal("3.6B", doc.Parameters.ModelCard.Active);
    }

    [Fact]
    public void DenseModel_WithoutEmbedding_LeavesOutTokenAndPositionEmbeddings()
    {
        // GPT-2 (124,439,808 parameters, tied head): wte 50,257 × 768 and wpe 1,024 × 768 are the embeddings.
        var report = Sizer.Parameters("gpt2").Report;

        Assert.Equal(124_439_808L, report.Active.Value);
        Assert.Equal(124_439_808L - 50_257L * 768 - 1_024L * 768, report.ActiveWithoutEmbeddings.Value);
    }
}
