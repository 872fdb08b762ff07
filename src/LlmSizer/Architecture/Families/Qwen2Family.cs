namespace LlmSizer.Architecture.Families;

/// <summary>Qwen2 / Qwen2.5 (<c>Qwen2ForCausalLM</c>): the Llama layout with biases on q, k and v (always) and none on o.</summary>
/// <remarks>Defaults are those of transformers' <c>Qwen2Config</c>: vocab 151936, hidden 4096, intermediate 22016, 32 layers,
/// 32 heads, 32 KV heads, 32768 positions, untied, <c>use_sliding_window</c> false (window 4096 from layer
/// <c>max_window_layers</c> = 28 on when true).</remarks>
internal sealed class Qwen2Family() : DecoderFamily("Qwen2", "qwen2")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151936, Hidden = 4096, Intermediate = 22016, Layers = 32, Heads = 32, MaxPositions = 32768, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config) =>
        DecoderConfig.WithQwenWindow(DecoderConfig.Read(config, "qwen2", Defaults, new DecoderDetails { QkvBias = true }), config, 4096);
}
