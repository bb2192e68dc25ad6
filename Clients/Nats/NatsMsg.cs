using System.Diagnostics;
using Catbird.Nats.Internal;

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

    /// <summary>
    /// Starts a consumer activity for handling this message, continuing the trace carried in its <c>traceparent</c>
    /// header (W3C trace context); null when nobody listens to <c>Catbird.Nats</c>.
    /// </summary>
    public Activity? StartActivity(string operation = "process")
    {
        if (!NatsTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(Headers?.GetLast("traceparent"), Headers?.GetLast("tracestate"), out var parent);
        var activity = NatsTelemetry.Source.StartActivity($"{Subject} {operation}", ActivityKind.Consumer, parent);
        activity?.SetTag("messaging.system", "nats");
        activity?.SetTag("messaging.operation.type", operation);
        activity?.SetTag("messaging.destination.name", Subject);
        return activity;
    }
}
