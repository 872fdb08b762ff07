using System.Collections.Frozen;

namespace LlmSizer.DataTypes;

// Block layouts: ggml/src/ggml-common.h static_asserts (ggml-org/llama.cpp); GGML type ids: enum ggml_type in
// ggml/include/ggml.h. Safetensors dtype strings: huggingface/safetensors Dtype enum.
public sealed partial record DataType
{
    /// <summary>IEEE 754 binary64.</summary>
    public static readonly DataType F64 = new("F64", 1, 8, 28, "F64", ["fp64", "float64", "double"]);

    /// <summary>IEEE 754 binary32.</summary>
    public static readonly DataType F32 = new("F32", 1, 4, 0, "F32", ["fp32", "float32", "float"]);

    /// <summary>IEEE 754 binary16.</summary>
    public static readonly DataType F16 = new("F16", 1, 2, 1, "F16", ["fp16", "float16", "half"]);

    /// <summary>bfloat16.</summary>
    public static readonly DataType BF16 = new("BF16", 1, 2, 30, "BF16", ["bfloat16"]);

    /// <summary>FP8 E4M3 (OCP); one byte.</summary>
    public static readonly DataType F8_E4M3 = new("F8_E4M3", 1, 1, null, "F8_E4M3", ["fp8", "f8", "fp8_e4m3", "float8_e4m3fn", "e4m3"]);

    /// <summary>FP8 E5M2 (OCP); one byte.</summary>
    public static readonly DataType F8_E5M2 = new("F8_E5M2", 1, 1, null, "F8_E5M2", ["fp8_e5m2", "float8_e5m2", "e5m2"]);

    /// <summary>E8M0 (power-of-two scale, used by MX formats); one byte.</summary>
    public static readonly DataType F8_E8M0 = new("F8_E8M0", 1, 1, null, "F8_E8M0", ["e8m0", "float8_e8m0fnu"]);

    /// <summary>FP4 E2M1, two elements packed per byte (safetensors "F4").</summary>
    public static readonly DataType F4 = new("F4", 2, 1, null, "F4", ["fp4", "float4_e2m1fn_x2", "e2m1"]);

    /// <summary>FP6 E2M3, four elements packed in three bytes.</summary>
    public static readonly DataType F6_E2M3 = new("F6_E2M3", 4, 3, null, "F6_E2M3", ["fp6_e2m3"]);

    /// <summary>FP6 E3M2, four elements packed in three bytes.</summary>
    public static readonly DataType F6_E3M2 = new("F6_E3M2", 4, 3, null, "F6_E3M2", ["fp6_e3m2"]);

    /// <summary>Complex of two float32.</summary>
    public static readonly DataType C64 = new("C64", 1, 8, null, "C64", ["complex64"]);

    /// <summary>Signed 64-bit integer.</summary>
    public static readonly DataType I64 = new("I64", 1, 8, 27, "I64", ["int64", "long"], isFloat: false);

    /// <summary>Signed 32-bit integer.</summary>
    public static readonly DataType I32 = new("I32", 1, 4, 26, "I32", ["int32"], isFloat: false);

    /// <summary>Signed 16-bit integer.</summary>
    public static readonly DataType I16 = new("I16", 1, 2, 25, "I16", ["int16"], isFloat: false);

    /// <summary>Signed 8-bit integer.</summary>
    public static readonly DataType I8 = new("I8", 1, 1, 24, "I8", ["int8"], isFloat: false);

    /// <summary>Unsigned 64-bit integer.</summary>
    public static readonly DataType U64 = new("U64", 1, 8, null, "U64", ["uint64"], isFloat: false);

    /// <summary>Unsigned 32-bit integer.</summary>
    public static readonly DataType U32 = new("U32", 1, 4, null, "U32", ["uint32"], isFloat: false);

    /// <summary>Unsigned 16-bit integer.</summary>
    public static readonly DataType U16 = new("U16", 1, 2, null, "U16", ["uint16"], isFloat: false);

    /// <summary>Unsigned 8-bit integer.</summary>
    public static readonly DataType U8 = new("U8", 1, 1, null, "U8", ["uint8"], isFloat: false);

    /// <summary>Boolean, one byte each.</summary>
    public static readonly DataType Bool = new("BOOL", 1, 1, null, "BOOL", ["bool"], isFloat: false);

    /// <summary>Generic 4-bit integer, two per byte (no scales): the raw payload of int4 formats.</summary>
    public static readonly DataType Int4 = new("INT4", 2, 1, null, null, ["int4", "i4", "uint4"], isFloat: false);

    /// <summary>GGUF Q4_0: 32 weights, fp16 scale + 16 bytes of nibbles = 18 bytes (4.5 bpw).</summary>
    public static readonly DataType Q4_0 = new("Q4_0", 32, 18, 2, null, []);

    /// <summary>GGUF Q4_1: 32 weights, fp16 scale and min + 16 bytes = 20 bytes (5.0 bpw).</summary>
    public static readonly DataType Q4_1 = new("Q4_1", 32, 20, 3, null, []);

    /// <summary>GGUF Q5_0: 32 weights in 22 bytes (5.5 bpw).</summary>
    public static readonly DataType Q5_0 = new("Q5_0", 32, 22, 6, null, []);

    /// <summary>GGUF Q5_1: 32 weights in 24 bytes (6.0 bpw).</summary>
    public static readonly DataType Q5_1 = new("Q5_1", 32, 24, 7, null, []);

