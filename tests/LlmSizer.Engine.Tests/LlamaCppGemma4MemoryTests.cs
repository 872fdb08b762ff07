using System.Globalization;
using System.Text.RegularExpressions;
using LLama.Native;
using LlmSizer.Architecture;
using LlmSizer.Memory;
using Xunit.Abstractions;

namespace LlmSizer.Engine.Tests;

/// <summary>Gemma 4 GGUFs our writer generates, loaded by the bundled llama.cpp: our KV cache against the two caches its
/// llama_kv_cache_iswa logs ("llama_kv_cache: size = … MiB (N cells, L layers, …), K (f16): … MiB, V (f16): … MiB", once
/// for the full layers and once for the sliding ones). Full layers cache global_head_dim (key_length), sliding layers
/// head_dim (key_length_swa) and at most the window, and the KV-shared layers (shared_kv_layers) cache nothing.</summary>
public sealed partial class LlamaCppGemma4MemoryTests(ITestOutputHelper output)
{
    internal static readonly Dictionary<string, Gemma4Shape> Shapes = new[]
    {
        // Gemma-4-E4B's widths (hidden 2560, 8 query / 2 KV heads, head_dim 256, global_head_dim 512, window 512, per-layer
        // inputs 256) in 8 layers, five-to-one sliding as far as 8 layers allow, the last 4 layers KV-shared (E4B: 18 of 42).
        new Gemma4Shape
        {
            Name = "e4b", Pattern = "SSSFSSSF", Embedding = 2560, Heads = 8, KvHeads = 2, HeadDim = 256, GlobalHeadDim = 512,
            FeedForward = 10240, Window = 512, SharedKvLayers = 4, PerLayerInput = 256,
        },

        // Gemma-4-31B's widths (hidden 5376, 32 query heads; 16 KV heads of 256 in sliding layers, 4 of 512 in full layers,
        // attention_k_eq_v; window 1024) in 6 layers: head_count_kv is a per-layer array.
        new Gemma4Shape
        {
            Name = "31b", Pattern = "SSSSSF", Embedding = 5376, Heads = 32, KvHeads = 16, GlobalKvHeads = 4, HeadDim = 256,
            GlobalHeadDim = 512, FeedForward = 21504, Window = 1024, KEqV = true,
        },
    }.ToDictionary(s => s.Name);

    // Hand-calculated for n_ctx 4096 and n_ubatch 512, f16 (2 B), K and V each n_head_kv(il) × n_embd_head(il) per cell:
    // e4b, 1 seq: full cache 4096 cells × layer 3 × 2 heads × 512 × 2 (K, V) × 2 B = 16,777,216 B (16.00 MiB); SWA cache
    //   GGML_PAD(min(4096, 512 × 1 + 512), 256) = 1024 cells × layers 0–2 × 2 × 256 × 2 × 2 B = 6,291,456 B (6.00 MiB);
    //   layers 4–7 are KV-shared. 2 seqs: full 16 MiB as before; SWA min(4096, 512 × 2 + 512) = 1536 cells → 9,437,184 B.
    //   swa_full (llama_context_default_params' default, which LLamaSharp passes on unless told): the SWA cache keeps all
    //   4096 cells, 3 × 2048 B × 4096 = 25,165,824 B (24.00 MiB).
    // 31b, 1 seq: full 4096 × layer 5 × 4 heads × 512 × 2 × 2 B = 33,554,432 B (32.00 MiB); SWA min(4096, 1024 + 512) =
    //   1536 cells × layers 0–4 × 16 × 256 × 2 × 2 B = 125,829,120 B (120.00 MiB). 2 seqs: SWA min(4096, 2048 + 512) =
    //   2560 cells → 209,715,200 B; swa_full: 4096 cells → 335,544,320 B (320.00 MiB).
    public static readonly TheoryData<string, uint, bool, long, long> Cases = new()
    {
        { "e4b", 1, false, 16_777_216, 6_291_456 },
        { "e4b", 2, false, 16_777_216, 9_437_184 },
        { "e4b", 1, true, 16_777_216, 25_165_824 },
        { "31b", 1, false, 33_554_432, 125_829_120 },
        { "31b", 2, false, 33_554_432, 209_715_200 },
        { "31b", 2, true, 33_554_432, 335_544_320 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gemma4Gguf_KvCache_EqualsLlamaCppLog(string name, uint seqs, bool swaFull, long fullBytes, long swaBytes)
    {
        var shape = Shapes[name];
        var path = LlamaCppProbe.Write(Gemma4Gguf.Build(shape), "g4-" + name, LlmSizer.Tests.Fixtures.GgufWriter.DataMode.Sparse);
        var spec = Sizer.Load(path).Architecture!;
        const uint nCtx = 4096;
        var real = LlamaCppProbe.Run(path, nCtx, 512, GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_F16, fa: null, seqMax: seqs, keepLoaded: true, swaFull: swaFull);
        var lines = KvLineRx().Matches(real.Log);
        Assert.True(lines.Count == 2, "expected a non-SWA and a SWA llama_kv_cache line in llama.cpp's log:\n" + real.Log);

        var est = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = (int)(nCtx / seqs), Batch = (int)seqs,
            LlamaCpp = LlamaCppSettings.Default with { SwaFull = swaFull } });
        output.WriteLine($"{name} seqs {seqs} swa_full {swaFull}: llama.cpp {string.Join(" | ", lines.Select(m => m.Value))}; ours {est["kv_cache"].Bytes} B");

        // llama_kv_cache_iswa creates the non-SWA cache first. Each line's MiB equals our hand count (two decimals).
        var full = lines[0];
        var swa = lines[1];
        Assert.Equal(fullBytes / 1048576.0, Mib(full, 1), HalfCent);
        Assert.Equal(swaBytes / 1048576.0, Mib(swa, 1), HalfCent);
        Assert.Equal(fullBytes / 2 / 1048576.0, Mib(full, 4), HalfCent); // K (f16) = V (f16): one half each
        Assert.Equal(swaBytes / 2 / 1048576.0, Mib(swa, 5), HalfCent);

        // Layers per cache: the full and sliding layers that keep KV (has_kv: il < n_layer − shared_kv_layers).
        int caching(AttentionLayerKind kind) => Enumerable.Range(0, spec.Layers).Count(l => spec.LayerKind(l) == kind && spec.KvHeadsOf(l) > 0);
        Assert.Equal(caching(AttentionLayerKind.Full), int.Parse(full.Groups[3].Value, CultureInfo.InvariantCulture));
        Assert.Equal(caching(AttentionLayerKind.Sliding), int.Parse(swa.Groups[3].Value, CultureInfo.InvariantCulture));
        Assert.Equal(nCtx, uint.Parse(full.Groups[2].Value, CultureInfo.InvariantCulture));

        // Ours: the sum of the two caches, exactly.
        Assert.Equal(fullBytes + swaBytes, est["kv_cache"].Bytes);
    }

    private const double HalfCent = 0.005 + 1e-9;

    private static double Mib(Match m, int group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"llama_kv_cache: size\s*=\s*([0-9.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers[^)]*\), K \(f16\):\s*([0-9.]+) MiB, V \(f16\):\s*([0-9.]+) MiB")]
    private static partial Regex KvLineRx();
}
