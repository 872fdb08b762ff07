using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LlmSizer.Fuzz.Engine;

/// <summary>Mutations of valid inputs: byte-level (flips, truncation, huge integers at aligned offsets, chunk
/// copies), JSON-aware (numbers, strings, keys, types, nesting) and string/escape injections.</summary>
internal sealed class Mutator(Random random)
{
    private static readonly ulong[] HugeValues =
    [
        0, 1, 0xFFFF_FFFF_FFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF,
        0x1_0000_0000, 1UL << 40, 1UL << 62, 100_000, 4096, 0xFFFF, 0x10000, 13, 31, 33,
    ];

    private static readonly string[] Injections =
    [
        "\\ud800", "\\udfff", "\\ud83d", "\\u0000", "\\u001b[31m", "\\n", "\\\\", "\"", "{", "}", "[", "]", ",", ":", "\u202e",
        "\\uDC00\\uD800", "1e309", "-1", "NaN", "null", "true", "\u001b[2J", "\r\n", "..\\/..\\/", "/etc/passwd",
    ];

    public Random Random => random;

    /// <summary>One to four byte-level mutations.</summary>
    public byte[] Bytes(byte[] input) => unchecked(BytesCore(input));

    // Wrapping arithmetic on purpose (the file is also compiled into the checked test project).
    private byte[] BytesCore(byte[] input)
    {
        var data = (byte[])input.Clone();
        int rounds = 1 + random.Next(4);
        for (int r = 0; r < rounds && data.Length > 0; r++)
        {
            switch (random.Next(8))
            {
                case 0: // bit flip
                    int flipAt = random.Next(data.Length);
                    data[flipAt] = unchecked((byte)(data[flipAt] ^ (1 << random.Next(8))));
                    break;
                case 1: // random byte
                    data[random.Next(data.Length)] = (byte)random.Next(256);
                    break;
                case 2: // truncation
                    data = data[..random.Next(data.Length)];
                    break;
                case 3: // a huge or edge integer at an aligned offset (the fields of both formats are 4/8-aligned often)
                {
                    int width = random.Next(2) == 0 ? 8 : 4;
                    if (data.Length < width)
                    {
                        break;
                    }

                    int at = random.Next(data.Length - width + 1) / width * width;
                    if (random.Next(3) == 0)
                    {
                        at = random.Next(data.Length - width + 1); // unaligned too, now and then
                    }

                    ulong v = HugeValues[random.Next(HugeValues.Length)];
                    if (width == 8)
                    {
                        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(at), v);
                    }
                    else
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), unchecked((uint)v));
                    }

