using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlmSizer.Web.Tests;

/// <summary>The real host (Kestrel) on 127.0.0.1 with a free port, plus one test-only endpoint that throws, so the
/// error path is exercised without a mock.</summary>
public sealed class WebHostFixture : IAsyncLifetime
{
    /// <summary>The path of the endpoint that throws an exception whose message must never reach a response.</summary>
    public const string ThrowPath = "/test/throw";

    /// <summary>The secret text of the forced exception.</summary>
    public const string SecretMessage = "SECRET-INTERNAL-DETAIL";

    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = WebApp.Create(["--urls", "http://127.0.0.1:0"], app =>
            app.MapGet(ThrowPath, (HttpContext _) => ThrowIt()));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private static IResult ThrowIt() => throw new InvalidOperationException(SecretMessage);
}

[CollectionDefinition(Name)]
public sealed class WebHostGroup : ICollectionFixture<WebHostFixture>
{
    public const string Name = "web host";
}
