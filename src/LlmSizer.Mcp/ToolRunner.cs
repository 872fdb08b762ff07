using System.Text.Json;
using LlmSizer.Contract;
using LlmSizer.Errors;
using LlmSizer.Requests;
using ModelContextProtocol.Protocol;

namespace LlmSizer.Mcp;

/// <summary>Runs one tool call inside the server's limits and turns every failure into a tool error (never a crashed
/// server): inputs the core refuses name their field, a call past the timeout is answered as such, and anything
/// unexpected gets a fixed message.</summary>
internal sealed class ToolRunner : IDisposable
{
    private readonly SizerTools _tools;
    private readonly ServerSettings _settings;
    private readonly SemaphoreSlim _permits;

    /// <summary>Creates the runner.</summary>
    /// <param name="settings">What the server was started with.</param>
    public ToolRunner(ServerSettings settings)
    {
        _settings = settings;
        _tools = new SizerTools(settings);
        _permits = new SemaphoreSlim(settings.MaxConcurrent, settings.MaxConcurrent);
    }

    /// <summary>The tools as MCP lists them.</summary>
    /// <returns>The tool list.</returns>
    public ListToolsResult List() => new()
    {
        Tools = [.. _tools.All.Select(t => new Tool
        {
            Name = t.Name,
            Title = t.Title,
            Description = t.Description,
            InputSchema = t.Schema,
            Annotations = new ToolAnnotations { Title = t.Title, ReadOnlyHint = true, DestructiveHint = false, IdempotentHint = true, OpenWorldHint = false },
        })],
    };

    /// <summary>Runs a call.</summary>
    /// <param name="name">The tool name.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="cancellationToken">Cancelled when the client cancels the call.</param>
    /// <returns>The result: the document and a summary, or an error naming the field.</returns>
    public async ValueTask<CallToolResult> CallAsync(string name, IEnumerable<KeyValuePair<string, JsonElement>>? arguments, CancellationToken cancellationToken)
    {
        if (!_tools.ByName.TryGetValue(name, out var tool))
        {
            return Error($"unknown tool {SettingParser.Quote(name)}; expected one of {string.Join(", ", _tools.All.Select(t => t.Name))}.", null);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_settings.Timeout);
        bool entered = false;
        try
        {
            await _permits.WaitAsync(deadline.Token).ConfigureAwait(false);
            entered = true;
            var values = ToolFields.Read(arguments, tool.Fields);
            // The core is synchronous and bounded by its own limits; the work runs on the pool so a call past the
            // timeout is answered at once. The permit is released when the work ends, not at the timeout, so runaway
            // calls cannot pile up beyond MaxConcurrent.
            var work = Task.Run(() => tool.Run(values), CancellationToken.None);
            entered = false;
            _ = work.ContinueWith(_ => _permits.Release(), TaskScheduler.Default);
            var output = await work.WaitAsync(deadline.Token).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(output.Json);
            return new CallToolResult
            {
                Content = [new TextContentBlock { Text = output.Summary }, new TextContentBlock { Text = output.Json }],
                StructuredContent = doc.RootElement.Clone(),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return Error($"the call took longer than the server's limit of {_settings.Timeout.TotalSeconds:0.#} s and was abandoned.", null);
        }
        catch (ToolInputException ex)
        {
            return Error($"{ex.Field}: {ex.Message}", ex.Field);
        }
        catch (InvalidSettingException ex)
        {
            return Error(ex.Message, ex.Setting);
        }
        catch (Gpus.UnknownGpuException ex)
        {
            return Error(ex.Message.StartsWith("gpu: ", StringComparison.Ordinal) ? ex.Message : "gpu: " + ex.Message, "gpu");
        }
        catch (LlmSizerException ex)
        {
            // Model loading errors (unknown id, unreadable file or config) are about the model input.
            var message = ex.Message.StartsWith("MODEL: ", StringComparison.Ordinal) ? "model: " + ex.Message[7..] : ex.Message;
            return Error(message, "model");
        }
#pragma warning disable CA1031 // The server must answer the next call whatever this one threw.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await Console.Error.WriteLineAsync($"llmsize-mcp: {name}: unexpected {ex.GetType().Name}").ConfigureAwait(false);
            return Error("internal error: the call failed unexpectedly; the server is still running.", null);
        }
        finally
        {
            if (entered)
            {
                _permits.Release();
            }
        }
    }

    /// <summary>Releases the concurrency limiter.</summary>
    public void Dispose() => _permits.Dispose();

    private static CallToolResult Error(string message, string? field)
    {
        var json = ContractJson.Serialize(new ErrorDocument(message, field));
        using var doc = JsonDocument.Parse(json);
        return new CallToolResult
        {
            IsError = true,
            Content = [new TextContentBlock { Text = "error: " + message }],
            StructuredContent = doc.RootElement.Clone(),
        };
    }
}
