using System.Net;
using System.Net.Sockets;
using System.Text;
using Catbird.Nats;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Nats;

[Trait("Category", "Service")]
public sealed class NatsCoreTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Publishes_reach_subscribers_with_headers_and_reply_subjects()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        await using var subscription = await connection.SubscribeAsync("core.pub.>", ct: Ct);
        await connection.PingAsync(Ct);

        var headers = new NatsHeaders().Set("X-Trace", "abc");
        headers.Add("X-Multi", "1");
        headers.Add("X-Multi", "2");
        await connection.PublishAsync("core.pub.one", "hello"u8.ToArray(), headers, "reply.here", Ct);
        await connection.PublishAsync("core.pub.two", ReadOnlyMemory<byte>.Empty, ct: Ct);

        var first = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.Equal("core.pub.one", first.Subject);
        Assert.Equal("reply.here", first.ReplyTo);
        Assert.Equal("hello", Encoding.UTF8.GetString(first.Data.Span));
        Assert.Equal("abc", first.Headers!.GetLast("X-Trace"));
        Assert.Equal(["1", "2"], first.Headers["X-Multi"]);
        var second = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.Equal("core.pub.two", second.Subject);
        Assert.True(second.Data.IsEmpty);
        Assert.Null(second.Headers);
    }

    [Fact]
    public async Task Queue_groups_share_the_messages()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        await using var a = await connection.SubscribeAsync("core.queue", "workers", Ct);
        await using var b = await connection.SubscribeAsync("core.queue", "workers", Ct);
        await connection.PingAsync(Ct);
        for (var i = 0; i < 200; i++)
        {
            await connection.PublishAsync("core.queue", BitConverter.GetBytes(i), ct: Ct);
        }

        await connection.PingAsync(Ct);
        await Task.Delay(200, Ct);
        Assert.Equal(200, a.Msgs.Count + b.Msgs.Count);
        Assert.True(a.Msgs.Count > 0 && b.Msgs.Count > 0);
    }

    [Fact]
    public async Task Requests_get_replies_no_responders_and_timeouts()
    {
        await using var server = new NatsConnection(nats.Server.Url);
        await using var client = new NatsConnection(nats.Server.Url);
        await using var service = await server.SubscribeAsync("core.echo", ct: Ct);
        await server.PingAsync(Ct);
        var responder = Task.Run(async () =>
        {
            await foreach (var msg in service.ReadAllAsync(Ct))
            {
                await msg.ReplyAsync(Encoding.UTF8.GetBytes("echo:" + Encoding.UTF8.GetString(msg.Data.Span)), ct: Ct);
            }
        }, Ct);

        var replies = await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
            Encoding.UTF8.GetString((await client.RequestAsync("core.echo", Encoding.UTF8.GetBytes(i.ToString()), ct: Ct)).Data.Span)));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => "echo:" + i), replies);

        await Assert.ThrowsAsync<NatsNoRespondersException>(async () => await client.RequestAsync("core.nobody", "x"u8.ToArray(), ct: Ct));

        await using var silent = await server.SubscribeAsync("core.silent", ct: Ct);
        await server.PingAsync(Ct);
        var error = await Assert.ThrowsAsync<NatsTimeoutException>(async () => await client.RequestAsync("core.silent", "x"u8.ToArray(), timeout: TimeSpan.FromMilliseconds(200), ct: Ct));
        Assert.Contains("core.silent", error.Message);
        Assert.False(responder.IsFaulted);
    }

    [Fact]
    public async Task Payloads_over_max_payload_are_refused_before_sending()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        await connection.ConnectAsync(Ct);
        var max = connection.ServerInfo!.MaxPayload;
        Assert.True(max > 0);
        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await connection.PublishAsync("core.big", new byte[max + 1], ct: Ct));
        await connection.PublishAsync("core.big", new byte[1024], ct: Ct);
        await connection.PingAsync(Ct);
        Assert.Equal(NatsConnectionState.Open, connection.ConnectionState);
    }

    [Fact]
    public async Task A_slow_consumer_drops_and_counts_instead_of_growing()
    {
        await using var connection = new NatsConnection(NatsOpts.FromUrl(nats.Server.Url) with { SubPendingChannelCapacity = 10 });
        await using var subscription = await connection.SubscribeAsync("core.slow", ct: Ct);
        var slow = 0;
        connection.SlowConsumerDetected += (_, _) => Interlocked.Increment(ref slow);
        for (var i = 0; i < 100; i++)
        {
            await connection.PublishAsync("core.slow", new byte[8], ct: Ct);
        }

        await connection.PingAsync(Ct);
        await Task.Delay(100, Ct);
        Assert.Equal(10, subscription.Msgs.Count);
        Assert.Equal(90, subscription.Dropped);
        Assert.True(slow > 0);
    }

    [Fact]
    public async Task Subscriptions_survive_a_server_restart_and_publishes_are_buffered_meanwhile()
    {
        await using var server = await NatsServer.StartAsync(new NatsServerOptions { JetStream = false }, Ct);
        await using var connection = new NatsConnection(NatsOpts.FromUrl(server.Url) with { ReconnectWait = TimeSpan.FromMilliseconds(50) });
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var opened = 0;
        connection.ConnectionOpened += (_, _) =>
        {
            if (Interlocked.Increment(ref opened) == 2)
            {
                reconnected.TrySetResult();
            }
        };
        await using var subscription = await connection.SubscribeAsync("core.restart", ct: Ct);
        await connection.PingAsync(Ct);

        await server.StopAsync();
        await connection.PublishAsync("core.restart", "while-down"u8.ToArray(), ct: Ct);
        await server.RestartAsync(Ct);
        await reconnected.Task.WaitAsync(Wait, Ct);
        await connection.PublishAsync("core.restart", "after"u8.ToArray(), ct: Ct);

        var first = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        var second = await subscription.Msgs.ReadAsync(Ct).AsTask().WaitAsync(Wait, Ct);
        Assert.Equal("while-down", Encoding.UTF8.GetString(first.Data.Span));
        Assert.Equal("after", Encoding.UTF8.GetString(second.Data.Span));
    }

    [Fact]
    public async Task User_password_token_and_nkey_auth_work_and_bad_credentials_fail_clearly()
    {
        var nkey = NKeyPair.Create(NKeyType.User);
        await using var server = await NatsServer.StartAsync(new NatsServerOptions
        {
            JetStream = false,
            ExtraConfig = $$"""
                authorization {
                  users = [
                    { user: "app", password: "p@ss:word/1" }
                    { nkey: "{{nkey.PublicKey}}" }
                  ]
                }
                """,
        }, Ct);

        await using (var byUrl = new NatsConnection($"nats://app:{Uri.EscapeDataString("p@ss:word/1")}@127.0.0.1:{server.Port}"))
        {
            await byUrl.PingAsync(Ct);
        }

        await using (var byNKey = new NatsConnection(NatsOpts.FromUrl(server.Url) with { NKeySeed = nkey.Seed }))
        {
            await byNKey.PingAsync(Ct);
        }

        await using var wrong = new NatsConnection($"nats://app:nope@127.0.0.1:{server.Port}");
        var error = await Assert.ThrowsAsync<NatsAuthorizationException>(async () => await wrong.ConnectAsync(Ct));
        Assert.Contains("refused the credentials", error.Message);

        await using var otherKey = new NatsConnection(NatsOpts.FromUrl(server.Url) with { NKeySeed = NKeyPair.Create(NKeyType.User).Seed });
        await Assert.ThrowsAsync<NatsAuthorizationException>(async () => await otherKey.ConnectAsync(Ct));
    }

    [Fact]
    public async Task Token_auth_works()
    {
        await using var server = await NatsServer.StartAsync(new NatsServerOptions { JetStream = false, ExtraConfig = "authorization { token: \"s3cr3t-token\" }" }, Ct);
        await using var good = new NatsConnection($"nats://s3cr3t-token@127.0.0.1:{server.Port}");
        await good.PingAsync(Ct);
        await using var bad = new NatsConnection($"nats://wrong@127.0.0.1:{server.Port}");
        await Assert.ThrowsAsync<NatsAuthorizationException>(async () => await bad.ConnectAsync(Ct));
    }

    [Theory]
    [InlineData("MSG a 1 99999999999\r\n")]
    [InlineData("MSG a 1 5\r\nhelloXX")]
    [InlineData("BOGUS\r\n")]
    [InlineData("MSG a b c d e f\r\n")]
    [InlineData("HMSG a 1 10 5\r\nNATS/1.0\r\n\r\n")]
    public async Task Malformed_server_bytes_fail_the_connection_clearly(string hostile)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var fake = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync(Ct);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("INFO {\"server_id\":\"fake\",\"max_payload\":1048576,\"headers\":true}\r\n"), Ct);
            var buffer = new byte[4096];
            var text = "";
            while (!text.Contains("PING", StringComparison.Ordinal))
            {
                text += Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, Ct));
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes("PONG\r\n"), Ct);
            while (!text.Contains("SUB ", StringComparison.Ordinal))
            {
                text += Encoding.ASCII.GetString(buffer, 0, await stream.ReadAsync(buffer, Ct));
            }

            await stream.WriteAsync(Encoding.ASCII.GetBytes(hostile), Ct);
            await Task.Delay(2000, Ct);
        }, Ct);

        await using var connection = new NatsConnection(NatsOpts.FromUrl($"nats://127.0.0.1:{port}") with { ReconnectWait = TimeSpan.FromSeconds(30), MaxReconnectRetry = 0 });
        var lost = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.ConnectionDisconnected += (_, reason) => lost.TrySetResult(reason);
        await using var subscription = await connection.SubscribeAsync("a", ct: Ct);
        var reason = await lost.Task.WaitAsync(Wait, Ct);
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.NotEqual(NatsConnectionState.Open, connection.ConnectionState);
        await fake.WaitAsync(Wait, Ct);
    }
}
