using LlmSizer.Hub;
using Spectre.Console;

namespace LlmSizer.Cli;

/// <summary>Turns MODEL into a model for the commands: <c>hf:</c> ids and http(s) URLs through the Hub reader (with a
/// progress display on stderr for multi-file reads, when stderr is a terminal and the output is not JSON), everything
/// else through <see cref="Sizer.Load(string)"/>.</summary>
internal static class CliModels
{
    /// <summary>Loads a model argument.</summary>
    /// <param name="context">The command's context (its Hub options; stderr for progress).</param>
    /// <param name="model">The argument.</param>
    /// <param name="refresh">Fetch again, ignoring the caches.</param>
    /// <param name="json">The output is JSON (no progress display).</param>
    /// <returns>The model.</returns>
    public static ModelInfo Load(CliContext context, string model, bool refresh, bool json)
    {
        if (!HubModels.IsRemote(model))
        {
            return Sizer.Load(model);
        }

        var options = context.HubOptions with { Refresh = refresh || context.HubOptions.Refresh };
        bool showProgress = !json && ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected;
        if (!showProgress)
        {
            return HubModels.LoadAsync(model, options).GetAwaiter().GetResult().Model;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        HubLoadResult? result = null;
        console.Progress().AutoClear(true).HideCompleted(true).Start(ctx =>
        {
            ProgressTask? task = null;
            var progress = new SynchronousProgress(p =>
            {
                lock (ctx)
                {
                    task ??= ctx.AddTask(Markup.Escape(model), maxValue: p.Total);
                    task.Value = p.Done;
                    task.Description = Markup.Escape($"{model}: {p.File}");
                }
            });
            result = HubModels.LoadAsync(model, options with { Progress = progress }).GetAwaiter().GetResult();
        });
        return result!.Model;
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to a thread-pool callback after the fact).</summary>
    private sealed class SynchronousProgress(Action<HubProgress> report) : IProgress<HubProgress>
    {
        public void Report(HubProgress value) => report(value);
    }
}
