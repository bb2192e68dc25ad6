using System.Collections.Concurrent;

namespace Catbird.Identity.Jwt;

/// <summary>An in-process <see cref="IJtiReplayStore"/> (single replica or tests); a shared store is needed behind a load balancer.</summary>
public sealed class MemoryJtiReplayStore(TimeProvider? time = null) : IJtiReplayStore
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private int _writes;

    /// <inheritdoc />
    public ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        if (Interlocked.Increment(ref _writes) % 1024 == 0)
        {
            foreach (var (seenKey, expiry) in _seen)
            {
                if (expiry <= now)
                {
                    _seen.TryRemove(seenKey, out _);
                }
            }
        }
        var key = issuer + "|" + jti;
        while (true)
        {
            if (_seen.TryAdd(key, expires))
            {
                return ValueTask.FromResult(true);
            }
            if (_seen.TryGetValue(key, out var existing) && existing > now)
            {
                return ValueTask.FromResult(false);
            }
            if (_seen.TryUpdate(key, expires, existing))
            {
                return ValueTask.FromResult(true);
            }
        }
    }
}
