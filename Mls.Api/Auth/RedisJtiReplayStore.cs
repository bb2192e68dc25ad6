using Catbird.Identity.Jwt;
using Catbird.Redis;

namespace Catbird.Mls.Api.Auth;

/// <summary>The jti replay cache shared by every replica: <c>SET mls:jti:&lt;iss&gt;:&lt;jti&gt; NX EX</c> until the token expires.</summary>
public sealed class RedisJtiReplayStore(RedisConnection redis, TimeSpan minimumTtl, TimeProvider time) : IJtiReplayStore
{
    public async ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken ct)
    {
        var ttl = expires - time.GetUtcNow();
        if (ttl < minimumTtl)
        {
            ttl = minimumTtl;
        }
        return await redis.SetAsync($"mls:jti:{issuer}:{jti}", "1", ttl, SetCondition.NotExists, ct: ct);
    }
}

/// <summary>DID documents shared through Redis so replicas resolve each DID once per TTL.</summary>
public sealed class RedisDidDocumentCache(RedisConnection redis) : Catbird.Identity.Did.IDidDocumentCache
{
    public async Task<string?> GetAsync(string did, CancellationToken ct) => await redis.GetStringAsync($"mls:did:{did}", ct);

    public async Task SetAsync(string did, string documentJson, TimeSpan ttl, CancellationToken ct) =>
        await redis.SetAsync($"mls:did:{did}", documentJson, ttl, ct: ct);
}
