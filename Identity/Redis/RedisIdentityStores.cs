using Catbird.Identity.Did;
using Catbird.Identity.Jwt;
using Catbird.Redis;

namespace Catbird.Identity.Redis;

/// <summary>
/// The jti replay cache shared by every replica of a service: <c>SET &lt;prefix&gt;jti:&lt;iss&gt;:&lt;jti&gt; NX EX</c> until
/// the token expires (at least <paramref name="minimumTtl"/>).
/// </summary>
public sealed class RedisJtiReplayStore(RedisConnection redis, string keyPrefix, TimeSpan minimumTtl, TimeProvider time) : IJtiReplayStore
{
    /// <inheritdoc />
    public async ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken ct)
    {
        var ttl = expires - time.GetUtcNow();
        if (ttl < minimumTtl)
        {
            ttl = minimumTtl;
        }

        return await redis.SetAsync($"{keyPrefix}jti:{issuer}:{jti}", "1", ttl, SetCondition.NotExists, ct: ct);
    }
}

/// <summary>DID documents shared through Redis so a service's replicas resolve each DID once per TTL.</summary>
public sealed class RedisDidDocumentCache(RedisConnection redis, string keyPrefix) : IDidDocumentCache
{
    /// <inheritdoc />
    public async Task<string?> GetAsync(string did, CancellationToken ct) => await redis.GetStringAsync($"{keyPrefix}did:{did}", ct);

    /// <inheritdoc />
    public async Task SetAsync(string did, string documentJson, TimeSpan ttl, CancellationToken ct) =>
        await redis.SetAsync($"{keyPrefix}did:{did}", documentJson, ttl, ct: ct);
}
