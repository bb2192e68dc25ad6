using System.Net;
using System.Net.Http.Headers;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Service;

[Trait("Category", "Service")]
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Local_limit_answers_429_with_retry_after_per_identity()
    {
        using var identity = new TestIdentity();
        var configuration = identity.Configuration();
        configuration["KAS_RATE_LIMIT"] = "5";
        await using var host = await KasHost.StartAsync(configuration, Ct);

        var alice = await BurstAsync(host, identity.AccessToken("alice"), 12);
        var bob = await BurstAsync(host, identity.AccessToken("bob"), 3);

        Assert.InRange(alice.Count(r => r.Status == HttpStatusCode.OK), 5, 6);
        var refused = alice.First(r => r.Status == HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(refused.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.All(bob, r => Assert.Equal(HttpStatusCode.OK, r.Status));
    }

    [Fact]
    public async Task Redis_limit_is_shared_by_two_instances()
    {
        await using var redis = await RedisServer.StartAsync(ct: Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        using var identity = new TestIdentity();
        var configuration = identity.Configuration();
        configuration["KAS_RATE_LIMIT"] = "6";
        configuration["ConnectionStrings:redis"] = redis.ConnectionString;
        await using var first = await KasHost.StartAsync(configuration, Ct);
        await using var second = await KasHost.StartAsync(configuration, Ct);
        var token = identity.AccessToken("carol");

        // Align to the start of a one-second window so the burst falls in one window.
        await Task.Delay(1000 - DateTimeOffset.UtcNow.Millisecond + 20, Ct);
        var results = (await Task.WhenAll(BurstAsync(first, token, 6), BurstAsync(second, token, 6))).SelectMany(r => r).ToList();

        Assert.Equal(6, results.Count(r => r.Status == HttpStatusCode.OK));
        Assert.Equal(6, results.Count(r => r.Status == HttpStatusCode.TooManyRequests));
        Assert.All(results.Where(r => r.Status == HttpStatusCode.TooManyRequests), r => Assert.NotNull(r.RetryAfter));
    }

    private static async Task<List<(HttpStatusCode Status, string? RetryAfter)>> BurstAsync(KasHost host, string token, int count)
    {
        var results = new List<(HttpStatusCode, string?)>();
        for (var i = 0; i < count; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/kas/v2/kas_public_key");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            results.Add((response.StatusCode, response.Headers.TryGetValues("Retry-After", out var values) ? values.First() : null));
        }

        return results;
    }
}
