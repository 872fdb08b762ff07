using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LLama;
using LLama.Common;
using LLama.Native;
using LlmSizer.Tests.Fixtures;

namespace LlmSizer.Engine.Tests;

/// <summary>What llama.cpp logged for one context: buffer sizes in MiB as printed (two decimals).</summary>
internal sealed record ProbeResult(double ModelMiB, double KvMiB, long KvCells, double OutputMiB, double ComputeMiB, string Log, bool ContextCreated)
{
    /// <summary>The compute buffer with four decimals, from the context destructor's check line.</summary>
    public double ComputeMiB4 => LlamaCppProbe.Compute4(Log);
}

/// <summary>Loads GGUF files with LLamaSharp (bundled llama.cpp, CPU backend) and reads the buffer sizes from its log.</summary>
internal static partial class LlamaCppProbe
{
    private static readonly Lock Gate = new();
    private static readonly StringBuilder Buffer = new();
    private static bool _installed;

    private static void Install()
    {
        lock (Gate)
        {
            if (_installed)
            {
                return;
            }

            // Must be set before anything loads the native library (stack-notes.md, LLamaSharp section).
            NativeLogConfig.llama_log_set((level, message) =>
            {
                lock (Buffer)
                {
                    Buffer.Append(message);
                }
            });
            _installed = true;
        }
    }

    public static string Dir { get; } = CreateDir();

    // The real-width GGUFs are sparse (tens of GB apparent, a few MB on disk): removed when the test process ends.
    private static string CreateDir()
    {
        var dir = Directory.CreateTempSubdirectory("llmsizer-engine-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Still mapped by the native library on some platforms: the OS temp cleaner takes it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return dir;
    }

    public static string Write(GgufWriter writer, string name, GgufWriter.DataMode mode = GgufWriter.DataMode.Full)
    {
        var path = Path.Combine(Dir, name + ".gguf");
        if (!File.Exists(path))
        {
            writer.WriteFile(path, mode);
        }

        return path;
    }

    public static ProbeResult Run(string path, uint nCtx, uint ubatch, GGMLType typeK, GGMLType typeV, bool? fa, uint seqMax = 1, uint batch = 2048, bool keepLoaded = false, bool? swaFull = null)
    {
        Install();
        lock (Gate)
        {
            lock (Buffer)
            {
                Buffer.Clear();
            }

            var p = new ModelParams(path)
            {
                ContextSize = nCtx,
                BatchSize = batch,
                UBatchSize = ubatch,
                TypeK = typeK,
                TypeV = typeV,
                FlashAttention = fa,
                SeqMax = seqMax,
                GpuLayerCount = 0,
                Threads = 1,
            };
            if (swaFull is { } full)
            {
                p.SwaFull = full;
            }

            bool created = false;
            LLamaWeights? weights = null;
            if (keepLoaded)
            {
                // Large sparse files: memory-map them (the CPU backend then reads no tensor data) and load each once.
                p.LoadMode = LLamaLoadMode.MemoryMap;
                if (!Loaded.TryGetValue(path, out weights))
                {
                    weights = Load(p);
                    Loaded[path] = weights;
                }
            }
            else
            {
                weights = Load(p);
            }

            if (weights is not null)
            {
                try
                {
                    using var ctx = weights.CreateContext(p);
                    created = true;
                }
                catch (Exception ex) when (ex is LLama.Exceptions.RuntimeError or InvalidOperationException)
                {
                }
                finally
                {
                    if (!keepLoaded)
                    {
                        weights.Dispose();
                    }
                }
            }

            string log;
            lock (Buffer)
            {
                log = Buffer.ToString();
            }

            return new ProbeResult(
                Sum(ModelRx(), log), Sum(KvRx(), log), KvCellsRx().Match(log) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
                Sum(OutputRx(), log), Sum(ComputeRx(), log), log, created && !log.Contains("requires flash_attn", StringComparison.Ordinal));
        }
    }

    private static readonly Dictionary<string, LLamaWeights?> Loaded = [];

    private static LLamaWeights? Load(ModelParams p)
    {
        try
        {
            return LLamaWeights.LoadFromFile(p);
        }
        catch (LLama.Exceptions.LoadWeightsFailedException)
        {
            return null; // the log says why (an unknown architecture, a missing tensor key): the caller reads it
        }
    }

    public static double Compute4(string log) => Sum(Compute4Rx(), log);

    [GeneratedRegex(@"compute buffer size is\s*([0-9.]+) MiB")]
    private static partial Regex Compute4Rx();

    private static double Sum(Regex rx, string log) =>
        rx.Matches(log).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"model buffer size\s*=\s*([0-9.]+) MiB")]
    private static partial Regex ModelRx();

    [GeneratedRegex(@"llama_kv_cache[^:]*: size\s*=\s*([0-9.]+) MiB")]
    private static partial Regex KvRx();

    [GeneratedRegex(@"size\s*=\s*[0-9.]+ MiB \(\s*(\d+) cells")]
    private static partial Regex KvCellsRx();

    [GeneratedRegex(@"output buffer size\s*=\s*([0-9.]+) MiB")]
    private static partial Regex OutputRx();

    [GeneratedRegex(@"compute buffer size\s*=\s*([0-9.]+) MiB")]
    private static partial Regex ComputeRx();
}
