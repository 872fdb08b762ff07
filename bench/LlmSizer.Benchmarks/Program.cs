using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using LlmSizer.Benchmarks;
using LlmSizer.Checkpoints;

// dotnet run -c Release --project bench/LlmSizer.Benchmarks                 BenchmarkDotNet (all benchmarks)
// ... -- generate DIR                                                      writes the two input files
// ... -- time gguf|safetensors FILE ITERATIONS                             median µs and allocated bytes per parse (for bench/peers)
if (args is ["generate", var dir])
{
    BenchFiles.Generate(dir);
    Console.WriteLine(BenchFiles.GgufPath(dir));
    Console.WriteLine(BenchFiles.SafetensorsPath(dir));
    return 0;
}

if (args is ["time", var kind, var file, var iterationsText])
{
    int iterations = int.Parse(iterationsText, CultureInfo.InvariantCulture);
    Func<long> parse = kind switch
    {
        "gguf" => () => CheckpointLoader.LoadGguf(file).Inventory.TotalParameters.Value,
        // Everything materialised (token strings, scores, merges): what the JS peer does.
        "gguf-full" => () => LlmSizer.Checkpoints.Gguf.GgufReader.Read(file, new LlmSizer.Checkpoints.Gguf.GgufReadOptions { MaxMaterializedArrayLength = long.MaxValue, MaterializeTokenizer = true }).Tensors.Count,
        "gguf-reader" => () => LlmSizer.Checkpoints.Gguf.GgufReader.Read(file).Tensors.Count,
        "classify" => () =>
        {
            var h = LlmSizer.Checkpoints.Safetensors.SafetensorsReader.Read(file);
            long n = 0;
            foreach (var t in h.Tensors)
            {
                n += (int)LlmSizer.Checkpoints.TensorClassifier.GroupOf(t.Name).Group;
            }

            return n;
        },
        "layer" => () =>
        {
            var h = LlmSizer.Checkpoints.Safetensors.SafetensorsReader.Read(file);
            long n = 0;
            foreach (var t in h.Tensors)
            {
                n += LlmSizer.Checkpoints.TensorClassifier.LayerOf(t.Name) ?? 0;
            }

            return n;
        },
        "safetensors-reader" => () => LlmSizer.Checkpoints.Safetensors.SafetensorsReader.Read(file).Tensors.Length,
        _ => () => CheckpointLoader.TryLoad(file)!.Inventory.TotalParameters.Value,
    };
    long parameters = 0;
    for (int i = 0; i < Math.Max(10, iterations / 5); i++)
    {
        parameters = parse(); // warm-up (JIT tiering)
    }

    var times = new double[iterations];
    long allocated = 0;
    for (int i = 0; i < iterations; i++)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        parameters = parse();
        times[i] = sw.Elapsed.TotalMicroseconds;
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
    }

    Array.Sort(times);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"median_us\": {times[iterations / 2]:F1}, \"allocated_bytes\": {allocated / iterations}, \"parameters\": {parameters}}}"));
    return 0;
}

BenchmarkSwitcher.FromAssembly(typeof(HeaderBenchmarks).Assembly).Run(args);
return 0;
