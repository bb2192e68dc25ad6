using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Catbird.Nats.Internal;

/// <summary>The client's ActivitySource and Meter (<c>Catbird.Nats</c>).</summary>
internal static class NatsTelemetry
{
    public const string Name = "Catbird.Nats";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);
    public static readonly Counter<long> SentMessages = Meter.CreateCounter<long>("nats.client.sent.messages", "{message}", "Messages published");
    public static readonly Counter<long> ReceivedMessages = Meter.CreateCounter<long>("nats.client.received.messages", "{message}", "Messages delivered to subscriptions");
    public static readonly Counter<long> DroppedMessages = Meter.CreateCounter<long>("nats.client.dropped.messages", "{message}", "Messages dropped because a subscriber fell behind");
    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>("nats.client.reconnects", "{reconnect}", "Reconnections after a lost connection");
}
