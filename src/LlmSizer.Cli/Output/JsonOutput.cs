using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlmSizer.Units;

namespace LlmSizer.Cli.Output;

/// <summary>Writes JSON documents with <see cref="Utf8JsonWriter"/> (no reflection: NativeAOT-clean). Names are
/// snake_case and stable (DESIGN.md §4): add fields freely, never rename.</summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes one JSON document, followed by a newline, to <paramref name="output"/>.</summary>
    /// <param name="output">The writer (stdout).</param>
    /// <param name="write">Writes the document's single root value.</param>
    public static void Write(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes a property whose value may be null.</summary>
    public static void WriteNumberOrNull(this Utf8JsonWriter writer, string name, long? value)
    {
        if (value is long v)
        {
            writer.WriteNumber(name, v);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>Writes a string property whose value may be null.</summary>
    public static void WriteStringOrNull(this Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>Writes a parameter count as an exact integer.</summary>
    public static void WriteCount(this Utf8JsonWriter writer, string name, ParameterCount count) =>
        writer.WriteNumber(name, count.Value);
}
