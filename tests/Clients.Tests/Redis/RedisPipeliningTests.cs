using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisPipeliningTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentCallers_100kCommands_EveryReplyReachesItsCaller()
    {
        const int callers = 64;
        const int perCaller = 100_000 / callers / 2; // each round is one SET and one GET
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var prefix = $"p:{Guid.NewGuid():N}:";
        var mismatches = 0;
        var completed = 0;

        var tasks = Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < perCaller; i++)
            {
                var key = $"{prefix}{caller}:{i % 16}";
                var value = $"{caller}:{i}:{Guid.NewGuid():N}";
                if (!await redis.SetAsync(key, value, ct: Ct))
                {
                    Interlocked.Increment(ref mismatches);
                }

                // Each caller owns its keys, so the GET must return exactly what this caller just wrote.
                if (await redis.GetStringAsync(key, Ct) != value)
                {
                    Interlocked.Increment(ref mismatches);
                }

                Interlocked.Add(ref completed, 2);
            }
        }, Ct)).ToArray();

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(120), Ct);
        Assert.Equal(0, mismatches);
        Assert.Equal(callers * perCaller * 2, completed);
    }

    [Fact]
    public async Task ConcurrentIncrements_FromManyCallers_AreAllCounted()
    {
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var key = $"inc:{Guid.NewGuid():N}";
        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(_ => redis.IncrementAsync(key, ct: Ct).AsTask())).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        // Every caller got a distinct counter value: no reply was delivered twice or to the wrong caller.
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), results.Order());
    }
}
