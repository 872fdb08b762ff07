using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;

namespace LlmSizer.Web.Tests;

/// <summary>A <see cref="FactAttribute"/> that skips when Debian's chromium is not installed (xunit 2 has no runtime
/// skip; .ci/run installs it).</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    /// <summary>Debian's chromium, or the browser named by <c>LLMSIZER_CHROMIUM</c>.</summary>
    public static readonly string Chromium = Environment.GetEnvironmentVariable("LLMSIZER_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Chromium))
        {
            Skip = $"{Chromium} is not installed (apt-get install chromium)";
        }
    }
}

/// <summary>The page in a real browser (Playwright for .NET driving Debian's chromium; nothing is downloaded).</summary>
[Collection(WebHostGroup.Name)]
public sealed class BrowserTests(WebHostFixture host)
{
    private static readonly string ShotsDir = Path.Combine(AppContext.BaseDirectory, "screenshots");

    private sealed class Session : IAsyncDisposable
    {
        public required IPlaywright Playwright { get; init; }

        public required IBrowser Browser { get; init; }

        public List<string> Errors { get; } = [];

        public List<string> Requests { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await Browser.DisposeAsync();
            Playwright.Dispose();
        }
    }

    private static async Task<Session> Launch()
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumFactAttribute.Chromium,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        });
        return new Session { Playwright = playwright, Browser = browser };
    }

    private static async Task<IPage> Open(Session s, IBrowserContext context, string url)
    {
        // Every request is recorded; any that is not for loopback is refused (and fails the test below).
        await context.RouteAsync("**/*", async route =>
        {
            s.Requests.Add(route.Request.Url);
            var uri = new Uri(route.Request.Url);
            if (uri.Host == "127.0.0.1")
            {
                await route.ContinueAsync();
            }
            else
            {
                await route.AbortAsync();
            }
        });
        var page = await context.NewPageAsync();
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
            {
                s.Errors.Add($"{m.Type}: {m.Text}");
            }
        };
        page.PageError += (_, e) => s.Errors.Add("pageerror: " + e);
        await page.GotoAsync(url);
        await Ready(page);
        return page;
    }

    private static Task<IElementHandle?> Ready(IPage page, int? context = null) =>
        page.WaitForSelectorAsync(context is int c ? $"#results[data-state='ready'][data-context='{c}']" : "#results[data-state='ready']",
            new PageWaitForSelectorOptions { Timeout = 30_000 });

    private async Task<JsonElement> Api(string path)
    {
        using var doc = JsonDocument.Parse(await host.Client.GetStringAsync(path));
        return doc.RootElement.Clone();
    }

    private static long Long(string? s) => long.Parse(s!, CultureInfo.InvariantCulture);

    [ChromiumFact]
    public async Task Page_PickModelMoveContext_ChartsEqualTheApi_AndLinkReproducesTheView()
    {
        Directory.CreateDirectory(ShotsDir);
        await using var s = await Launch();
        var light = await s.Browser.NewContextAsync(new BrowserNewContextOptions { ColorScheme = ColorScheme.Light, ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var page = await Open(s, light, new Uri(host.BaseAddress, "/").ToString());

        // Every control has a label
        var unlabelled = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('input, select, textarea')].filter(e => e.labels.length === 0).map(e => e.id)");
        Assert.Empty(unlabelled);

        // Given the model qwen3-8b picked from the catalog search
        await page.Locator("#model").FillAsync("qwen3-8b");
        await page.WaitForSelectorAsync("#title:has-text('qwen3-8b')");
        await Ready(page);
        var before = Long(await page.Locator("#per-gpu").GetAttributeAsync("data-bytes"));

        // When the context slider is moved with the keyboard
        await page.Locator("#context").FocusAsync();
        for (var i = 0; i < 12; i++)
        {
            await page.Keyboard.PressAsync("PageUp");
        }

        var context = int.Parse(await page.Locator("#context").InputValueAsync(), CultureInfo.InvariantCulture);
        Assert.True(context > 4096, $"slider at {context}");
        await Ready(page, context);

        // Then the numbers and the charts are the API's for the same settings
        var gpus = await Api("/api/gpus");
        var h100 = gpus.GetProperty("gpus").EnumerateArray().Single(g => g.GetProperty("id").GetString() == "h100-sxm-80gb");
        var capacity = h100.GetProperty("usable_memory_bytes").GetInt64();
        var memory = await Api($"/api/memory?model=qwen3-8b&context={context}&gpu_memory={capacity}B");
        var perGpu = memory.GetProperty("per_gpu_bytes").GetInt64();
        var shown = Long(await page.Locator("#per-gpu").GetAttributeAsync("data-bytes"));
        Assert.Equal(perGpu, shown);
        Assert.NotEqual(before, shown);
        var segments = await page.Locator("#bar rect.seg").EvaluateAllAsync<long[]>("els => els.map(e => Number(e.dataset.bytes))");
        var onDevice = memory.GetProperty("components").EnumerateArray().Where(c => c.GetProperty("on_device").GetBoolean() && c.GetProperty("per_gpu_bytes").GetInt64() > 0)
            .Select(c => c.GetProperty("per_gpu_bytes").GetInt64()).ToArray();
        Assert.Equal(onDevice, segments);
        var dot = await page.Locator($"#line circle[data-context='{context}']").GetAttributeAsync("data-bytes");
        Assert.Equal(perGpu, Long(dot));
        Assert.Equal(capacity, Long(await page.Locator("#line line.capacity").GetAttributeAsync("data-bytes")));
        var fit = await Api($"/api/max_context?model=qwen3-8b&context={context}&gpu_memory={capacity}B&gpu=h100-sxm-80gb");
        var maxContext = fit.GetProperty("max_context").GetInt32();
        Assert.Equal(maxContext.ToString(CultureInfo.InvariantCulture), await page.Locator("#max-context").GetAttributeAsync("data-tokens"));
        Assert.Equal(maxContext.ToString(CultureInfo.InvariantCulture), await page.Locator("#line line.mark").GetAttributeAsync("data-context"));
        var parameters = await Api("/api/params?model=qwen3-8b");
        Assert.Equal(parameters.GetProperty("parameters").GetProperty("total").GetInt64(), Long(await page.Locator("#param-total").GetAttributeAsync("data-total")));
        // The plans table and the best plan's settings are the API's /api/fit answer for the same workload.
        var plans = await Api($"/api/fit?model=qwen3-8b&context={context}");
        var best = plans.GetProperty("results").EnumerateArray().First(p => p.GetProperty("fit_type").GetString() != "none");
        Assert.True(await page.Locator("#fit tbody tr").CountAsync() > 0);
        Assert.Equal(best.GetProperty("gpu_name").GetString(), await page.Locator("#fit tbody tr").First.Locator("td").First.TextContentAsync());
        Assert.Contains(best.GetProperty("engine_settings").GetProperty("vllm").GetString()!, await page.Locator("#settings").InputValueAsync(), StringComparison.Ordinal);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ShotsDir, "light.png"), FullPage = true });

        // And a shared link reproduces the view in a fresh page
        var link = await page.Locator("#share").GetAttributeAsync("href");
        Assert.Contains("model=qwen3-8b", link, StringComparison.Ordinal);
        var shared = await s.Browser.NewContextAsync(new BrowserNewContextOptions { ColorScheme = ColorScheme.Dark, ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var again = await Open(s, shared, new Uri(host.BaseAddress, link!).ToString());
        await Ready(again, context);
        Assert.Equal("qwen3-8b", await again.Locator("#model").InputValueAsync());
        Assert.Equal(context.ToString(CultureInfo.InvariantCulture), await again.Locator("#context").InputValueAsync());
        Assert.Equal(perGpu, Long(await again.Locator("#per-gpu").GetAttributeAsync("data-bytes")));
        await again.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ShotsDir, "dark.png"), FullPage = true });

        // And a training view (mode, ZeRO, LoRA) goes through the link too
        await again.Locator("#mode").SelectOptionAsync("training");
        await again.Locator("#lora_rank").FillAsync("16");
        await again.Locator("#lora_rank").DispatchEventAsync("change");
        await again.WaitForFunctionAsync("() => location.search.includes('lora_rank=16')");
        await Ready(again);
        var trainingLink = await again.Locator("#share").GetAttributeAsync("href");
        var training = await Api($"/api/memory?model=qwen3-8b&mode=training&context={context}&lora_rank=16&gpu_memory={capacity}B");
        Assert.Contains("mode=training", trainingLink, StringComparison.Ordinal);
        Assert.Equal(training.GetProperty("per_gpu_bytes").GetInt64(), Long(await again.Locator("#per-gpu").GetAttributeAsync("data-bytes")));

        // And on a phone the page fits the width
        var phone = await s.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ColorScheme = ColorScheme.Light, ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2,
        });
        var small = await Open(s, phone, new Uri(host.BaseAddress, link!).ToString());
        await Ready(small, context);
        var overflow = await small.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > window.innerWidth + 1");
        Assert.False(overflow, "the page scrolls sideways at 390 px");
        await small.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ShotsDir, "phone.png"), FullPage = true });

        // And a pasted config.json is sized like a catalog model (GPT-2 small: 124,439,808 parameters)
        await small.Locator("#config-box summary").ClickAsync();
        await small.Locator("#config").FillAsync("""{"model_type":"gpt2","n_layer":12,"n_embd":768,"n_head":12,"vocab_size":50257,"n_positions":1024}""");
        await small.Locator("#use-config").ClickAsync();
        await small.WaitForSelectorAsync("#param-total[data-total='124439808']");
        await Ready(small);
        Assert.StartsWith("config:", await small.Locator("#title").InnerTextAsync(), StringComparison.Ordinal);

        // And nothing left loopback, and the console stayed clean
        Assert.All(s.Requests, u => Assert.Equal("127.0.0.1", new Uri(u).Host));
        Assert.Empty(s.Errors);

        // And a value the API refuses is shown next to its control, named as the API names it
        await page.Locator("#tensor_parallel").FillAsync("0");
        await page.Locator("#tensor_parallel").DispatchEventAsync("change");
        await page.WaitForSelectorAsync("#results[data-state='error']");
        Assert.StartsWith("tensor_parallel:", await page.Locator("#error").InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("true", await page.Locator("#tensor_parallel").GetAttributeAsync("aria-invalid"));
    }

    [ChromiumFact]
    public async Task SeedPage_ShowsThePostsNumbersAndErrata()
    {
        await using var s = await Launch();
        var context = await s.Browser.NewContextAsync();
        await context.RouteAsync("**/*", async route =>
        {
            s.Requests.Add(route.Request.Url);
            await (new Uri(route.Request.Url).Host == "127.0.0.1" ? route.ContinueAsync() : route.AbortAsync());
        });
        var page = await context.NewPageAsync();
        page.Console += (_, m) => { if (m.Type == "error") { s.Errors.Add(m.Text); } };
        await page.GotoAsync(new Uri(host.BaseAddress, "/seed").ToString());
        await page.WaitForSelectorAsync("#seed[data-state='ready']");
        var text = await page.Locator("#seed").InnerTextAsync();
        var seed = await Api("/api/seed");
        Assert.Contains("61,423,616", text, StringComparison.Ordinal);
        Assert.Contains("60,637,184", text, StringComparison.Ordinal);
        Assert.Contains("3,932,160", text, StringComparison.Ordinal);
        Assert.Equal(seed.GetProperty("errata").GetArrayLength(), await page.Locator("#errata li").CountAsync());
        Assert.Contains(seed.GetProperty("exact").GetProperty("tied").GetProperty("total").GetInt64().ToString("N0", CultureInfo.InvariantCulture), text, StringComparison.Ordinal);
        Assert.Empty(s.Errors);
        Assert.All(s.Requests, u => Assert.Equal("127.0.0.1", new Uri(u).Host));
    }
}
