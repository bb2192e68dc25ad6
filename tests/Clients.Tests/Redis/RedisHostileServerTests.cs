using System.Text;
using Catbird.Redis;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Unit")]
public sealed class RedisHostileServerTests
{
    private static readonly TimeSpan NoHang = TimeSpan.FromSeconds(10);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("$2147483000\r\n", "more than the limit of 67108864 bytes")]
    [InlineData("*2000000000\r\n", "more than the limit of 16777216")]
    [InlineData("*-7\r\n", "invalid array length -7")]
    [InlineData("$-5\r\n", "invalid bulk string length -5")]
    [InlineData("HTTP/1.1 400 Bad Request\r\n\r\n", "byte 0x48 ('H')")]
    [InlineData(":99999999999999999999999\r\n", "invalid integer reply")]
    [InlineData("$3\r\nabcdef\r\n", "not followed by CRLF")]
    public async Task HostileReply_FailsEveryPendingCommandWithClearError_WithoutHanging(string hostile, string expected)
    {
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            await FakeRedisServer.ReadCommandsAsync(stream, 5, ct);
            await stream.WriteAsync(Encoding.ASCII.GetBytes(hostile), ct);
            // Keep the socket open: the client must give up on its own, not wait for more bytes.
            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{server.Port}") with { CommandTimeout = TimeSpan.FromSeconds(30) }, Ct).WaitAsync(NoHang, Ct);

        var calls = Enumerable.Range(0, 5).Select(i => redis.GetAsync($"k{i}", Ct).AsTask()).ToArray();
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<RedisConnectionException>(() => call.WaitAsync(NoHang, Ct));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
            Assert.Contains("GET failed", e.Message, StringComparison.Ordinal);
            Assert.IsType<RedisProtocolException>(e.InnerException);
        }
    }

    [Fact]
    public async Task TruncatedReply_ThenClose_FailsWithClearError()
    {
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            await FakeRedisServer.ReadCommandsAsync(stream, 1, ct);
            await stream.WriteAsync("$10\r\nabc"u8.ToArray(), ct);
            stream.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{server.Port}"), Ct).WaitAsync(NoHang, Ct);
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.GetAsync("k", Ct).AsTask().WaitAsync(NoHang, Ct));
        Assert.Contains("closed the connection in the middle of a reply", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StalledReply_TimesOut()
    {
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            await FakeRedisServer.ReadCommandsAsync(stream, 1, ct);
            await stream.WriteAsync("$10\r\nabc"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{server.Port},asyncTimeout=300"), Ct).WaitAsync(NoHang, Ct);
        var e = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetAsync("k", Ct).AsTask().WaitAsync(NoHang, Ct));
        Assert.Contains("GET got no reply", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilentServer_ConnectionIsDeclaredDead_AndReplaced()
    {
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            await FakeRedisServer.ReadCommandsAsync(stream, 1, ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{server.Port},asyncTimeout=200"), Ct).WaitAsync(NoHang, Ct);
        await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetAsync("k", Ct).AsTask().WaitAsync(NoHang, Ct));
        var deadline = DateTime.UtcNow + NoHang;
        while (server.Connections < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the client kept a connection on which the server had gone silent");
            await Task.Delay(10, Ct);
        }
    }

    [Fact]
    public async Task ServerThatStopsReading_BlockedWrites_StillFailWithinTimeouts()
    {
        await using var server = new FakeRedisServer(async (_, ct) => await Task.Delay(Timeout.Infinite, ct));
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{server.Port},asyncTimeout=300"), Ct).WaitAsync(NoHang, Ct);
        // Enough data to fill the socket buffers on both sides, so that the write loop blocks in a flush.
        var value = new byte[1024 * 1024];
        List<Task> calls = [.. Enumerable.Range(0, 40).Select(i => redis.SetAsync($"k{i}", value, ct: Ct).AsTask())];
        calls.Add(redis.GetAsync("small", Ct).AsTask());
        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<RedisConnectionException>(() => call.WaitAsync(NoHang, Ct));
        }
    }

    [Fact]
    public async Task UnsolicitedReply_FailsThatConnection_AndIsNeverDeliveredToALaterCaller()
    {
        var first = true;
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            if (Interlocked.Exchange(ref first, false))
            {
                await stream.WriteAsync("+SURPRISE\r\n"u8.ToArray(), ct);
                await Task.Delay(Timeout.Infinite, ct);
            }

            await FakeRedisServer.ReadCommandsAsync(stream, 1, ct);
            await stream.WriteAsync("$2\r\nok\r\n"u8.ToArray(), ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var redis = await RedisConnection.ConnectAsync(
            RedisOptions.Parse($"127.0.0.1:{server.Port}") with { ReconnectMinDelay = TimeSpan.FromMilliseconds(10) }, Ct).WaitAsync(NoHang, Ct);

        var deadline = DateTime.UtcNow + NoHang;
        while (server.Connections < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the client did not drop the connection that sent an unsolicited reply");
            await Task.Delay(10, Ct);
        }

        Assert.Equal("ok", await redis.GetStringAsync("k", Ct).AsTask().WaitAsync(NoHang, Ct));
    }

    [Fact]
    public async Task Subscriber_HostileBytes_ReconnectsAndResubscribes()
    {
        var connection = 0;
        await using var server = new FakeRedisServer(async (stream, ct) =>
        {
            var request = await FakeRedisServer.ReadCommandsAsync(stream, 1, ct);
            Assert.Contains("SUBSCRIBE", request, StringComparison.Ordinal);
            await stream.WriteAsync("*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"u8.ToArray(), ct);
            if (Interlocked.Increment(ref connection) == 1)
            {
                await stream.WriteAsync("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$999999999\r\n"u8.ToArray(), ct);
            }
            else
            {
                await stream.WriteAsync("*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"u8.ToArray(), ct);
            }

            await Task.Delay(Timeout.Infinite, ct);
        });
        await using var subscriber = new RedisSubscriber(RedisOptions.Parse($"127.0.0.1:{server.Port}") with { ReconnectMinDelay = TimeSpan.FromMilliseconds(10) });
        await using var subscription = await subscriber.SubscribeAsync("ch", Ct).WaitAsync(NoHang, Ct);
        var message = await subscription.Reader.ReadAsync(Ct).AsTask().WaitAsync(NoHang, Ct);
        Assert.Equal("hello", message.Text);
        Assert.Equal(2, server.Connections);
    }

    [Fact]
    public async Task ServerThatNeverAnswersHandshake_ConnectTimesOut()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{port},connectTimeout=300"), Ct).WaitAsync(NoHang, Ct));
        Assert.Contains("timed out after 300 ms", e.Message, StringComparison.Ordinal);
    }
}
