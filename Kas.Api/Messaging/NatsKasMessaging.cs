using System.Runtime.CompilerServices;
using Catbird.Nats;

namespace Catbird.Kas.Api.Messaging;

/// <summary><see cref="IKasMessaging"/> over the Catbird NATS client (it connects on first use and reconnects by itself).</summary>
public sealed class NatsKasMessaging(NatsConnection nats) : IKasMessaging
{
    /// <inheritdoc />
    public ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> data, CancellationToken ct) =>
        nats.PublishAsync(subject, data, ct: ct);

    /// <inheritdoc />
    public async ValueTask<ReadOnlyMemory<byte>> RequestAsync(string subject, ReadOnlyMemory<byte> data, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            var reply = await nats.RequestAsync(subject, data, timeout: timeout, ct: deadline.Token);
            return reply.Data;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"no reply on {subject} within {timeout.TotalMilliseconds:0} ms (connecting or waiting)");
        }
        catch (NatsTimeoutException error)
        {
            throw new TimeoutException(error.Message, error);
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<KasMessage> SubscribeAsync(string subject, [EnumeratorCancellation] CancellationToken ct)
    {
        await using var subscription = await nats.SubscribeAsync(subject, ct: ct);
        await foreach (var message in subscription.ReadAllAsync(ct))
        {
            yield return new KasMessage(message.Subject, message.Data);
        }
    }
}
