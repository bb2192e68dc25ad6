using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Catbird.Redis;

namespace Catbird.Kas.Api.Apis;

/// <summary>
/// A per-identity limit shared by every Kas.Api instance: a one-second fixed window counted in Redis
/// (<c>INCR</c> + <c>PEXPIRE</c> in one script). The synchronous path never grants, so the middleware takes the
/// asynchronous one; when Redis cannot answer, the local token bucket decides instead.
/// </summary>
public sealed class RedisWindowRateLimiter(RedisConnection redis, string key, int limit, RateLimiter fallback) : RateLimiter
{
    private static readonly RedisScript CountScript = new("""
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then
          redis.call('PEXPIRE', KEYS[1], ARGV[1])
        end
        return {count, redis.call('PTTL', KEYS[1])}
        """);

    private long _lastUsed = Stopwatch.GetTimestamp();

    /// <inheritdoc />
    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    /// <inheritdoc />
    public override RateLimiterStatistics? GetStatistics() => fallback.GetStatistics();

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.Pending;

    /// <inheritdoc />
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _lastUsed, Stopwatch.GetTimestamp());
        if (permitCount == 0)
        {
            return Lease.Granted;
        }

        var window = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(250));
            var reply = (await redis.EvalAsync(CountScript, [key + ":" + window.ToString(CultureInfo.InvariantCulture)], ["2000"], timeout.Token)).AsArray()!;
            var count = reply[0].AsInt64();
            if (count <= limit)
            {
                return Lease.Granted;
            }

            var retryAfter = TimeSpan.FromMilliseconds(Math.Clamp(1000 - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 1000, 1, 1000));
            return new Lease(false, retryAfter);
        }
        catch (Exception error) when (error is RedisException or OperationCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return await fallback.AcquireAsync(permitCount, cancellationToken);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fallback.Dispose();
        }

        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease Pending = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } value && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = value;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}