    /// <summary>GGUF Q8_0: 32 weights, fp16 scale + 32 int8 = 34 bytes (8.5 bpw).</summary>
    public static readonly DataType Q8_0 = new("Q8_0", 32, 34, 8, null, []);

    /// <summary>GGUF Q8_1: 32 weights in 36 bytes (activation side).</summary>
    public static readonly DataType Q8_1 = new("Q8_1", 32, 36, 9, null, []);

    /// <summary>GGUF Q2_K: 256 weights in 84 bytes.</summary>
    public static readonly DataType Q2_K = new("Q2_K", 256, 84, 10, null, []);

    /// <summary>GGUF Q3_K: 256 weights in 110 bytes.</summary>
    public static readonly DataType Q3_K = new("Q3_K", 256, 110, 11, null, []);

    /// <summary>GGUF Q4_K: 256 weights in 144 bytes.</summary>
    public static readonly DataType Q4_K = new("Q4_K", 256, 144, 12, null, []);

    /// <summary>GGUF Q5_K: 256 weights in 176 bytes.</summary>
    public static readonly DataType Q5_K = new("Q5_K", 256, 176, 13, null, []);

    /// <summary>GGUF Q6_K: 256 weights in 210 bytes.</summary>
    public static readonly DataType Q6_K = new("Q6_K", 256, 210, 14, null, []);

    /// <summary>GGUF Q8_K: 256 weights in 292 bytes (intermediate only).</summary>
    public static readonly DataType Q8_K = new("Q8_K", 256, 292, 15, null, []);

    /// <summary>GGUF IQ2_XXS: 256 weights in 66 bytes.</summary>
    public static readonly DataType IQ2_XXS = new("IQ2_XXS", 256, 66, 16, null, []);

    /// <summary>GGUF IQ2_XS: 256 weights in 74 bytes.</summary>
    public static readonly DataType IQ2_XS = new("IQ2_XS", 256, 74, 17, null, []);

    /// <summary>GGUF IQ3_XXS: 256 weights in 98 bytes.</summary>
    public static readonly DataType IQ3_XXS = new("IQ3_XXS", 256, 98, 18, null, []);

    /// <summary>GGUF IQ1_S: 256 weights in 50 bytes.</summary>
    public static readonly DataType IQ1_S = new("IQ1_S", 256, 50, 19, null, []);

    /// <summary>GGUF IQ4_NL: 32 weights in 18 bytes.</summary>
    public static readonly DataType IQ4_NL = new("IQ4_NL", 32, 18, 20, null, []);

    /// <summary>GGUF IQ3_S: 256 weights in 110 bytes.</summary>
    public static readonly DataType IQ3_S = new("IQ3_S", 256, 110, 21, null, []);

    /// <summary>GGUF IQ2_S: 256 weights in 82 bytes.</summary>
    public static readonly DataType IQ2_S = new("IQ2_S", 256, 82, 22, null, []);

    /// <summary>GGUF IQ4_XS: 256 weights in 136 bytes.</summary>
    public static readonly DataType IQ4_XS = new("IQ4_XS", 256, 136, 23, null, []);

    /// <summary>GGUF IQ1_M: 256 weights in 56 bytes.</summary>
    public static readonly DataType IQ1_M = new("IQ1_M", 256, 56, 29, null, []);

    /// <summary>GGUF TQ1_0: 256 weights in 54 bytes.</summary>
    public static readonly DataType TQ1_0 = new("TQ1_0", 256, 54, 34, null, []);

    /// <summary>GGUF TQ2_0: 256 weights in 66 bytes.</summary>
    public static readonly DataType TQ2_0 = new("TQ2_0", 256, 66, 35, null, []);

    /// <summary>GGUF MXFP4: 32 weights, an E8M0 scale + 16 bytes of E2M1 nibbles = 17 bytes (4.25 bpw).</summary>
    public static readonly DataType MXFP4 = new("MXFP4", 32, 17, 39, null, ["mxfp4"]);

    /// <summary>Every known type.</summary>
    public static IReadOnlyList<DataType> All { get; } =
    [
        F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E8M0, F4, F6_E2M3, F6_E3M2, C64,
        I64, I32, I16, I8, U64, U32, U16, U8, Bool, Int4,
        Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
        IQ2_XXS, IQ2_XS, IQ3_XXS, IQ1_S, IQ4_NL, IQ3_S, IQ2_S, IQ4_XS, IQ1_M, TQ1_0, TQ2_0, MXFP4,
    ];

    private static readonly FrozenDictionary<string, DataType> ByName = BuildNameIndex();

    private static readonly FrozenDictionary<int, DataType> ByGgml =
        All.Where(t => t.GgmlTypeId is not null).ToFrozenDictionary(t => t.GgmlTypeId!.Value);

    private static readonly FrozenDictionary<string, DataType> BySafetensors =
        All.Where(t => t.SafetensorsName is not null).ToFrozenDictionary(t => t.SafetensorsName!, StringComparer.Ordinal);

    private static FrozenDictionary<string, DataType> BuildNameIndex()
    {
        var map = new Dictionary<string, DataType>(StringComparer.OrdinalIgnoreCase);
        foreach (var type in All)
        {
            map[type.Name] = type;
            foreach (var alias in type.Aliases)
            {
                map[alias] = type;
            }
        }

        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }
}
