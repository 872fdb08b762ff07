using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>GPT-NeoX and Pythia (<c>GPTNeoXForCausalLM</c>): fused QKV with biases, two LayerNorms per block, partial
/// rotary embeddings (no parameters), a separate <c>embed_out</c> head.</summary>
/// <remarks>Defaults are those of transformers' <c>GPTNeoXConfig</c>: vocab 50432, hidden 6144, 44 layers, 64 heads,
/// intermediate 24576, <c>rotary_pct</c> (newer configs: <c>partial_rotary_factor</c>) 0.25, <c>max_position_embeddings</c> 2048, <c>use_parallel_residual</c> true
/// (changes the data flow, not the parameters), <c>attention_bias</c> true, <c>tie_word_embeddings</c> false.
/// The <c>attention.bias</c>/<c>masked_bias</c> masks and <c>rotary_emb.inv_freq</c> of old checkpoints are buffers.</remarks>
internal sealed class GptNeoXFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["gpt_neox"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var hidden = config.IntOr("hidden_size", 6144);
        var heads = config.IntOr("num_attention_heads", 64);
        var headDim = HeadWidth(config, hidden, heads);
        var details = new GptNeoXDetails(
            Head(config), Fraction(config, config.FirstPresent("rotary_pct", "partial_rotary_factor") ?? "rotary_pct", 0.25), config.Bool("use_parallel_residual", true), config.Bool("attention_bias", true));
        return DenseSpec(
            config, "gpt_neox", Layers(config, 44, "num_hidden_layers"), hidden, heads, heads, headDim,
            intermediate: config.IntOr("intermediate_size", 24576),
            vocab: config.IntOr("vocab_size", 50432),
            maxPositions: config.IntOr("max_position_embeddings", 2048),
            tied: config.Bool("tie_word_embeddings", false),
            details);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var details = spec.Details as GptNeoXDetails ?? new GptNeoXDetails(ModelHead.LanguageModel, 0.25, true, true);
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim;
        var p = Prefix(details.Head, "gpt_neox.");
        b.Add(p + "embed_in.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}layers.{l}.";
            LayerNorm(b, lp + "input_layernorm", l, h);
            LayerNorm(b, lp + "post_attention_layernorm", l, h);
            FusedQkvBlock(b, lp, "attention", l, h, 3 * q, q, spec.Intermediate, details.AttentionBias, mlpBias: true);
        }

        LayerNorm(b, p + "final_layer_norm", null, h);
        if (details.Head.Kind == HeadKind.LanguageModel)
        {
            // GPTNeoXForCausalLM names its head embed_out (nn.Linear without bias); tied only when tie_word_embeddings.
            if (!spec.TiedEmbeddings)
            {
                b.Add("embed_out.weight", TensorGroup.LmHead, null, spec.Vocab, h);
            }
        }
        else
        {
            DecoderHead(b, spec, details.Head, h);
        }

        return b.Build();
    }
}

/// <summary>GPT-NeoX specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="RotaryPct">The share of each head's dimensions that get rotary embeddings (no parameters).</param>
/// <param name="ParallelResidual">Whether attention and MLP read the same input (no effect on parameters).</param>
/// <param name="AttentionBias">Whether the QKV and dense projections have biases.</param>
public sealed record GptNeoXDetails(ModelHead Head, double RotaryPct, bool ParallelResidual, bool AttentionBias) : FamilyDetails;
