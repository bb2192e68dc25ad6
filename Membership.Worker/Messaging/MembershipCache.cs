using System.Collections.Concurrent;
using Catbird.Membership.Worker.Storage;
using Microsoft.Extensions.Options;

namespace Catbird.Membership.Worker.Messaging;

/// <summary>
/// Membership answers kept in memory so a check costs microseconds; every applied event drops the room's answers,
/// and each answer also expires after <see cref="MembershipOptions.CacheTtl"/>.
/// </summary>
public sealed class MembershipCache(IMembershipStore store, IOptions<MembershipOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Room, string Subject), (MembershipAnswer Answer, long Expires)> _answers = new();

    /// <summary>The answer for <paramref name="subject"/> in <paramref name="room"/>.</summary>
    public async ValueTask<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct)
    {
        var now = time.GetTimestamp();
        if (_answers.TryGetValue((room, subject), out var cached) && cached.Expires > now)
        {
            return cached.Answer;
        }

        var answer = await store.CheckAsync(room, subject, ct);
        var expires = now + (long)(options.Value.CacheTtl.TotalSeconds * time.TimestampFrequency);
        _answers[(room, subject)] = (answer, expires);
        return answer;
    }

    /// <summary>Forgets every answer about <paramref name="room"/>.</summary>
    public void Invalidate(string room)
    {
        foreach (var key in _answers.Keys)
        {
            if (key.Room == room)
            {
                _answers.TryRemove(key, out _);
            }
        }
    }
}
