using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LlmSizer.Web.Tests;

public sealed class LimiterTests
{
    [Fact]
    public async Task ConcurrencyLimiter_OnePermitNoQueue_RejectsWith429Problem()
    {
        // Given a host that runs one estimate at a time and queues none
        await using var app = WebApp.Create(["--urls", "http://127.0.0.1:0", "--LlmSizer:MaxConcurrent=1", "--LlmSizer:QueueLimit=0"]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient { BaseAddress = new Uri(address) };

        // When many slow requests (DeepSeek-V3's ~90k-tensor list) arrive at once
        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ =>
            client.GetAsync("/api/params?model=deepseek-v3&tensors=true")));

        // Then some are refused with a problem-details 429, and cheap endpoints are not limited
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        Assert.Equal("application/problem+json", refused[0].Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        await app.StopAsync();
    }
}
