using Catbird.Redis;

namespace Catbird.Mls.Api.Auth;

/// <summary>
/// Fixed one-minute windows counted in Redis, so every replica shares the budget. INCR and PEXPIRE run in one script,
/// so a window key can never be left without an expiry.
/// </summary>
public sealed class RedisRateLimiter(RedisConnection redis, TimeProvider time)
{
    private static readonly RedisScript CountScript = new("""
        local n = redis.call('INCR', KEYS[1])
        if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """);

    /// <summary>Counts one request for <paramref name="key"/>; returns null when allowed, else the seconds until the window resets.</summary>
    public async ValueTask<int?> TryAcquireAsync(string key, int perMinute, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var window = now / 60_000;
        var reply = await redis.EvalAsync(CountScript, [$"mls:rl:{key}:{window}"], [61_000], ct);
        if (reply.AsInt64() <= perMinute)
        {
            return null;
        }
        return (int)Math.Max(1, ((window + 1) * 60_000 - now + 999) / 1000);
    }
}
