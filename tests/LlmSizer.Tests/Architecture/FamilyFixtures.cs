using LlmSizer.Architecture;
using LlmSizer.Tensors;

namespace LlmSizer.Tests.Architecture;

/// <summary>The reading and lookup steps the family tests share: a config (from the spec table or inline JSON) read by
/// its family and generated into tensors, and a tensor's shape or presence by name.</summary>
internal static class FamilyFixtures
{
    /// <summary>Reads a config of the spec table (tests/LlmSizer.Tests/Specs/configs) and generates its tensors.</summary>
    public static (ArchitectureSpec Spec, TensorInventory Inventory) ReadSpecConfig(string name)
    {
        var (spec, family) = HuggingFaceConfigReader.ReadFile(Path.Combine(TestPaths.SpecsDir, "configs", name));
        return (spec, family.Generate(spec));
    }

    /// <summary>Reads an inline config and generates its tensors.</summary>
    public static (ArchitectureSpec Spec, TensorInventory Inventory) Read(string json)
    {
        var (spec, family) = HuggingFaceConfigReader.Read(ConfigObject.Parse(json, "fixture/config.json"));
        return (spec, family.Generate(spec));
    }

    /// <summary>The shape of the one tensor named <paramref name="name"/>.</summary>
    public static long[] Shape(TensorInventory inventory, string name) => [.. inventory.Tensors.Single(t => t.Name == name).Shape];

    /// <summary>Whether a tensor named <paramref name="name"/> is generated.</summary>
    public static bool Has(TensorInventory inventory, string name) => inventory.Tensors.Any(t => t.Name == name);
}
