namespace LlmSizer.Tensors;

/// <summary>The part of a multimodal model a tensor belongs to, for the component breakdown. A text-only model is all
/// <see cref="LanguageModel"/>; the whole-model total is the sum over components.</summary>
/// <remarks>The stable snake_case names are given by <see cref="ModelComponents.Name"/>: <c>language_model</c>,
/// <c>vision_tower</c>, <c>projector</c>, <c>audio_encoder</c>.</remarks>
public enum ModelComponent
{
    /// <summary>The language model: token embeddings, decoder layers, final norm and output head.</summary>
    /// <remarks>language_model</remarks>
    LanguageModel,

    /// <summary>The image encoder (SigLIP, CLIP, a ViT).</summary>
    /// <remarks>vision_tower</remarks>
    VisionTower,

    /// <summary>The modality projector or connector that maps encoder features into the language model's width.</summary>
    /// <remarks>projector</remarks>
    Projector,

    /// <summary>The audio encoder (Whisper's encoder).</summary>
    /// <remarks>audio_encoder</remarks>
    AudioEncoder,
}

/// <summary>Names of <see cref="ModelComponent"/> values and the rule that tells a checkpoint tensor's component from its name.</summary>
public static class ModelComponents
{
    /// <summary>The stable snake_case name of a component (for JSON and tables).</summary>
    /// <param name="component">The component.</param>
    /// <returns>"language_model", "vision_tower", "projector" or "audio_encoder".</returns>
    public static string Name(ModelComponent component) => component switch
    {
        ModelComponent.VisionTower => "vision_tower",
        ModelComponent.Projector => "projector",
        ModelComponent.AudioEncoder => "audio_encoder",
        _ => "language_model",
    };

    /// <summary>The component a Hugging Face checkpoint tensor belongs to, from the module path its name starts with
    /// (after an optional leading <c>model.</c>): <c>vision_tower.</c>, <c>vision_model.</c> and <c>visual.</c> are the
    /// vision tower (except <c>visual.merger.</c>, Qwen2-VL's projector); <c>multi_modal_projector.</c>,
    /// <c>mm_projector.</c>, <c>connector.</c>, <c>embed_vision.</c> and <c>embed_audio.</c> are the projector; <c>audio_tower.</c> is the audio encoder; anything
    /// else is the language model. In llama.cpp's mmproj GGUF files, <c>v.</c> is the vision tower, <c>a.</c> the audio
    /// encoder, <c>mm.</c> and <c>resampler.</c> the projector.</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>The component.</returns>
    /// <remarks>The prefixes are the submodule names of transformers' multimodal classes: Gemma3/LLaVA/Mistral3
    /// <c>vision_tower</c> and <c>multi_modal_projector</c>, Mllama/Idefics3 <c>vision_model</c>, Idefics3
    /// <c>connector</c>, Qwen2-VL <c>visual</c> (with <c>visual.merger</c>), Gemma 3n/Gemma 4 <c>embed_vision</c> and
    /// <c>embed_audio</c> (Gemma4MultimodalEmbedder, each modality's projection into the text width). An encoder whose name is not specific
    /// (Whisper's <c>model.encoder.</c>) is tagged by its family's generator instead.</remarks>
    public static ModelComponent FromTensorName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);

        // llama.cpp multimodal projector files (mmproj GGUF, general.architecture "clip"; tools/mtmd/clip-impl.h):
        // "v." vision encoder, "a." audio encoder, "mm." and "resampler." the projector. No language-model GGUF tensor
        // name starts with these (src/llama-arch.cpp: token_embd, blk.N., output_norm, output, ...).
        if (name.StartsWith("v.", StringComparison.Ordinal))
        {
            return ModelComponent.VisionTower;
        }

        if (name.StartsWith("a.", StringComparison.Ordinal))
        {
            return ModelComponent.AudioEncoder;
        }

        if (name.StartsWith("mm.", StringComparison.Ordinal) || name.StartsWith("resampler.", StringComparison.Ordinal))
        {
            return ModelComponent.Projector;
        }

        // A span, not a substring: this runs once per tensor of every generated inventory.
        var path = name.StartsWith("model.", StringComparison.Ordinal) ? name.AsSpan("model.".Length) : name.AsSpan();
        if (path.StartsWith("visual.merger.", StringComparison.Ordinal))
        {
            return ModelComponent.Projector;
        }

        if (path.StartsWith("vision_tower.", StringComparison.Ordinal) || path.StartsWith("vision_model.", StringComparison.Ordinal)
            || path.StartsWith("visual.", StringComparison.Ordinal))
        {
            return ModelComponent.VisionTower;
        }

        if (path.StartsWith("multi_modal_projector.", StringComparison.Ordinal) || path.StartsWith("mm_projector.", StringComparison.Ordinal)
            || path.StartsWith("connector.", StringComparison.Ordinal) || path.StartsWith("embed_vision.", StringComparison.Ordinal)
            || path.StartsWith("embed_audio.", StringComparison.Ordinal))
        {
            return ModelComponent.Projector;
        }

        return path.StartsWith("audio_tower.", StringComparison.Ordinal) ? ModelComponent.AudioEncoder : ModelComponent.LanguageModel;
    }
}
