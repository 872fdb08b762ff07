using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LlmSizer.Cli;

namespace LlmSizer.Web.Tests;

public sealed class ServeCommandTests
{
    [Theory]
    [InlineData("ftp://127.0.0.1:1")]
    [InlineData("not a url")]
    public void Serve_BadUrl_IsUsageError(string url)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = LlmSizeApp.Run(["serve", "--urls", url], stdout, stderr, 120);
        Assert.Equal(2, code);
        Assert.Contains("--urls", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_StartsTheHostAsAChild_AndStopsItOnSigterm()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // Given a free loopback port and the llmsize.dll next to llmsize-web.dll (both in this test's output)
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "llmsize.dll"));
        start.ArgumentList.Add("serve");
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        using var cli = Process.Start(start)!;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };

        // When it is up
        string? health = null;
        for (var i = 0; i < 100 && health is null; i++)
        {
            try
            {
                health = await client.GetStringAsync("/healthz");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(200);
            }
        }

        // Then it serves, and a SIGTERM to llmsize stops the host and llmsize with it
        Assert.Equal("ok", health);
        using (var kill = Process.Start("kill", ["-TERM", cli.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await cli.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, cli.ExitCode);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("/healthz"));
    }
}
