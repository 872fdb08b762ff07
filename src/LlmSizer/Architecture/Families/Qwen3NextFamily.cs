namespace LlmSizer.Architecture.Families;

/// <summary>Qwen3-Next (<c>Qwen3NextForCausalLM</c>): gated-delta-net linear attention on three layers in four and gated
/// full attention (QK-norm, <c>q_proj</c> doubled for the output gate) on every <c>full_attention_interval</c>-th, each
/// followed by Qwen-MoE routed experts with a gated shared expert.</summary>
/// <remarks>Defaults are those of transformers' <c>Qwen3NextConfig</c>: vocab 151936, hidden 2048, intermediate 5632,
/// 48 layers, 16 heads, 2 KV heads, <c>head_dim</c> 256, 32768 positions, untied, <c>attention_bias</c> false,
/// <c>linear_conv_kernel_dim</c> 4, <c>linear_key_head_dim</c>/<c>linear_value_head_dim</c> 128,
/// <c>linear_num_key_heads</c> 16, <c>linear_num_value_heads</c> 32, <c>num_experts</c> 512, <c>num_experts_per_tok</c> 10,
/// <c>moe_intermediate_size</c> 512, <c>shared_expert_intermediate_size</c> 512, <c>decoder_sparse_step</c> 1,
/// <c>full_attention_interval</c> 4 (layer i is full attention when (i + 1) is a multiple of it) unless
/// <c>layer_types</c> ("linear_attention" / "full_attention") is given. Multi-token-prediction weights (<c>mtp.*</c>), when
/// a checkpoint stores them, are not part of <c>Qwen3NextForCausalLM</c> and are not counted.</remarks>
internal sealed class Qwen3NextFamily() : DecoderFamily("Qwen3-Next", "qwen3_next")
{
    private const int MaxSize = 1 << 20;

    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 151936, Hidden = 2048, Intermediate = 5632, Layers = 48, Heads = 16, KvHeads = 2, HeadDim = 256, MaxPositions = 32768, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = Qwen3MoeFamily.Layout(config, MoeLayout.Qwen) with { GatedAttention = true };
        var spec = DecoderConfig.Read(config, "qwen3_next", Defaults, layout);
        spec = DecoderConfig.WithQwenMoe(spec, config, experts: 512, topK: 10, expertIntermediate: 512, sharedIntermediate: 512);
        return WithLinearAttention(spec, config);
    }

    /// <summary>Reads the gated-delta-net geometry and the per-layer mixers (<c>layer_types</c>, else
    /// <c>full_attention_interval</c>) of Qwen3-Next and Qwen3.5, whose config classes share these keys and defaults.</summary>
    /// <param name="spec">The spec read so far.</param>
    /// <param name="config">The object holding the keys (the root, or Qwen3.5's <c>text_config</c>).</param>
    /// <returns>The spec with its mixers, layer kinds and linear-attention geometry.</returns>
    internal static ArchitectureSpec WithLinearAttention(ArchitectureSpec spec, ConfigObject config)
    {
        var mixers = Mixers(config, spec.Layers);
        var linear = new LinearAttentionSpec
        {
            KeyHeads = DecoderConfig.IntAtMost(config, "linear_num_key_heads", 16, MaxSize),
            ValueHeads = DecoderConfig.IntAtMost(config, "linear_num_value_heads", 32, MaxSize),
            KeyHeadDim = DecoderConfig.IntAtMost(config, "linear_key_head_dim", 128, MaxSize),
            ValueHeadDim = DecoderConfig.IntAtMost(config, "linear_value_head_dim", 128, MaxSize),
            ConvKernel = DecoderConfig.IntAtMost(config, "linear_conv_kernel_dim", 4, 1024),
        };
        double perLayer = ((2.0 * linear.KeyHeads * linear.KeyHeadDim) + (3.0 * linear.ValueHeads * linear.ValueHeadDim)) * spec.Hidden;
        if (spec.Layers * perLayer > 1e15)
        {
            throw config.Error("linear_num_value_heads", $"expected a model of at most 10^15 parameters; these sizes give about {spec.Layers * perLayer:E2}");
        }

        return spec with
        {
            LayerMixers = [.. mixers],
            LayerKinds = [.. mixers.Select(m => m == LayerMixer.Attention ? AttentionLayerKind.Full : AttentionLayerKind.None)],
            LinearAttention = mixers.Contains(LayerMixer.LinearAttention) ? linear : null,
        };
    }

    private static LayerMixer[] Mixers(ConfigObject config, int layers)
    {
        if (config.StringArray("layer_types") is { } types)
        {
            if (types.Count != layers)
            {
                throw config.Error("layer_types", $"expected {layers} entries (num_hidden_layers); found {types.Count}");
            }

            return [.. types.Select((t, i) => t switch
            {
                "full_attention" => LayerMixer.Attention,
                "linear_attention" => LayerMixer.LinearAttention,
                _ => throw config.Error($"layer_types[{i}]", $"expected \"linear_attention\" or \"full_attention\"; found \"{t}\""),
            })];
        }

        var interval = DecoderConfig.IntAtMost(config, "full_attention_interval", 4, DecoderConfig.MaxLayers);
        return [.. Enumerable.Range(0, layers).Select(i => (i + 1) % interval == 0 ? LayerMixer.Attention : LayerMixer.LinearAttention)];
    }
}
