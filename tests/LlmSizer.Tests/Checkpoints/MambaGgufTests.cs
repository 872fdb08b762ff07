using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>A Mamba GGUF: the SSM geometry from <c>mamba.ssm.*</c> sizes llama.cpp's recurrent state.</summary>
public sealed class MambaGgufTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "llmsize-mamba-gguf-" + Guid.NewGuid().ToString("N"));

    public MambaGgufTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Mamba1Gguf_RecurrentState_IsLlamaCppsRAndSBuffers()
    {
        // 2 layers, hidden 64, d_inner 128, d_state 16, d_conv 4, dt_rank 4 (the keys convert_hf_to_gguf.py writes).
        var w = new GgufWriter().AddString("general.architecture", "mamba")
            .AddUInt32("mamba.block_count", 2).AddUInt32("mamba.embedding_length", 64).AddUInt32("mamba.context_length", 1 << 20)
            .AddUInt32("mamba.ssm.conv_kernel", 4).AddUInt32("mamba.ssm.inner_size", 128).AddUInt32("mamba.ssm.state_size", 16)
            .AddUInt32("mamba.ssm.time_step_rank", 4)
            .AddTensor("token_embd.weight", GgmlType.F32, 64, 32)
            .AddTensor("blk.0.ssm_in.weight", GgmlType.F32, 64, 256)
            .AddTensor("blk.1.ssm_in.weight", GgmlType.F32, 64, 256)
            .AddTensor("output_norm.weight", GgmlType.F32, 64);
        var path = Path.Combine(_dir, "mamba.gguf");
        File.WriteAllBytes(path, w.ToArray());

        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 4096, Batch = 2 });

        // llama-hparams.cpp: n_embd_r = (d_conv − 1) × d_inner = 3 × 128 = 384, n_embd_s = d_state × d_inner = 2,048;
        // F32 R and S per layer and sequence: 2 layers × (384 + 2,048) × 4 B = 19,456 B; 2 sequences = 38,912 B.
        Assert.Equal(2L * 2 * (384 + 2_048) * 4, e["recurrent_state"].Bytes);
        Assert.Equal(0L, e["kv_cache"].Bytes);
    }

    [Fact]
    public void HybridGguf_SsmLayersAreTheOnesWithoutKvHeads()
    {
        // A Jamba-shaped GGUF: 4 layers, per-layer head_count_kv [0, 4, 0, 0] (llama.cpp: n_head_kv 0 = recurrent layer),
        // Mamba-1 geometry d_inner 512, d_state 16, d_conv 4.
        var w = new GgufWriter().AddString("general.architecture", "jamba")
            .AddUInt32("jamba.block_count", 4).AddUInt32("jamba.embedding_length", 256).AddUInt32("jamba.attention.head_count", 4)
            .AddArray("jamba.attention.head_count_kv", MetaType.UInt32, new uint[] { 0, 4, 0, 0 }).AddUInt32("jamba.context_length", 4096)
            .AddUInt32("jamba.ssm.conv_kernel", 4).AddUInt32("jamba.ssm.inner_size", 512).AddUInt32("jamba.ssm.state_size", 16)
            .AddUInt32("jamba.ssm.time_step_rank", 16)
            .AddTensor("token_embd.weight", GgmlType.F32, 256, 32)
            .AddTensor("output_norm.weight", GgmlType.F32, 256);
        var path = Path.Combine(_dir, "jamba.gguf");
        File.WriteAllBytes(path, w.ToArray());

        var e = Sizer.Memory(path, new Workload { Engine = InferenceEngine.LlamaCpp, Context = 4096 });

        // Recurrent: 3 SSM layers × ((4 − 1) × 512 + 16 × 512) × 4 B = 116,736 B. KV: the one attention layer,
        // 4,096 cells × 2 × 4 kv heads × 64 × 2 B (f16) = 4,194,304 B.
        Assert.Equal(3L * ((3 * 512) + (16 * 512)) * 4, e["recurrent_state"].Bytes);
        Assert.Equal(4_096L * 2 * 4 * 64 * 2, e["kv_cache"].Bytes);
    }
}