                    break;
                }

                case 4: // delete a range
                {
                    int at = random.Next(data.Length);
                    int n = Math.Min(data.Length - at, 1 + random.Next(16));
                    data = [.. data.AsSpan(0, at), .. data.AsSpan(at + n)];
                    break;
                }

                case 5: // insert random bytes
                {
                    int at = random.Next(data.Length + 1);
                    var extra = new byte[1 + random.Next(16)];
                    random.NextBytes(extra);
                    data = [.. data.AsSpan(0, at), .. extra, .. data.AsSpan(at)];
                    break;
                }

                case 6: // copy a chunk over another place
                {
                    int n = 1 + random.Next(Math.Min(64, data.Length));
                    int from = random.Next(data.Length - n + 1), to = random.Next(data.Length - n + 1);
                    data.AsSpan(from, n).ToArray().CopyTo(data.AsSpan(to));
                    break;
                }

                default: // inject an escape or control sequence as bytes
                {
                    var text = Encoding.UTF8.GetBytes(Injections[random.Next(Injections.Length)]);
                    int at = random.Next(data.Length + 1);
                    data = [.. data.AsSpan(0, at), .. text, .. data.AsSpan(at)];
                    break;
                }
            }
        }

        return data;
    }

    /// <summary>A JSON-aware mutation of a JSON document (falls back to text mutations when it does not parse).</summary>
    public string Json(string json)
    {
        if (random.Next(4) == 0)
        {
            return Text(json);
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            return Text(json);
        }

        if (root is null)
        {
            return Text(json);
        }

        int rounds = 1 + random.Next(3);
        for (int r = 0; r < rounds; r++)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            var node = nodes[random.Next(nodes.Count)];
            MutateNode(ref root, node);
        }

        var text = root.ToJsonString();
        return random.Next(5) == 0 ? Text(text) : text;
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        if (node is JsonObject o)
        {
            foreach (var (_, v) in o)
            {
                if (v is not null)
                {
                    Collect(v, nodes);
                }
            }
        }
        else if (node is JsonArray a)
        {
            foreach (var v in a)
            {
                if (v is not null)
                {
                    Collect(v, nodes);
                }
            }
        }
    }

    private JsonNode NewValue(JsonNode? old) => random.Next(12) switch
    {
        0 => JsonValue.Create(long.MaxValue),
        1 => JsonValue.Create(-1),
        2 => JsonValue.Create(0),
        3 => JsonValue.Create(int.MaxValue),
        4 => JsonValue.Create(1e300),
        5 => JsonValue.Create(0.5),
        6 => JsonValue.Create(new string('x', random.Next(2) == 0 ? 3 : 70_000)),
        7 => new JsonArray(JsonValue.Create(1), JsonValue.Create("a")),
        8 => new JsonObject { ["k"] = JsonValue.Create(1) },
        9 => JsonValue.Create(true),
        10 => JsonValue.Create(random.Next(2) == 0 ? 100_000 : 1 << random.Next(31)),
        _ => old is JsonValue v && v.TryGetValue<long>(out long n) ? JsonValue.Create(unchecked(n * (random.Next(2) == 0 ? 1000 : -1) + random.Next(3) - 1)) : JsonValue.Create(7),
    };

    private void MutateNode(ref JsonNode root, JsonNode node)
    {
        var parent = node.Parent;
        switch (random.Next(5))
        {
            case 0 when parent is JsonObject po: // delete the key
                po.Remove(KeyOf(po, node));
                break;
            case 1 when parent is JsonObject po: // rename the key (to a hostile name)
            {
                var key = KeyOf(po, node);
                po.Remove(key);
                po[key + Injections[random.Next(5)].Replace("\\", "", StringComparison.Ordinal)] = node;
                break;
            }

            case 2 when parent is JsonArray pa: // drop or duplicate an element
                if (random.Next(2) == 0)
                {
                    pa.Remove(node);
                }
                else
                {
                    pa.Add(node.DeepClone());
                }

                break;
            case 3 when node is JsonObject o: // add a hostile key
                o["num_local_experts" + (random.Next(3) == 0 ? "" : "_x")] = NewValue(null);
                break;
            default: // replace the value
            {
                var value = NewValue(node);
                if (parent is JsonObject po2)
                {
                    po2[KeyOf(po2, node)] = value;
                }
                else if (parent is JsonArray pa2)
                {
                    pa2[pa2.IndexOf(node)] = value;
                }
                else
                {
                    root = value;
                }

                break;
            }
        }
    }

    private static string KeyOf(JsonObject parent, JsonNode node)
    {
        foreach (var (k, v) in parent)
        {
            if (ReferenceEquals(v, node))
            {
                return k;
            }
        }

        return "";
    }

    /// <summary>A text-level mutation of JSON: an escape or control injection, a cut, a duplicated key or deep nesting.</summary>
    public string Text(string json)
    {
        int at = json.Length == 0 ? 0 : random.Next(json.Length + 1);
        return random.Next(5) switch
        {
            0 => json[..at],
            1 => json.Insert(at, new string('[', 10 + random.Next(200))),
            2 => json.Replace("\":", "\\ud800\":", StringComparison.Ordinal),
            3 => json.Insert(json.IndexOf('{', StringComparison.Ordinal) + 1, "\"model_type\":\"llama\",\"model_type\":1,"),
            _ => json.Insert(at, Injections[random.Next(Injections.Length)]),
        };
    }
}
