namespace LlmSizer.Checkpoints;

/// <summary>Loads models from checkpoint files (safetensors, sharded indexes, GGUF), reading headers only.</summary>
public static class CheckpointLoader
{
    /// <summary>Loads a checkpoint file or a folder of checkpoint files.</summary>
    /// <param name="path">A file or folder.</param>
    /// <returns>The model, or null when the path holds no checkpoint this loader reads (e.g. a plain config.json).</returns>
    /// <exception cref="Errors.ModelFileFormatException">A checkpoint file is damaged or unsupported.</exception>
    public static ModelInfo? TryLoad(string path)
    {
        // Filled in by the checkpoint readers (safetensors, GGUF).
        _ = path;
        return null;
    }
}
