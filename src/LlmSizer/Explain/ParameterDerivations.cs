using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LlmSizer.Architecture;
using LlmSizer.Catalog;
using LlmSizer.Quantization;
using LlmSizer.Tensors;

namespace LlmSizer.Explain;

/// <summary>Builds the derivation of a model's parameter count from its tensor list: one derivation per group, in the
/// post's order (embedding, attention, feed-forward or experts, norms, output head), each a sum over tensor kinds whose
/// shapes are written in the architecture's symbols.</summary>
/// <remarks>The numbers are the inventory's own: every term is a tensor kind's stored shape (or its logical element
/// count for packed tensors) times how many such tensors there are, so a group's derivation sums to exactly the
/// inventory's count for the group (checked when built). The symbols only name the dimensions; a dimension that no
/// symbol names is printed as its number. This works for every family, generated or read from files, and is the
/// per-tensor-shape fallback the issue asks for wherever a closed form is not given.</remarks>
public static partial class ParameterDerivations
{
    /// <summary>The groups in the post's order: embedding, attention (and other token mixers), feed-forward, experts,
    /// norms, output head, then the rest.</summary>
    public static ImmutableArray<TensorGroup> PostOrder { get; } =
        [TensorGroup.Embedding, TensorGroup.Attention, TensorGroup.Ssm, TensorGroup.Mlp, TensorGroup.Experts, TensorGroup.Norm, TensorGroup.LmHead, TensorGroup.Other];

    /// <summary>Explains a model's parameter count.</summary>
    /// <param name="model">The model (catalog, config, checkpoint or manual).</param>
    /// <returns>The explanation.</returns>
    /// <exception cref="InvalidOperationException">A derivation does not sum to the inventory's count (a bug).</exception>
    public static ParameterExplanation Explain(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Explain(model.Name, model.Architecture, model.Inventory, SymbolTable.SourceOf(model));
    }

    internal static ParameterExplanation Explain(string name, ArchitectureSpec? spec, TensorInventory inventory, SymbolSources sources)
    {
        var symbols = new SymbolTable(spec, inventory, sources);
        var byGroup = inventory.ByGroup();
        var derivations = new List<Derivation>();
        foreach (var group in PostOrder)
        {
            var tensors = inventory.Parameters.Where(t => t.Group == group).ToList();
            if (tensors.Count == 0 && group != TensorGroup.LmHead)
            {
                continue;
            }

            var d = BuildGroup(group, tensors, symbols, spec);
            if (d.Result != byGroup[group].Value)
            {
                throw new InvalidOperationException($"{name}: the {d.Name} derivation sums to {d.Result}, the inventory to {byGroup[group].Value}.");
            }

            derivations.Add(d);
        }

        // The post's feed-forward stands for every MLP weight: in an MoE model, the dense MLP (routers, shared experts)
        // and the routed experts together.
        int mlpIndex = derivations.FindIndex(d => d.Name == GroupName(TensorGroup.Mlp));
        int expertsIndex = derivations.FindIndex(d => d.Name == GroupName(TensorGroup.Experts));
        if (expertsIndex >= 0 && spec is not null)
        {
            var ff = PostPart(TensorGroup.Mlp, spec, symbols);
            long mlp = mlpIndex >= 0 ? derivations[mlpIndex].Result : 0;
            if (mlpIndex >= 0)
            {
                derivations[mlpIndex] = derivations[mlpIndex] with { PostFormula = null, PostSubstituted = null, PostValue = null };
            }

            derivations[expertsIndex] = derivations[expertsIndex] with
            {
                PostFormula = ff.Formula,
                PostSubstituted = ff.Substituted,
                PostValue = ff.Value,
                PostExact = checked(mlp + derivations[expertsIndex].Result),
            };
        }

        var total = inventory.TotalParameters.Value;
        var nonEmpty = derivations.Where(d => d.Result != 0 || d.Name != "lm_head" || derivations.Count == 1).ToList();
        var sum = new DerivationSum("total",
            string.Join(" + ", nonEmpty.Select(d => d.Name)),
            string.Join(" + ", nonEmpty.Select(d => Num(d.Result))),
            total);
        if (nonEmpty.Aggregate(0L, (s, d) => checked(s + d.Result)) != total)
        {
            throw new InvalidOperationException($"{name}: the groups do not sum to the total {total}.");
        }

        return new ParameterExplanation
        {
            Model = name,
            Family = spec?.Family ?? "unknown",
            Symbols = symbols.Used,
            Groups = [.. derivations],
            Total = sum,
            Active = ActiveSum(inventory),
            PostTotal = PostTotal(spec, symbols),
            Notes = ModelNotes(spec),
        };
    }

