using System.Text.Json;

namespace LlmSizer.Architecture.Families;

/// <summary>EXAONE 4.0 (<c>Exaone4ForCausalLM</c>): OLMo-2's norm placement (<c>post_attention_layernorm</c> and
/// <c>post_feedforward_layernorm</c> only), a per-head QK RMSNorm of head_dim (<c>q_norm</c>, <c>k_norm</c>), no biases,
/// and hybrid attention: sliding-window layers with RoPE and global layers without (NoPE), set by <c>layer_types</c> or
/// by <c>sliding_window_pattern</c>.</summary>
/// <remarks>Defaults are those of transformers' <c>Exaone4Config</c>: vocab 102400, hidden 4096, intermediate 16384,
/// 32 layers, 32 heads, 32 KV heads, head_dim = hidden / heads unless <c>head_dim</c> is given, 2048 positions, untied,
/// <c>sliding_window</c> 4096, <c>sliding_window_pattern</c> 4: without <c>layer_types</c>, layer i slides unless
/// (i + 1) is a multiple of the pattern; a null <c>sliding_window</c> makes every layer global. A pattern written as
/// letters ("LLLG", as the official configs do) repeats them: L local, G global.</remarks>
internal sealed class Exaone4Family() : DecoderFamily("EXAONE 4.0", "exaone4")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 102400, Hidden = 4096, Intermediate = 16384, Layers = 32, Heads = 32, KvHeads = 32, MaxPositions = 2048, Tied = false,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var layout = new DecoderDetails { QkNorm = QkNormKind.PerHeadDim, Norms = NormPlacement.PostOnly };
        var spec = DecoderConfig.Read(config, "exaone4", Defaults, layout);
        var window = DecoderConfig.OptionalIntWithDefault(config, "sliding_window", 4096);
        var sliding = SlidingRule(config);
        return DecoderConfig.WithLayerKinds(spec, config, window, sliding);
    }

    private static Func<int, bool> SlidingRule(ConfigObject config)
    {
        if (!config.Element.TryGetProperty("sliding_window_pattern", out var pattern) || pattern.ValueKind == JsonValueKind.Null)
        {
            return i => (i + 1) % 4 != 0;
        }

        if (pattern.ValueKind == JsonValueKind.String)
        {
            var letters = pattern.GetString() ?? "";
            if (letters.Length == 0 || letters.Any(c => c is not ('L' or 'G')))
            {
                throw config.Error("sliding_window_pattern", $"expected letters L (local) and G (global) or a positive integer; found \"{letters}\"");
            }

            return i => letters[i % letters.Length] == 'L';
        }

        var every = DecoderConfig.IntAtMost(config, "sliding_window_pattern", 4, DecoderConfig.MaxLayers);
        return i => (i + 1) % every != 0;
    }
}
