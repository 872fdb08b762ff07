using System.Globalization;

namespace LlmSizer.Mcp;

/// <summary>What the server was started with: the folders a tool may read, and the per-call limits.</summary>
internal sealed record ServerSettings
{
    /// <summary>The default wall-clock limit of one tool call.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Folders (full, links resolved) under which a <c>model</c> path may be read. Empty: every path is refused.</summary>
    public IReadOnlyList<string> AllowedRoots { get; init; } = [];

    /// <summary><c>--allow-hub</c> was given: <c>hf:</c> ids and http(s) URLs of checkpoint files are read through
    /// LlmSizer.Hub (configs and headers only). Without it they are refused and the server uses no network.</summary>
    public bool AllowHub { get; init; }

    /// <summary>The wall-clock limit of one tool call.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>How many tool calls compute at once; later calls wait (inside their timeout).</summary>
    public int MaxConcurrent { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>The usage text.</summary>
    public const string Usage =
        "usage: llmsize-mcp [--allow-path DIR]... [--allow-hub] [--timeout SECONDS]\n" +
        "An MCP server on stdio (JSON-RPC on stdin/stdout; diagnostics on stderr) with the tools params, memory, fit, gpus, models.\n" +
        "  --allow-path DIR   let the model argument name files or folders under DIR (repeatable; default: no paths at all)\n" +
        "  --allow-hub        read hf: ids and http(s) URLs from the Hugging Face Hub (configs and headers only; HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE)\n" +
        "  --timeout SECONDS  wall-clock limit of one tool call (default 30, at most 600)\n";

    /// <summary>Parses the command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The settings, or an error message (null settings) for a bad argument; <c>Help</c> is true for --help.</returns>
    public static (ServerSettings? Settings, string? Error, bool Help) Parse(IReadOnlyList<string> args)
    {
        var roots = new List<string>();
        bool hub = false;
        var timeout = DefaultTimeout;
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            switch (arg)
            {
                case "-h" or "--help":
                    return (null, null, true);
                case "--allow-hub":
                    hub = true;
                    break;
                case "--allow-path" or "--timeout" when i + 1 >= args.Count:
                    return (null, $"{arg}: expected a value; found none.", false);
                case "--allow-path":
                    var dir = args[++i];
                    if (!Directory.Exists(dir))
                    {
                        return (null, $"--allow-path: expected an existing folder; found '{dir}'.", false);
                    }

                    roots.Add(PathPolicy.RealPath(Path.GetFullPath(dir)));
                    break;
                case "--timeout":
                    if (!double.TryParse(args[++i], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) || !(s > 0 && s <= 600))
                    {
                        return (null, $"--timeout: expected seconds between 0 and 600; found '{args[i]}'.", false);
                    }

                    timeout = TimeSpan.FromSeconds(s);
                    break;
                default:
                    return (null, $"unknown argument '{arg}'.", false);
            }
        }

        return (new ServerSettings { AllowedRoots = roots, AllowHub = hub, Timeout = timeout }, null, false);
    }
}
