using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisScriptTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static readonly RedisScript IncrementAndTag = new("""
        local n = redis.call('INCRBY', KEYS[1], ARGV[1])
        return {n, ARGV[2]}
        """);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Eval_UsesShaCache_AndFallsBackOnNoScript()
    {
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var key = $"script:{Guid.NewGuid():N}";

        await redis.ExecuteAsync(["SCRIPT", "FLUSH"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var first = await redis.EvalAsync(IncrementAndTag, [key], [5, "tag"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(5, first.AsArray()![0].AsInt64());
        Assert.Equal("tag", first.AsArray()![1].AsString());

        // The NOSCRIPT fallback ran EVAL, which cached the script under the SHA1 we computed.
        var exists = await redis.ExecuteAsync(["SCRIPT", "EXISTS", IncrementAndTag.Sha1], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(1, exists.AsArray()![0].AsInt64());
        var loadedSha = await redis.ExecuteAsync(["SCRIPT", "LOAD", IncrementAndTag.Text], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(IncrementAndTag.Sha1, loadedSha.AsString());

        var second = await redis.EvalAsync(IncrementAndTag, [key], [2, "again"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(7, second.AsArray()![0].AsInt64());

        await redis.ExecuteAsync(["SCRIPT", "FLUSH"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var third = await redis.EvalAsync(IncrementAndTag, [key], [1, "x"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(8, third.AsArray()![0].AsInt64());
    }

    [Fact]
    public async Task Eval_InBatch_FallsBackAfterFlush()
    {
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var script = new RedisScript($"return '{Guid.NewGuid():N}' .. ARGV[1]");
        var batch = redis.CreateBatch();
        var result = batch.EvalAsync(script, args: ["!"], ct: Ct);
        await batch.FlushAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.EndsWith("!", (await result.AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct)).AsString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Eval_ScriptError_ThrowsServerException()
    {
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var broken = new RedisScript("return redis.call('NOPE')");
        var e = await Assert.ThrowsAsync<RedisServerException>(() => redis.EvalAsync(broken, ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Contains("EVAL", e.Message, StringComparison.Ordinal);
        Assert.True(await redis.PingAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct) > TimeSpan.Zero);
    }
}
