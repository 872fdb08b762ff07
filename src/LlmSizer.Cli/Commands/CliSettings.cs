using System.CommandLine;
using LlmSizer.Errors;
using LlmSizer.Memory;

namespace LlmSizer.Cli.Commands;

/// <summary>The CLI's vocabulary for the core's logical settings: the flag that sets each one, so an error about
/// <c>tensor_parallel</c> reads <c>--tp: …</c> on the command line.</summary>
internal static class CliSettings
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        [SettingNames.TensorParallel] = "--tp",
        [SettingNames.PipelineParallel] = "--pp",
        [SettingNames.ZeroStage] = "--zero",
        [SettingNames.GpuUtilization] = "--gpu-util",
        [SettingNames.MaxMultimodalTokens] = "--max-mm-tokens",
        [SettingNames.FlashAttention] = "--flash-attn",
        [SettingNames.Attention] = "--attn",
        [SettingNames.GradientAccumulation] = "--grad-accum",
        [SettingNames.Model] = "MODEL",
    };

    /// <summary>The flag of a logical setting (<c>kv_dtype</c> → <c>--kv-dtype</c>).</summary>
    /// <param name="setting">The logical setting.</param>
    /// <returns>The flag.</returns>
    public static string FlagOf(string setting) =>
        Flags.TryGetValue(setting, out var flag) ? flag : "--" + setting.Replace('_', '-');

    /// <summary>The one-line message of a setting error, in the CLI's vocabulary.</summary>
    /// <param name="ex">The error.</param>
    /// <returns>The message.</returns>
    public static string Message(InvalidSettingException ex) => FlagOf(ex.Setting) + ": " + ex.Detail;

    /// <summary>An option whose value is read as text and parsed by the core (a bad value is exit 1 naming the flag,
    /// like a bad config field, rather than a usage error).</summary>
    /// <param name="name">The flag.</param>
    /// <param name="description">The help text.</param>
    /// <param name="helpName">The value's placeholder.</param>
    /// <returns>The option.</returns>
    public static Option<string?> Text(string name, string description, string helpName) => new(name) { Description = description, HelpName = helpName };

    /// <summary>A switch: "true" when present, null when absent (the core's boolean text).</summary>
    /// <param name="parseResult">The parse result.</param>
    /// <param name="option">The switch.</param>
    /// <returns>"true" or null.</returns>
    public static string? Switch(ParseResult parseResult, Option<bool> option) => parseResult.GetValue(option) ? "true" : null;
}
