using LlmSizer.Tensors;
using static LlmSizer.Architecture.Families.ClassicParts;

namespace LlmSizer.Architecture.Families;

/// <summary>Falcon (<c>FalconForCausalLM</c>, and the original remote-code <c>RWForCausalLM</c> configs with model_type
/// <c>RefinedWebModel</c> (7B layout) or <c>RefinedWeb</c> (40B layout)): fused QKV sized for MHA, MQA or grouped KV,
/// optional biases, rotary or ALiBi positions (no parameters), a tied LM head.</summary>
/// <remarks>Defaults are those of transformers' <c>FalconConfig</c>: vocab 65024, hidden 4544, 32 layers, 71 heads,
/// <c>num_kv_heads</c> = heads, <c>multi_query</c> true, <c>new_decoder_architecture</c> false, <c>parallel_attn</c> true,
/// <c>bias</c> false, <c>alibi</c> false, <c>ffn_hidden_size</c> = 4 × hidden, <c>num_ln_in_parallel_attn</c> = 2 for
/// the new decoder architecture, <c>max_position_embeddings</c> 2048, <c>tie_word_embeddings</c> true. The legacy
/// <c>RefinedWeb</c> type is the 40B code, which always used the new decoder architecture with <c>n_head_kv</c> groups.
/// Layer norms follow <c>FalconDecoderLayer</c>: sequential blocks have input and post-attention norms; parallel blocks
/// have <c>ln_attn</c> + <c>ln_mlp</c> when two norms are configured, else one <c>input_layernorm</c>.</remarks>
internal sealed class FalconFamily : IArchitectureFamily
{
    public IReadOnlyList<string> ModelTypes { get; } = ["falcon", "RefinedWebModel", "RefinedWeb"];


    public ArchitectureSpec Read(ConfigObject config) => Validated(config, this, ReadSpec);

    private static ArchitectureSpec ReadSpec(ConfigObject config)
    {
        var legacy40B = string.Equals(config.String("model_type"), "RefinedWeb", StringComparison.OrdinalIgnoreCase);
        // FalconConfig.__init__ pops the legacy n_embed and, when present, prefers it over hidden_size.
        var hidden = IntOr(config, 4544, "n_embed", "hidden_size");
        var headsKey = config.FirstPresent("num_attention_heads", "n_head") ?? "num_attention_heads";
        var heads = IntOr(config, 71, "num_attention_heads", "n_head");
        var headDim = HeadWidth(config, hidden, heads, headsKey: headsKey);
        var newArch = config.Bool("new_decoder_architecture", legacy40B);
        var multiQuery = config.Bool("multi_query", true);
        var parallel = config.Bool("parallel_attn", true);
        var kvKey = config.FirstPresent("num_kv_heads", "n_head_kv") ?? "num_kv_heads";
        var configuredKv = IntOr(config, heads, "num_kv_heads", "n_head_kv");

        // FalconAttention: the new architecture uses num_kv_heads groups; otherwise multi_query means one KV head.
        var kvHeads = newArch ? configuredKv : multiQuery ? 1 : heads;
        ConfigRules.CheckKvHeads(config, heads, kvHeads, kvKey);
        var norms = config.OptionalInt("num_ln_in_parallel_attn") ?? (newArch ? 2 : 1);
        if (norms > 2)
        {
            throw config.Error("num_ln_in_parallel_attn", $"expected 1 or 2; found {norms}");
        }

        var details = new FalconDetails(Head(config), newArch, multiQuery, parallel, config.Bool("bias", false), config.Bool("alibi", false), norms);
        return DenseSpec(
            config, "falcon", Layers(config, 32, "num_hidden_layers", "n_layer"), hidden, heads, kvHeads, headDim,
            intermediate: config.OptionalInt("ffn_hidden_size") ?? checked(4 * hidden),
            vocab: config.IntOr("vocab_size", 65024),
            maxPositions: config.IntOr("max_position_embeddings", 2048),
            tied: config.Bool("tie_word_embeddings", true),
            details);
    }

    public TensorInventory Generate(ArchitectureSpec spec)
    {
        var d = spec.Details as FalconDetails ?? new FalconDetails(ModelHead.LanguageModel, false, spec.KvHeads == 1, true, false, false, 1);
        var b = new InventoryBuilder();
        long h = spec.Hidden, q = (long)spec.Heads * spec.HeadDim, kv = (long)spec.KvHeads * spec.HeadDim;
        var p = Prefix(d.Head, "transformer.");
        b.Add(p + "word_embeddings.weight", TensorGroup.Embedding, null, spec.Vocab, h);
        for (int l = 0; l < spec.Layers; l++)
        {
            var lp = $"{p}h.{l}.";
            FusedQkvBlock(b, lp, "self_attention", l, h, q + 2 * kv, q, spec.Intermediate, d.Bias, d.Bias);
            if (!d.ParallelAttention)
            {
                LayerNorm(b, lp + "input_layernorm", l, h);
                LayerNorm(b, lp + "post_attention_layernorm", l, h);
            }
            else if (d.ParallelNorms == 2)
            {
                LayerNorm(b, lp + "ln_attn", l, h);
                LayerNorm(b, lp + "ln_mlp", l, h);
            }
            else
            {
                LayerNorm(b, lp + "input_layernorm", l, h);
            }
        }

        LayerNorm(b, p + "ln_f", null, h);
        DecoderHead(b, spec, d.Head, h);
        return b.Build();
    }
}

/// <summary>Falcon specifics.</summary>
/// <param name="Head">The head from <c>architectures[0]</c>.</param>
/// <param name="NewDecoderArchitecture">Grouped KV heads and (by default) two norms per parallel block (Falcon-40B/180B).</param>
/// <param name="MultiQuery">One shared KV head in the old architecture (Falcon-7B).</param>
/// <param name="ParallelAttention">Attention and MLP read the same normalized input.</param>
/// <param name="Bias">Whether the linear layers have biases.</param>
/// <param name="Alibi">ALiBi positions instead of rotary (neither has parameters).</param>
/// <param name="ParallelNorms">LayerNorms per parallel block (<c>num_ln_in_parallel_attn</c>).</param>
public sealed record FalconDetails(
    ModelHead Head, bool NewDecoderArchitecture, bool MultiQuery, bool ParallelAttention, bool Bias, bool Alibi, int ParallelNorms) : FamilyDetails;
