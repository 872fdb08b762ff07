using System.Collections.Immutable;
using LlmSizer.Architecture;
using LlmSizer.Checkpoints;
using LlmSizer.DataTypes;
using LlmSizer.Errors;
using LlmSizer.Fit;
using LlmSizer.Gpus;
using LlmSizer.Memory;
using LlmSizer.Quantization;
using LlmSizer.Tensors;
using LlmSizer.Tests.Fixtures;
using LlmSizer.Units;

namespace LlmSizer.Tests.Memory;

/// <summary>The default weight format of a checkpoint that ships quantized is its own <c>quantization_config</c>.</summary>
public class CheckpointQuantizationTests
{
    private static long Weights(MemoryEstimate e) => e.Components.Single(c => c.Name == "weights").Total.Bytes;

    private static Assumption Dtype(MemoryEstimate e) => e.Assumptions.Single(a => a.Name == "dtype");

    // The OpenAI gpt-oss model card (arXiv:2508.10925, Table 1, "Checkpoint Size") publishes 60.8 GiB for gpt-oss-120b
    // and 12.8 GiB for gpt-oss-20b: MXFP4 experts, everything else bf16.
    [Theory]
    [InlineData("gpt-oss-120b", 60.8)]
    [InlineData("gpt-oss-20b", 12.8)]
    public void GptOss_DefaultWeights_MatchThePublishedCheckpointWithin1Percent(string model, double gib)
    {
        var e = MemoryEstimator.Estimate(ModelResolver.Resolve(model), new FlatWorkload());
        Assert.InRange(Weights(e) / (double)ByteSize.GiB, gib * 0.99, gib * 1.01);
        Assert.Equal("mxfp4", Dtype(e).ValueText);
        Assert.True(Dtype(e).IsDefault);
        Assert.StartsWith("checkpoint quantization_config: mxfp4", Dtype(e).Reason);
    }

    // deepseek-ai/DeepSeek-V3 (and DeepSeek-R1, same shapes) ships fp8 e4m3 with 128×128 block scales. Its weight files
    // hold 688,586,727,753 bytes at repository revision afb92e1 (the weight files of the creator's Hub repository, as
    // recorded in a public model-facts dataset; not re-read from model.safetensors.index.json here), and that includes the multi-token-prediction module: the repository README says "685B, which includes 671B of the
    // Main Model weights and 14B of the Multi-Token Prediction (MTP) Module weights". vLLM's DeepSeek loader skips the
    // MTP layer unless speculative decoding is on, and LlmSizer counts the 671B main model, so the expected resident
    // weights are the main model's share: 688,586,727,753 × 671 / 685 ≈ 674.5 GB (the rounding of 671 and 685 is
    // ±0.15 %, inside the 1 % tolerance).
    [Theory]
    [InlineData("deepseek-v3")]
    [InlineData("deepseek-r1")]
    public void DeepSeekV3_DefaultWeights_MatchTheFp8CheckpointWithin1Percent(string model)
    {
        const double checkpointBytes = 688_586_727_753;
        double mainModel = checkpointBytes * 671 / 685;
        var e = MemoryEstimator.Estimate(ModelResolver.Resolve(model), new FlatWorkload());
        Assert.InRange(Weights(e), mainModel * 0.99, mainModel * 1.01);
        Assert.True(Weights(e) < checkpointBytes); // the MTP module is not loaded
        Assert.Equal("fp8-block", Dtype(e).ValueText);
        Assert.Equal("checkpoint quantization_config: fp8 e4m3, 128×128 blocks, dynamic activations", Dtype(e).Reason);
    }

    [Fact]
    public void GptOss120b_FitsOneH100_AsShipped()
    {
        // OpenAI's gpt-oss model card (arXiv:2508.10925) and the openai/gpt-oss-120b model page: the MXFP4 checkpoint
        // runs on a single 80 GB GPU (H100). At bf16, the old default, its weights alone were 218 GiB.
        var plan = Sizer.Fit(new FitRequest { Model = "gpt-oss-120b", Gpu = GpuDevice.FromSpec(GpuCatalog.Find("h100-sxm-80gb")), Workload = new Workload() }).Plans.Single();
        Assert.True(plan.FitsOnOne);
        Assert.Equal(1, plan.GpusNeeded);
    }

    [Fact]
    public void ExplicitDtype_StillWins()
    {
        var m = ModelResolver.Resolve("deepseek-v3");
        var e = MemoryEstimator.Estimate(m, new FlatWorkload { Dtype = "bf16" });
        // 2 bytes per element of every tensor (parameters and the routers' bias buffers), no scales.
        Assert.Equal(checked(2 * m.Inventory.Tensors.Sum(t => t.Elements)), Weights(e));
        Assert.Equal("bf16", Dtype(e).ValueText);
        Assert.False(Dtype(e).IsDefault);
    }

    [Fact]
    public void LlamaCppEngine_FallsBackToTorchDtype_AndSaysWhy()
    {
        var e = MemoryEstimator.Estimate(ModelResolver.Resolve("deepseek-v3"), new FlatWorkload { Engine = InferenceEngine.LlamaCpp });
        Assert.Equal("bf16", Dtype(e).ValueText);
        Assert.Contains("llama.cpp loads GGUF types", Dtype(e).Reason);
    }

