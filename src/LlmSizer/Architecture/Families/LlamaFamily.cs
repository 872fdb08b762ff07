namespace LlmSizer.Architecture.Families;

/// <summary>Llama 1/2/3 (<c>LlamaForCausalLM</c>): RMSNorm, gated SiLU MLP, GQA, optional attention and MLP biases.</summary>
/// <remarks>Defaults are those of transformers' <c>LlamaConfig</c>: vocab 32000, hidden 4096, intermediate 11008, 32 layers,
/// 32 heads, <c>num_key_value_heads</c> = heads, <c>head_dim</c> = hidden / heads, 2048 positions, untied embeddings,
/// <c>attention_bias</c> (q, k, v and o) and <c>mlp_bias</c> false.</remarks>
internal sealed class LlamaFamily() : DecoderFamily("Llama", "llama")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 32000, Hidden = 4096, Intermediate = 11008, Layers = 32, Heads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = DecoderConfig.AttentionBias(config) with { MlpBias = config.Bool("mlp_bias", false) };
        return DecoderConfig.Read(config, "llama", Defaults, layout);
    }
}
