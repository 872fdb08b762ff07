using System.Diagnostics;
using System.Text;
using LlmSizer.Architecture;
using LlmSizer.Architecture.Families;
using LlmSizer.Checkpoints;
using LlmSizer.Errors;
using LlmSizer.Memory;
using LlmSizer.Tests.Fixtures;
using G = LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

/// <summary>Every root cause of /work/shared/samples/hostile (A1–A3, E–J) as a regression test: the shared file when it
/// is beside the checkout, and a generated equivalent that needs nothing outside the test.</summary>
public sealed class HostileInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llmsizer-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string? Hostile(string file) =>
        TestPaths.SharedSamples is { } s && File.Exists(Path.Combine(s, "hostile", file)) ? Path.Combine(s, "hostile", file) : null;

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    /// <summary>Resolves, reports and (when there is an architecture) estimates; returns the exception, if any.</summary>
    private static Exception? Run(string path) => Record.Exception(() =>
    {
        var model = ModelResolver.Resolve(path);
        _ = model.Parameters();
        _ = model.Inventory.TotalBytes;
        if (model.Architecture is not null)
        {
            _ = MemoryEstimator.Estimate(model, new Workload { Context = 2048 });
        }
    });

    private static void AssertOneLine(Exception? e, params string[] parts)
    {
        Assert.NotNull(e);
        Assert.IsAssignableFrom<LlmSizerException>(e);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\u001b', e.Message);
        foreach (var part in parts)
        {
            Assert.Contains(part, e.Message, StringComparison.Ordinal);
        }
    }

    // ---- the shared files ----

    [Theory]
    [InlineData("A1-config-lone-surrogate-in-describe.json")]
    [InlineData("A1-config-lone-surrogate-key.json")]
    [InlineData("A1-config-lone-surrogate-value.json")]
    [InlineData("A2-safetensors-lone-surrogate-dtype.min.safetensors")]
    [InlineData("A2-safetensors-lone-surrogate-metadata.min.safetensors")]
    [InlineData("A2-safetensors-lone-surrogate-name.safetensors")]
    [InlineData("A3-index-invalid-utf8-key.index.json")]
    [InlineData("A3-index-lone-surrogate-value.index.json")]
    [InlineData("F-gguf-vocab-only-block_count-100000.gguf")]
    [InlineData("G-config-mixtral-4561-experts.json")]
    [InlineData("G-config-mixtral-61x2700-experts.json")]
    [InlineData("I-gguf-key-newline-ansi.gguf")]
    public void SharedHostileFile_GivesOneLineNamingTheFile(string file)
    {
        // Given a hostile file from the shared corpus
        if (Hostile(file) is not { } path)
        {
            return; // the shared samples are not beside this checkout
        }

        // When / Then: an LlmSizerException, one line, naming the file
        AssertOneLine(Run(path), file);
    }

    [Theory]
    [InlineData("E-gguf-q8_0-zero-rows-huge-row.gguf")]
    [InlineData("E-gguf-split-shard1-zero-rows.min.gguf")]
    public void SharedZeroRowGguf_LoadsAndSizesWithoutOverflow(string file)
    {
        if (Hostile(file) is not { } path)
        {
            return;
        }

        // When: loaded, counted and sized (a tensor with a zero dimension holds no bytes, whatever its row length)
        var model = ModelResolver.Resolve(path);

        // Then
        Assert.Null(Record.Exception(() => model.Inventory.TotalBytes));
        Assert.All(model.Inventory.Tensors.Where(t => t.StoredElements == 0), t => Assert.Equal(0, t.Bytes.Bytes));
    }

    [Fact]
    public void SharedF4OddRow_BytesEqualTheFileData()
    {
        if (Hostile("J-safetensors-f4-odd-row.safetensors") is not { } path)
        {
            return;
        }

        // Given F4 [2, 3] and F6_E2M3 [4, 3]: 6 × 4 bits = 3 bytes and 12 × 6 bits = 9 bytes, packed per tensor.
        var model = CheckpointLoader.TryLoad(path)!;

        // Then: 12 bytes, the file's data section (its length minus 8 and the header), not 16 (rounded per row).
        Assert.Equal(12, model.Inventory.TotalBytes.Bytes);
        Assert.Equal(18, model.Inventory.TotalParameters.Value);
    }

    // ---- A1: lone surrogates and invalid UTF-8 in config.json ----

    [Theory]
    [InlineData("""{"model_type":"\ud800"}""", "model_type")]
    [InlineData("""{"model_type":"llama","\udc00x":1}""", "(key 2)")]
    [InlineData("""{"model_type":"llama","text_config":{"a":["ok","\ud83d"]}}""", "text_config.a[1]")]
    public void Config_LoneSurrogateEscape_NamesFileAndField(string json, string field)
    {
        // Given a config.json whose escapes decode to a lone UTF-16 surrogate
        var path = Write("a1/config.json", json);

        // When
        var e = Run(path);

        // Then
        AssertOneLine(e, path, field, "lone UTF-16 surrogate");
        Assert.IsType<ModelConfigException>(e);
    }

    [Fact]
    public void Config_InvalidUtf8Byte_NamesByteOffset()
    {
        // Given {"model_type":"<0xFF>"}: the 0xFF is byte 16 (1-based)
        var bytes = Encoding.ASCII.GetBytes("{\"model_type\":\"x\"}");
        bytes[15] = 0xFF;
        var path = Write("a1b/config.json", bytes);

        // When / Then
        AssertOneLine(Run(path), path, "byte 16", "0xFF");
    }

    [Fact]
    public void ConfigParse_PairedSurrogateEscape_IsText()
    {
        // Given a valid escaped pair (U+1F600) in a string value: not an error
        var config = ConfigObject.Parse("""{"model_type":"llama","name":"\ud83d\ude00"}""", "ok.json");

        // Then
        Assert.Equal("\U0001F600", config.String("name"));
    }

    // ---- A2: lone surrogates in safetensors headers ----

    [Theory]
    [InlineData("""{"\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""")]
    [InlineData("""{"w":{"dtype":"\ud800","shape":[1],"data_offsets":[0,4]}}""")]
    [InlineData("""{"__metadata__":{"k":"\udfff"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""")]
    public void Safetensors_LoneSurrogateEscape_ModelFileFormatException(string header)
    {
        // Given a header with a lone surrogate escape in a name, dtype or metadata value
        var path = Write("a2.safetensors", new SafetensorsWriter { RawHeader = header }.Add("w", "F32", 1).ToArray());

        // When
        var e = Run(path);

        // Then
        AssertOneLine(e, path, "lone UTF-16 surrogate");
        Assert.IsType<ModelFileFormatException>(e);
    }

    // ---- A3: indexes ----

    [Fact]
    public void Index_InvalidUtf8Key_NamesByteOffset()
    {
        // Given an index whose weight_map key holds a raw 0xFF byte (at offset 16)
        var bytes = Encoding.ASCII.GetBytes("""{"weight_map":{"?":"m.safetensors"}}""");
        bytes[16] = 0xFF;
        var path = Write("a3/model.safetensors.index.json", bytes);

        // When
        var e = Run(Path.GetDirectoryName(path)!);

        // Then
        AssertOneLine(e, path, "byte 16", "UTF-8");
        Assert.IsType<ModelFileFormatException>(e);
    }

    [Fact]
    public void Index_LoneSurrogateShard_NamesTheEntry()
    {
        // Given an index (named oddly: recognised by its weight_map key, not its name) mapping a tensor to "\ud800"
        var path = Write("a3b/weights.json", """{"weight_map":{"model.norm.weight":"\ud800"}}""");

        // When
        var e = Run(path);

        // Then
        AssertOneLine(e, path, "weight_map.model.norm.weight", "lone UTF-16 surrogate");
    }

    // ---- E: zero rows with a huge row ----

    [Fact]
    public void Gguf_ZeroRowsHugeRow_ZeroBytesNoOverflow()
    {
        // Given a Q8_0 tensor with ne0 = 2^62 (a multiple of the block 32) and ne1 = 0: no elements, no data
        var w = new G().AddString("general.architecture", "llama").AddTensor("t", G.GgmlType.Q8_0, 1UL << 62, 0);
        var path = Write("e.gguf", w.ToArray());

        // When
        var model = CheckpointLoader.TryLoad(path)!;

        // Then: 0 bytes (34-byte blocks of 2^62 / 32 elements would overflow 64 bits if sized per row first)
        var t = Assert.Single(model.Inventory.Tensors);
        Assert.Equal(0, t.Bytes.Bytes);
        Assert.Equal(0, model.Inventory.TotalBytes.Bytes);
    }

    // ---- F, G: limits ----

    [Fact]
    public void Gguf_VocabOnlyWith100000Layers_RefusedNamingKeyAndLimit()
    {
        // Given a vocab-only GGUF (no tensors) that declares 100,000 layers
        var w = new G().AddString("general.architecture", "llama").AddUInt32("llama.block_count", 100_000)
            .AddUInt32("llama.embedding_length", 4096).AddUInt32("llama.attention.head_count", 32);
        var path = Write("f.gguf", w.ToArray());

        // When
        var e = Run(path);

        // Then: the key is named with its offset: 24 header bytes, then general.architecture = "llama" takes
        // 8 + 20 (key) + 4 (type) + 8 + 5 (value) = 45 bytes, so llama.block_count starts at byte 69.
        AssertOneLine(e, path, "byte 69: llama.block_count", "4,096", "100,000");
        Assert.IsType<ModelFileFormatException>(e);
    }

    [Fact]
    public void Gguf_ExpertCountAboveLimit_Refused()
    {
        var w = new G().AddString("general.architecture", "llama").AddUInt32("llama.block_count", 32)
            .AddUInt32("llama.embedding_length", 4096).AddUInt32("llama.attention.head_count", 32)
            .AddUInt32("llama.expert_count", 4561).AddUInt32("llama.expert_used_count", 2);
        var path = Write("g.gguf", w.ToArray());

        AssertOneLine(Run(path), path, "llama.expert_count", "2,048", "4,561");
    }

    private const string Mixtral = """
        {"model_type":"mixtral","hidden_size":64,"intermediate_size":128,"num_attention_heads":4,"num_key_value_heads":4,
         "num_hidden_layers":LAYERS,"num_local_experts":EXPERTS,"num_experts_per_tok":2,"vocab_size":100}
        """;

    [Fact]
    public void Config_4561Experts_RefusedNamingFieldAndLimit()
    {
        var path = Write("g1/config.json", Mixtral.Replace("LAYERS", "32").Replace("EXPERTS", "4561"));

        var e = Run(path);

        AssertOneLine(e, path, "num_local_experts", "2,048", "4,561");
        Assert.IsType<ModelConfigException>(e);
    }

    [Fact]
    public void Config_ExpertsWithinLimitButTooManyTensors_Refused()
    {
        // Given 61 layers × 2,000 experts: each within its limit, but 16 + 61 × (32 + 3 × 2,000) = 367,968 tensors
        var path = Write("g2/config.json", Mixtral.Replace("LAYERS", "61").Replace("EXPERTS", "2000"));

        AssertOneLine(Run(path), path, "131,072 tensors", "367,968");
    }

    [Fact]
    public void Config_RealSizedMoe_Accepted()
    {
        // Given DeepSeek-V3-like counts (61 layers, 256 experts): far below every limit
        var path = Write("g3/config.json", Mixtral.Replace("LAYERS", "61").Replace("EXPERTS", "256"));

        Assert.Null(Run(path));
    }

    [Theory]
    [InlineData(100_000, null, "layers", "4,096")]
    [InlineData(60, 5_000, "experts", "2,048")]
    [InlineData(100, 1_000, "experts", "131,072 tensors")]
    public void FromSpec_ManualSpecBeyondLimits_InvalidSettingNamingIt(int layers, int? experts, string setting, string limit)
    {
        // Given manual numbers (the CLI's --layers/--experts path) beyond the limits: 100 × 1,000 experts gives
        // 16 + 100 × (32 + 3 × 1,000) = 303,216 generated tensors
        var spec = new ManualArchitecture { Layers = layers, Hidden = 64, Heads = 4, Vocab = 100, Experts = experts, TopK = experts is null ? null : 2 }.ToSpec();

        // When
        var e = Assert.Throws<InvalidSettingException>(() => ModelResolver.FromSpec("manual", ModelSourceKind.Manual, (spec, ManualFamily.Instance)));

        // Then: refused before generating, naming the logical setting and the limit
        Assert.Equal(setting, e.Setting);
        Assert.Contains(limit, e.Message, StringComparison.Ordinal);
    }

    // ---- H: FIFOs and devices ----

    private static bool MakeFifo(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists("/usr/bin/mkfifo"))
        {
            return false;
        }

        using var p = Process.Start(new ProcessStartInfo("/usr/bin/mkfifo", [path]) { UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("m.gguf")]
    [InlineData("config.json")]
    public async Task Folder_WithFifo_RefusedWithoutBlocking(string name)
    {
        // Given a model folder holding a FIFO (no writer: opening it would wait forever)
        var folder = Path.Combine(_dir, "h-" + name);
        Directory.CreateDirectory(folder);
        if (!MakeFifo(Path.Combine(folder, name)))
        {
            return;
        }

        // When: resolved on another thread, with a deadline
        var task = Task.Run(() => Run(folder));
        var first = await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20)));

        // Then
        Assert.True(first == task, "resolving a folder with a FIFO blocked");
        AssertOneLine(await task, name, "FIFO");
    }

    [Fact]
    public void HuggingFaceCache_EmptyRefsMain_UsesTheSnapshot()
    {
        // Given models--org--m with an empty refs/main (0 bytes, like a FIFO to the size check) and one snapshot
        var repo = Path.Combine(_dir, "models--org--m");
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllBytes(Path.Combine(repo, "refs", "main"), []);
        Write("models--org--m/snapshots/s1/model.safetensors", new SafetensorsWriter().Add("w", "F32", 2, 3).ToArray());

        // When
        var model = CheckpointLoader.TryLoad(repo)!;

        // Then: refs/main is ignored, not an error
        Assert.Equal("org/m", model.Name);
        Assert.Equal(6, model.Inventory.TotalParameters.Value);
    }

    [Fact]
    public void DevZero_ReadBoundedThenRefused()
    {
        // Given /dev/zero (endless, length 0 to the file system)
        if (!File.Exists("/dev/zero"))
        {
            return;
        }

        // When / Then: at most ModelLimits.MaxStreamBytes are read, then a clear line
        AssertOneLine(Run("/dev/zero"), "/dev/zero", "67,108,864");
    }

    [Fact]
    public async Task BufferAsync_UnseekableStreamOverCap_Refused()
    {
        // Given a pipe-like stream (no length, no seeking) of 10 bytes and a cap of 8
        using var stream = new UnseekableStream(new byte[10]);

        // When
        var e = await Record.ExceptionAsync(async () => await ByteSource.BufferAsync(stream, "pipe", 8));

        // Then
        AssertOneLine(e, "pipe", "at most 8 bytes");
    }

    [Fact]
    public async Task LoadAsync_GgufFromUnseekableStream_SameAsFromFile()
    {
        // Given a GGUF arriving through a pipe-like stream
        var bytes = G.TinyLlama().ToArray();
        using var stream = new UnseekableStream(bytes);

        // When: buffered (bounded), then loaded through the public asynchronous API
        var source = await ByteSource.BufferAsync(stream, "stdin");
        var model = await CheckpointLoader.LoadAsync(source);

        // Then: the same tensors as a load of the bytes from a file
        var fromFile = CheckpointLoader.TryLoad(Write("pipe.gguf", bytes))!;
        Assert.Equal(fromFile.Inventory.TotalParameters, model.Inventory.TotalParameters);
        Assert.Equal(fromFile.Inventory.Tensors.Length, model.Inventory.Tensors.Length);
    }

    [Fact]
    public void Resolve_ConfigThroughARealPipe_ReadOnceAndParsed()
    {
        // Given a config.json written into an anonymous pipe, named by its descriptor as a shell names
        // <(cat config.json): /dev/fd/N (a pipe has no length and cannot seek)
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/dev/fd"))
        {
            return;
        }

        const string Config = """
            {"model_type":"llama","hidden_size":16,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":32,
             "num_hidden_layers":2,"vocab_size":64,"tie_word_embeddings":false}
            """;
        using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out, HandleInheritability.None);
        var fd = server.GetClientHandleAsString();
        var bytes = Encoding.UTF8.GetBytes(Config);
        server.Write(bytes);
        server.Close();

        // When
        var model = ModelResolver.Resolve("/dev/fd/" + fd);

        // Then: by hand, embed 64·16 = 1,024; per layer q 256, k 128, v 128, o 256, MLP 3 · 32·16 = 1,536, norms 32
        // → 2,336; two layers 4,672; final norm 16; lm_head 1,024: 6,736 (the same tiny Llama as CheckpointLoaderTests).
        Assert.Equal(ModelSourceKind.Config, model.Source);
        Assert.Equal(6_736, model.Inventory.TotalParameters.Value);
    }

    // ---- I: untrusted names in messages ----

    [Fact]
    public void Gguf_KeyWithNewlineAndAnsi_EscapedInMessage()
    {
        // Given a metadata key "evil\nkey\e[31m" followed by an unknown value type 77
        var w = new G().Add("evil\nkey\u001b[31m", G.Value.UInt32(1));
        var bytes = w.ToArray();
        int typeAt = 24 + 8 + Encoding.UTF8.GetByteCount("evil\nkey\u001b[31m");
        bytes[typeAt] = 77;
        var path = Write("i.gguf", bytes);

        // When
        var e = Run(path);

        // Then: one line, escapes visible as text
        AssertOneLine(e, "evil\\nkey\\e[31m", "77");
    }

    [Fact]
    public void Safetensors_MegabyteTensorName_MessageShortened()
    {
        // Given a tensor whose 1 MiB name is followed by a bad dtype
        var name = new string('n', 1 << 20);
        var path = Write("i2.safetensors", new SafetensorsWriter { RawHeader = "{\"" + name + "\":{\"dtype\":\"XX\",\"shape\":[1],\"data_offsets\":[0,4]}}" }.Add("w", "F32", 1).ToArray());

        // When
        var e = Run(path);

        // Then: the message stays short and says how much was left out
        AssertOneLine(e, "more characters");
        Assert.True(e!.Message.Length < 2_000, $"message of {e.Message.Length} characters");
    }

    [Fact]
    public void MessageText_Clean_EscapesControlAndBidiCharacters()
    {
        Assert.Equal("a\\nb\\e[0m\\u202Ec\\u0000", MessageText.Clean("a\nb\u001b[0m\u202Ec\0"));
        Assert.Equal("plain ≤ text", MessageText.Clean("plain ≤ text"));
    }

    // ---- J: sub-byte dtypes ----

    [Fact]
    public void Safetensors_F4AndF6OddRows_SizedPerTensor()
    {
        // Given F4 [2, 3] (6 × 4 bits = 3 bytes) and F6_E2M3 [4, 3] (12 × 6 bits = 9 bytes), packed per tensor as the
        // safetensors reference computes them (nelements × bitsize / 8, whole or MisalignedSlice)
        var w = new SafetensorsWriter().Add("a", "F4", 2, 3).Add("b", "F6_E2M3", 4, 3);
        var path = Write("j.safetensors", w.ToArray());

        // When
        var model = CheckpointLoader.TryLoad(path)!;

        // Then: Σ tensor bytes = the 12 data bytes (per row: 2 × 2 + 4 × 3 = 16)
        Assert.Equal(12, w.DataBytes);
        Assert.Equal(12, model.Inventory.TotalBytes.Bytes);
        Assert.Equal(3, model.Inventory.Tensors.Single(t => t.Name == "a").Bytes.Bytes);
        Assert.Equal(9, model.Inventory.Tensors.Single(t => t.Name == "b").Bytes.Bytes);
    }

    /// <summary>A read-only stream that cannot seek and reports no length: a pipe.</summary>
    private sealed class UnseekableStream(byte[] bytes) : Stream
    {
        private int _at;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, 7), bytes.Length - _at);
            Array.Copy(bytes, _at, buffer, offset, n);
            _at += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
