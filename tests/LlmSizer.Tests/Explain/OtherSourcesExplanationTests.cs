using LlmSizer.Architecture.Families;
using LlmSizer.Explain;

namespace LlmSizer.Tests.Explain;

/// <summary>--explain for models that are not catalog entries: manual numbers, a GGUF file (symbols from its metadata
/// keys), a GGUF with no tensors.</summary>
public class OtherSourcesExplanationTests
{
    [Fact]
    public void Explain_Manual_SymbolsNameTheSettingsAndEquationsHold()
    {
        // Given: GPT-2 small by hand.
        var model = Sizer.Load(new ManualArchitecture { Layers = 12, Hidden = 768, Heads = 12, Vocab = 50_257, MaxPositions = 1024, LearnedPositions = true, Bias = true, Tied = true });

        // When
        var e = ParameterDerivations.Explain(model);
        var lines = ExplainText.Lines(e);
        var report = EquationChecker.Check(lines, EquationChecker.Symbols(lines));

        // Then: the published 124,439,808; d from the hidden setting.
        Assert.Equal(124_439_808L, e.Total.Result);
        Assert.Equal("setting hidden", e.Symbols.Single(s => s.Name == "d").Source);
        Assert.Empty(report.Failures);
    }

    [Fact]
    public void Explain_Gguf_SymbolsNameTheMetadataKeys()
    {
        if (TestPaths.SharedSamples is not { } root || !File.Exists(Path.Combine(root, "gguf", "llama-2-tiny-random.gguf")))
        {
            return;
        }

        // Given: llama, 1 layer, n_embd 8, 2 heads, ffn 32, vocab 32000, 513,048 parameters (samples README).
        var e = ParameterDerivations.Explain(Sizer.Load(Path.Combine(root, "gguf", "llama-2-tiny-random.gguf")));
        var lines = ExplainText.Lines(e);

        // Then
        Assert.Equal(513_048L, e.Total.Result);
        Assert.Equal("GGUF metadata llama.embedding_length", e.Symbols.Single(s => s.Name == "d").Source);
        Assert.Empty(EquationChecker.Check(lines, EquationChecker.Symbols(lines)).Failures);
        // Attention: four 8 × 8 projections = 256.
        Assert.Equal(256L, e.Groups.Single(g => g.Name == "attention").Result);
    }

    [Fact]
    public void Explain_VocabOnlyGguf_ZeroParametersStillExplained()
    {
        if (TestPaths.SharedSamples is not { } root || !File.Exists(Path.Combine(root, "gguf", "ggml-vocab-gpt-2.gguf")))
        {
            return;
        }

        var e = ParameterDerivations.Explain(Sizer.Load(Path.Combine(root, "gguf", "ggml-vocab-gpt-2.gguf")));

        Assert.Equal(0L, e.Total.Result);
        Assert.Empty(EquationChecker.Check(ExplainText.Lines(e)).Failures);
    }
}
