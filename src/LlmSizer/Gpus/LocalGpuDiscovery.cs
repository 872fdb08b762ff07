using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace LlmSizer.Gpus;

/// <summary>How local discovery looks for and runs the vendor tools.</summary>
public sealed record LocalGpuDiscoveryOptions
{
    /// <summary>The directories searched for nvidia-smi and rocm-smi, in order; null means the PATH environment
    /// variable. Tests inject a folder holding a fake tool instead of changing the process environment.</summary>
    public IReadOnlyList<string>? SearchDirectories { get; init; }

    /// <summary>How long one tool may run before it is killed (default 10 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The most stdout characters read from one tool before it is killed (default 1,048,576).</summary>
    public int MaxOutputChars { get; init; } = 1 << 20;

    /// <summary>The meminfo file to read, or null to skip host memory (default /proc/meminfo; skipped when absent).</summary>
    public string? MemInfoPath { get; init; } = "/proc/meminfo";
}

/// <summary>Finds the GPUs of this machine by running <c>nvidia-smi</c> and <c>rocm-smi</c> from the search path, with a
/// timeout and bounded output, and reads host memory from /proc/meminfo.</summary>
/// <remarks>A tool that is not installed is a note, not an error; a tool that fails, hangs, floods its output or prints
/// something unexpected is a one-line <see cref="GpuDiscoveryException"/>. Cards are reported one by one, never summed.</remarks>
public static class LocalGpuDiscovery
{
    /// <summary>The nvidia-smi arguments used.</summary>
    public static readonly IReadOnlyList<string> NvidiaSmiArguments = [Fit.EngineCommandLines.Flag("nvidia_smi", "query"), Fit.EngineCommandLines.Flag("nvidia_smi", "format")];

    /// <summary>The rocm-smi arguments used.</summary>
    public static readonly IReadOnlyList<string> RocmSmiArguments =
        [Fit.EngineCommandLines.Flag("rocm_smi", "product"), Fit.EngineCommandLines.Flag("rocm_smi", "memory"), "vram", Fit.EngineCommandLines.Flag("rocm_smi", "json")];

    private const int MaxStderrChars = 4096;

    private static readonly (string Tool, IReadOnlyList<string> Arguments, Func<string, IReadOnlyList<LocalGpu>> Parse)[] Tools =
    [
        ("nvidia-smi", NvidiaSmiArguments, NvidiaSmiParser.Parse),
        ("rocm-smi", RocmSmiArguments, RocmSmiParser.Parse),
    ];

    /// <summary>Runs the tools found and reads host memory.</summary>
    /// <param name="options">Where to look and the limits; null for the defaults.</param>
    /// <returns>The GPUs (NVIDIA, then AMD), host memory, and notes on tools not found (or failing while the other
    /// tool found GPUs).</returns>
    /// <exception cref="GpuDiscoveryException">No GPU was found and a tool could not start, exited with an error, ran
    /// past the timeout, printed more than the limit or printed unexpected output; or the meminfo file is malformed.</exception>
    public static LocalGpuReport Discover(LocalGpuDiscoveryOptions? options = null)
    {
        options ??= new LocalGpuDiscoveryOptions();
        var dirs = options.SearchDirectories ?? PathDirectories();
        var gpus = new List<LocalGpu>();
        var notes = new List<string>();

        // A tool that fails is an error only when no tool found a GPU: a broken rocm-smi on an NVIDIA machine (or the
        // reverse) must not hide the cards the other tool reported. Otherwise the failure is kept as a note.
        var failures = new List<GpuDiscoveryException>();
        foreach (var (tool, args, parse) in Tools)
        {
            var executable = FindExecutable(tool, dirs);
            if (executable is null)
            {
                notes.Add($"{tool}: not found on the search path.");
                continue;
            }

            try
            {
                var output = Run(tool, executable, args, options, out var exitCode);

                // nvidia-smi exits 6 and prints "No devices were found" when the driver sees no GPU.
                if (output.Contains("No devices were found", StringComparison.OrdinalIgnoreCase))
                {
                    notes.Add($"{tool}: no devices were found.");
                }
                else if (exitCode != 0)
                {
                    throw ExitError(tool, exitCode, output);
                }
                else
                {
                    gpus.AddRange(parse(output));
                }
            }
            catch (GpuDiscoveryException ex)
            {
                failures.Add(ex);
            }
        }

        if (failures.Count > 0 && gpus.Count == 0)
        {
            throw failures[0];
        }

        notes.AddRange(failures.Select(f => f.Message + " (ignored: another tool found GPUs)"));

        HostMemory? host = null;
        if (options.MemInfoPath is { } path && File.Exists(path))
        {
            string text;
            try
            {
                text = ReadBoundedFile(path, MemInfoParser.MaxChars);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw GpuErrorMessages.Failed(path, "cannot be read (" + ex.GetType().Name + ")", ex);
            }

            host = MemInfoParser.Parse(text);
        }

        return new LocalGpuReport { Gpus = gpus, HostMemory = host, Notes = notes };
    }

