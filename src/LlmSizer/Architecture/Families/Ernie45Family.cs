namespace LlmSizer.Architecture.Families;

/// <summary>ERNIE 4.5 dense (<c>Ernie4_5ForCausalLM</c>, ERNIE-4.5-0.3B): a Llama-like decoder whose q, k, v, o and MLP
/// projections take a bias only when <c>use_bias</c> is set.</summary>
/// <remarks>Defaults are those of transformers' <c>Ernie4_5Config</c>: vocab 103424, hidden 1024, intermediate 3072,
/// 18 layers, 16 heads, 2 KV heads, <c>head_dim</c> 128, 131072 positions, tied embeddings, <c>use_bias</c> false.</remarks>
internal sealed class Ernie45Family() : DecoderFamily("ERNIE 4.5", "ernie4_5")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 103424, Hidden = 1024, Intermediate = 3072, Layers = 18, Heads = 16, KvHeads = 2, HeadDim = 128, MaxPositions = 131072, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var bias = config.Bool("use_bias", false);
        var layout = new DecoderDetails { QkvBias = bias, OutputBias = bias, MlpBias = bias };
        return DecoderConfig.Read(config, "ernie4_5", Defaults, layout);
    }
}

/// <summary>ERNIE 4.5 MoE (<c>Ernie4_5_MoeForCausalLM</c>, ERNIE-4.5-21B-A3B and 300B-A47B): layer i is sparse when
/// (i + 1) is a multiple of <c>moe_layer_interval</c> and <c>moe_layer_start_index</c> ≤ i ≤ <c>moe_layer_end_index</c>;
/// a sparse layer holds a softmax router <c>mlp.gate</c>, the correction bias <c>mlp.moe_statics.e_score_correction_bias</c>
/// [1, experts] (an <c>nn.Parameter</c>, counted), <c>moe_num_experts</c> experts of <c>moe_intermediate_size</c>, and
/// <c>mlp.shared_experts</c>, one MLP of moe_num_shared_experts × moe_intermediate_size.</summary>
/// <remarks>Defaults are those of transformers' <c>Ernie4_5_MoeConfig</c>: vocab 103424, hidden 2560, intermediate 12288,
/// 28 layers, 20 heads, 4 KV heads, head_dim = hidden / heads, 131072 positions, tied embeddings, <c>use_bias</c> false
/// (which also puts a bias on <c>lm_head</c>), <c>moe_num_experts</c> 64, <c>moe_k</c> 6, <c>moe_intermediate_size</c> 1536,
/// <c>moe_num_shared_experts</c> 2, <c>moe_layer_start_index</c> 1, <c>moe_layer_end_index</c> −1 (the last layer),
/// <c>moe_layer_interval</c> 1. The multi-token-prediction weights (<c>mtp*</c>) some checkpoints store are ignored on load
/// (<c>_keys_to_ignore_on_load_unexpected = ["mtp"]</c>) and not counted.</remarks>
internal sealed class Ernie45MoeFamily() : DecoderFamily("ERNIE 4.5 MoE", "ernie4_5_moe")
{
    private static readonly DecoderDefaults Defaults = new()
    {
        Vocab = 103424, Hidden = 2560, Intermediate = 12288, Layers = 28, Heads = 20, KvHeads = 4, MaxPositions = 131072, Tied = true,
    };

    protected override ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var bias = config.Bool("use_bias", false);
        var layout = new DecoderDetails
        {
            QkvBias = bias, OutputBias = bias, MlpBias = bias, HeadBias = bias, Experts = MoeLayout.Ernie,
            Note = config.NonNegativeIntOr("num_nextn_predict_layers", 0) > 0
                ? "the multi-token-prediction weights (mtp*) stored in the checkpoint are not counted"
                : null,
        };
        var spec = DecoderConfig.Read(config, "ernie4_5_moe", Defaults, layout);
        var experts = config.IntOr("moe_num_experts", 64);
        if (experts == 0)
        {
            return spec;
        }

        var start = config.NonNegativeIntOr("moe_layer_start_index", 1);
        // -1 (the class default) means the last layer; any other value is a layer index.
        var end = config.Element.TryGetProperty("moe_layer_end_index", out var endValue)
            && endValue.ValueKind == System.Text.Json.JsonValueKind.Number && endValue.TryGetInt32(out var e) && e == -1
            ? spec.Layers - 1
            : config.NonNegativeIntOr("moe_layer_end_index", spec.Layers - 1);
        var interval = DecoderConfig.IntAtMost(config, "moe_layer_interval", 1, DecoderConfig.MaxLayers);
        var expertIntermediate = config.IntOr("moe_intermediate_size", 1536);
        var shared = config.NonNegativeIntOr("moe_num_shared_experts", 2);
        long sharedWidth = (long)shared * expertIntermediate;
        var moe = new MoeSpec
        {
            Experts = experts,
            ActiveExperts = config.IntOr("moe_k", 6),
            ExpertIntermediate = expertIntermediate,
            SharedExperts = shared,
            SharedIntermediate = sharedWidth <= int.MaxValue ? (int)sharedWidth
                : throw config.Error("moe_num_shared_experts", $"expected moe_num_shared_experts × moe_intermediate_size to fit in 2^31; found {sharedWidth}"),
            MoeLayers = DecoderConfig.MoeLayers(spec.Layers, i => (i + 1) % interval == 0 && i >= start && i <= end),
        };
        DecoderConfig.CheckTopK(config, moe, "moe_k");
        return spec with { Moe = moe };
    }
}
