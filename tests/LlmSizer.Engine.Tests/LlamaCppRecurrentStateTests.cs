using System.Globalization;
using System.Text.RegularExpressions;
using LLama.Native;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Engine.Tests;

/// <summary>Recurrent-state bytes of a Mamba GGUF our writer generates: ours (<c>recurrent_state</c>) against what the
/// bundled llama.cpp logs for its recurrent memory ("R (f32): … MiB, S (f32): … MiB", llama-memory-recurrent.cpp).</summary>
public sealed partial class LlamaCppRecurrentStateTests
{
    // name, hidden, d_inner, d_state, d_conv, dt_rank, layers
    public static readonly TheoryData<string, int, int, int, int, int, int> Models = new()
    {
        { "mamba-s", 256, 512, 16, 4, 16, 2 },
        { "mamba-m", 512, 1024, 16, 4, 32, 3 },
        { "mamba-wide", 768, 1536, 32, 4, 48, 2 },
    };

    private static GgufWriter Mamba(int hidden, int inner, int state, int conv, int rank, int layers, int vocab = 512)
    {
        var w = new GgufWriter().AddString("general.architecture", "mamba").AddString("general.name", "tiny-mamba")
            .AddUInt32("general.file_type", 0).AddUInt32("general.quantization_version", 2)
            .AddUInt32("mamba.context_length", 1 << 20).AddUInt32("mamba.embedding_length", (uint)hidden)
            .AddUInt32("mamba.block_count", (uint)layers).AddUInt32("mamba.feed_forward_length", 0)
            .AddUInt32("mamba.attention.head_count", 0).AddFloat32("mamba.attention.layer_norm_rms_epsilon", 1e-5f)
            .AddUInt32("mamba.ssm.conv_kernel", (uint)conv).AddUInt32("mamba.ssm.inner_size", (uint)inner)
            .AddUInt32("mamba.ssm.state_size", (uint)state).AddUInt32("mamba.ssm.time_step_rank", (uint)rank);

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
    public void MambaGguf_RecurrentState_EqualsLlamaCppRAndS(string name, int hidden, int inner, int state, int conv, int rank, int layers)
    {
        var path = LlamaCppProbe.Write(Mamba(hidden, inner, state, conv, rank, layers), "rs-" + name);
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