    private static Derivation BuildGroup(TensorGroup group, List<TensorInfo> tensors, SymbolTable symbols, ArchitectureSpec? spec)
    {
        // Tensor kinds: the name with its layer and expert indices replaced by '*', and the shape.
        var kinds = new List<(string Pattern, TensorInfo First, long Elements, int Count)>();
        var index = new Dictionary<(string, string, long), int>();
        foreach (var t in tensors)
        {
            var pattern = IndexSegment().Replace(t.Name, ".*.");
            pattern = IndexSegment().Replace(pattern, ".*.");
            var key = (pattern, t.ShapeText(), t.Elements);
            if (index.TryGetValue(key, out var i))
            {
                kinds[i] = kinds[i] with { Count = kinds[i].Count + 1 };
            }
            else
            {
                index[key] = kinds.Count;
                kinds.Add((pattern, t, t.Elements, 1));
            }
        }

        var terms = kinds.Select(k =>
        {
            var (formula, substituted) = symbols.Shape(k.First);
            var (mult, multNumbers) = symbols.Multiplicity(k.Count, k.Pattern);
            return new DerivationTerm(k.Pattern, formula, substituted, k.Elements, mult, k.Count, multNumbers);
        }).ToImmutableArray();

        var (symbolic, numeric) = Compose(terms);
        long result = terms.Aggregate(0L, (s, t) => checked(s + t.Total));
        var name = GroupName(group);
        var (postFormula, postSubstituted, postValue) = PostPart(group, spec, symbols);
        return new Derivation
        {
            Name = name,
            Title = GroupTitle(group),
            Formula = terms.Length == 0 ? "0" : symbolic,
            Substituted = terms.Length == 0 ? "0" : numeric,
            Result = result,
            Terms = terms,
            Symbols = symbols.UsedIn(terms),
            Notes = GroupNotes(group, tensors, terms, spec),
            PostFormula = postFormula,
            PostSubstituted = postSubstituted,
            PostValue = postValue,
        };
    }

    /// <summary>Writes terms as a sum grouped by multiplicity: <c>L·(a + 2·b) + c</c>, and the same with numbers.</summary>
    private static (string Symbolic, string Numeric) Compose(ImmutableArray<DerivationTerm> terms)
    {
        var buckets = new List<(string Mult, long Count, string MultNumbers, List<(string F, string S, int C)> Parts)>();
        foreach (var t in terms)
        {
            var bucket = buckets.FindIndex(b => b.Mult == t.Multiplicity && b.Count == t.Count);
            if (bucket < 0)
            {
                buckets.Add((t.Multiplicity, t.Count, t.MultiplicitySubstituted, []));
                bucket = buckets.Count - 1;
            }

            var parts = buckets[bucket].Parts;
            var same = parts.FindIndex(p => p.F == t.Formula && p.S == t.Substituted);
            if (same >= 0)
            {
                parts[same] = parts[same] with { C = parts[same].C + 1 };
            }
            else
            {
                parts.Add((t.Formula, t.Substituted, 1));
            }
        }

        var symbolic = new List<string>();
        var numeric = new List<string>();
        foreach (var (mult, count, multNumbers, parts) in buckets)
        {
            string Join(Func<(string F, string S, int C), string> pick) =>
                string.Join(" + ", parts.Select(p => p.C == 1 ? pick(p) : p.C.ToString(CultureInfo.InvariantCulture) + "·" + pick(p)));
            var f = Join(p => p.F);
            var s = Join(p => p.S);
            bool wrap = parts.Count > 1 || parts[0].C > 1;
            if (count == 1)
            {
                symbolic.Add(f);
                numeric.Add(s);
            }
            else
            {
                symbolic.Add(mult + "·" + (wrap ? "(" + f + ")" : f));
                numeric.Add(multNumbers + "·" + (wrap ? "(" + s + ")" : s));
            }
        }

        return (string.Join(" + ", symbolic), string.Join(" + ", numeric));
    }

