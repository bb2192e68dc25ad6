using System.Globalization;
using System.Text.Json;
using Catbird.Kas.Api.Rewrap;
using Catbird.Redis;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Media;

/// <summary>
/// Playback sessions in Redis. Each user's live sessions are a sorted set scored by expiry; starting a session prunes
/// expired members, counts, and admits only below the limit in one Lua script, so parallel starts never over-admit.
/// Sessions expire 300 s after the last heartbeat or key request.
/// </summary>
public sealed class MediaSessionStore(RedisConnection redis, IOptions<KasOptions> options, TimeProvider time)
{
    /// <summary>Idle lifetime of a session.</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromSeconds(300);

    private const string Prefix = "kas:media:";

    private static readonly RedisScript StartScript = new("""
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
          return 0
        end
        redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[5])
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
        return 1
        """);

    private static readonly RedisScript TouchScript = new("""
        if redis.call('EXISTS', KEYS[1]) == 0 then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
        redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
        redis.call('PEXPIRE', KEYS[2], ARGV[2])
        return 1
        """);

    private static readonly RedisScript EndScript = new("""
        redis.call('ZREM', KEYS[2], ARGV[1])
        return redis.call('DEL', KEYS[1])
        """);

    /// <summary>The concurrent-stream limit.</summary>
    public int Limit => options.Value.MaxConcurrentStreams;

    /// <summary>Admits a new session unless the user is at the limit; null when refused.</summary>
    public async Task<PlaybackSession?> StartAsync(string userId, string assetId, SessionStartRequest request, string? clientIp, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var session = new PlaybackSession
        {
            SessionId = $"{userId}:{assetId}:{Guid.NewGuid()}",
            UserId = userId,
            AssetId = assetId,
            Protocol = request.Protocol ?? "tdf3",
            GeoRegion = request.GeoRegion,
            UserAgent = request.UserAgent,
            ClientIp = clientIp,
            StartTimestamp = now,
            LastHeartbeat = now,
        };
        var admitted = await redis.EvalAsync(StartScript, [UserKey(userId), SessionKey(session.SessionId)],
            [Number(now), Number((long)SessionLifetime.TotalMilliseconds), Number(Limit), Serialize(session), session.SessionId], ct);
        return admitted.AsInt64() == 1 ? session : null;
    }

    /// <summary>Reads a live session, or null.</summary>
    public async Task<PlaybackSession?> GetAsync(string sessionId, CancellationToken ct)
    {
        var json = await redis.GetAsync(SessionKey(sessionId), ct);
        return json is null ? null : JsonSerializer.Deserialize(json, KasJsonContext.Default.PlaybackSession);
    }

    /// <summary>Stores an updated session and extends its life; false when it had already expired.</summary>
    public async Task<bool> TouchAsync(PlaybackSession session, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        session.LastHeartbeat = now;
        var touched = await redis.EvalAsync(TouchScript, [SessionKey(session.SessionId), UserKey(session.UserId)],
            [Number(now), Number((long)SessionLifetime.TotalMilliseconds), Serialize(session), session.SessionId], ct);
        return touched.AsInt64() == 1;
    }

    /// <summary>Ends a session; false when there was none.</summary>
    public async Task<bool> EndAsync(PlaybackSession session, CancellationToken ct)
    {
        var deleted = await redis.EvalAsync(EndScript, [SessionKey(session.SessionId), UserKey(session.UserId)], [session.SessionId], ct);
        return deleted.AsInt64() > 0;
    }

    /// <summary>Records the first play of an asset by a user (kept 30 days); returns the first-play time.</summary>
    public async Task<long> MarkFirstPlayAsync(string userId, string assetId, long now, CancellationToken ct)
    {
        var key = RentalKey(userId, assetId);
        await redis.SetAsync(key, Number(now), TimeSpan.FromDays(30), SetCondition.NotExists, ct: ct);
        var stored = await redis.GetStringAsync(key, ct);
        return long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var first) ? first : now;
    }

    /// <summary>The first play of an asset by a user, or null.</summary>
    public async Task<long?> FirstPlayAsync(string userId, string assetId, CancellationToken ct)
    {
        var stored = await redis.GetStringAsync(RentalKey(userId, assetId), ct);
        return long.TryParse(stored, NumberStyles.Integer, CultureInfo.InvariantCulture, out var first) ? first : null;
    }

    /// <summary>How many live sessions a user has.</summary>
    public async Task<long> ActiveCountAsync(string userId, CancellationToken ct)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var reply = await redis.ExecuteAsync(["ZCOUNT", UserKey(userId), "(" + Number(now), "+inf"], ct);
        return reply.AsInt64();
    }

    private static string SessionKey(string id) => Prefix + "session:" + id;

    private static string UserKey(string user) => Prefix + "user:" + user + ":sessions";

    private static string RentalKey(string user, string asset) => Prefix + "rental:" + user + ":" + asset;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Serialize(PlaybackSession session) => JsonSerializer.Serialize(session, KasJsonContext.Default.PlaybackSession);
}
