using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisReconnectTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerKilledMidTraffic_InFlightFailCleanly_NoWrongReplies_RecoversAfterRestart()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString) with
        {
            CommandTimeout = TimeSpan.FromSeconds(3),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var prefix = $"k:{Guid.NewGuid():N}:";
        var wrongReplies = 0;
        var succeeded = 0;
        var failedCleanly = 0;
        var unexpected = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        using var stop = new CancellationTokenSource();

        // ECHO of a value unique to the call: any reply delivered to the wrong caller shows up as a mismatch.
        var echoes = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var token = $"echo:{worker}:{i++}";
                try
                {
                    var batch = redis.CreateBatch();
                    var first = batch.ExecuteAsync(["ECHO", token + "a"], Ct);
                    var second = batch.ExecuteAsync(["ECHO", token + "b"], Ct);
                    await batch.FlushAsync(Ct);
                    var a = await ReplyOrFailureAsync(first);
                    var b = await ReplyOrFailureAsync(second);
                    if ((a is not null && a != token + "a") || (b is not null && b != token + "b"))
                    {
                        Interlocked.Increment(ref wrongReplies);
                    }
                }
                catch (RedisConnectionException)
                {
                    Interlocked.Increment(ref failedCleanly);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e);
                }
            }
        }, Ct)).ToArray();

        var workers = Enumerable.Range(0, 16).Select(worker => Task.Run(async () =>
        {
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var key = $"{prefix}{worker}";
                var value = $"{worker}:{i++}";
                try
                {
                    // SET then GET of the same key by the same caller: the GET must see this caller's value or fail.
                    await redis.SetAsync(key, value, ct: Ct);
                    var read = await redis.GetStringAsync(key, Ct);
                    if (read is not null && read != value)
                    {
                        Interlocked.Increment(ref wrongReplies);
                    }

                    Interlocked.Increment(ref succeeded);
                }
                catch (RedisConnectionException)
                {
                    Interlocked.Increment(ref failedCleanly);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e);
                }
            }
        }, Ct)).ToArray();

        await WaitUntilAsync(() => Volatile.Read(ref succeeded) > 2000);
        server.Kill();
        await WaitUntilAsync(() => Volatile.Read(ref failedCleanly) > 0);
        Assert.False(redis.IsConnected);
        await Task.Delay(300, Ct);
        await server.RestartAsync(Ct);

        var before = Volatile.Read(ref succeeded);
        await WaitUntilAsync(() => Volatile.Read(ref succeeded) > before + 2000);
        await stop.CancelAsync();
        await Task.WhenAll(workers.Concat(echoes)).WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Empty(unexpected);
        Assert.Equal(0, wrongReplies);
        Assert.True(failedCleanly > 0);
        Assert.True(redis.IsConnected);
        // After the restart the data is gone (no persistence) but the connection works.
        Assert.True(await redis.SetAsync(prefix + "after", "yes", ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal("yes", await redis.GetStringAsync(prefix + "after", Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task CommandWhileServerDown_WaitsForReconnect()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var options = RedisOptions.Parse(server.ConnectionString) with
        {
            CommandTimeout = TimeSpan.FromSeconds(8),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await redis.PingAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        await server.StopAsync();
        await WaitUntilAsync(() => !redis.IsConnected);

        var pending = redis.SetAsync("later", "v", ct: Ct).AsTask();
        await Task.Delay(500, Ct);
        Assert.False(pending.IsCompleted);
        await server.RestartAsync(Ct);
        Assert.True(await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct));
    }

    [Fact]
    public async Task CommandWhileServerDown_FailsAfterTimeout_WithClearMessage()
    {
        var port = ServerProcess.FreePort();
        await using var redis = new RedisConnection(RedisOptions.Parse($"127.0.0.1:{port}") with { CommandTimeout = TimeSpan.FromMilliseconds(400) });
        var e = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetAsync("x", Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains($"no connection to Redis at 127.0.0.1:{port} within 400 ms", e.Message, StringComparison.Ordinal);
        Assert.Contains("last error", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_FirstEndPointDown_UsesTheNext()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        var down = ServerProcess.FreePort();
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{down},127.0.0.1:{server.Port}"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(server.Port, redis.ConnectedEndPoint!.Port);
        Assert.True(await redis.PingAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct) > TimeSpan.Zero);
    }

    [Fact]
    public async Task ConnectAsync_AbortConnectFalse_ReturnsWhileDown_AndConnectsLater()
    {
        var port = ServerProcess.FreePort();
        var options = RedisOptions.Parse($"127.0.0.1:{port},abortConnect=false,connectTimeout=300") with
        {
            CommandTimeout = TimeSpan.FromSeconds(10),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
        };
        await using var redis = await RedisConnection.ConnectAsync(options, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(redis.IsConnected);
        var pending = redis.PingAsync(Ct).AsTask();
        var directory = ServerBinaries.NewTempDirectory("redis-late");
        try
        {
            await using var server = await StartOnPortAsync(port, directory);
            Assert.True(await pending.WaitAsync(TimeSpan.FromSeconds(10), Ct) > TimeSpan.Zero);
        }
        finally
        {
            ServerBinaries.DeleteDirectory(directory);
        }
    }

    [Fact]
    public async Task ConnectAsync_NoServer_ThrowsConnectionException()
    {
        var port = ServerProcess.FreePort();
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{port}"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TinyTimeouts_UnderLoad_NeverDeliverAnotherCallersReply()
    {
        await using var server = await RedisServer.StartAsync(ct: Ct);
        // Many commands time out while their replies are still coming: their slots must absorb those replies.
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(server.ConnectionString) with { CommandTimeout = TimeSpan.FromMilliseconds(5) }, Ct)
            .WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var wrong = 0;
        var ok = 0;
        var timedOut = 0;
        using var stop = new CancellationTokenSource();
        // A BLPOP with a 10 ms server-side wait holds up every reply behind it, so the commands queued behind it time out.
        var stall = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Usually times out; on a busy machine the sweep may come after the 10 ms nil reply.
                    Assert.True((await redis.ExecuteAsync(["BLPOP", $"empty:{Guid.NewGuid():N}", "0.01"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct)).IsNull);
                }
                catch (RedisTimeoutException)
                {
                }

                await Task.Delay(15, Ct);
            }
        }, Ct);
        var workers = Enumerable.Range(0, 32).Select(worker => Task.Run(async () =>
        {
            for (var i = 0; i < 1500; i++)
            {
                var token = $"{worker}:{i}:{Guid.NewGuid():N}";
                try
                {
                    if ((await redis.ExecuteAsync(["ECHO", token], Ct)).AsString() == token)
                    {
                        Interlocked.Increment(ref ok);
                    }
                    else
                    {
                        Interlocked.Increment(ref wrong);
                    }
                }
                catch (RedisTimeoutException)
                {
                    Interlocked.Increment(ref timedOut);
                }
            }
        }, Ct)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await stop.CancelAsync();
        Assert.Equal(0, wrong);
        Assert.Equal(32 * 1500, ok + timedOut);
        await stall.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(ok > 0, "no command succeeded");
        Assert.True(timedOut > 0, "no command timed out, so the test did not exercise late replies");
    }

    private static async Task<ServerProcess> StartOnPortAsync(int port, string directory)
    {
        var server = ServerProcess.Start($"redis-late:{port}", ServerBinaries.Find("redis-server", "redis-server", "/usr/bin/redis-server"),
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--daemonize", "no"],
            directory);
        try
        {
            await server.WaitUntilAsync(ct => ServerProcess.CanConnectAsync(port, ct), TimeSpan.FromSeconds(20), Ct);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static async Task<string?> ReplyOrFailureAsync(ValueTask<RedisReply> reply)
    {
        try
        {
            return (await reply).AsString();
        }
        catch (RedisConnectionException)
        {
            return null;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 30 s");
            await Task.Delay(10, Ct);
        }
    }
}
