using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.FileProviders;

namespace LlmSizer.Web;

/// <summary>Builds the <c>llmsize-web</c> host: the JSON API (<see cref="ApiEndpoints"/>), the static page, the
/// security headers and the limits.</summary>
public static class WebApp
{
    /// <summary>The address used when none is given: loopback only.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5080";

    /// <summary>The largest request body accepted (1 MiB).</summary>
    public const long MaxBodyBytes = 1024 * 1024;

    /// <summary>The name of the concurrency-limit policy on the endpoints that compute.</summary>
    public const string ExpensivePolicy = "expensive";

    /// <summary>The Content-Security-Policy of every response: our own scripts and styles only, no inline code, no
    /// framing, and requests only to this origin.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>Creates the host.</summary>
    /// <param name="args">Command-line arguments (<c>--urls</c>, any ASP.NET Core setting).</param>
    /// <param name="configure">Tests: extra endpoints, mapped after the API's.</param>
    /// <returns>The application, not yet started.</returns>
    public static WebApplication Create(string[] args, Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // The page ships next to the executable, wherever it is started from.
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
            EnvironmentName = Environments.Production,
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = MaxBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.MaxRequestLineSize = 8 * 1024;
        });
        builder.Services.AddProblemDetails();
        // The OpenAPI schemas are generated with these options: make them name fields as the contract does.
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "LlmSizer API";
            doc.Info.Description = "Exact LLM parameter counts and GPU memory estimates; the same JSON as `llmsize ... --json`.";
            return Task.CompletedTask;
        }));
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // Estimates are CPU-bound: a few run at once, the rest wait in a bounded queue, beyond it 429.
            var permits = builder.Configuration.GetValue("LlmSizer:MaxConcurrent", Math.Max(4, Environment.ProcessorCount * 2));
            var queue = builder.Configuration.GetValue("LlmSizer:QueueLimit", 256);
            o.AddConcurrencyLimiter(ExpensivePolicy, c =>
            {
                c.PermitLimit = Math.Clamp(permits, 1, 1024);
                c.QueueLimit = Math.Clamp(queue, 0, 100_000);
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            o.OnRejected = (ctx, ct) => new ValueTask(Problems.Write(ctx.HttpContext, StatusCodes.Status429TooManyRequests,
                "Too many requests", "The server is busy computing other estimates; retry shortly.", null));
        });

        var app = builder.Build();

        app.Use(SecurityHeaders);
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Never the exception's text or stack: a fixed message (the error is logged on the server).
            ExceptionHandler = ctx => Problems.Write(ctx, StatusCodes.Status500InternalServerError, "Internal error",
                "The server could not complete the request.", null),
        });
        app.UseStatusCodePages(ctx => ctx.HttpContext.Response.HasStarted
            ? Task.CompletedTask
            : Problems.Write(ctx.HttpContext, ctx.HttpContext.Response.StatusCode, StatusTitle(ctx.HttpContext.Response.StatusCode), null, null));
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(app.Environment.WebRootPath),
            OnPrepareResponse = f => f.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.UseRateLimiter();
        app.MapOpenApi();
        ApiEndpoints.Map(app);
        configure?.Invoke(app);
        return app;
    }

    private static string StatusTitle(int status) => status switch
    {
        404 => "Not found",
        405 => "Method not allowed",
        413 => "Request body too large",
        415 => "Unsupported media type",
        _ => "Error",
    };

    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var h = context.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
        h["Cross-Origin-Resource-Policy"] = "same-origin";
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()";
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            h.CacheControl = "no-store";
        }

        return next();
    }
}
