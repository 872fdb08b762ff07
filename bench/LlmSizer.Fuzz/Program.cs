using System.Globalization;
using LlmSizer.Fuzz.Engine;

// llmsize fuzzer: dotnet run -c Release --project bench/LlmSizer.Fuzz -- [--seconds N] [--seed S] [--execs N] [--save DIR]
var options = new FuzzOptions();
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    options = args[i] switch
    {
        "--seconds" => options with { Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
        "--seed" => options with { Seed = int.Parse(Next(), CultureInfo.InvariantCulture) },
        "--execs" => options with { MaxExecs = long.Parse(Next(), CultureInfo.InvariantCulture) },
        "--save" => options with { SaveDir = Next() },
        "--family" => options with { Families = [.. options.Families, Enum.Parse<InputFamily>(Next(), ignoreCase: true)] },
        "--workloads" => options with { WorkloadsPerModel = int.Parse(Next(), CultureInfo.InvariantCulture) },
        "--deadline" => options with { CallDeadline = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)) },
        _ => throw new ArgumentException($"unknown argument {args[i]} (known: --seconds --seed --execs --save --deadline --family --workloads)"),
    };
}

Console.WriteLine($"fuzzing with seed {options.Seed} for {options.Duration.TotalSeconds:N0} s{(options.MaxExecs is { } m ? $" or {m:N0} inputs" : "")}");
var report = new FuzzRunner(options).Run(r => Console.WriteLine($"  ... {r.TotalExecs:N0} inputs, {r.ExecsPerSecond:N0} exec/s, {r.Failures.Count} failures"));
Console.WriteLine(report.Summary());
return report.Failures.Count == 0 ? 0 : 1;