    [Fact]
    public void FullFineTuning_FallsBackToTorchDtype()
    {
        var e = MemoryEstimator.Estimate(ModelResolver.Resolve("gpt-oss-20b"), new FlatWorkload { Mode = WorkloadMode.Training, Context = 16 });
        Assert.Equal("bf16", Dtype(e).ValueText);
        Assert.Contains("full fine-tuning trains dequantized weights", Dtype(e).Reason);
    }

    [Fact]
    public void NoQuantizationConfig_KeepsTorchDtype()
    {
        var e = MemoryEstimator.Estimate(ModelResolver.Resolve("llama-3.1-8b"), new FlatWorkload());
        Assert.Equal("bf16", Dtype(e).ValueText);
        Assert.Null(ModelResolver.Resolve("llama-3.1-8b").Architecture!.Quantization);
    }

    // ---- Parsing, one hand-checked snippet per quant_method. Tensors: [out, in] = [4096, 4096] unless said.

    private static QuantizationConfig Read(string quantizationConfig) =>
        QuantizationConfig.Read(ConfigObject.Parse($$"""{ "model_type": "llama", "quantization_config": {{quantizationConfig}} }""", "config.json"))!;

    private static TensorInfo Linear(string name, long rows = 4096, long cols = 4096) =>
        new(name, [rows, cols], DataType.BF16, TensorGroup.Attention) { Layer = 0 };

    private static long Bytes(WeightFormat f, params TensorInfo[] tensors) => f.Apply(new TensorInventory(tensors), null).TotalBytes.Bytes;

