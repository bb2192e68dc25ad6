using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Catbird.Redis.Internal;
using Microsoft.Extensions.Logging;

namespace Catbird.Redis;

/// <summary>A message received on a subscription.</summary>
/// <param name="Channel">The channel it was published on.</param>
/// <param name="Payload">The message bytes.</param>
/// <param name="Pattern">The pattern that matched, for pattern subscriptions; otherwise null.</param>
public readonly record struct RedisMessage(string Channel, byte[] Payload, string? Pattern = null)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string Text => Encoding.UTF8.GetString(Payload);
}

/// <summary>
/// Receives pub/sub messages on its own connection (a subscribed Redis connection can run no other commands; publish with
/// <see cref="RedisCommands.PublishAsync(string, string, CancellationToken)"/> on a <see cref="RedisConnection"/>).
/// Reconnects with jittered backoff and subscribes again to every live channel and pattern; messages published while it
/// is disconnected are lost, as Redis pub/sub defines.
/// </summary>
public sealed class RedisSubscriber : IAsyncDisposable, IDisposable
{
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<RedisSubscription>> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<RedisSubscription>> _patterns = new(StringComparer.Ordinal);
    private readonly Dictionary<(bool Pattern, string Name), TaskCompletionSource> _confirmations = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly RespLimits _limits;
    private Channel<byte[]>? _outbox;
    private Task _run = Task.CompletedTask;
    private bool _running;
    private Exception? _lastError;
    private int _disposed;

    /// <summary>Creates a subscriber; it connects when the first subscription is made.</summary>
    public RedisSubscriber(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _limits = RespLimits.From(options);
        _logger = options.LoggerFactory.CreateLogger<RedisSubscriber>();
    }

    /// <summary>The options this subscriber was created with.</summary>
    public RedisOptions Options { get; }

    /// <summary>Whether the subscriber connection is up.</summary>
    public bool IsConnected
    {
        get
        {
            lock (_lock)
            {
                return _outbox is not null;
            }
        }
    }

    /// <summary>
    /// <c>SUBSCRIBE channel</c>: returns once the server has confirmed the subscription, so messages published after
    /// this returns are delivered. Dispose the subscription to unsubscribe.
    /// </summary>
    public Task<RedisSubscription> SubscribeAsync(string channel, CancellationToken ct = default) => AddAsync(channel, pattern: false, ct);

    /// <summary><c>PSUBSCRIBE pattern</c> (glob-style, such as <c>news.*</c>): as <see cref="SubscribeAsync"/>.</summary>
    public Task<RedisSubscription> PatternSubscribeAsync(string pattern, CancellationToken ct = default) => AddAsync(pattern, pattern: true, ct);

    /// <summary>Closes synchronously, for containers that dispose synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Closes the connection and completes every subscription's reader.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync();
        Task run;
        RedisSubscription[] all;
        lock (_lock)
        {
            run = _run;
            all = [.. _channels.Values.SelectMany(list => list), .. _patterns.Values.SelectMany(list => list)];
            _channels.Clear();
            _patterns.Clear();
            foreach (var confirmation in _confirmations.Values)
            {
                confirmation.TrySetException(new ObjectDisposedException(nameof(RedisSubscriber)));
            }

            _confirmations.Clear();
        }

        foreach (var subscription in all)
        {
            subscription.Complete();
        }

