using BenchmarkDotNet.Attributes;
using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Checkpoints.Safetensors;

namespace LlmSizer.Benchmarks;

/// <summary>Header parsing: a 151,936-token, 723-tensor GGUF and a 1,000-tensor safetensors file.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class HeaderBenchmarks
{
    private string _dir = "";

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "llmsizer-bench");
        BenchFiles.Generate(_dir);
    }

    /// <summary>Reads the GGUF header and counts parameters (token arrays skipped, counted).</summary>
    [Benchmark]
    public long GgufLargeVocab() => CheckpointLoader.LoadGguf(BenchFiles.GgufPath(_dir)).Inventory.TotalParameters.Value;

    /// <summary>Only the GGUF reader (no inventory, no architecture).</summary>
    [Benchmark]
    public int GgufReaderOnly() => GgufReader.Read(BenchFiles.GgufPath(_dir)).Tensors.Count;

    /// <summary>Reads the safetensors header and counts parameters.</summary>
    [Benchmark]
    public long Safetensors1000() => CheckpointLoader.TryLoad(BenchFiles.SafetensorsPath(_dir))!.Inventory.TotalParameters.Value;

    /// <summary>Only the safetensors reader (it also classifies each tensor into its final TensorInfo).</summary>
    [Benchmark]
    public int SafetensorsReaderOnly() => SafetensorsReader.Read(BenchFiles.SafetensorsPath(_dir)).Tensors.Length;

    /// <summary>Baseline: the raw bytes of the safetensors header, no parsing.</summary>
    [Benchmark(Baseline = true)]
    public int SafetensorsRawHeaderBytes()
    {
        using var handle = File.OpenHandle(BenchFiles.SafetensorsPath(_dir));
        Span<byte> len = stackalloc byte[8];
        RandomAccess.Read(handle, len, 0);
        var header = new byte[(int)BitConverter.ToUInt64(len)];
        return RandomAccess.Read(handle, header, 8);
    }
}