    private static DerivationSum? ActiveSum(TensorInventory inventory)
    {
        var pools = inventory.Parameters.Where(t => t.ExpertPool > 0)
            .GroupBy(t => (t.ExpertPool, t.ActiveExperts))
            .Select(g => (g.Key.ExpertPool, g.Key.ActiveExperts, Elements: g.Aggregate(0L, (s, t) => checked(s + t.Elements))))
            .ToList();
        if (pools.Count == 0)
        {
            return null;
        }

        long total = inventory.TotalParameters.Value;
        long routed = pools.Aggregate(0L, (s, p) => checked(s + p.Elements));
        var formula = "(total − routed experts) + " + string.Join(" + ", pools.Select(_ => "routed·k/E"));
        var substituted = $"({Raw(total)} − {Raw(routed)}) + " + string.Join(" + ", pools.Select(p => $"{Raw(p.Elements)}·{p.ActiveExperts}/{p.ExpertPool}"));
        return new DerivationSum("active", formula, substituted, inventory.ActiveParameters.Value);
    }

    private static DerivationSum? PostTotal(ArchitectureSpec? spec, SymbolTable symbols)
    {
        if (spec is null)
        {
            return null;
        }

        var parts = new[] { TensorGroup.Embedding, TensorGroup.Attention, TensorGroup.Mlp, TensorGroup.LmHead }
            .Select(g => PostPart(g, spec, symbols)).ToList();
        return new DerivationSum("post_total",
            string.Join(" + ", parts.Select(p => p.Formula)),
            string.Join(" + ", parts.Select(p => p.Substituted)),
            parts.Aggregate(0L, (s, p) => checked(s + p.Value!.Value)));
    }

    /// <summary>The post's simplified formula for a group, with this model's numbers: embedding V·d, attention
    /// L·H·(d·d/H), feed-forward L·2·d², output d·V (seed-post.md, "Example Calculation").</summary>
    internal static (string? Formula, string? Substituted, long? Value) PostPart(TensorGroup group, ArchitectureSpec? spec, SymbolTable symbols)
    {
        if (spec is null)
        {
            return (null, null, null);
        }

        // The post's L counts every transformer layer: an encoder–decoder model's encoder and decoder layers.
        long l = checked((long)spec.Layers + (spec.DecoderLayers ?? 0));
        long d = spec.Hidden, v = spec.Vocab, h = spec.Heads;
        string L = Raw(l), D = Raw(d), V = Raw(v), H = Raw(h);
        return group switch
        {
            TensorGroup.Embedding => ("V·d", $"{V}·{D}", checked(v * d)),
            TensorGroup.Attention => ("L·H·(d·d/H)", $"{L}·{H}·({D}·{D}/{H})", checked(l * d * d)),
            TensorGroup.Mlp => ("L·2·d²", $"{L}·2·{D}·{D}", checked(l * 2 * d * d)),
            TensorGroup.LmHead => ("d·V", $"{D}·{V}", checked(d * v)),
            _ => (null, null, null),
        };
    }