        await run;
        _disposing.Dispose();
    }

    internal ValueTask RemoveAsync(RedisSubscription subscription)
    {
        subscription.Complete();
        Channel<byte[]>? outbox = null;
        lock (_lock)
        {
            var map = subscription.IsPattern ? _patterns : _channels;
            if (map.TryGetValue(subscription.Name, out var list) && list.Remove(subscription) && list.Count == 0)
            {
                map.Remove(subscription.Name);
                outbox = _outbox;
            }
        }

        if (outbox is not null)
        {
            outbox.Writer.TryWrite(Encode(subscription.IsPattern ? "PUNSUBSCRIBE" : "UNSUBSCRIBE", [subscription.Name]));
        }

        return ValueTask.CompletedTask;
    }

    private async Task<RedisSubscription> AddAsync(string name, bool pattern, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var subscription = new RedisSubscription(this, name, pattern, Options.SubscriptionCapacity, _logger);
        TaskCompletionSource? confirmation = null;
        Channel<byte[]>? outbox = null;
        lock (_lock)
        {
            var map = pattern ? _patterns : _channels;
            if (!map.TryGetValue(name, out var list))
            {
                map[name] = list = [];
                confirmation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _confirmations[(pattern, name)] = confirmation;
                outbox = _outbox;
            }
            else if (_confirmations.TryGetValue((pattern, name), out var pending))
            {
                confirmation = pending;
            }

            list.Add(subscription);
            if (!_running)
            {
                _running = true;
                _run = Task.Run(RunAsync);
            }
        }

        outbox?.Writer.TryWrite(Encode(pattern ? "PSUBSCRIBE" : "SUBSCRIBE", [name]));
        if (confirmation is null)
        {
            return subscription;
        }

        try
        {
            await confirmation.Task.WaitAsync(Options.CommandTimeout, ct);
            return subscription;
        }
        catch (Exception e)
        {
            await RemoveAsync(subscription);
            if (e is TimeoutException)
            {
                var last = Volatile.Read(ref _lastError);
                throw new RedisTimeoutException(
                    $"Subscribing to '{name}' was not confirmed by Redis at {string.Join(", ", Options.EndPoints)} within {Options.CommandTimeout.TotalMilliseconds:0} ms"
                    + (last is null ? "." : $" (last error: {last.Message})"),
                    last);
            }

            throw;
        }
    }

    private async Task RunAsync()
    {
        var token = _disposing.Token;
        var attempt = 0;
        var next = 0;
        while (!token.IsCancellationRequested)
        {
            var endPoint = Options.EndPoints[next % Options.EndPoints.Count];
            RedisTransport? transport = null;
            Exception failure;
            try
            {
                transport = await RedisTransport.ConnectAsync(Options, endPoint, selectDatabase: false, token);
                attempt = 0;
                await ServeAsync(transport, token);
                continue;
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                if (transport is not null)
                {
                    await transport.DisposeAsync();
                }
            }

            if (token.IsCancellationRequested)
            {
                break;
            }

            Volatile.Write(ref _lastError, failure);
            RedisTelemetry.ConnectionFailures.Add(1);
            if (transport is null)
            {
                next++;
            }
            else
            {
                RedisLog.SubscriberLost(_logger, failure, endPoint);
            }

            attempt++;
            var ceiling = Math.Min(Options.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16)), Options.ReconnectMaxDelay.TotalMilliseconds);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2)), token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private async Task ServeAsync(RedisTransport transport, CancellationToken token)
    {
        var outbox = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
        string[] channels;
        string[] patterns;
        lock (_lock)
        {
            _outbox = outbox;
            channels = [.. _channels.Keys];
            patterns = [.. _patterns.Keys];
        }

        if (channels.Length > 0)
        {
            outbox.Writer.TryWrite(Encode("SUBSCRIBE", channels));
        }

        if (patterns.Length > 0)
        {
            outbox.Writer.TryWrite(Encode("PSUBSCRIBE", patterns));
        }

        RedisLog.SubscriberConnected(_logger, transport.EndPoint, channels.Length, patterns.Length);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var writer = WriteLoopAsync(transport, outbox, stop.Token);
        try
        {
            await ReadLoopAsync(transport, stop.Token);
        }
        finally
        {
            lock (_lock)
            {
                _outbox = null;
            }

            outbox.Writer.TryComplete();
            await stop.CancelAsync();
            transport.Abort();
            try
            {
                await writer;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or RedisException or ObjectDisposedException)
            {
                // The read side reports the failure.
            }
        }
    }

    private static async Task WriteLoopAsync(RedisTransport transport, Channel<byte[]> outbox, CancellationToken ct)
    {
        var reader = outbox.Reader;
        while (await reader.WaitToReadAsync(ct))
        {
            while (reader.TryRead(out var bytes))
            {
                transport.Output.Write(bytes);
            }

            var result = await transport.Output.FlushAsync(ct);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private async Task ReadLoopAsync(RedisTransport transport, CancellationToken ct)
    {
        var input = transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(ct);
            var buffer = result.Buffer;
            while (true)
            {
                var reader = new SequenceReader<byte>(buffer);
                if (!RespReader.TrySkipFrame(ref reader, _limits))
                {
                    break;
                }

                var frame = new SequenceReader<byte>(buffer.Slice(0, reader.Position));
                Dispatch(RespReader.ReadReply(ref frame));
                buffer = buffer.Slice(reader.Position);
            }

            input.AdvanceTo(buffer.Start, result.Buffer.End);
            if (result.IsCompleted)
            {
                throw new RedisConnectionException($"Redis at {transport.EndPoint} closed the subscriber connection.");
            }
        }
    }

    private void Dispatch(RedisReply reply)
    {
        if (reply.IsError)
        {
            throw new RedisServerException(reply.AsString()!, "subscriber");
        }

        var items = reply.Kind == RedisReplyKind.Array ? reply.AsArray() : null;
        if (items is null || items.Length < 2)
        {
            throw new RedisProtocolException($"Redis sent an unexpected reply on the subscriber connection: {reply}.");
        }

        var kind = items[0].AsString();
        switch (kind)
        {
            case "message" when items.Length == 3:
                Deliver(_channels, items[1].AsString()!, new RedisMessage(items[1].AsString()!, items[2].AsBytes() ?? []));
                break;
            case "pmessage" when items.Length == 4:
                Deliver(_patterns, items[1].AsString()!, new RedisMessage(items[2].AsString()!, items[3].AsBytes() ?? [], items[1].AsString()));
                break;
            case "subscribe":
            case "psubscribe":
                TaskCompletionSource? confirmation;
                lock (_lock)
                {
                    var key = (kind == "psubscribe", items[1].AsString()!);
                    if (_confirmations.Remove(key, out confirmation))
                    {
                        confirmation.TrySetResult();
                    }
                }

                break;
            case "unsubscribe":
            case "punsubscribe":
            case "pong":
                break;
            default:
                throw new RedisProtocolException($"Redis sent an unexpected '{kind}' push on the subscriber connection.");
        }
    }

    private void Deliver(Dictionary<string, List<RedisSubscription>> map, string name, RedisMessage message)
    {
        RedisSubscription[]? targets = null;
        lock (_lock)
        {
            if (map.TryGetValue(name, out var list))
            {
                targets = [.. list];
            }
        }

        if (targets is null)
        {
            return;
        }

        foreach (var subscription in targets)
        {
            subscription.Offer(message);
        }
    }

    private static byte[] Encode(string command, IReadOnlyList<string> arguments)
    {
        var buffer = new CommandBuffer();
        buffer.WriteArrayHeader(1 + arguments.Count);
        buffer.WriteBulk(command);
        foreach (var argument in arguments)
        {
            buffer.WriteBulk(argument);
        }

        return buffer.Written.ToArray();
    }
}