    /// <summary>Finds an executable file by name in the given directories (on Windows also with ".exe").</summary>
    /// <param name="name">The file name, e.g. "nvidia-smi".</param>
    /// <param name="directories">The directories, searched in order; empty or relative entries are skipped.</param>
    /// <returns>The full path, or null when none holds it.</returns>
    public static string? FindExecutable(string name, IEnumerable<string> directories)
    {
        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name } : [name];
        foreach (var dir in directories)
        {
            if (string.IsNullOrWhiteSpace(dir) || !Path.IsPathFullyQualified(dir))
            {
                continue;
            }

            foreach (var n in names)
            {
                var candidate = Path.Combine(dir, n);
                if (File.Exists(candidate) && (OperatingSystem.IsWindows() || IsExecutable(candidate)))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static bool IsExecutable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return (File.GetUnixFileMode(path) & anyExecute) != 0;
    }

    private static string[] PathDirectories() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    private static string Run(string tool, string path, IReadOnlyList<string> arguments, LocalGpuDiscoveryOptions options, out int exitCode)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or IOException)
        {
            throw GpuErrorMessages.Failed(tool, $"cannot be started from {GpuErrorMessages.Quote(path)} ({ex.Message.Split('\n')[0].Trim()})", ex);
        }

        process.StandardInput.Close();
        var stopwatch = Stopwatch.StartNew();
        var stdout = Task.Run(() => ReadBounded(process.StandardOutput, options.MaxOutputChars));
        var stderr = Task.Run(() => ReadBounded(process.StandardError, MaxStderrChars));
        try
        {
            if (!stdout.Wait(options.Timeout))
            {
                Kill(process);
                throw GpuErrorMessages.Failed(tool, $"did not finish within {options.Timeout.TotalSeconds:0.#} s and was stopped");
            }

            var (text, overflow) = stdout.Result;
            if (overflow)
            {
                Kill(process);
                throw GpuErrorMessages.Failed(tool, $"printed more than {GpuErrorMessages.N(options.MaxOutputChars)} characters and was stopped");
            }

            var left = options.Timeout - stopwatch.Elapsed;
            if (!process.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero))
            {
                Kill(process);
                throw GpuErrorMessages.Failed(tool, $"did not finish within {options.Timeout.TotalSeconds:0.#} s and was stopped");
            }

            exitCode = process.ExitCode;
            if (exitCode != 0 && stderr.Wait(TimeSpan.FromSeconds(1)) && stderr.Result.Text.Trim().Length > 0)
            {
                text = stderr.Result.Text + "\n" + text;
            }

            return text;
        }
        finally
        {
            // The readers end once the pipes close (the process and its children are gone).
            Kill(process);
        }
    }

    private static (string Text, bool Overflow) ReadBounded(StreamReader reader, int maxChars)
    {
        var sb = new StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = reader.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (sb.Length + read > maxChars)
            {
                sb.Append(buffer, 0, Math.Max(0, maxChars - sb.Length));
                return (sb.ToString(), true);
            }

            sb.Append(buffer, 0, read);
        }

        return (sb.ToString(), false);
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone, or not ours to stop: nothing more to do.
        }
    }

    private static GpuDiscoveryException ExitError(string tool, int exitCode, string output)
    {
        var first = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);
        return GpuErrorMessages.Failed(tool, first is null
            ? $"exited with code {exitCode} and printed nothing"
            : $"exited with code {exitCode}: {GpuErrorMessages.Quote(first)}");
    }

    private static string ReadBoundedFile(string path, int maxChars)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var (text, overflow) = ReadBounded(reader, maxChars);
        if (overflow)
        {
            throw GpuErrorMessages.Output(path, "text", $"at most {GpuErrorMessages.N(maxChars)} characters", "more");
        }

        return text;
    }
}
