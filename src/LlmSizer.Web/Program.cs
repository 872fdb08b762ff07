namespace LlmSizer.Web;

/// <summary>The <c>llmsize-web</c> executable: the web page and JSON API. <c>llmsize serve</c> starts it as a child
/// process (docs/web.md).</summary>
public static class Program
{
    /// <summary>Runs the host until it is stopped (Ctrl+C).</summary>
    /// <param name="args">Host arguments, e.g. <c>--urls http://127.0.0.1:5080</c>.</param>
    /// <returns>The exit code.</returns>
    public static int Main(string[] args)
    {
        var app = WebApp.Create(args);
        app.Run();
        return 0;
    }
}
