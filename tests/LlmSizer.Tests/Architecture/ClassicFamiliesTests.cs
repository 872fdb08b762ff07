using System.Text.Json;
using LlmSizer.Architecture;
using LlmSizer.Errors;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>The classic families (GPT-2, GPT-J, GPT-NeoX, OPT, BLOOM, Falcon, Phi, BERT, RoBERTa, T5): real configs
/// against published counts (Specs/models.classic.json), and hand-calculated checks of each trap.</summary>
public class ClassicFamiliesTests
{
    [Theory]
    [InlineData("gpt2.json", "GPT2ForSequenceClassification", 3, 124_442_112L)]
    [InlineData("roberta-base.json", "RobertaForSequenceClassification", 3, 124_647_939L)]
    [InlineData("opt-125m.json", "OPTForSequenceClassification", 2, 125_240_832L)]
    [InlineData("opt-350m.json", "OPTForSequenceClassification", 2, 331_197_440L)]
    [InlineData("bert-base-uncased.json", "BertForPreTraining", 2, 110_106_428L)]
    public void Generate_OtherHead_EqualsPublishedCount(string config, string modelClass, int labels, long published)
    {
        // bert-base-uncased's Hub safetensors total is 110,106,428 (huggingface.js parse-safetensors-metadata.spec.ts):
        // the file holds BertForPreTraining weights = BertForMaskedLM 109,514,298 + pooler 590,592 + cls.seq_relationship 1,538.
        // Its config names BertForMaskedLM, which loads neither, so the table row uses 109,514,298.

        // Given a real config re-headed as a classifier: a fine-tuning project's PARAMETER_COUNTS table lists these totals
        // (gpt2 124,442,112 = 124,439,808 + score 3x768; roberta-base 124,647,939 = RobertaModel 124,645,632 - pooler
        // 590,592 + classifier.dense 590,592 + out_proj 3x768+3; opt-125m 125,240,832 = 125,239,296 + score 2x768;
        // opt-350m 331,197,440 = 331,196,416 + score 2x512, OPT's score reading word_embed_proj_dim).
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestPaths.SpecsDir, "configs", config)))!.AsObject();
        node["architectures"] = new System.Text.Json.Nodes.JsonArray(modelClass);
        node["num_labels"] = labels;

        // When / Then
        Assert.Equal(published, Generate(node.ToJsonString()).TotalParameters.Value);
    }

    [Fact]
    public void Spec_ClassicTable_HasAtLeastTwelveRowsWithSources()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.SpecsDir, "models.classic.json")));
        var rows = doc.RootElement.EnumerateArray().ToList();
        Assert.True(rows.Count >= 12);
        Assert.All(rows, r => Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("source").GetString())));
        Assert.All(rows, r => Assert.True(File.Exists(Path.Combine(TestPaths.SpecsDir, r.GetProperty("config").GetString()!))));
    }

    [Fact]
    public void Read_RealConfigs_CommonFieldsAreTruthful()
    {
        // t5-small: 6 + 6 layers, d_model 512, 8 heads of 64, d_ff 2048, tied, T5's weight-only RMS-style norm
        var t5 = ReadSpec("t5-small.json");
        Assert.Equal((6, 6, 512, 8, 8, 64, 2048, 32128), (t5.Layers, t5.DecoderLayers, t5.Hidden, t5.Heads, t5.KvHeads, t5.HeadDim, t5.Intermediate, t5.Vocab));
        Assert.Equal((true, MlpKind.Dense, NormKind.RmsNorm, false), (t5.TiedEmbeddings, t5.Mlp, t5.Norm, t5.IsEncoderOnly));

        // flan-t5-small: gated-gelu, untied
        var flan = ReadSpec("t5-flan-t5-small.json");
        Assert.Equal((MlpKind.Gated, false, 8), (flan.Mlp, flan.TiedEmbeddings, flan.DecoderLayers));

        // falcon-7b (legacy RefinedWebModel): multi-query, 71 heads of 64
        var falcon = ReadSpec("falcon-7b-legacy.json");
        Assert.Equal((32, 4544, 71, 1, 64, 18176), (falcon.Layers, falcon.Hidden, falcon.Heads, falcon.KvHeads, falcon.HeadDim, falcon.Intermediate));

        // bert-base-uncased: encoder-only, 512 positions, BertForMaskedLM
        var bert = ReadSpec("bert-base-uncased.json");
        Assert.Equal((true, 512, "BertForMaskedLM", NormKind.LayerNorm, MlpKind.Dense), (bert.IsEncoderOnly, bert.MaxPositions, bert.ModelClass, bert.Norm, bert.Mlp));

        // phi-2: 32 KV heads (MHA), untied, 2048 positions
        var phi = ReadSpec("phi-2.json");
        Assert.Equal((32, 32, 80, false, 2048), (phi.Heads, phi.KvHeads, phi.HeadDim, phi.TiedEmbeddings, phi.MaxPositions));
    }

    [Fact]
    public void T5_RelativeAttentionBias_OnlyInBlockZeroOfEachStack()
    {
        // Given a tiny T5 v1.0: d_model 8, d_kv 2, 2 heads, d_ff 16, 3 encoder and 2 decoder layers, vocab 10, tied
        var inventory = Generate("""
            {"model_type":"t5","architectures":["T5ForConditionalGeneration"],"d_model":8,"d_kv":2,"num_heads":2,
             "d_ff":16,"num_layers":3,"num_decoder_layers":2,"vocab_size":10,"relative_attention_num_buckets":4}
            """);

        // Then: two tables only, the self-attention ones of block 0
        var tables = inventory.Tensors.Where(t => t.Name.Contains("relative_attention_bias", StringComparison.Ordinal)).Select(t => t.Name).ToList();
        Assert.Equal(
            ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"],
            tables);

        // By hand: shared 10*8 = 80. Attention q,k,v (4x8) + o (8x4) = 128. Encoder block: 128 + ln 8 + wi 16*8 + wo 8*16 + ln 8 = 400;
        // x3 = 1200, + table 4*2 = 8, + final ln 8 = 1216. Decoder block: 128 + 8 + 128 (cross) + 8 + 256 + 8 = 536; x2 = 1072, + 8 + 8 = 1088.
        // Tied, so no lm_head: 80 + 1216 + 1088 = 2384.
        Assert.Equal(2384, inventory.TotalParameters.Value);
        Assert.DoesNotContain(inventory.Tensors, t => t.Name.StartsWith("lm_head", StringComparison.Ordinal));
    }

    [Fact]
    public void T5_GatedUntiedAndEncoderOnly_HeadAndMlpFollowConfig()
    {
        // Given T5 v1.1 style (gated-gelu, untied) and the same as T5EncoderModel
        const string body = """
            "model_type":"t5","d_model":8,"d_kv":2,"num_heads":2,"d_ff":16,"num_layers":1,"vocab_size":10,
            "relative_attention_num_buckets":4,"feed_forward_proj":"gated-gelu","tie_word_embeddings":false
            """;
        var full = Generate("{\"architectures\":[\"T5ForConditionalGeneration\"]," + body + "}");
        var encoder = Generate("{\"architectures\":[\"T5EncoderModel\"]," + body + "}");

        // Then: wi_0 and wi_1, an lm_head [10, 8]; num_decoder_layers defaults to num_layers (1)
        Assert.Contains(full.Tensors, t => t.Name == "encoder.block.0.layer.1.DenseReluDense.wi_0.weight");
        Assert.Contains(full.Tensors, t => t.Name == "decoder.block.0.layer.2.DenseReluDense.wi_1.weight");
        Assert.Equal([10L, 8L], full.Tensors.Single(t => t.Name == "lm_head.weight").Shape.ToArray());

        // By hand (encoder only): shared 80 + block (128 + 8 + 3*128 + 8 = 528) + table 8 + final ln 8 = 624.
        Assert.Equal(624, encoder.TotalParameters.Value);
        Assert.DoesNotContain(encoder.Tensors, t => t.Name.StartsWith("decoder.", StringComparison.Ordinal));
    }

    [Fact]
    public void Bert_Pooler_PresentInBertModelNotInBertForMaskedLM()
    {
        // Given BERT with hidden 4, 1 layer, 2 heads, intermediate 8, vocab 10, 6 positions, 2 token types
        const string body = """
            "model_type":"bert","hidden_size":4,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":8,
            "vocab_size":10,"max_position_embeddings":6
            """;
        var bare = Generate("{\"architectures\":[\"BertModel\"]," + body + "}");
        var mlm = Generate("{\"architectures\":[\"BertForMaskedLM\"]," + body + "}");

        // By hand: embeddings 10*4 + 6*4 + 2*4 + LN 8 = 80. Layer: q,k,v,o 4*(16+4) = 80, LN 8, intermediate 32+8, output 32+4, LN 8 = 172.
        // BertModel adds the pooler 16+4 = 20: 80 + 172 + 20 = 272.
        Assert.Equal(272, bare.TotalParameters.Value);
        Assert.Contains(bare.Tensors, t => t.Name == "pooler.dense.weight");

        // BertForMaskedLM: no pooler; transform dense 20 + LayerNorm 8 + vocabulary bias 10; decoder tied: 80 + 172 + 38 = 290.
        Assert.Equal(290, mlm.TotalParameters.Value);
        Assert.DoesNotContain(mlm.Tensors, t => t.Name.Contains("pooler", StringComparison.Ordinal));
        Assert.DoesNotContain(mlm.Tensors, t => t.Name == "cls.predictions.decoder.weight");
        Assert.Contains(mlm.Tensors, t => t.Name == "bert.embeddings.word_embeddings.weight");
    }

    [Fact]
    public void Bert_SequenceClassification_LabelsFromId2Label()
    {
        // Given BertForSequenceClassification with three labels in id2label (no num_labels key)
        var inventory = Generate("""
            {"model_type":"bert","architectures":["BertForSequenceClassification"],"hidden_size":4,"num_hidden_layers":1,
             "num_attention_heads":2,"intermediate_size":8,"vocab_size":10,"max_position_embeddings":6,
             "id2label":{"0":"a","1":"b","2":"c"}}
            """);

        // Then: pooler kept, classifier [3, 4] + bias 3: 272 + 15 = 287
        Assert.Equal([3L, 4L], inventory.Tensors.Single(t => t.Name == "classifier.weight").Shape.ToArray());
        Assert.Equal(287, inventory.TotalParameters.Value);
    }

    [Fact]
    public void Gpt2_AttentionMasks_NotGeneratedAndConv1DShapesKept()
    {
        // Given GPT-2 with n_embd 4, 1 layer, 2 heads, 5 positions, vocab 10 (n_inner defaults to 16)
        var inventory = Generate("""{"model_type":"gpt2","architectures":["GPT2LMHeadModel"],"n_embd":4,"n_layer":1,"n_head":2,"n_positions":5,"vocab_size":10}""");

        // Then: no attn.bias / masked_bias buffers; c_attn stored [in, out] = [4, 12]
        Assert.DoesNotContain(inventory.Tensors, t => t.Name.EndsWith(".attn.bias", StringComparison.Ordinal) || t.Name.EndsWith("masked_bias", StringComparison.Ordinal));
        Assert.Equal([4L, 12L], inventory.Tensors.Single(t => t.Name == "transformer.h.0.attn.c_attn.weight").Shape.ToArray());

        // By hand: wte 40 + wpe 20 + layer (ln 8, c_attn 48+12, c_proj 16+4, ln 8, c_fc 64+16, c_proj 64+4 = 244) + ln_f 8 = 312; lm_head tied.
        Assert.Equal(312, inventory.TotalParameters.Value);
    }

    [Fact]
    public void Gpt2_TieWordEmbeddingsFalse_AddsLmHead()
    {
        var inventory = Generate("""{"model_type":"gpt2","n_embd":4,"n_layer":1,"n_head":2,"n_positions":5,"vocab_size":10,"tie_word_embeddings":false}""");

        // 312 (tied, above) + lm_head 10*4 = 352
        Assert.Equal(352, inventory.TotalParameters.Value);
        Assert.Equal(TensorGroup.LmHead, inventory.Tensors.Single(t => t.Name == "lm_head.weight").Group);
    }

    [Fact]
    public void Falcon_MultiQueryOmitted_DefaultsToOneKvHead()
    {
        // Given a falcon config without multi_query, parallel_attn or bias: FalconConfig defaults them to true, true, false
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(
            """{"model_type":"falcon","hidden_size":8,"num_attention_heads":4,"num_hidden_layers":1,"vocab_size":10}""", "falcon/config.json"));
        var inventory = family.Generate(spec);

        // Then: one KV head; qkv rows = 8 + 2 * head_dim 2 = 12; one input_layernorm (parallel, old architecture)
        Assert.Equal(1, spec.KvHeads);
        Assert.Equal([12L, 8L], inventory.Tensors.Single(t => t.Name == "transformer.h.0.self_attention.query_key_value.weight").Shape.ToArray());
        Assert.Contains(inventory.Tensors, t => t.Name == "transformer.h.0.input_layernorm.weight");
        Assert.DoesNotContain(inventory.Tensors, t => t.Name.Contains("post_attention_layernorm", StringComparison.Ordinal));

        // By hand: embed 80 + qkv 96 + dense 64 + mlp 2*256 + ln 16 + ln_f 16 = 784 (no biases, tied head)
        Assert.Equal(784, inventory.TotalParameters.Value);
    }

    [Fact]
    public void Falcon_Legacy7BConfig_MatchesHandCount()
    {
        // Given tiiuae/falcon-7b's original RefinedWebModel config (n_head/n_layer keys, multi_query true)
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "falcon-7b-legacy.json"));

        // By hand: embed 65024*4544 = 295,469,056; per layer qkv (4544+2*64)*4544 = 21,229,568, dense 4544^2 = 20,647,936,
        // MLP 2*18176*4544 = 165,183,488, input LN 9,088 -> 207,070,080 x 32 = 6,626,242,560; ln_f 9,088; tied head.
        Assert.Equal(295_469_056L + 6_626_242_560L + 9_088L, family.Generate(spec).TotalParameters.Value);
        Assert.Equal(6_921_720_704L, family.Generate(spec).TotalParameters.Value);
        Assert.Equal("falcon", spec.Family);
        Assert.Equal(1, spec.KvHeads);
    }

    [Fact]
    public void Falcon_NewDecoderArchitecture_GroupedKvAndTwoNorms()
    {
        // Given a RefinedWeb (40B-style) config with n_head_kv 2
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(
            """{"model_type":"RefinedWeb","hidden_size":8,"n_head":4,"n_head_kv":2,"n_layer":1,"vocab_size":10,"parallel_attn":true}""", "rw/config.json"));
        var inventory = family.Generate(spec);

        // Then: qkv rows (4 + 2*2) * 2 = 16; ln_attn and ln_mlp
        Assert.Equal(2, spec.KvHeads);
        Assert.Equal([16L, 8L], inventory.Tensors.Single(t => t.Name == "transformer.h.0.self_attention.query_key_value.weight").Shape.ToArray());
        Assert.Contains(inventory.Tensors, t => t.Name == "transformer.h.0.ln_attn.bias");
        Assert.Contains(inventory.Tensors, t => t.Name == "transformer.h.0.ln_mlp.weight");
    }

    [Fact]
    public void Opt_ProjectionAndPositionOffset_FollowOpt350m()
    {
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", "opt-350m.json"));
        var inventory = family.Generate(spec);

        // Then: 2048 + 2 position rows, project_in/out between 512 and 1024, no final LayerNorm (do_layer_norm_before false)
        Assert.Equal([2050L, 1024L], inventory.Tensors.Single(t => t.Name == "model.decoder.embed_positions.weight").Shape.ToArray());
        Assert.Equal([512L, 1024L], inventory.Tensors.Single(t => t.Name == "model.decoder.project_out.weight").Shape.ToArray());
        Assert.Equal([1024L, 512L], inventory.Tensors.Single(t => t.Name == "model.decoder.project_in.weight").Shape.ToArray());
        Assert.DoesNotContain(inventory.Tensors, t => t.Name == "model.decoder.final_layer_norm.weight");
    }

    [Fact]
    public void GptNeoX_TiedAndUntied_EmbedOutOnlyWhenUntied()
    {
        const string body = """
            "model_type":"gpt_neox","hidden_size":4,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":8,"vocab_size":10
            """;
        var untied = Generate("{" + body + "}");
        var tied = Generate("{" + body + ",\"tie_word_embeddings\":true}");

        // By hand: embed 40; layer: 2 LN 16, qkv 48+12, dense 16+4, h_to_4h 32+8, 4h_to_h 32+4 = 172; final LN 8; embed_out 40.
        Assert.Equal(260, untied.TotalParameters.Value);
        Assert.Equal(220, tied.TotalParameters.Value);
    }

    [Fact]
    public void Phi_PartialRotary_AddsNoParametersAndHeadHasBias()
    {
        var a = Generate("""{"model_type":"phi","hidden_size":4,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":8,"vocab_size":10,"partial_rotary_factor":0.4}""");
        var b = Generate("""{"model_type":"phi","hidden_size":4,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":8,"vocab_size":10,"partial_rotary_factor":1.0}""");

        // By hand: embed 40; q,k,v,dense 4*20 = 80; fc1 40, fc2 36; LN 8; final LN 8; lm_head 40 + bias 10 = 262.
        Assert.Equal(262, a.TotalParameters.Value);
        Assert.Equal(a.TotalParameters, b.TotalParameters);
        Assert.Contains(a.Tensors, t => t.Name == "lm_head.bias");
    }

    [Fact]
    public void GptJ_LmHead_HasBias()
    {
        var inventory = Generate("""{"model_type":"gptj","n_embd":4,"n_layer":1,"n_head":2,"vocab_size":10,"rotary_dim":2}""");

        // By hand: wte 40; ln 8; q,k,v,out 4*16 = 64; fc_in 64+16; fc_out 64+4; ln_f 8; lm_head 40 + 10 = 318.
        Assert.Equal(318, inventory.TotalParameters.Value);
    }

    [Fact]
    public void Roberta_SequenceClassification_TwoLayerClassifierNoPooler()
    {
        var inventory = Generate("""
            {"model_type":"roberta","architectures":["RobertaForSequenceClassification"],"hidden_size":4,"num_hidden_layers":1,
             "num_attention_heads":2,"intermediate_size":8,"vocab_size":10,"max_position_embeddings":6,"type_vocab_size":1}
            """);

        // By hand: embeddings 40 + 24 + 4 + 8 = 76; layer 172; classifier.dense 20 + out_proj (2 labels) 8 + 2 = 10 -> 278.
        Assert.Equal(278, inventory.TotalParameters.Value);
        Assert.DoesNotContain(inventory.Tensors, t => t.Name.Contains("pooler", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"model_type":"gpt2","n_embd":"wide"}""", "n_embd")]
    [InlineData("""{"model_type":"t5","feed_forward_proj":"gated-gelu-extra"}""", "feed_forward_proj")]
    [InlineData("""{"model_type":"falcon","new_decoder_architecture":true,"num_attention_heads":8,"hidden_size":64,"num_kv_heads":3}""", "num_kv_heads")]
    [InlineData("""{"model_type":"bert","position_embedding_type":"rotary"}""", "position_embedding_type")]
    [InlineData("""{"model_type":"bloom","n_embed":100,"n_head":7}""", "n_head")]
    [InlineData("""{"model_type":"opt","num_hidden_layers":100000}""", "num_hidden_layers")]
    [InlineData("""{"model_type":"phi","partial_rotary_factor":1.5}""", "partial_rotary_factor")]
    [InlineData("""{"model_type":"gpt_neox","tie_word_embeddings":"yes"}""", "tie_word_embeddings")]
    [InlineData("""{"model_type":"gpt2","n_embd":2147483647,"n_head":1}""", "n_embd")]
    [InlineData("""{"model_type":"opt","max_position_embeddings":2147483647}""", "hidden_size")]
    [InlineData("""{"model_type":"t5","d_model":2000000000,"d_ff":2000000000,"num_layers":4096}""", "d_model")]
    public void Read_InvalidField_OneLineErrorNamingFileAndField(string json, string field)
    {
        var ex = Assert.Throws<ModelConfigException>(() => HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "m/config.json")));
        Assert.StartsWith("m/config.json: " + field + ": expected", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("gptj")]
    [InlineData("gpt_neox")]
    [InlineData("opt")]
    [InlineData("bloom")]
    [InlineData("falcon")]
    [InlineData("RefinedWebModel")]
    [InlineData("RefinedWeb")]
    [InlineData("phi")]
    [InlineData("bert")]
    [InlineData("roberta")]
    [InlineData("xlm-roberta")]
    [InlineData("t5")]
    [InlineData("mt5")]
    [InlineData("umt5")]
    public void Read_OnlyModelType_AppliesConfigClassDefaults(string modelType)
    {
        // Given a config with every other key omitted: each family falls back to its config class's defaults
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse($$"""{"model_type":"{{modelType}}"}""", "d/config.json"));

        // Then it generates without error and the tensors are unique parameters
        var inventory = family.Generate(spec);
        Assert.True(inventory.TotalParameters.Value > 0);
        Assert.All(inventory.Tensors, t => Assert.Equal(TensorKind.Parameter, t.Kind));
    }

    [Fact]
    public void Read_Gpt2Defaults_EqualGpt2Small()
    {
        // GPT2Config's defaults are the 124M model's shape: only the model_type is needed (GPT2LMHeadModel by default).
        Assert.Equal(124_439_808L, Generate("""{"model_type":"gpt2"}""").TotalParameters.Value);
    }

    private static ArchitectureSpec ReadSpec(string file) =>
        HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", file)).Spec;

    private static TensorInventory Generate(string json)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "test/config.json"));
        return family.Generate(spec);
    }
}
