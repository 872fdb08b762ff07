using System.Text.Json;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Quantization;
using YamlDotNet.RepresentationModel;

namespace LlmSizer.Tests.Fit;

/// <summary>Every emitted setting parses: command-line flags are checked against the engines' documented flags
/// (Gpus/engine-flags.json, with its sources), the DeepSpeed config as JSON, the Kubernetes manifest as YAML.</summary>
public class EngineSettingsTests
{
    private static readonly Lazy<Dictionary<string, HashSet<string>>> DocumentedFlags = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "LlmSizer.Tests", "Gpus", "engine-flags.json")));
        var map = new Dictionary<string, HashSet<string>>();
        foreach (var e in doc.RootElement.GetProperty("engines").EnumerateArray())
        {
            var set = new HashSet<string>(StringComparer.Ordinal);
            foreach (var f in e.GetProperty("flags").EnumerateArray())
            {
                set.Add(f.GetProperty("flag").GetString()!);
                foreach (var a in f.GetProperty("aliases").EnumerateArray())
                {
                    set.Add(a.GetString()!);
                }
            }

            map[e.GetProperty("engine").GetString()!] = set;
        }

        return map;
    });

    public static TheoryData<string, string, string?, int> Plans() => new()
    {
        { "llama-3.1-8b", "h100-sxm-80gb", null, 8192 },
        { "llama-3.1-70b", "h100-sxm-80gb", "fp8", 32768 },
        { "llama-3.1-405b", "a100-80gb-sxm", null, 8192 },   // multi-node: pipeline stages across nodes
        { "qwen3-8b", "rtx-4090", "q4_k_m", 16384 },          // llama.cpp
        { "mixtral-8x7b", "l40s", "awq", 4096 },
    };

    [Theory]
    [MemberData(nameof(Plans))]
    public void EmittedSettings_UseOnlyDocumentedFlags_AndParse(string model, string gpu, string? dtype, int context)
    {
        var plan = Sizer.Fit(new FitRequest
        {
            Model = model,
            Gpu = GpuDevice.FromSpec(GpuCatalog.Find(gpu)),
            Workload = new Workload { Context = context, Format = dtype is null ? null : WeightFormat.Parse(dtype), KvType = dtype == "fp8" ? DataTypes.DataType.F8_E4M3 : null },
        }).Plans.Single();
        Assert.NotEqual(FitType.None, plan.FitType);

        if (plan.Settings.Vllm is { } vllm)
        {
            AssertFlags("vllm", vllm, skip: 3); // vllm serve MODEL
            Assert.Contains($"--max-model-len {context}", vllm);
        }

        if (plan.Settings.Sglang is { } sglang)
        {
            AssertFlags("sglang", sglang, skip: 3); // python -m sglang.launch_server
        }

        if (plan.Settings.LlamaCpp is { } llama)
        {
            AssertFlags("llamacpp", llama, skip: 1);
        }

        // The Kubernetes manifest is valid YAML with the GPU count, /dev/shm and a readiness probe.
        var yaml = new YamlStream();
        yaml.Load(new StringReader(plan.Settings.Kubernetes!));
        Assert.True(yaml.Documents.Count >= 2);
        var kinds = yaml.Documents.Select(d => ((YamlScalarNode)((YamlMappingNode)d.RootNode)["kind"]).Value).ToList();
        Assert.Contains("Service", kinds);
        Assert.Contains(plan.Nodes > 1 ? "LeaderWorkerSet" : "Deployment", kinds);
        Assert.Contains("nvidia.com/gpu", plan.Settings.Kubernetes);
        Assert.Contains("/dev/shm", plan.Settings.Kubernetes);
        Assert.Contains("readinessProbe", plan.Settings.Kubernetes);
    }

    [Fact]
    public void TrainingSettings_DeepSpeedIsJson_FsdpIsYaml()
    {
        var plan = Sizer.Fit(new FitRequest
        {
            Model = "llama-3.1-8b",
            Gpu = GpuDevice.FromSpec(GpuCatalog.Find("a100-80gb-sxm")),
            Workload = new Workload { Context = 4096, Batch = 2, Training = new TrainingSettings { ZeroStage = 2, GradientAccumulation = 4, Recompute = Recompute.Full } },
        }).Plans.Single();

        using var ds = JsonDocument.Parse(plan.Settings.DeepSpeed!);
        Assert.Equal(2, ds.RootElement.GetProperty("train_micro_batch_size_per_gpu").GetInt32());
        Assert.Equal(4, ds.RootElement.GetProperty("gradient_accumulation_steps").GetInt32());
        Assert.Equal(2, ds.RootElement.GetProperty("zero_optimization").GetProperty("stage").GetInt32());
        Assert.True(ds.RootElement.GetProperty("bf16").GetProperty("enabled").GetBoolean());
        var yaml = new YamlStream();
        yaml.Load(new StringReader(plan.Settings.Fsdp!));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        Assert.Equal("FSDP", ((YamlScalarNode)root["distributed_type"]).Value);
        Assert.Equal("SHARD_GRAD_OP", ((YamlScalarNode)((YamlMappingNode)root["fsdp_config"])["fsdp_sharding_strategy"]).Value);
        Assert.Equal(plan.GpusNeeded.ToString(System.Globalization.CultureInfo.InvariantCulture), ((YamlScalarNode)root["num_processes"]).Value);
    }

    private static void AssertFlags(string engine, string commandLine, int skip)
    {
        var known = DocumentedFlags.Value[engine];
        foreach (var token in commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(skip).Where(t => t.StartsWith('-')))
        {
            Assert.True(known.Contains(token), $"{engine}: '{token}' is not a documented flag (engine-flags.json): {commandLine}");
        }
    }
}
