using LlmSizer.Tensors;

namespace LlmSizer.Architecture;

/// <summary>One model family: reads its config.json onto an <see cref="ArchitectureSpec"/> and generates the tensor
/// list exactly as the official checkpoints name and shape the model's parameters.</summary>
public interface IArchitectureFamily
{
    /// <summary>The <c>model_type</c> values this family reads (e.g. "llama"; "qwen2", "qwen2_moe").</summary>
    IReadOnlyList<string> ModelTypes { get; }

    /// <summary>Reads a config onto a spec, applying the Hugging Face config class defaults for omitted keys.</summary>
    /// <param name="config">The config object.</param>
    /// <returns>The spec.</returns>
    /// <exception cref="Errors.ModelConfigException">A field is missing or invalid.</exception>
    ArchitectureSpec Read(ConfigObject config);

    /// <summary>Generates the parameter tensors of the model that <paramref name="spec"/> describes.</summary>
    /// <param name="spec">A spec produced by <see cref="Read"/> (or built by hand for this family).</param>
    /// <returns>The tensors, with Hugging Face names.</returns>
    TensorInventory Generate(ArchitectureSpec spec);
}
