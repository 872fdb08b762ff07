using LlmSizer.Checkpoints;
using LlmSizer.Checkpoints.Gguf;
using LlmSizer.Checkpoints.Safetensors;
using LlmSizer.Errors;
using LlmSizer.Tests.Fixtures;
using G = LlmSizer.Tests.Fixtures.GgufWriter;

namespace LlmSizer.Tests.Checkpoints;

public sealed class ByteSourceAndFormatTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("llmsizer-src-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] BigVocabGguf()
    {
        // A tiny Llama with a 20,000-token vocabulary: a header of a few hundred KB, so the asynchronous walk must
        // extend its prefix several times.
        var w = G.TinyLlama(new G.LlamaOptions { Vocab = 20_000 });
        return w.ToArray();
    }

    [Fact]
    public async Task GgufReadAsync_AsyncOnlySource_SameHeaderAsSynchronousRead()
    {
        // Given the same bytes behind a synchronous source and an asynchronous-only one serving 4 KiB per read
        var bytes = BigVocabGguf();
        var remote = new AsyncOnlyByteSource(bytes, "remote.gguf", chunk: 4096);

        // When
        var sync = GgufReader.Read(MemoryByteSource.Create(bytes, "local.gguf"));
        var async = await GgufReader.ReadAsync(remote);

        // Then: identical tensors and metadata keys; only the header was read (about twice at most, never the data)
        Assert.Equal(sync.Tensors.Select(t => (t.Name, t.Bytes, t.Offset)), async.Tensors.Select(t => (t.Name, t.Bytes, t.Offset)));
        Assert.Equal(sync.Metadata.Keys.Order(), async.Metadata.Keys.Order());
        Assert.Equal(sync.DataStart, async.DataStart);
        Assert.True(remote.BytesRead <= 2 * sync.DataStart + 65_536, $"read {remote.BytesRead:N0} bytes for a header of {sync.DataStart:N0}");
    }

    [Fact]
    public async Task GgufReadAsync_TruncatedAtEveryOffset_OnlyModelFileFormatException()
    {
        // Given a small GGUF (metadata, a tokenizer, two tensors) behind an asynchronous-only source of 7-byte reads
        var w = new G().AddString("general.architecture", "llama").AddUInt32("llama.block_count", 1)
            .AddStrings("tokenizer.ggml.tokens", "a", "b", "c").AddArray("scores", G.MetaType.Float32, new[] { 1f, 2f, 3f })
            .AddTensor("token_embd.weight", G.GgmlType.F32, 4, 3).AddTensor("output.weight", G.GgmlType.Q8_0, 32, 3);
        var bytes = w.ToArray();
        var layout = w.ComputeLayout();
        long end = layout.DataStart + layout.TensorOffsets[^1] + 3 * 34;

        // When / Then: every cut before the end of the data fails with the reader's own error (the prefix-and-restart
        // walk never loops, never reads past the cut and never throws anything else); the whole file reads as a file does.
        for (int cut = 0; cut < end; cut++)
        {
            var e = await Record.ExceptionAsync(async () => await GgufReader.ReadAsync(new AsyncOnlyByteSource(bytes[..cut], "cut.gguf", chunk: 7)));
            Assert.IsType<ModelFileFormatException>(e);
        }

        var whole = await GgufReader.ReadAsync(new AsyncOnlyByteSource(bytes, "whole.gguf", chunk: 7));
        Assert.Equal(2, whole.Tensors.Count);
        Assert.Equal(12 * 4 + 3 * 34, whole.Tensors.Sum(t => t.Bytes));
    }

    [Fact]
    public async Task SafetensorsReadAsync_AsyncOnlySource_ReadsLengthAndHeaderOnly()
    {
        var w = new SafetensorsWriter().Metadata("format", "pt").Add("a", "BF16", 64, 16).Add("b", "F32", 3);
        var bytes = w.ToArray();
        var remote = new AsyncOnlyByteSource(bytes, "remote.safetensors", chunk: 5);

        var header = await SafetensorsReader.ReadAsync(remote);

        Assert.Equal(["a", "b"], header.Tensors.Select(t => t.Name));
        Assert.Equal(w.DataBytes, header.DataBytes);
        Assert.Equal(8 + header.HeaderLength, remote.BytesRead);
    }

    [Fact]
    public async Task LoadAsync_UnknownLengthSource_BufferedThenLoaded()
    {
        // Given a source that cannot tell its length (a stream)
        var bytes = new SafetensorsWriter().Add("model.embed_tokens.weight", "F16", 10, 4).ToArray();
        var source = new AsyncOnlyByteSource(bytes, "stream.safetensors", chunk: 3, unknownLength: true);

        // When
        var model = await CheckpointLoader.LoadAsync(source);

        // Then
        Assert.Equal(40, model.Inventory.TotalParameters.Value);
    }

    [Fact]
    public async Task LoadAsync_NeitherFormat_OneLine()
    {
        var e = await Assert.ThrowsAsync<ModelFileFormatException>(async () =>
            await CheckpointLoader.LoadAsync(MemoryByteSource.Create("hello world, not a model"u8.ToArray(), "x.bin")));
        Assert.Contains("x.bin", e.Message);
        Assert.Contains("GGUF", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0 }, CheckpointFormat.Gguf)]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}' }, CheckpointFormat.Safetensors)]
    [InlineData(new byte[] { 0xEF, 0xBB, 0xBF, (byte)' ', (byte)'\n', (byte)'{' }, CheckpointFormat.Json)]
    [InlineData(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0, (byte)'[' }, CheckpointFormat.Unknown)]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, (byte)'{' }, CheckpointFormat.Unknown)]
    [InlineData(new byte[] { }, CheckpointFormat.Unknown)]
    public void Detect_FirstBytes(byte[] header, CheckpointFormat expected) =>
        Assert.Equal(expected, CheckpointFormats.Detect(header, header.Length + 100));

    [Fact]
    public void Detect_SafetensorsHeaderLongerThanFile_Unknown() =>
        Assert.Equal(CheckpointFormat.Unknown, CheckpointFormats.Detect([100, 0, 0, 0, 0, 0, 0, 0, (byte)'{'], 50));

    [Fact]
    public void TryLoad_GgufNamedSafetensors_LoadedAsGguf()
    {
        // Given GGUF bytes under a .safetensors name
        var path = Path.Combine(_dir, "model.safetensors");
        File.WriteAllBytes(path, G.TinyLlama().ToArray());

        // When
        var model = CheckpointLoader.TryLoad(path)!;

        // Then: the bytes decide
        Assert.Equal(ModelSourceKind.Gguf, model.Source);
    }

    [Fact]
    public void TryLoad_SafetensorsNamedBin_LoadedAsSafetensors()
    {
        var path = Path.Combine(_dir, "weights.bin");
        File.WriteAllBytes(path, new SafetensorsWriter().Add("w", "F32", 2, 2).ToArray());

        var model = CheckpointLoader.TryLoad(path)!;

        Assert.Equal(ModelSourceKind.Safetensors, model.Source);
        Assert.Equal(4, model.Inventory.TotalParameters.Value);
    }

    [Fact]
    public void TryLoad_GarbageNamedSafetensors_SafetensorsReaderExplains()
    {
        // Given bytes that are no format at all, named .safetensors: the name picks the reader that says what is wrong
        var path = Path.Combine(_dir, "bad.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);

        var e = Assert.Throws<ModelFileFormatException>(() => CheckpointLoader.TryLoad(path));

        Assert.Contains("header length", e.Message);
    }

    [Fact]
    public async Task OpenAsync_RegularFileAndPipe()
    {
        // Given a regular file, and the same bytes in an anonymous pipe named /dev/fd/N
        var path = Path.Combine(_dir, "o.bin");
        File.WriteAllBytes(path, [9, 8, 7]);

        // When / Then: the file stays a file (random access); the pipe is read whole into memory
        var file = await ByteSource.OpenAsync(path);
        using (file as IDisposable)
        {
            Assert.IsType<FileByteSource>(file);
            Assert.Equal(3, file.Length);
        }

        if (OperatingSystem.IsLinux() && Directory.Exists("/dev/fd"))
        {
            using var server = new System.IO.Pipes.AnonymousPipeServerStream(System.IO.Pipes.PipeDirection.Out, HandleInheritability.None);
            var fd = server.GetClientHandleAsString();
            server.Write([9, 8, 7]);
            server.Close();
            var pipe = await ByteSource.OpenAsync("/dev/fd/" + fd);
            var memory = Assert.IsType<LlmSizer.Checkpoints.MemoryByteSource>(pipe);
            Assert.Equal(new byte[] { 9, 8, 7 }, memory.Bytes.ToArray());
        }
    }

    [Fact]
    public void FileByteSource_ReadsAtOffsets()
    {
        var path = Path.Combine(_dir, "f.bin");
        File.WriteAllBytes(path, [1, 2, 3, 4, 5]);
        using var source = new FileByteSource(path);
        var buffer = new byte[3];

        int n = source.Read(3, buffer);

        Assert.Equal(5, source.Length);
        Assert.Equal(2, n);
        Assert.Equal(new byte[] { 4, 5, 0 }, buffer);
    }
}
