using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Nats;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>
/// A real nats-server, Kas.Api connected to it, and a stand-in for Membership.Worker answering
/// <c>catbird.membership.check</c> from a fixed member list (rooms named <c>silent-*</c> get no answer).
/// </summary>
public sealed class MembershipFixture : IAsyncLifetime
{
    public const string Prefix = "https://catbird.test/attr/convo/value/";

    private readonly CancellationTokenSource _stop = new();
    private Task? _responder;

    internal TestIdentity Identity { get; } = new();

    internal NatsServer Nats { get; private set; } = null!;

    internal KasHost Host { get; private set; } = null!;

    internal NatsConnection Client { get; private set; } = null!;

    /// <summary>room → members.</summary>
    internal Dictionary<string, string[]> Members { get; } = new()
    {
        ["c1"] = ["did:plc:alice", "alice"],
        ["c2"] = ["bob"],
    };

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Nats = await NatsServer.StartAsync(ct: ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        Client = new NatsConnection(Nats.Url);
        await Client.ConnectAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        var subscription = await Client.SubscribeAsync("catbird.membership.check", ct: ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        await Client.FlushAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        _responder = AnswerAsync(subscription, _stop.Token);
        var configuration = Identity.Configuration(Prefix);
        configuration["ConnectionStrings:nats"] = Nats.Url;
        configuration["KAS_MEMBERSHIP_TIMEOUT_MS"] = "400";
        Host = await KasHost.StartAsync(configuration, ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stop.CancelAsync();
            if (_responder is not null)
            {
                await _responder.WaitAsync(TimeSpan.FromSeconds(10));
            }

            await Host.DisposeAsync();
        }
        finally
        {
            try
            {
                await Client.DisposeAsync();
            }
            catch (ObjectDisposedException)
            {
                // See KasHost.DisposeAsync.
            }
            finally
            {
                await Nats.DisposeAsync();
                Identity.Dispose();
            }
        }
    }

    private async Task AnswerAsync(NatsSubscription subscription, CancellationToken ct)
    {
        await using var _ = subscription;
        try
        {
            await foreach (var message in subscription.ReadAllAsync(ct))
            {
                var request = JsonNode.Parse(message.Data.Span)!;
                var room = request["room"]!.GetValue<string>();
                if (room.StartsWith("silent-", StringComparison.Ordinal))
                {
                    continue;
                }

                var member = Members.TryGetValue(room, out var list) && list.Contains(request["subject"]!.GetValue<string>());
                var reply = new JsonObject { ["member"] = member, ["epoch"] = 7 }.ToJsonString();
                await message.ReplyAsync(System.Text.Encoding.UTF8.GetBytes(reply), ct: ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

[Trait("Category", "Service")]
public sealed class MembershipTests(MembershipFixture fixture) : IClassFixture<MembershipFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("alice", "c1", HttpStatusCode.OK)]
    [InlineData("did:plc:alice", "c1", HttpStatusCode.OK)]
    [InlineData("bob", "c1", HttpStatusCode.Forbidden)]
    [InlineData("bob", "c2", HttpStatusCode.OK)]
    [InlineData("alice", "unknown-room", HttpStatusCode.Forbidden)]
    public async Task Conversation_attributes_are_decided_by_membership(string subject, string room, HttpStatusCode expected)
    {
        var (status, _) = await RewrapAsync(subject, [MembershipFixture.Prefix + room]);

        Assert.Equal(expected, status);
    }

    [Fact]
    public async Task No_answer_within_the_timeout_denies()
    {
        var started = DateTime.UtcNow;
        var (status, json) = await RewrapAsync("alice", [MembershipFixture.Prefix + "silent-1"]);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("could not be confirmed", json!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Every_attribute_must_hold_membership_and_entitlements()
    {
        var other = "https://example.com/attr/level/value/high";

        var (withoutEntitlement, _) = await RewrapAsync("alice", [MembershipFixture.Prefix + "c1", other]);
        var (withEntitlement, _) = await RewrapAsync("alice", [MembershipFixture.Prefix + "c1", other], [other]);

        Assert.Equal(HttpStatusCode.Forbidden, withoutEntitlement);
        Assert.Equal(HttpStatusCode.OK, withEntitlement);
    }

    [Fact]
    public async Task Media_events_are_published_to_nats()
    {
        var ct = Ct;
        await using var subscription = await fixture.Client.SubscribeAsync("media.metrics.>", ct: ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        await fixture.Client.FlushAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        await using var redis = await RedisServer.StartAsync(ct: ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        var configuration = fixture.Identity.Configuration(MembershipFixture.Prefix);
        configuration["ConnectionStrings:nats"] = fixture.Nats.Url;
        configuration["ConnectionStrings:redis"] = redis.ConnectionString;
        await using var host = await KasHost.StartAsync(configuration, ct);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/media/v1/session/start")
        {
            Content = new StringContent("""{"assetId":"film"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Identity.AccessToken("viewer"));
        using var response = await host.Client.SendAsync(request, ct).WaitAsync(TimeSpan.FromSeconds(10), ct);

        var message = await subscription.Msgs.ReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
        var json = JsonNode.Parse(message.Data.Span)!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("media.metrics.session_start", message.Subject);
        Assert.Equal("viewer", json["userId"]!.GetValue<string>());
        Assert.Equal("film", json["assetId"]!.GetValue<string>());
    }

    private async Task<(HttpStatusCode Status, JsonNode? Json)> RewrapAsync(string subject, string[] attributes, string[]? entitlements = null)
    {
        using var client = new TestClient();
        var nano = fixture.Identity.CreateNanoTdf(TestIdentity.Policy(attributes));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap")
        {
            Content = TestClient.Json(client.SignedRequestToken(TestClient.V1Body(client.ClientPublicKeyPem, nano.Header.Bytes))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Identity.AccessToken(subject, client, entitlements));
        using var response = await fixture.Host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            var json = JsonNode.Parse(text)!;
            Assert.Equal(nano.Dek, client.Unwrap(json["sessionPublicKey"]!.GetValue<string>(), json["entityWrappedKey"]!.GetValue<string>(), nano.Header.TagLength));
        }

        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}

[Trait("Category", "Service")]
public sealed class MembershipWithoutResponderTests
{
    [Fact]
    public async Task No_responder_denies_quickly()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(ct: ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        using var identity = new TestIdentity();
        var configuration = identity.Configuration(MembershipFixture.Prefix);
        configuration["ConnectionStrings:nats"] = nats.Url;
        await using var host = await KasHost.StartAsync(configuration, ct);
        using var client = new TestClient();
        var nano = identity.CreateNanoTdf(TestIdentity.Policy([MembershipFixture.Prefix + "c1"]));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap")
        {
            Content = TestClient.Json(client.SignedRequestToken(TestClient.V2Body(client.ClientPublicKeyPem, ("kao-0", nano.Header.Bytes)))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", identity.AccessToken("alice", client));

        using var response = await host.Client.SendAsync(request, ct).WaitAsync(TimeSpan.FromSeconds(15), ct);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = json["responses"]![0]!["results"]![0]!;
        Assert.Equal("fail", result["status"]!.GetValue<string>());
        Assert.Contains("could not be confirmed", result["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("", json["sessionPublicKey"]!.GetValue<string>());
    }
}