    [Fact]
    public void Fp8_BlockScales_DeepSeekV3Snippet()
    {
        // DeepSeek-V3 config.json.
        var q = Read("""{ "activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size": [128, 128] }""");
        Assert.Equal("fp8", q.Method);
        Assert.Equal(WeightFormatKind.Fp8, q.Format.Kind);
        Assert.Equal("fp8-block", q.Format.Name);
        // [256, 384]: 98,304 e4m3 bytes + ceil(256/128) × ceil(384/128) = 2 × 3 fp32 scales = 24 bytes.
        Assert.Equal(98_304 + 24, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight", 256, 384)));
    }

    [Fact]
    public void Fp8_NoBlockSize_OneScalePerTensor()
    {
        var q = Read("""{ "quant_method": "fp8", "activation_scheme": "static" }""");
        Assert.Equal("fp8", q.Format.Name);
        Assert.Equal(16_777_216 + 4, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
        Assert.Equal("fp8 e4m3, one scale per tensor, static activations", q.Summary);
    }

    [Fact]
    public void Mxfp4_ModulesToNotConvert_StayBf16()
    {
        // gpt-oss config.json.
        var q = Read("""
            { "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"],
              "quant_method": "mxfp4" }
            """);
        Assert.Equal(WeightFormatKind.Mxfp4, q.Format.Kind);
        Assert.Equal(4, q.Format.UnconvertedModules.Length);
        var attn = Linear("model.layers.0.self_attn.q_proj.weight", 64, 2880);
        var experts = new TensorInfo("model.layers.0.mlp.experts.gate_up_proj", [4, 2880, 5760], DataType.BF16, TensorGroup.Experts) { Layer = 0 };
        var bias = new TensorInfo("model.layers.0.mlp.experts.gate_up_proj_bias", [4, 5760], DataType.BF16, TensorGroup.Experts) { Layer = 0 };
        // q_proj bf16: 64 × 2880 × 2 = 368,640; experts 66,355,200 × 17/32 = 35,251,200; bias 23,040 × 2 = 46,080.
        Assert.Equal(368_640 + 35_251_200 + 46_080, Bytes(q.Format, attn, experts, bias));
    }

    [Fact]
    public void Gptq_BitsAndGroup()
    {
        var q = Read("""{ "quant_method": "gptq", "bits": 4, "group_size": 128, "desc_act": false, "sym": true }""");
        Assert.Equal("gptq-int4-g128", q.Format.Name);
        // int4 8,388,608 + fp16 scales 32 × 4096 × 2 = 262,144 + int4 zeros 32 × 4096 / 2 = 65,536 + g_idx 4096 × 4 = 16,384.
        Assert.Equal(8_388_608 + 262_144 + 65_536 + 16_384, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
    }

    [Fact]
    public void Gptq_GroupMinusOne_IsOneScalePerRow()
    {
        var q = Read("""{ "quant_method": "gptq", "bits": 8, "group_size": -1 }""");
        // int8 16,777,216 + fp16 scales 4096 × 2 + int8 zeros 4096 + g_idx 16,384.
        Assert.Equal(16_777_216 + 8_192 + 4_096 + 16_384, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
    }

    [Fact]
    public void Awq_NoGIdx_ModulesToNotConvert()
    {
        var q = Read("""{ "quant_method": "awq", "bits": 4, "group_size": 128, "zero_point": true, "version": "gemm", "modules_to_not_convert": ["k_proj"] }""");
        Assert.Equal("awq-g128", q.Format.Name);
        Assert.Equal(8_388_608 + 262_144 + 65_536, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
        // k_proj is kept in the format's unquantized type (fp16): 4096 × 4096 × 2.
        Assert.Equal(33_554_432, Bytes(q.Format, Linear("model.layers.0.self_attn.k_proj.weight")));
    }

    [Fact]
    public void BitsAndBytes_Nf4DoubleQuant_AndSkipModules()
    {
        var q = Read("""
            { "quant_method": "bitsandbytes", "load_in_4bit": true, "load_in_8bit": false, "bnb_4bit_quant_type": "nf4",
              "bnb_4bit_use_double_quant": true, "llm_int8_skip_modules": ["self_attn.o_proj"] }
            """);
        Assert.Equal("nf4-dq", q.Format.Name);
        // 16,777,216 codes / 2 = 8,388,608; 262,144 blocks of 64 → u8 absmax 262,144; fp32 nested absmax per 256 blocks
        // 1,024 × 4 = 4,096; fp32 offset 4.
        Assert.Equal(8_388_608 + 262_144 + 4_096 + 4, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
        Assert.Equal(33_554_432, Bytes(q.Format, Linear("model.layers.0.self_attn.o_proj.weight")));
    }

    [Fact]
    public void BitsAndBytes_Int8()
    {
        var q = Read("""{ "quant_method": "bitsandbytes", "load_in_8bit": true }""");
        Assert.Equal("bnb-int8", q.Format.Name);
        Assert.Equal(16_777_216 + 16_384, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight"))); // + fp32 SCB per row
    }

    [Fact]
    public void CompressedTensors_W4A16Group_IgnoreWithRegex()
    {
        var q = Read("""
            { "quant_method": "compressed-tensors", "format": "pack-quantized",
              "config_groups": { "group_0": { "targets": ["Linear"],
                "weights": { "num_bits": 4, "type": "int", "strategy": "group", "group_size": 128, "symmetric": true } } },
              "ignore": ["lm_head", "re:.*self_attn.k_proj$"] }
            """);
        Assert.Equal(WeightFormatKind.Gptq, q.Format.Kind);
        // Symmetric: int4 8,388,608 + bf16 scales 32 × 4096 × 2 = 262,144; no zeros, no g_idx.
        Assert.Equal(8_388_608 + 262_144, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight")));
        Assert.Equal(33_554_432, Bytes(q.Format, Linear("model.layers.0.self_attn.k_proj.weight")));
    }

    [Fact]
    public void CompressedTensors_Fp8Channel()
    {
        var q = Read("""
            { "quant_method": "compressed-tensors", "format": "float-quantized",
              "config_groups": { "group_0": { "targets": ["Linear"],
                "weights": { "num_bits": 8, "type": "float", "strategy": "channel", "symmetric": true, "dynamic": false } } },
              "ignore": ["lm_head"] }
            """);
        Assert.Equal("fp8-channel", q.Format.Name);
        Assert.Equal(16_777_216 + 16_384, Bytes(q.Format, Linear("model.layers.0.self_attn.q_proj.weight"))); // + fp32 scale per row
    }

    [Fact]
    public void UnknownQuantMethod_IsAnErrorNamingTheField()
    {
        var e = Assert.Throws<ModelConfigException>(() => Read("""{ "quant_method": "hqq", "nbits": 4 }"""));
        Assert.Contains("quantization_config.quant_method", e.Message);
        Assert.Contains("fp8, mxfp4, gptq, awq, bitsandbytes, compressed-tensors", e.Message);
        Assert.Contains("'hqq'", e.Message);
    }

    [Fact]
    public void SafetensorsFolder_KeepsItsFilesTypes_EvenWithAnUnknownQuantMethod()
    {
        // The files' own tensor types are sized; the config's quantization_config neither changes them nor stops the load.
        var d = Directory.CreateTempSubdirectory("llmsizer-quant-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(d, "config.json"), """
                { "model_type": "llama", "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 4,
                  "intermediate_size": 32, "num_hidden_layers": 1, "vocab_size": 64, "quantization_config": { "quant_method": "hqq" } }
                """);
            new SafetensorsWriter().Add("model.embed_tokens.weight", "BF16", 64, 16).WriteFile(Path.Combine(d, "model.safetensors"));
            var model = CheckpointLoader.TryLoad(d)!;
            Assert.Null(model.Architecture!.Quantization);
            Assert.Equal("native", EngineDefaults.Format(model.Architecture, model.Source).Format.Name);
        }
        finally
        {
            Directory.Delete(d, recursive: true);
        }
    }

    [Fact]
    public void UnknownQuantMethod_FailsTheConfigRead()
    {
        var config = ConfigObject.Parse("""
            { "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
              "intermediate_size": 128, "vocab_size": 100, "quantization_config": { "quant_method": "eetq" } }
            """, "config.json");
        var e = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(config));
        Assert.Contains("quantization_config.quant_method", e.Message);
    }
}
