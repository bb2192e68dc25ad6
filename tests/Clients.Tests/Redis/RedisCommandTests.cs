using System.Text;
using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisCommandTests(RedisFixture fixture) : IClassFixture<RedisFixture>, IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly string _prefix = $"t:{Guid.NewGuid():N}:";
    private RedisConnection _redis = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(Timeout, Ct);

    public ValueTask DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task Ping_ReturnsRoundTrip()
    {
        var elapsed = await _redis.PingAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.True(elapsed > TimeSpan.Zero);
        Assert.True(_redis.IsConnected);
    }

    [Fact]
    public async Task GetSet_StringAndBinary_RoundTrip()
    {
        var key = _prefix + "a";
        Assert.Null(await _redis.GetAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.True(await _redis.SetAsync(key, "h\u00e9llo", ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("h\u00e9llo", await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        byte[] binary = [0, 13, 10, 255, 36, 42, 13, 10];
        Assert.True(await _redis.SetAsync(key, binary, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(binary, await _redis.GetAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.True(await _redis.SetAsync(key, ReadOnlyMemory<byte>.Empty, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Empty((await _redis.GetAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct))!);
    }

    [Fact]
    public async Task Set_Conditions_AndExpiry()
    {
        var key = _prefix + "cond";
        Assert.False(await _redis.SetAsync(key, "x", when: SetCondition.Exists, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.True(await _redis.SetAsync(key, "1", when: SetCondition.NotExists, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.False(await _redis.SetAsync(key, "2", when: SetCondition.NotExists, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("1", await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await _redis.TimeToLiveAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.True(await _redis.SetAsync(key, "3", TimeSpan.FromSeconds(100), SetCondition.Exists, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        var ttl = await _redis.TimeToLiveAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(90), TimeSpan.FromSeconds(100));

        Assert.True(await _redis.SetAsync(key, "4", keepTtl: true, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.NotNull(await _redis.TimeToLiveAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("4", await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.True(await _redis.SetAsync(key, "5", ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await _redis.TimeToLiveAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.True(await _redis.SetAsync(key, "6", TimeSpan.FromMilliseconds(50), ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        await Task.Delay(150, Ct);
        Assert.False(await _redis.ExistsAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await _redis.TimeToLiveAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Throws<ArgumentException>(() => { _ = _redis.SetAsync(key, "x", TimeSpan.FromSeconds(1), keepTtl: true, ct: Ct); });
    }

    [Fact]
    public async Task DeleteExistsIncrementExpire()
    {
        string a = _prefix + "a", b = _prefix + "b", n = _prefix + "n";
        await _redis.SetAsync(a, "1", ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        await _redis.SetAsync(b, "1", ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.True(await _redis.ExistsAsync(a, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(2, await _redis.DeleteAsync([a, b, _prefix + "missing"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(0, await _redis.DeleteAsync(a, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.False(await _redis.ExistsAsync(a, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(1, await _redis.IncrementAsync(n, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(11, await _redis.IncrementAsync(n, 10, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(-4, await _redis.IncrementAsync(n, -15, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.False(await _redis.ExpireAsync(_prefix + "missing", TimeSpan.FromSeconds(5), Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.True(await _redis.ExpireAsync(n, TimeSpan.FromSeconds(30), Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.InRange((await _redis.TimeToLiveAsync(n, Ct).AsTask().WaitAsync(Timeout, Ct))!.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        Assert.True(await _redis.PExpireAsync(n, TimeSpan.FromMilliseconds(1500), Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.InRange((await _redis.TimeToLiveAsync(n, Ct).AsTask().WaitAsync(Timeout, Ct))!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1500));

        await _redis.SetAsync(a, "not a number", ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        var error = await Assert.ThrowsAsync<RedisServerException>(() => _redis.IncrementAsync(a, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("ERR", error.ErrorCode);
        Assert.Contains("INCR failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hashes()
    {
        var key = _prefix + "h";
        Assert.True(await _redis.HashSetAsync(key, "f1", "v1", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.False(await _redis.HashSetAsync(key, "f1", "v1b", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.True(await _redis.HashSetAsync(key, "bin", new byte[] { 1, 2, 3 }, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(2, await _redis.HashSetAsync(key, [new("f2", "v2"), new("f3", "v3")], Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal("v1b", await _redis.HashGetStringAsync(key, "f1", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal([1, 2, 3], await _redis.HashGetAsync(key, "bin", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Null(await _redis.HashGetAsync(key, "nope", Ct).AsTask().WaitAsync(Timeout, Ct));

        var all = await _redis.HashGetAllAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(4, all.Count);
        Assert.Equal("v2", Encoding.UTF8.GetString(all["f2"]));
        var text = await _redis.HashGetAllStringsAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("v3", text["f3"]);

        Assert.True(await _redis.HashDeleteAsync(key, "f1", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(2, await _redis.HashDeleteAsync(key, ["f2", "f3", "nope"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Empty(await _redis.HashGetAllAsync(_prefix + "missing", Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Sets()
    {
        var key = _prefix + "s";
        Assert.True(await _redis.SetAddAsync(key, "a", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.False(await _redis.SetAddAsync(key, "a", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(2, await _redis.SetAddAsync(key, ["b", "c", "a"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(3, await _redis.SetLengthAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(["a", "b", "c"], (await _redis.SetMembersAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct)).Order());
        Assert.True(await _redis.SetRemoveAsync(key, "a", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(1, await _redis.SetRemoveAsync(key, ["b", "zzz"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(["c"], await _redis.SetMembersAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Empty(await _redis.SetMembersAsync(_prefix + "missing", Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task SortedSets()
    {
        var key = _prefix + "z";
        Assert.True(await _redis.SortedSetAddAsync(key, "a", 1, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.False(await _redis.SortedSetAddAsync(key, "a", 1.5, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(3, await _redis.SortedSetAddAsync(key, [("b", 2), ("c", 3.25), ("d", -1)], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(4, await _redis.SortedSetLengthAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));

        Assert.Equal(["d", "a", "b", "c"], await _redis.SortedSetRangeByScoreAsync(key, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(["a", "b"], await _redis.SortedSetRangeByScoreAsync(key, 0, 2, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(["b"], await _redis.SortedSetRangeByScoreAsync(key, 0, 10, skip: 1, take: 1, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
        var scored = await _redis.SortedSetRangeByScoreWithScoresAsync(key, 1, double.PositiveInfinity, ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal([("a", 1.5), ("b", 2.0), ("c", 3.25)], scored);

        Assert.True(await _redis.SortedSetRemoveAsync(key, "a", Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(1, await _redis.SortedSetRemoveAsync(key, ["b", "nope"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(1, await _redis.SortedSetRemoveRangeByScoreAsync(key, double.NegativeInfinity, 0, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(["c"], await _redis.SortedSetRangeByScoreAsync(key, ct: Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Execute_RawCommands_ReturnTypedReplies()
    {
        var key = _prefix + "raw";
        Assert.Equal(RedisReply.SimpleString("OK"), await _redis.ExecuteAsync(["SET", key, 41], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal(42, (await _redis.ExecuteAsync(["INCR", key], Ct).AsTask().WaitAsync(Timeout, Ct)).AsInt64());
        Assert.Equal("42", (await _redis.ExecuteAsync(["GET", key], Ct).AsTask().WaitAsync(Timeout, Ct)).AsString());
        Assert.True((await _redis.ExecuteAsync(["GET", _prefix + "none"], Ct).AsTask().WaitAsync(Timeout, Ct)).IsNull);

        await _redis.ExecuteAsync(["RPUSH", key + "l", "x", new byte[] { 1 }, 3.5], Ct).AsTask().WaitAsync(Timeout, Ct);
        var list = (await _redis.ExecuteAsync(["LRANGE", key + "l", 0, -1], Ct).AsTask().WaitAsync(Timeout, Ct)).AsArray()!;
        Assert.Equal(["x", "\u0001", "3.5"], list.Select(item => item.AsString()));

        var e = await Assert.ThrowsAsync<RedisServerException>(() => _redis.ExecuteAsync(["NOSUCHCOMMAND", "x"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Contains("unknown command", e.Message, StringComparison.OrdinalIgnoreCase);

        // A nested error inside EXEC stays a value.
        await _redis.ExecuteAsync(["SET", key + "str", "v"], Ct).AsTask().WaitAsync(Timeout, Ct);
        var exec = await RunTransactionAsync(key + "str");
        Assert.True(exec.AsArray()![0].IsError);

        // The connection is still in step after errors.
        Assert.Equal("42", await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Batch_SendsAllCommandsTogether_AndResultsMatch()
    {
        var batch = _redis.CreateBatch();
        var sets = Enumerable.Range(0, 50).Select(i => batch.SetAsync($"{_prefix}b{i}", $"v{i}", ct: Ct)).ToList();
        var gets = Enumerable.Range(0, 50).Select(i => batch.GetStringAsync($"{_prefix}b{i}", Ct)).ToList();
        var count = batch.IncrementAsync(_prefix + "bc", 5, Ct);
        Assert.Equal(101, batch.Count);
        await batch.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        foreach (var set in sets)
        {
            Assert.True(await set.AsTask().WaitAsync(Timeout, Ct));
        }

        for (var i = 0; i < gets.Count; i++)
        {
            Assert.Equal($"v{i}", await gets[i].AsTask().WaitAsync(Timeout, Ct));
        }

        Assert.Equal(5, await count.AsTask().WaitAsync(Timeout, Ct));
        await Assert.ThrowsAsync<InvalidOperationException>(() => batch.FlushAsync(Ct).AsTask());
    }

    [Fact]
    public async Task Cancellation_BeforeReply_FailsOnlyThatCommand()
    {
        using var cts = new CancellationTokenSource();
        var key = _prefix + "cancel";
        // BLPOP blocks on the server, so the command is in flight when cancelled.
        var blocked = _redis.ExecuteAsync(["BLPOP", key, "1"], cts.Token).AsTask();
        var after = _redis.SetAsync(key + "x", "y", ct: Ct).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked.WaitAsync(Timeout, Ct));
        // The BLPOP reply (nil after 1 s) is discarded; the next replies still reach the right callers.
        Assert.True(await after.WaitAsync(Timeout, Ct));
        Assert.Equal("y", await _redis.GetStringAsync(key + "x", Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Timeout_SlowCommand_FailsWithTimeout_AndStreamStaysInStep()
    {
        await using var fast = new RedisConnection(RedisOptions.Parse(fixture.Server.ConnectionString) with { CommandTimeout = TimeSpan.FromMilliseconds(300) });
        var key = _prefix + "slow";
        var e = await Assert.ThrowsAsync<RedisTimeoutException>(() => fast.ExecuteAsync(["BLPOP", key, "1"], Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Contains("BLPOP got no reply", e.Message, StringComparison.Ordinal);
        Assert.Contains("300 ms", e.Message, StringComparison.Ordinal);
        // Queued behind the blocked BLPOP, this also fails: it times out, or the connection is declared stalled (nothing
        // read for twice the timeout) and replaced.
        await Assert.ThrowsAnyAsync<RedisConnectionException>(() => fast.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        await Task.Delay(1000, Ct);
        // Either way, later commands get their own replies, never the late BLPOP or GET replies.
        await fast.SetAsync(key, "ok", ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal("ok", await fast.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Select_UsesConfiguredDatabase()
    {
        await using var db5 = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString + ",defaultDatabase=5,name=catbird-test"), Ct).WaitAsync(Timeout, Ct);
        var key = _prefix + "db";
        await db5.SetAsync(key, "five", ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Null(await _redis.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("five", await db5.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Equal("catbird-test", (await db5.ExecuteAsync(["CLIENT", "GETNAME"], Ct).AsTask().WaitAsync(Timeout, Ct)).AsString());
    }

    [Fact]
    public async Task LazyConnection_ConnectsOnFirstCommand()
    {
        await using var lazy = new RedisConnection(fixture.Server.ConnectionString);
        Assert.False(lazy.IsConnected);
        Assert.True(await lazy.PingAsync(Ct).AsTask().WaitAsync(Timeout, Ct) > TimeSpan.Zero);
        Assert.True(lazy.IsConnected);
    }

    [Fact]
    public async Task LargeValue_RoundTripsIntact()
    {
        var value = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(value);
        await _redis.SetAsync(_prefix + "big", value, ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        Assert.Equal(value, await _redis.GetAsync(_prefix + "big", Ct).AsTask().WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task OversizedReply_BeyondConfiguredLimit_FailsConnectionClearly_ThenReconnects()
    {
        await using var small = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString) with { MaxBulkLength = 1024 }, Ct).WaitAsync(Timeout, Ct);
        var key = _prefix + "toolarge";
        await small.SetAsync(key, new byte[4096], ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        var e = await Assert.ThrowsAsync<RedisConnectionException>(() => small.GetAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct));
        Assert.Contains("more than the limit of 1024 bytes", e.Message, StringComparison.Ordinal);
        Assert.Equal("fine", await SetAndGetAsync(small, key + "2", "fine"));
    }

    private async Task<RedisReply> RunTransactionAsync(string stringKey)
    {
        var batch = _redis.CreateBatch();
        var multi = batch.ExecuteAsync(["MULTI"], Ct);
        var queued = batch.ExecuteAsync(["LPUSH", stringKey, "x"], Ct);
        var exec = batch.ExecuteAsync(["EXEC"], Ct);
        await batch.FlushAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
        await multi.AsTask().WaitAsync(Timeout, Ct);
        await queued.AsTask().WaitAsync(Timeout, Ct);
        return await exec.AsTask().WaitAsync(Timeout, Ct);
    }

    private static async Task<string?> SetAndGetAsync(RedisConnection connection, string key, string value)
    {
        await connection.SetAsync(key, value, ct: Ct).AsTask().WaitAsync(Timeout, Ct);
        return await connection.GetStringAsync(key, Ct).AsTask().WaitAsync(Timeout, Ct);
    }
}
