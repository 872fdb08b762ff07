using LlmSizer.Checkpoints;
using LlmSizer.Memory;
using LlmSizer.Tensors;
using LlmSizer.Tests.Cli;
using LlmSizer.Tests.Fixtures;
using static LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>llama.cpp multimodal projector files (mmproj GGUF) read as the vision part of a model, and the language
/// model alone (<c>--text-only</c>).</summary>
public sealed class MmprojAndTextOnlyTests
{
    [Fact]
    public void LoadGguf_Mmproj_ReportsVisionTowerAndProjectorWithANote()
    {
        // Given an mmproj GGUF as llama.cpp's converter writes it (general.architecture "clip", v.* encoder tensors,
        // mm.* projector tensors): a 2-layer tower of width 8, patch 2, and a 2-linear projector to width 16
        using var dir = new TempDir();
        var w = new GgufWriter()
            .AddString("general.architecture", "clip")
            .AddBool("clip.has_vision_encoder", true)
            .AddString("clip.projector_type", "mlp")
            .AddUInt32("clip.vision.embedding_length", 8)
            .AddUInt32("clip.vision.block_count", 2)
            .AddTensor("v.patch_embd.weight", GgmlType.F16, 2, 2, 3, 8)
            .AddTensor("v.position_embd.weight", GgmlType.F32, 8, 5);
        for (int l = 0; l < 2; l++)
        {
            w.AddTensor($"v.blk.{l}.attn_q.weight", GgmlType.F16, 8, 8)
             .AddTensor($"v.blk.{l}.ffn_up.weight", GgmlType.F16, 8, 32)
             .AddTensor($"v.blk.{l}.ln1.weight", GgmlType.F32, 8);
        }

        w.AddTensor("mm.0.weight", GgmlType.F16, 8, 16).AddTensor("mm.0.bias", GgmlType.F32, 16).AddTensor("mm.2.weight", GgmlType.F16, 16, 16);
        var path = Path.Combine(dir.Path, "mmproj-model-f16.gguf");
        w.WriteFile(path);

        // When it is loaded
        var model = CheckpointLoader.TryLoad(path)!;
        var parts = model.Parameters().Components;

        // Then the encoder tensors are the vision tower (2*2*3*8 + 8*5 + 2*(64 + 256 + 8) = 96 + 40 + 656 = 792) and mm.* the projector
        // (8*16 + 16 + 16*16 = 400); nothing is language model, and a note says what the file is
        Assert.Equal(792L, parts[ModelComponent.VisionTower].Value);
        Assert.Equal(400L, parts[ModelComponent.Projector].Value);
        Assert.Equal(0L, parts[ModelComponent.LanguageModel].Value);
        Assert.Null(model.Architecture);
        Assert.Contains(model.Warnings, x => x.Contains("multimodal projector file", StringComparison.Ordinal) && x.Contains("'mlp'", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelComponents_GgufNames_LanguageModelTensorsStayLanguageModel()
    {
        // llama.cpp language-model names never start with v., a., mm. (src/llama-arch.cpp)
        Assert.Equal(ModelComponent.LanguageModel, ModelComponents.FromTensorName("blk.0.attn_v.weight"));
        Assert.Equal(ModelComponent.LanguageModel, ModelComponents.FromTensorName("token_embd.weight"));
        Assert.Equal(ModelComponent.AudioEncoder, ModelComponents.FromTensorName("a.blk.0.attn_q.weight"));
        Assert.Equal(ModelComponent.Projector, ModelComponents.FromTensorName("mm.input_projection.weight"));
        Assert.Equal(ModelComponent.VisionTower, ModelComponents.FromTensorName("v.blk.3.ffn_down.weight"));
    }

    [Fact]
    public void Parameters_TextOnly_CountsTheLanguageModelAlone()
    {
        // Given Llama-3.2-11B-Vision (language model 9,775,192,080 of 10,670,220,835)
        var whole = Sizer.Parameters("llama-3.2-11b-vision");

        // When only the language model is asked for
        var text = Sizer.Parameters(new ParametersRequest { Model = "llama-3.2-11b-vision", TextOnly = true });

        // Then the total is the language model and a warning names what was left out
        Assert.Equal(10_670_220_835L, whole.Report.Total.Value);
        Assert.Equal(9_775_192_080L, text.Report.Total.Value);
        Assert.Contains(text.Model.Warnings, x => x.Contains("vision_tower 863,567,379", StringComparison.Ordinal));
        Assert.Null(text.Model.Architecture!.Vision);
    }

    [Fact]
    public void Memory_TextOnly_WeightsAreTheLanguageModels()
    {
        // Given Llama-4-Scout in bf16 on vLLM
        var workload = new Workload { Engine = InferenceEngine.Vllm, Context = 4096, Format = Quantization.WeightFormat.BF16 };

        // When sized whole and text only
        var whole = Sizer.Memory(new MemoryRequest { Model = "llama-4-scout", Workload = workload });
        var text = Sizer.Memory(new MemoryRequest { Model = "llama-4-scout", Workload = workload, TextOnly = true });

        // Then the weights differ by the vision tower and projector, 871,932,416 parameters x 2 B
        Assert.Equal((850_960_896L + 20_971_520L) * 2, whole["weights"].Bytes - text["weights"].Bytes);
    }

    [Fact]
    public void Cli_ParamsTextOnly_PrintsTheLanguageModelTotal()
    {
        // When the CLI counts the language model of Llama 4 Scout
        var r = CliRunner.Run("params", "llama-4-scout", "--text-only", "--json");

        // Then it exits 0 with the language model's total
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("107769861120", r.Stdout, StringComparison.Ordinal);
    }
}
