using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Memory;

/// <summary>Hand-built specs from the config_hint values of /shared/samples/measured.json (so these tests do not depend on
/// the family readers being written elsewhere). The inventory comes from the existing Llama generator where the model
/// is Llama-shaped; otherwise a minimal inventory is enough, since KV bytes depend on the spec only.</summary>
internal static class MemoryTestModels
{
    public static ModelInfo Llama(string name, int layers, int hidden, int heads, int kvHeads, int headDim, int ffn, int vocab, int maxPos = 131072, bool tied = false)
    {
        var spec = new ArchitectureSpec
        {
            Family = "llama", Layers = layers, Hidden = hidden, Heads = heads, KvHeads = kvHeads, HeadDim = headDim,
            Intermediate = ffn, Vocab = vocab, MaxPositions = maxPos, TiedEmbeddings = tied,
        };
        return new ModelInfo { Name = name, Source = ModelSourceKind.Manual, Architecture = spec, Inventory = new LlamaFamily().Generate(spec) };
    }

    public static ModelInfo FromSpec(string name, ArchitectureSpec spec) =>
        new() { Name = name, Source = ModelSourceKind.Manual, Architecture = spec, Inventory = new LlamaFamily().Generate(spec) };

    /// <summary>measured.json cases 1–4, 20: Meta-Llama-3-8B (L 32, h 4096, a 32, kv 8, d 128, ffn 14336, V 128256).</summary>
    public static ModelInfo Llama3_8B() => Llama("llama-3-8b", 32, 4096, 32, 8, 128, 14336, 128256);

    /// <summary>measured.json cases 5, 29–35: Llama-2-7B (MHA, ffn 11008, V 32000).</summary>
    public static ModelInfo Llama2_7B() => Llama("llama-2-7b", 32, 4096, 32, 32, 128, 11008, 32000, 4096);
}
