using LlmSizer.Architecture.Families;

namespace LlmSizer.Architecture;

/// <summary>The list of built-in families. Add a family here to make it readable from config.json.</summary>
internal static class BuiltInFamilies
{
    public static IReadOnlyList<IArchitectureFamily> All { get; } =
    [
        new LlamaFamily(),
        new Gpt2Family(),
        new GptJFamily(),
        new GptNeoXFamily(),
        new OptFamily(),
        new BloomFamily(),
        new FalconFamily(),
        new PhiFamily(),
        new BertFamily(),
        new RobertaFamily(),
        new T5Family(),
        new MistralFamily(),
        new MixtralFamily(),
        new Qwen2Family(),
        new Qwen2MoeFamily(),
        new Qwen3Family(),
        new Qwen3MoeFamily(),
        new GemmaFamily(),
        new Gemma2Family(),
        new Gemma3Family(),
        new Phi3Family(),
        new Olmo2Family(),
        new Starcoder2Family(),
        new CohereFamily(),
        new Cohere2Family(),
        new PhimoeFamily(),
        new DeepseekFamily(),
        new GptOssFamily(),
        new MambaFamily(),
        new OlmoFamily(),
        new OlmoeFamily(),
        new GraniteFamily(),
        new SmolLM3Family(),
        new WhisperFamily(),
        new Qwen2VlFamily(),
        new JambaFamily(),
        new LlavaFamily(),
        new Mistral3Family(),
        new GraniteMoeHybridFamily(),
        new Idefics3Family(),
        new Qwen3NextFamily(),
        new Glm4Family(),
        new Glm4MoeFamily(),
        new Ernie45Family(),
        new Ernie45MoeFamily(),
        new Exaone4Family(),
        new FalconH1Family(),
        new Llama4Family(),
    ];
}
