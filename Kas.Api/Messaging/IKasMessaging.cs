namespace Catbird.Kas.Api.Messaging;

/// <summary>A message received on a subscription.</summary>
public sealed record KasMessage(string Subject, ReadOnlyMemory<byte> Data);

/// <summary>
/// The messaging Kas.Api needs (membership requests, media events, WebSocket passthrough): a narrow seam over the
/// NATS client so the service code states what it does with NATS, not how the client spells it.
/// </summary>
public interface IKasMessaging
{
    /// <summary>Publishes a message.</summary>
    ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> data, CancellationToken ct);

    /// <summary>Sends a request and waits for one reply; throws <see cref="TimeoutException"/> when none comes in time.</summary>
    ValueTask<ReadOnlyMemory<byte>> RequestAsync(string subject, ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken ct);

    /// <summary>Subscribes until <paramref name="ct"/> is cancelled.</summary>
    IAsyncEnumerable<KasMessage> SubscribeAsync(string subject, CancellationToken ct);
}