/// <summary>
/// One subscription: its messages arrive in a bounded channel (<see cref="Reader"/>, or <c>await foreach</c> over the
/// subscription). When the channel is full, new messages are dropped and counted in <see cref="DroppedMessages"/>.
/// Dispose to unsubscribe.
/// </summary>
public sealed class RedisSubscription : IAsyncEnumerable<RedisMessage>, IAsyncDisposable
{
    private readonly RedisSubscriber _owner;
    private readonly Channel<RedisMessage> _messages;
    private readonly ILogger _logger;
    private long _dropped;
    private int _disposed;

    internal RedisSubscription(RedisSubscriber owner, string name, bool isPattern, int capacity, ILogger logger)
    {
        _owner = owner;
        _logger = logger;
        Name = name;
        IsPattern = isPattern;
        _messages = Channel.CreateBounded<RedisMessage>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = true,
        });
    }

    /// <summary>The channel name, or the pattern for a pattern subscription.</summary>
    public string Name { get; }

    /// <summary>Whether this is a pattern (<c>PSUBSCRIBE</c>) subscription.</summary>
    public bool IsPattern { get; }

    /// <summary>The received messages. Completes when the subscription or the subscriber is disposed.</summary>
    public ChannelReader<RedisMessage> Reader => _messages.Reader;

    /// <summary>Messages dropped because the reader did not keep up (slow consumer).</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <inheritdoc />
    public IAsyncEnumerator<RedisMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _messages.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <summary>Unsubscribes and completes <see cref="Reader"/>.</summary>
    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) != 0 ? ValueTask.CompletedTask : _owner.RemoveAsync(this);

    internal void Offer(RedisMessage message)
    {
        // The read loop never waits for a slow reader: a full channel drops the message and counts it.
        if (!_messages.Writer.TryWrite(message) && Volatile.Read(ref _disposed) == 0)
        {
            Interlocked.Increment(ref _dropped);
            RedisTelemetry.DroppedMessages.Add(1);
            RedisLog.MessageDropped(_logger, Name);
        }
    }

    internal void Complete() => _messages.Writer.TryComplete();
}