    private static ImmutableArray<string> GroupNotes(TensorGroup group, List<TensorInfo> tensors, ImmutableArray<DerivationTerm> terms, ArchitectureSpec? spec)
    {
        var notes = new List<string>();
        long Sum(Func<TensorInfo, bool> where) => tensors.Where(where).Aggregate(0L, (s, t) => checked(s + t.Elements));
        bool IsBias(TensorInfo t) => t.Name.EndsWith(".bias", StringComparison.Ordinal) || t.Name.EndsWith("_bias", StringComparison.Ordinal);
        switch (group)
        {
            case TensorGroup.Embedding:
                var positions = Sum(t => TensorRoles.Of(t) == TensorRole.PositionEmbedding);
                if (positions > 0)
                {
                    notes.Add($"learned position (or token-type) tables: {Num(positions)} parameters; the post has none, and RoPE models have none.");
                }

                break;
            case TensorGroup.Attention when spec is not null:
                if (spec.Mla is { } mla)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"MLA (multi-head latent attention): queries go through rank r_q = {(mla.QLoraRank is { } q ? Num(q) : "none")}, keys and values through the latent r_kv = {Num(mla.KvLoraRank)} plus a shared rotary key d_R = {Num(mla.QkRopeHeadDim)}; the cache keeps r_kv + d_R = {Num(mla.KvLoraRank + mla.QkRopeHeadDim)} values per token per layer, not 2·n_q·d_h."));
                }
                else if (spec.KvHeads == 1 && spec.Heads > 1)
                {
                    notes.Add($"MQA: one K/V head (n_kv = 1) for {spec.Heads} query heads: K and V are each n_q = {spec.Heads}× smaller than Q.");
                }
                else if (spec.KvHeads < spec.Heads)
                {
                    notes.Add(string.Create(CultureInfo.InvariantCulture,
                        $"GQA: K and V project to n_kv·d_h = {Num((long)spec.KvHeads * spec.HeadDim)}, not n_q·d_h = {Num((long)spec.Heads * spec.HeadDim)}: each is n_q/n_kv = {spec.Heads / (double)spec.KvHeads:0.##}× smaller than Q."));
                }

                if ((long)spec.Heads * spec.HeadDim != spec.Hidden && spec.Mla is null)
                {
                    notes.Add($"n_q·d_h = {Num((long)spec.Heads * spec.HeadDim)} ≠ d = {Num(spec.Hidden)}: Q and O are not d×d matrices (head_dim is set, not d/n_q).");
                }

                var biases = Sum(IsBias);
                if (biases > 0)
                {
                    notes.Add($"biases: {Num(biases)} parameters in attention (the post counts no biases).");
                }

                var qkNorm = Sum(t => t.Shape.Length == 1 && !IsBias(t) && (t.Name.Contains("q_norm", StringComparison.Ordinal) || t.Name.Contains("k_norm", StringComparison.Ordinal) || t.Name.Contains("q_layernorm", StringComparison.Ordinal) || t.Name.Contains("k_layernorm", StringComparison.Ordinal)));
                if (qkNorm > 0)
                {
                    notes.Add($"QK-norm: norms on queries and keys add {Num(qkNorm)} parameters.");
                }

                var relative = tensors.Where(t => t.Name.Contains("relative_attention_bias", StringComparison.Ordinal)).ToList();
                if (relative.Count > 0)
                {
                    notes.Add($"relative position bias: {relative.Count} table(s) of {relative[0].Shape[0]} buckets × n_q heads, in the first layer of each stack only (T5): {Num(relative.Aggregate(0L, (s, t) => checked(s + t.Elements)))} parameters instead of a position table.");
                }

                var kinds = Enumerable.Range(0, spec.CachedLayers).Select(spec.LayerKind).ToList();
                int sliding = kinds.Count(k => k == AttentionLayerKind.Sliding);
                int full = kinds.Count(k => k == AttentionLayerKind.Full);
                if (sliding > 0 && spec.SlidingWindow is { } window)
                {
                    notes.Add($"per-layer pattern: {sliding} sliding-window layers (window {Num(window)} tokens) and {full} global layers; the weights are the same in both, only the KV cache differs (see the memory derivation).");
                }

                int nonAttention = Enumerable.Range(0, spec.Layers).Count(i => spec.MixerOf(i) != LayerMixer.Attention);
                if (nonAttention > 0)
                {
                    notes.Add($"hybrid: {spec.Layers - nonAttention} of {spec.Layers} layers use attention; the other {nonAttention} use a recurrent mixer (ssm group).");
                }

                break;
            case TensorGroup.Mlp when spec is not null:
                bool denseMlp = tensors.Any(t => TensorRoles.Of(t) is TensorRole.FfnUp or TensorRole.FfnDown or TensorRole.FfnGate);
                if (denseMlp)
                {
                    notes.Add(spec.Mlp == MlpKind.Gated
                        ? "gated MLP (SwiGLU/GeGLU): three matrices gate, up, down of d·d_ff each, not the post's 2·d²."
                        : "two-matrix MLP: up and down of d·d_ff each (d_ff is usually 4·d, so 8·d² per layer, not the post's 2·d²).");
                }

                var mlpBiases = Sum(IsBias);
                if (mlpBiases > 0)
                {
                    notes.Add($"biases: {Num(mlpBiases)} parameters in the MLP.");
                }

                if (spec.Moe is { } moeMlp)
                {
                    notes.Add("routers and shared experts sit here; the routed experts are the experts group." +
                        (moeMlp.SharedExperts > 0 ? $" {moeMlp.SharedExperts} shared expert(s) run for every token." : ""));
                }

                break;
            case TensorGroup.Experts when spec?.Moe is { } moe:
                var moeLayers = moe.MoeLayers.IsDefaultOrEmpty ? spec.Layers : moe.MoeLayers.Count(x => x);
                notes.Add(spec.Mlp == MlpKind.Gated
                    ? "each expert is a gated MLP: three matrices of d·d_e (gate, up, down)."
                    : "each expert is a two-matrix MLP: up and down of d·d_e.");
                notes.Add($"MoE: E = {moe.Experts} routed experts in each of {moeLayers} MoE layers, k = {moe.ActiveExperts} used per token: a token reads k/E = {moe.ActiveExperts}/{moe.Experts} of these parameters (see active below).");
                if (moeLayers < spec.Layers)
                {
                    notes.Add($"dense-first layers: {spec.Layers - moeLayers} of {spec.Layers} layers have a dense MLP instead of experts.");
                }

                break;
            case TensorGroup.Norm:
                var normBiases = Sum(IsBias);
                notes.Add(normBiases > 0
                    ? "LayerNorm: a weight and a bias of d per norm (the post counts no norms)."
                    : "RMSNorm (or bias-free LayerNorm): a weight of d per norm, no bias (the post counts no norms).");
                break;
            case TensorGroup.LmHead when spec is not null:
                if (terms.Length == 0 && spec.TiedEmbeddings)
                {
                    notes.Add("tied head: the output projection is the embedding matrix V·d, counted once (in embedding); the post's d·V would count it twice.");
                }
                else if (terms.Length > 0)
                {
                    notes.Add("untied head: a separate d·V matrix (the post's output layer).");
                }

                break;
        }

        return [.. notes];
    }

    private static ImmutableArray<string> ModelNotes(ArchitectureSpec? spec)
    {
        if (spec is null)
        {
            return ["no architecture is known for this model: the dimensions below are the tensors' own shapes."];
        }

        var notes = new List<string>();
        if (spec.DecoderLayers is { } dec)
        {
            notes.Add($"encoder–decoder: {spec.Layers} encoder layers (L_enc) and {dec} decoder layers (L_dec); decoder layers add cross-attention.");
        }

        if (spec.Vision is { } vision)
        {
            notes.Add($"multimodal: a {vision.Kind} image encoder of {vision.Layers} layers (hidden {Num(vision.Hidden)}) sits in other.");
        }

        return [.. notes];
    }

    internal static string GroupName(TensorGroup group) => Contract.ContractMapper.GroupName(group);

    private static string GroupTitle(TensorGroup group) => group switch
    {
        TensorGroup.Embedding => "Embedding",
        TensorGroup.Attention => "Attention",
        TensorGroup.Ssm => "State-space / linear-attention mixers",
        TensorGroup.Mlp => "Feed-forward (MLP)",
        TensorGroup.Experts => "Routed experts",
        TensorGroup.Norm => "Norms",
        TensorGroup.LmHead => "Output head",
        _ => "Other",
    };

    /// <summary>A number with thousands separators (invariant culture).</summary>
    internal static string Num(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A number without separators, for substituted expressions.</summary>
    internal static string Raw(long value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\.\d+\.")]
    private static partial Regex IndexSegment();
}
