using LlmSizer.Errors;

namespace LlmSizer.Tests;

/// <summary>Reflection checks of the library's conventions (house style: NodaTime's ConsistencyTest).</summary>
public class ConventionTests
{
    [Fact]
    public void PublicExceptions_AllDeriveFromLlmSizerException()
    {
        var exceptions = typeof(LlmSizerException).Assembly.GetExportedTypes()
            .Where(t => typeof(Exception).IsAssignableFrom(t))
            .ToList();

        Assert.NotEmpty(exceptions);
        Assert.All(exceptions, t => Assert.True(typeof(LlmSizerException).IsAssignableFrom(t), t.FullName));
    }

    [Fact]
    public void PublicExceptions_HaveNoPublicConstructors()
    {
        // Only the library raises its exceptions, so their messages stay in one shape.
        foreach (var type in typeof(LlmSizerException).Assembly.GetExportedTypes().Where(t => typeof(Exception).IsAssignableFrom(t)))
        {
            Assert.Empty(type.GetConstructors());
        }
    }
}
