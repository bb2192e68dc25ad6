namespace Catbird.Nats;

/// <summary>A message received from NATS.</summary>
public readonly record struct NatsMsg(string Subject, string? ReplyTo, NatsHeaders? Headers, ReadOnlyMemory<byte> Data, NatsConnection? Connection)
{
    /// <summary>Payload plus header bytes.</summary>
    public int Size => Data.Length;

    /// <summary>Replies to the message's reply subject.</summary>
    /// <exception cref="InvalidOperationException">The message has no reply subject.</exception>
    public ValueTask ReplyAsync(ReadOnlyMemory<byte> data = default, NatsHeaders? headers = null, CancellationToken ct = default)
    {
        if (ReplyTo is null || Connection is null)
        {
            throw new InvalidOperationException($"The message on '{Subject}' has no reply subject.");
        }

        return Connection.PublishAsync(ReplyTo, data, headers, null, ct);
    }
}
