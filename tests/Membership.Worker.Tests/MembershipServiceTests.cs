using System.Text;
using System.Text.Json;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Catbird.Membership.Worker.Tests;

/// <summary>The worker in process against a real nats-server: Mls.Api's events in, membership answers out.</summary>
[Trait("Category", "Service")]
public sealed class MembershipServiceTests(NatsFixture nats) : IClassFixture<NatsFixture>, IAsyncLifetime
{
    private readonly string _directory = ServerBinaries.NewTempDirectory("membership");
    private WebApplicationFactory<Program>? _factory;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:nats", nats.Server.Url);
            web.UseSetting("MEMBERSHIP_DB", Path.Combine(_directory, "membership.db"));
        });
        _ = _factory.Server; // starts the host and its background services
        return ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Conversations_published_by_mls_api_become_rooms_that_membership_checks_answer_for()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var convo = "convo-" + Guid.NewGuid().ToString("N")[..8];
        await PublishEventAsync(js, convo, "created", new { type = "created", convoId = convo, epoch = 1, members = new[] { "did:plc:alice", "did:plc:bob" } });
        await PublishEventAsync(js, convo, "message", "{not json"u8.ToArray());
        await PublishEventAsync(js, convo, "members-removed", new { type = "members-removed", convoId = convo, epoch = 2, members = new[] { "did:plc:bob" } });

        var alice = await WaitForAnswerAsync(connection, convo, "did:plc:alice", a => a.GetProperty("epoch").GetInt64() == 2);
        Assert.True(alice.GetProperty("member").GetBoolean());
        var bob = await CheckAsync(connection, convo, "did:plc:bob");
        Assert.False(bob.GetProperty("member").GetBoolean());
        var stranger = await CheckAsync(connection, "no-such-room", "did:plc:alice");
        Assert.Equal((false, 0L), (stranger.GetProperty("member").GetBoolean(), stranger.GetProperty("epoch").GetInt64()));
    }

    [Fact]
    public async Task A_malformed_check_is_answered_with_a_denial_and_an_error()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var reply = await RequestWithRetryAsync(connection, "{\"room\":\"r\"}"u8.ToArray());
        using var document = JsonDocument.Parse(reply.Data);
        Assert.False(document.RootElement.GetProperty("member").GetBoolean());
        Assert.Equal("room and subject are required", document.RootElement.GetProperty("error").GetString());
        var garbage = await RequestWithRetryAsync(connection, "\u0001garbage"u8.ToArray());
        Assert.Contains("malformed", Encoding.UTF8.GetString(garbage.Data.Span));
    }

    [Fact]
    public async Task The_readiness_check_covers_nats_and_the_store()
    {
        using var client = _factory!.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        string body;
        do
        {
            body = await client.GetStringAsync("/health", Ct);
            if (body.Contains("\"membership-store\":{\"status\":\"Healthy\"", StringComparison.Ordinal) && body.Contains("\"nats\":{\"status\":\"Healthy\"", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(200, Ct);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail(body);
    }

    private static async Task PublishEventAsync(NatsJSContext js, string convo, string kind, object body) =>
        await PublishEventAsync(js, convo, kind, JsonSerializer.SerializeToUtf8Bytes(body));

    private static async Task PublishEventAsync(NatsJSContext js, string convo, string kind, byte[] body)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await js.PublishAsync($"catbird.events.mls.convo.{convo}.{kind}", body, new NatsJSPubOpts { MsgId = $"{convo}:{kind}" }, ct: Ct);
                return;
            }
            catch (NatsNoRespondersException) when (attempt < 100)
            {
                await Task.Delay(100, Ct); // The worker creates the stream when it starts.
            }
        }
    }

    private static async Task<JsonElement> WaitForAnswerAsync(NatsConnection connection, string room, string subject, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var answer = await CheckAsync(connection, room, subject);
            if (done(answer) || DateTime.UtcNow > deadline)
            {
                return answer;
            }

            await Task.Delay(100, Ct);
        }
    }

    private static async Task<JsonElement> CheckAsync(NatsConnection connection, string room, string subject)
    {
        var reply = await RequestWithRetryAsync(connection, JsonSerializer.SerializeToUtf8Bytes(new { room, subject }));
        return JsonDocument.Parse(reply.Data).RootElement.Clone();
    }

    private static async Task<NatsMsg> RequestWithRetryAsync(NatsConnection connection, byte[] body)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await connection.RequestAsync("catbird.membership.check", body, timeout: TimeSpan.FromSeconds(2), ct: Ct);
            }
            catch (NatsNoRespondersException) when (attempt < 100)
            {
                await Task.Delay(100, Ct); // The responder subscribes when the host has started.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        ServerBinaries.DeleteDirectory(_directory);
    }
}
