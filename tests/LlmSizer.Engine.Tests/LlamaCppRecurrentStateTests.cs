using System.Globalization;
using System.Text.RegularExpressions;
using LLama.Native;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Engine.Tests;

/// <summary>Recurrent-state bytes of Mamba-1 and Mamba-2 GGUFs our writer generates: ours (<c>recurrent_state</c>) against what the
/// bundled llama.cpp logs for its recurrent memory ("R (f32): … MiB, S (f32): … MiB", llama-memory-recurrent.cpp).</summary>
public sealed partial class LlamaCppRecurrentStateTests
{
    // name, hidden, d_inner, d_state, d_conv, dt_rank (Mamba-2: heads), layers, groups (0: Mamba-1)
    public static readonly TheoryData<string, int, int, int, int, int, int, int> Models = new()
    {
        { "mamba-s", 256, 512, 16, 4, 16, 2, 0 },
        { "mamba-m", 512, 1024, 16, 4, 32, 3, 0 },
        { "mamba-wide", 768, 1536, 32, 4, 48, 2, 0 },
        { "mamba2-s", 256, 512, 64, 4, 8, 2, 1 },
        { "mamba2-g2", 512, 1024, 128, 4, 16, 2, 2 },
    };

    /// <summary>A Mamba-1 GGUF, or Mamba-2 when <paramref name="groups"/> &gt; 0 (then <paramref name="rank"/> is the
    /// head count, as convert_hf_to_gguf.py writes it).</summary>
    private static GgufWriter Mamba(int hidden, int inner, int state, int conv, int rank, int layers, int groups = 0, int vocab = 512)
    {
        string a = groups > 0 ? "mamba2" : "mamba";
        var w = new GgufWriter().AddString("general.architecture", a).AddString("general.name", "tiny-" + a)
            .AddUInt32("general.file_type", 0).AddUInt32("general.quantization_version", 2)
            .AddUInt32(a + ".context_length", 1 << 20).AddUInt32(a + ".embedding_length", (uint)hidden)
            .AddUInt32(a + ".block_count", (uint)layers).AddUInt32(a + ".feed_forward_length", 0)
            .AddUInt32(a + ".attention.head_count", 0).AddFloat32(a + ".attention.layer_norm_rms_epsilon", 1e-5f)
            .AddUInt32(a + ".ssm.conv_kernel", (uint)conv).AddUInt32(a + ".ssm.inner_size", (uint)inner)
            .AddUInt32(a + ".ssm.state_size", (uint)state).AddUInt32(a + ".ssm.time_step_rank", (uint)rank);
        if (groups > 0)
        {
            w.AddUInt32(a + ".ssm.group_count", (uint)groups);
        }

        // The same SPM vocabulary TinyLlama writes (the tokenizer does not depend on the architecture).
        var tokens = new string[vocab];
        var scores = new float[vocab];
        var types = new int[vocab];
        (tokens[0], types[0]) = ("<unk>", 2);
        (tokens[1], types[1]) = ("<s>", 3);
        (tokens[2], types[2]) = ("</s>", 3);
        for (int b = 0; b < 256; b++)
        {
            (tokens[3 + b], types[3 + b]) = ($"<0x{b:X2}>", 6);
        }

        for (int i = 259; i < vocab; i++)
        {
            (tokens[i], types[i], scores[i]) = ("\u2581t" + i.ToString(CultureInfo.InvariantCulture), 1, -i);
        }

        w.AddString("tokenizer.ggml.model", "llama").AddArray("tokenizer.ggml.tokens", MetaType.String, tokens)
            .AddArray("tokenizer.ggml.scores", MetaType.Float32, scores).AddArray("tokenizer.ggml.token_type", MetaType.Int32, types)
            .AddUInt32("tokenizer.ggml.unknown_token_id", 0).AddUInt32("tokenizer.ggml.bos_token_id", 1).AddUInt32("tokenizer.ggml.eos_token_id", 2);

        // llama-model.cpp LLM_ARCH_MAMBA tensors, GGUF dimension order (innermost first).
        ulong d = (ulong)hidden, di = (ulong)inner, ds = (ulong)state, dc = (ulong)conv, dr = (ulong)rank;
        w.AddTensor("token_embd.weight", GgmlType.F32, d, (ulong)vocab).AddTensor("output_norm.weight", GgmlType.F32, d)
            .AddTensor("output.weight", GgmlType.F32, d, (ulong)vocab);
        for (int l = 0; l < layers; l++)
        {
            var p = $"blk.{l}.";
            if (groups > 0)
            {
                // LLM_ARCH_MAMBA2: in_proj gives z, xBC and dt: 2·d_inner + 2·G·N + heads; the conv runs over d_inner + 2·G·N.
                ulong g = (ulong)groups, xbc = di + (2 * g * ds), heads = dr;
                w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d)
                    .AddTensor(p + "ssm_in.weight", GgmlType.F32, d, (2 * di) + (2 * g * ds) + heads)
                    .AddTensor(p + "ssm_conv1d.weight", GgmlType.F32, dc, xbc)
                    .AddTensor(p + "ssm_conv1d.bias", GgmlType.F32, xbc)
                    .AddTensor(p + "ssm_dt.bias", GgmlType.F32, heads)
                    .AddTensor(p + "ssm_a", GgmlType.F32, 1, heads)
                    .AddTensor(p + "ssm_d", GgmlType.F32, 1, heads)
                    .AddTensor(p + "ssm_norm.weight", GgmlType.F32, di / g, g)
                    .AddTensor(p + "ssm_out.weight", GgmlType.F32, di, d);
                continue;
            }

            w.AddTensor(p + "attn_norm.weight", GgmlType.F32, d)
                .AddTensor(p + "ssm_in.weight", GgmlType.F32, d, 2 * di)
                .AddTensor(p + "ssm_conv1d.weight", GgmlType.F32, dc, di)
                .AddTensor(p + "ssm_conv1d.bias", GgmlType.F32, di)
                .AddTensor(p + "ssm_x.weight", GgmlType.F32, di, dr + (2 * ds))
                .AddTensor(p + "ssm_dt.weight", GgmlType.F32, dr, di)
                .AddTensor(p + "ssm_dt.bias", GgmlType.F32, di)
                .AddTensor(p + "ssm_a", GgmlType.F32, ds, di)
                .AddTensor(p + "ssm_d", GgmlType.F32, di)
                .AddTensor(p + "ssm_out.weight", GgmlType.F32, di, d);
        }

