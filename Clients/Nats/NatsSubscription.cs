using System.Threading.Channels;

namespace Catbird.Nats;

/// <summary>
/// A subscription: messages arrive in a bounded channel; when the reader falls behind, newer messages are dropped and
/// counted in <see cref="Dropped"/> (a slow consumer) rather than growing memory without bound.
/// </summary>
public sealed class NatsSubscription : IAsyncDisposable
{
    private readonly Channel<NatsMsg> _channel;
    private readonly NatsConnection _connection;
    private long _dropped;
    private int _closed;

    internal NatsSubscription(NatsConnection connection, long sid, string subject, string? queueGroup, int capacity)
    {
        _connection = connection;
        Sid = sid;
        Subject = subject;
        QueueGroup = queueGroup;
        _channel = Channel.CreateBounded<NatsMsg>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
    }

    /// <summary>The server-side subscription id.</summary>
    public long Sid { get; }

    /// <summary>The subject (may contain wildcards).</summary>
    public string Subject { get; }

    /// <summary>The queue group, or null.</summary>
    public string? QueueGroup { get; }

    /// <summary>The messages.</summary>
    public ChannelReader<NatsMsg> Msgs => _channel.Reader;

    /// <summary>Messages dropped because the reader fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Reads messages until the subscription ends or <paramref name="ct"/> is cancelled.</summary>
    public IAsyncEnumerable<NatsMsg> ReadAllAsync(CancellationToken ct = default) => _channel.Reader.ReadAllAsync(ct);

    /// <summary>Unsubscribes; the channel completes after the messages already buffered.</summary>
    public ValueTask UnsubscribeAsync() => DisposeAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await _connection.RemoveSubscriptionAsync(this);
            _channel.Writer.TryComplete();
        }
    }

    internal bool Deliver(in NatsMsg msg)
    {
        if (_channel.Writer.TryWrite(msg))
        {
            return true;
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    internal void Complete(Exception? error = null) => _channel.Writer.TryComplete(error);
}
