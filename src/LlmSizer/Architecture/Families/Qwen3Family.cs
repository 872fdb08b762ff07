namespace LlmSizer.Architecture.Families;

/// <summary>Qwen3 (<c>Qwen3ForCausalLM</c>): no q/k/v biases, a QK-norm of head_dim on queries and keys, head_dim 128 by default.</summary>
/// <remarks>Defaults are those of transformers' <c>Qwen3Config</c>: vocab 151936, hidden 4096, intermediate 22016, 32 layers,
/// 32 heads, 32 KV heads, <c>head_dim</c> 128, 32768 positions, untied, <c>attention_bias</c> false,
/// <c>use_sliding_window</c> false.</remarks>
internal sealed class Qwen3Family() : DecoderFamily("Qwen3", "qwen3")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151936, Hidden = 4096, Intermediate = 22016, Layers = 32, Heads = 32, HeadDim = 128, MaxPositions = 32768, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config) =>
        DecoderConfig.WithQwenWindow(DecoderConfig.Read(config, "qwen3", Defaults, Qwen3MoeFamily.Layout(config, MoeLayout.Qwen)), config, 4096);
}
