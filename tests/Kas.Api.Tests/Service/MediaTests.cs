using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>Kas.Api with a real redis-server for media sessions.</summary>
public sealed class MediaHostFixture : IAsyncLifetime
{
    internal TestIdentity Identity { get; } = new();

    internal RedisServer Redis { get; private set; } = null!;

    internal KasHost Host { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Redis = await RedisServer.StartAsync(ct: ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        var configuration = Identity.Configuration();
        configuration["ConnectionStrings:redis"] = Redis.ConnectionString;
        configuration["MAX_CONCURRENT_STREAMS"] = "5";
        configuration["MEDIA_RENTAL_WINDOW_HOURS"] = "0.00002";
        Host = await KasHost.StartAsync(configuration, ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.DisposeAsync();
        }
        finally
        {
            await Redis.DisposeAsync();
            Identity.Dispose();
        }
    }
}

[Trait("Category", "Service")]
public sealed class MediaTests(MediaHostFixture fixture) : IClassFixture<MediaHostFixture>
{
    private const string Secret = "https://example.com/attr/media/value/premium";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Session_lifecycle_start_key_request_heartbeat_end()
    {
        var user = "user-" + Guid.NewGuid();
        var token = fixture.Identity.AccessToken(user, entitlements: [Secret]);
        using var client = new TestClient();
        var nano = fixture.Identity.CreateNanoTdf(TestIdentity.Policy([Secret]));

        var (startStatus, start) = await Send(HttpMethod.Post, "/media/v1/session/start", token, new JsonObject { ["assetId"] = "movie-1" });
        var sessionId = start!["sessionId"]!.GetValue<string>();
        var (keyStatus, key) = await Send(HttpMethod.Post, "/media/v1/key-request", token, new JsonObject
        {
            ["sessionId"] = sessionId, ["segmentIndex"] = 3, ["clientPublicKey"] = client.ClientPublicKeyPem,
            ["nanotdfHeader"] = Convert.ToBase64String(nano.Header.Bytes),
        });
        var (beatStatus, beat) = await Send(HttpMethod.Post, $"/media/v1/session/{Uri.EscapeDataString(sessionId)}/heartbeat", token, new JsonObject { ["state"] = "paused" });
        await using var redis = new RedisConnection(fixture.Redis.ConnectionString);
        var ttl = await redis.TimeToLiveAsync("kas:media:session:" + sessionId, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var (endStatus, _) = await Send(HttpMethod.Delete, $"/media/v1/session/{Uri.EscapeDataString(sessionId)}", token);
        var (afterEnd, error) = await Send(HttpMethod.Post, $"/media/v1/session/{Uri.EscapeDataString(sessionId)}/heartbeat", token, new JsonObject());

        Assert.Equal(HttpStatusCode.OK, startStatus);
        Assert.StartsWith(user + ":movie-1:", sessionId, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, keyStatus);
        Assert.Equal("success", key!["status"]!.GetValue<string>());
        Assert.Equal(3, key["metadata"]!["segment_index"]!.GetValue<long>());
        Assert.Equal(nano.Dek, client.Unwrap(key["sessionPublicKey"]!.GetValue<string>(), key["wrappedKey"]!.GetValue<string>(), 16));
        Assert.Equal(HttpStatusCode.OK, beatStatus);
        Assert.Equal("ok", beat!["status"]!.GetValue<string>());
        Assert.InRange(ttl!.Value.TotalSeconds, 290, 300);
        Assert.Equal(HttpStatusCode.NoContent, endStatus);
        Assert.Equal(HttpStatusCode.NotFound, afterEnd);
        Assert.Equal("session_not_found", error!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Twenty_parallel_starts_admit_exactly_the_limit()
    {
        var token = fixture.Identity.AccessToken("user-" + Guid.NewGuid());

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Send(HttpMethod.Post, "/media/v1/session/start", token, new JsonObject { ["assetId"] = $"asset-{i}" })));

        Assert.Equal(5, results.Count(r => r.Status == HttpStatusCode.OK));
        Assert.Equal(15, results.Count(r => r.Status == HttpStatusCode.TooManyRequests));
        Assert.All(results.Where(r => r.Status == HttpStatusCode.TooManyRequests), r => Assert.Equal("concurrency_limit", r.Json!["error"]!.GetValue<string>()));

        var ended = results.First(r => r.Status == HttpStatusCode.OK).Json!["sessionId"]!.GetValue<string>();
        await Send(HttpMethod.Delete, $"/media/v1/session/{Uri.EscapeDataString(ended)}", token);
        var (again, _) = await Send(HttpMethod.Post, "/media/v1/session/start", token, new JsonObject { ["assetId"] = "asset-again" });
        Assert.Equal(HttpStatusCode.OK, again);
    }

    [Fact]
    public async Task Sessions_belong_to_the_token_subject()
    {
        var owner = fixture.Identity.AccessToken("owner-" + Guid.NewGuid());
        var other = fixture.Identity.AccessToken("other-" + Guid.NewGuid());
        var (startStatus, start) = await Send(HttpMethod.Post, "/media/v1/session/start", owner, new JsonObject { ["assetId"] = "a" });
        Assert.True(startStatus == HttpStatusCode.OK, $"{startStatus} {start}");
        var id = Uri.EscapeDataString(start!["sessionId"]!.GetValue<string>());

        var (foreignBeat, _) = await Send(HttpMethod.Post, $"/media/v1/session/{id}/heartbeat", other, new JsonObject());
        var (foreignEnd, _) = await Send(HttpMethod.Delete, $"/media/v1/session/{id}", other);
        var (spoofed, _) = await Send(HttpMethod.Post, "/media/v1/session/start", other, new JsonObject { ["assetId"] = "a", ["userId"] = "someone-else" });
        var (anonymous, anonymousBody) = await Send(HttpMethod.Post, "/media/v1/session/start", null, new JsonObject { ["assetId"] = "a" });
        var (noAsset, _) = await Send(HttpMethod.Post, "/media/v1/session/start", owner, new JsonObject());

        Assert.Equal(HttpStatusCode.Forbidden, foreignBeat);
        Assert.Equal(HttpStatusCode.Forbidden, foreignEnd);
        Assert.Equal(HttpStatusCode.Forbidden, spoofed);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous);
        Assert.Equal("authentication_failed", anonymousBody!["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, noAsset);
    }

    [Fact]
    public async Task Key_request_applies_the_policy_and_the_rental_window()
    {
        var user = "renter-" + Guid.NewGuid();
        var token = fixture.Identity.AccessToken(user, entitlements: [Secret]);
        using var client = new TestClient();
        var allowed = fixture.Identity.CreateNanoTdf(TestIdentity.Policy([Secret]));
        var denied = fixture.Identity.CreateNanoTdf(TestIdentity.Policy(["https://example.com/attr/media/value/other"]));
        var (_, start) = await Send(HttpMethod.Post, "/media/v1/session/start", token, new JsonObject { ["assetId"] = "rental-1" });
        var id = start!["sessionId"]!.GetValue<string>();
        JsonObject Body(byte[] header) => new()
        {
            ["sessionId"] = id, ["clientPublicKey"] = client.ClientPublicKeyPem, ["nanotdfHeader"] = Convert.ToBase64String(header),
        };

        var (deniedStatus, deniedBody) = await Send(HttpMethod.Post, "/media/v1/key-request", token, Body(denied.Header.Bytes));
        var (beforePlay, _) = await Send(HttpMethod.Post, "/media/v1/key-request", token, Body(allowed.Header.Bytes));
        await Send(HttpMethod.Post, $"/media/v1/session/{Uri.EscapeDataString(id)}/heartbeat", token, new JsonObject { ["state"] = "playing" });
        await Task.Delay(TimeSpan.FromMilliseconds(200), Ct);
        var (afterWindow, afterBody) = await Send(HttpMethod.Post, "/media/v1/key-request", token, Body(allowed.Header.Bytes));
        var (fairplay, _) = await Send(HttpMethod.Post, "/media/v1/key-request", token, new JsonObject { ["sessionId"] = id, ["spcData"] = "AAAA" });

        Assert.Equal(HttpStatusCode.Forbidden, deniedStatus);
        Assert.Equal("policy_denied", deniedBody!["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, beforePlay);
        Assert.Equal(HttpStatusCode.Forbidden, afterWindow);
        Assert.Contains("rental window", afterBody!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotImplemented, fairplay);
    }

    private async Task<(HttpStatusCode Status, JsonNode? Json)> Send(HttpMethod method, string path, string? bearer, JsonObject? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await fixture.Host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