        return w;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void MambaGguf_RecurrentState_EqualsLlamaCppRAndS(string name, int hidden, int inner, int state, int conv, int rank, int layers, int groups)
    {
        var path = LlamaCppProbe.Write(Mamba(hidden, inner, state, conv, rank, layers, groups), "rs-" + name);
        foreach (uint seqs in new uint[] { 1, 4, 16 })
        {
            var real = LlamaCppProbe.Run(path, 1024, 512, GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_F16, fa: null, seqMax: seqs);
            var r = RRx().Match(real.Log);
            var s = SRx().Match(real.Log);
            Assert.True(r.Success && s.Success, "no recurrent memory line in llama.cpp's log:\n" + real.Log);

            var model = Sizer.Load(path);
            var est = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 1024, Batch = (int)seqs });
            var ssm = model.Architecture!.Ssm!;

            // Ours, split as llama.cpp logs it: R = conv states, S = SSM states, f32, per layer and sequence.
            double rMiB = RecurrentState.ConvStateElements(ssm) * 4.0 * layers * seqs / (1024 * 1024);
            double sMiB = RecurrentState.SsmStateElements(ssm) * 4.0 * layers * seqs / (1024 * 1024);
            Assert.Equal((long)Math.Round((rMiB + sMiB) * 1024 * 1024), est["recurrent_state"].Bytes);

            // llama.cpp prints each with two decimals.
            Assert.InRange(rMiB, double.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture) - 0.005, double.Parse(r.Groups[1].Value, CultureInfo.InvariantCulture) + 0.005);
            Assert.InRange(sMiB, double.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) - 0.005, double.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) + 0.005);
        }
    }

    [GeneratedRegex(@"R \(f32\):\s*([0-9.]+) MiB")]
    private static partial Regex RRx();

    [GeneratedRegex(@"S \(f32\):\s*([0-9.]+) MiB")]
    private static partial Regex SRx();
}
