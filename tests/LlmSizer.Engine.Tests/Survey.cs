using LLama.Native;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Engine.Tests;

public class Survey
{
    [Fact]
    public void Dump()
    {
        var names = (Environment.GetEnvironmentVariable("SURVEY") ?? "qwen15-moe").Split(',');
        using var o = new StreamWriter("/tmp/survey.txt", append: true);
        foreach (var n in names)
        {
            var s = ArchGguf.Shapes[n];
            var path = LlamaCppProbe.Write(ArchGguf.Build(s), n, GgufWriter.DataMode.Sparse);
            foreach (int ctx in new[] { 512, 4096, 8192 })
            foreach (bool fa in new[] { true, false })
            foreach (var kv in new[] { GGMLType.GGML_TYPE_F16, GGMLType.GGML_TYPE_Q8_0 })
            {
                if (!fa && kv != GGMLType.GGML_TYPE_F16) continue;
                var r = LlamaCppProbe.Run(path, (uint)ctx, 512, kv, kv, fa, mmap: true);
                o.WriteLine($"{n} ctx={ctx} fa={fa} kv={kv} created={r.ContextCreated} compute={r.ComputeMiB} c4={r.ComputeMiB4} kv={r.KvMiB} model={r.ModelMiB}");
                if (!r.ContextCreated || r.ComputeMiB == 0)
                {
                    o.WriteLine(r.Log[^Math.Min(3000, r.Log.Length)..]);
                    return;
                }
                o.Flush();
            }
        }
    }
}

public class Survey2
{
    [Fact]
    public void Ours()
    {
        using var o = new StreamWriter("/tmp/ours.txt");
        foreach (var (n, s) in ArchGguf.Shapes)
        {
            var path = LlamaCppProbe.Write(ArchGguf.Build(s), n, GgufWriter.DataMode.Sparse);
            var m = LlmSizer.Sizer.Load(path); var a = m.Architecture!;
            o.WriteLine($"{n} moe={a.Moe} mla={a.Mla} swa={a.SlidingWindow} fam={a.Family} heads={a.Heads} kv={a.KvHeads} hd={a.HeadDim} ff={a.Intermediate}");
            foreach (int ctx in new[] { 512, 4096, 8192 })
            foreach (bool fa in new[] { true, false })
            {
                var e = LlmSizer.Memory.MemoryEstimator.Estimate(m, new LlmSizer.Tests.Memory.FlatWorkload
                {
                    Engine = LlmSizer.Memory.InferenceEngine.LlamaCpp, Context = ctx, Ubatch = 512,
                    FlashAttn = fa ? LlmSizer.Memory.FlashAttention.On : LlmSizer.Memory.FlashAttention.Off,
                });
                o.WriteLine($"{n} ctx={ctx} fa={fa} ours={e["compute_buffer"].Bytes / 1048576.0:F2}");
            }
        }
    }
}
