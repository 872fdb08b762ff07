using LlmSizer.Architecture;

namespace LlmSizer.Tests.Architecture;

/// <summary>Published counts of official checkpoints whose config.json is not in the spec table: the configs below carry
/// only the architecture keys of the official files; the counts come from the cited sources.</summary>
public class PublishedSizeTests
{
    public static TheoryData<string, string, long> Models() => new()
    {
        {
            // keras-hub gemma_presets.py gemma2_27b_en "params": 27227128320 (head_dim 128 with 32 heads of hidden 4608)
            "google/gemma-2-27b",
            """{"architectures":["Gemma2ForCausalLM"],"model_type":"gemma2","head_dim":128,"hidden_size":4608,"intermediate_size":36864,"num_attention_heads":32,"num_hidden_layers":46,"num_key_value_heads":16,"sliding_window":4096,"vocab_size":256000}""",
            27_227_128_320
        },
        {
            // keras-hub gemma3_presets.py gemma3_270m "params": 268098176
            "google/gemma-3-270m",
            """{"architectures":["Gemma3ForCausalLM"],"model_type":"gemma3_text","head_dim":256,"hidden_size":640,"intermediate_size":2048,"num_attention_heads":4,"num_hidden_layers":18,"num_key_value_heads":1,"sliding_window":512,"vocab_size":262144}""",
            268_098_176
        },
        {
            // The whole Gemma3ForConditionalGeneration (language model, SigLIP tower, projector): keras-hub gemma3_presets.py
            // medgemma_instruct_27b "params": 27432406640 (converted from the Hugging Face checkpoint, 262,208 embedding
            // rows); ai-bot-pro/achatbot PR #150 prints "google/gemma-3-27b-it 27432.40664 M parameters"; keras-hub's own
            // gemma3_27b (27,432,062,576) stores 262,144 rows: + 64 x 5376 = 344,064 gives the same figure.
            "google/gemma-3-27b-it",
            """{"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","mm_tokens_per_image":256,"text_config":{"head_dim":128,"hidden_size":5376,"intermediate_size":21504,"model_type":"gemma3_text","num_attention_heads":32,"num_hidden_layers":62,"num_key_value_heads":16,"query_pre_attn_scalar":168,"sliding_window":1024},"vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,"model_type":"siglip_vision_model","num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,"vision_use_head":false}}""",
            27_432_406_640
        },
        {
            // keras-hub gemma3_presets.py medgemma_4b "params": 4300079472 (Gemma 3 4B shapes, 262,208 rows); keras-hub
            // gemma3_4b (4,299,915,632) with 262,144 rows + 64 x 2560 = 163,840 gives the same figure.
            "google/gemma-3-4b-it",
            """{"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","mm_tokens_per_image":256,"text_config":{"hidden_size":2560,"intermediate_size":10240,"model_type":"gemma3_text","num_hidden_layers":34,"sliding_window":1024},"vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,"model_type":"siglip_vision_model","num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,"vision_use_head":false}}""",
            4_300_079_472
        },
        {
            // keras-hub gemma3_presets.py gemma3_12b "params": 12187079280 with 262,144 embedding rows; the official
            // checkpoint has 262,208: + 64 x 3840 = 245,760.
            "google/gemma-3-12b-it",
            """{"architectures":["Gemma3ForConditionalGeneration"],"model_type":"gemma3","mm_tokens_per_image":256,"text_config":{"hidden_size":3840,"intermediate_size":15360,"model_type":"gemma3_text","num_attention_heads":16,"num_hidden_layers":48,"num_key_value_heads":8,"sliding_window":1024},"vision_config":{"hidden_size":1152,"image_size":896,"intermediate_size":4304,"model_type":"siglip_vision_model","num_attention_heads":16,"num_hidden_layers":27,"patch_size":14,"vision_use_head":false}}""",
            12_187_079_280 + (64L * 3840)
        },
        {
            // keras-hub qwen3_presets.py qwen3_1.7b_en "params": 1720574976 (tied)
            "Qwen/Qwen3-1.7B",
            """{"architectures":["Qwen3ForCausalLM"],"model_type":"qwen3","head_dim":128,"hidden_size":2048,"intermediate_size":6144,"num_attention_heads":16,"num_hidden_layers":28,"num_key_value_heads":8,"tie_word_embeddings":true,"vocab_size":151936}""",
            1_720_574_976
        },
        {
            // keras-hub qwen3_moe_presets.py qwen3_moe_235b_a22b_en "params": 235093634560
            "Qwen/Qwen3-235B-A22B",
            """{"architectures":["Qwen3MoeForCausalLM"],"model_type":"qwen3_moe","head_dim":128,"hidden_size":4096,"intermediate_size":12288,"moe_intermediate_size":1536,"num_attention_heads":64,"num_experts":128,"num_experts_per_tok":8,"num_hidden_layers":94,"num_key_value_heads":4,"tie_word_embeddings":false,"vocab_size":151936}""",
            235_093_634_560
        },
        {
            // huggingface.js parse-safetensors-metadata.spec.ts (RedHatAI/Llama-3.3-70B-Instruct-quantized.w4a16 sums to
            // 70_553_706_496 once g_idx is excluded), the Llama-3.3-70B shapes
            "meta-llama/Llama-3.3-70B-Instruct",
            """{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":8192,"intermediate_size":28672,"num_attention_heads":64,"num_hidden_layers":80,"num_key_value_heads":8,"tie_word_embeddings":false,"vocab_size":128256}""",
            70_553_706_496
        },
        {
            // keras-hub mistral_presets.py mistral_0.3_7b_en "params": 7248023552 (vocab 32768)
            "mistralai/Mistral-7B-v0.3",
            """{"architectures":["MistralForCausalLM"],"model_type":"mistral","hidden_size":4096,"intermediate_size":14336,"num_attention_heads":32,"num_hidden_layers":32,"num_key_value_heads":8,"sliding_window":null,"vocab_size":32768}""",
            7_248_023_552
        },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Total_OfficialShapes_EqualsPublishedCount(string model, string json, long published)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, model));
        Assert.Equal(published, family.Generate(spec).TotalParameters.Value);
    }
}
