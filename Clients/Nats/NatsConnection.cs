using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Catbird.Nats.Internal;
using Microsoft.Extensions.Logging;

namespace Catbird.Nats;

/// <summary>The state of a <see cref="NatsConnection"/>.</summary>
public enum NatsConnectionState
{
    /// <summary>Not connected (never, or disposed).</summary>
    Closed,

    /// <summary>Connecting for the first time.</summary>
    Connecting,

    /// <summary>Connected.</summary>
    Open,

    /// <summary>Lost the server; reconnecting.</summary>
    Reconnecting,
}

/// <summary>
/// A connection to NATS: one socket shared by publishers, subscriptions and requests. Publishes are coalesced into
/// few writes; each subscription has a bounded channel; requests share one inbox subscription. A lost connection is
/// re-established with jittered backoff to the seed and discovered servers, subscriptions are re-sent, and publishes made
/// meanwhile are buffered (up to <see cref="NatsOpts.PublishBufferBytes"/>).
/// </summary>
public sealed partial class NatsConnection : IAsyncDisposable
{
    private const int MaxControlLine = 64 * 1024;
    private const int MaxPayloadHardCap = 64 * 1024 * 1024;
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    private readonly ILogger _logger;
    private readonly IReadOnlyList<NatsServerAddress> _seeds;
    private readonly ConcurrentDictionary<long, NatsSubscription> _subscriptions = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<NatsMsg>> _requests = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<TaskCompletionSource<bool>> _pings = new();
    private readonly Lock _writeLock = new();
    private readonly Channel<bool> _writeSignal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private readonly string _inboxPrefix;
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _spare = new(64 * 1024);
    private TaskCompletionSource _open = NewSignal();
    private TaskCompletionSource _drained = NewSignal();
    private List<NatsServerAddress> _discovered = [];
    private Stream? _stream;
    private Socket? _socket;
    private Task? _readLoop;
    private Task? _writeLoop;
    private Task? _pingLoop;
    private NatsSubscription? _inbox;
    private long _nextSid;
    private long _nextRequest;
    private int _state;
    private int _pingsOut;
    private int _disposed;
    private int _disposeStarted;
    private int _flushScheduled;
    private int _pendingApprox;

    /// <summary>Creates a connection; it connects on <see cref="ConnectAsync"/> or on first use.</summary>
    public NatsConnection(NatsOpts options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Opts = options;
        _seeds = NatsServerAddress.ParseList(options.Url);
        _logger = options.LoggerFactory.CreateLogger<NatsConnection>();
        _inboxPrefix = "_INBOX." + NewInbox()[7..];
    }

    /// <summary>Creates a connection to <paramref name="url"/>.</summary>
    public NatsConnection(string url)
        : this(NatsOpts.FromUrl(url))
    {
    }

    /// <summary>The options.</summary>
    public NatsOpts Opts { get; }

    /// <summary>The current state.</summary>
    public NatsConnectionState ConnectionState => (NatsConnectionState)Volatile.Read(ref _state);

    /// <summary>What the server said in its latest INFO.</summary>
    public NatsServerInfo? ServerInfo { get; private set; }

    /// <summary>Raised when a connection (first or after a loss) is established.</summary>
    public event EventHandler<string>? ConnectionOpened;

    /// <summary>Raised when the connection is lost.</summary>
    public event EventHandler<string>? ConnectionDisconnected;

    /// <summary>Raised when a reconnect attempt fails.</summary>
    public event EventHandler<Exception>? ReconnectFailed;

    /// <summary>Raised when a subscription drops a message because its reader fell behind.</summary>
    public event EventHandler<NatsSubscription>? SlowConsumerDetected;

    /// <summary>A new unique inbox subject (<c>_INBOX.&lt;random&gt;</c>).</summary>
    public static string NewInbox() => "_INBOX." + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(11));

    /// <summary>Connects if not connected yet.</summary>
    /// <exception cref="NatsAuthorizationException">The server refused the credentials.</exception>
    /// <exception cref="NatsConnectionException">No server could be reached.</exception>
    public async ValueTask ConnectAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (ConnectionState is NatsConnectionState.Open or NatsConnectionState.Reconnecting)
        {
            return;
        }

        await _connectGate.WaitAsync(ct);
        try
        {
            if (ConnectionState is NatsConnectionState.Open or NatsConnectionState.Reconnecting)
            {
                return;
            }

            SetState(NatsConnectionState.Connecting);
            Exception? last = null;
            foreach (var server in _seeds)
            {
                try
                {
                    await EstablishAsync(server, ct);
                    _writeLoop ??= Task.Run(WriteLoopAsync);
                    _pingLoop ??= Task.Run(PingLoopAsync);
                    return;
                }
                catch (NatsAuthorizationException)
                {
                    SetState(NatsConnectionState.Closed);
                    throw;
                }
                catch (Exception e) when (e is SocketException or IOException or NatsException or OperationCanceledException or System.Security.Authentication.AuthenticationException && !ct.IsCancellationRequested)
                {
                    last = e;
                    LogConnectFailed(_logger, server.ToString(), e.Message);
                }
            }

            SetState(NatsConnectionState.Closed);
            throw new NatsConnectionException($"Could not connect to NATS at {string.Join(", ", _seeds)}: {last?.Message}", last);
        }
        finally
        {
            _connectGate.Release();
        }
    }

    /// <summary>Publishes a message (HPUB when headers are given).</summary>
    /// <exception cref="NatsPayloadTooLargeException">Headers plus data exceed the server's max_payload.</exception>
    public async ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> data = default, NatsHeaders? headers = null, string? replyTo = null, CancellationToken ct = default)
    {
        ValidateSubject(subject);
        if (ConnectionState == NatsConnectionState.Closed)
        {
            await EnsureConnectedAsync(ct);
        }

        using var activity = StartPublishActivity(subject, ref headers);
        var headerBytes = headers is null ? null : EncodeHeaders(headers);
        var total = data.Length + (headerBytes?.Length ?? 0);
        if (ServerInfo is { MaxPayload: > 0 } info && total > info.MaxPayload)
        {
            throw new NatsPayloadTooLargeException(total, info.MaxPayload);
        }

        await WaitForBufferSpaceAsync(ct);
        lock (_writeLock)
        {
            var w = _pending;
            if (headerBytes is null)
            {
                Ascii(w, "PUB ");
                Ascii(w, subject);
                if (replyTo is not null)
                {
                    Ascii(w, " ");
                    Ascii(w, replyTo);
                }

                Ascii(w, " ");
                Number(w, data.Length);
                w.Write(Crlf);
            }
            else
            {
                Ascii(w, "HPUB ");
                Ascii(w, subject);
                if (replyTo is not null)
                {
                    Ascii(w, " ");
                    Ascii(w, replyTo);
                }

                Ascii(w, " ");
                Number(w, headerBytes.Length);
                Ascii(w, " ");
                Number(w, total);
                w.Write(Crlf);
                w.Write(headerBytes);
            }

            w.Write(data.Span);
            w.Write(Crlf);
            _pendingApprox = w.WrittenCount;
        }

        NatsTelemetry.SentMessages.Add(1);
        ScheduleFlush();
    }

    /// <summary>Subscribes to <paramref name="subject"/> (wildcards allowed), optionally in a queue group.</summary>
    public async ValueTask<NatsSubscription> SubscribeAsync(string subject, string? queueGroup = null, CancellationToken ct = default)
    {
        ValidateSubject(subject, wildcards: true);
        await EnsureConnectedAsync(ct);
        var sid = Interlocked.Increment(ref _nextSid);
        var subscription = new NatsSubscription(this, sid, subject, queueGroup, Opts.SubPendingChannelCapacity);
        _subscriptions[sid] = subscription;
        lock (_writeLock)
        {
            WriteSub(_pending, subscription);
        }

        ScheduleFlush();
        return subscription;
    }

    /// <summary>Sends a request and waits for the first reply (shared inbox).</summary>
    /// <exception cref="NatsNoRespondersException">Nobody listens on <paramref name="subject"/>.</exception>
    /// <exception cref="NatsTimeoutException">No reply within <paramref name="timeout"/> (default <see cref="NatsOpts.RequestTimeout"/>).</exception>
    public async ValueTask<NatsMsg> RequestAsync(string subject, ReadOnlyMemory<byte> data = default, NatsHeaders? headers = null, TimeSpan? timeout = null, CancellationToken ct = default)
    {
        await EnsureInboxAsync(ct);
        var token = Interlocked.Increment(ref _nextRequest).ToString(CultureInfo.InvariantCulture);
        var reply = new TaskCompletionSource<NatsMsg>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[token] = reply;
        try
        {
            await PublishAsync(subject, data, headers, _inboxPrefix + "." + token, ct);
            var limit = timeout ?? Opts.RequestTimeout;
            NatsMsg msg;
            try
            {
                msg = await reply.Task.WaitAsync(limit, ct);
            }
            catch (TimeoutException)
            {
                throw new NatsTimeoutException($"No reply on '{subject}' within {limit.TotalMilliseconds:0} ms.");
            }

            if (msg.Headers is { Code: 503 } && msg.Data.IsEmpty)
            {
                throw new NatsNoRespondersException(subject);
            }

            return msg;
        }
        finally
        {
            _requests.TryRemove(token, out _);
        }
    }

    /// <summary>Round-trips a PING.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken ct = default)
    {
        await EnsureConnectedAsync(ct);
        var pong = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        lock (_writeLock)
        {
            _pings.Enqueue(pong);
            Ascii(_pending, "PING\r\n");
        }

        ScheduleFlush();
        try
        {
            await pong.Task.WaitAsync(Opts.RequestTimeout, ct);
        }
        catch (TimeoutException)
        {
            throw new NatsTimeoutException($"No PONG within {Opts.RequestTimeout.TotalMilliseconds:0} ms.");
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Waits until everything published so far has been written to the server and a PING was answered.</summary>
    public async ValueTask FlushAsync(CancellationToken ct = default) => await PingAsync(ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            return;
        }

        if (ConnectionState == NatsConnectionState.Open)
        {
            try
            {
                using var flush = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await PingAsync(flush.Token);
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException)
            {
                // Closing anyway.
            }
        }

        Volatile.Write(ref _disposed, 1);
        await _disposing.CancelAsync();
        SetState(NatsConnectionState.Closed);
        CloseTransport();
        _writeSignal.Writer.TryComplete();
        foreach (var task in new[] { _readLoop, _writeLoop, _pingLoop })
        {
            if (task is not null)
            {
                await task.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        foreach (var subscription in _subscriptions.Values)
        {
            subscription.Complete();
        }

        foreach (var request in _requests.Values)
        {
            request.TrySetException(new ObjectDisposedException(nameof(NatsConnection)));
        }

        _disposing.Dispose();
    }

    internal async ValueTask RemoveSubscriptionAsync(NatsSubscription subscription)
    {
        if (_subscriptions.TryRemove(subscription.Sid, out _) && ConnectionState != NatsConnectionState.Closed)
        {
            lock (_writeLock)
            {
                Ascii(_pending, "UNSUB ");
                Number(_pending, subscription.Sid);
                _pending.Write(Crlf);
            }

            ScheduleFlush();
        }

        await Task.CompletedTask;
    }

    private async ValueTask EnsureConnectedAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (ConnectionState == NatsConnectionState.Closed)
        {
            await ConnectAsync(ct);
        }
    }

    private async ValueTask EnsureInboxAsync(CancellationToken ct)
    {
        if (_inbox is not null)
        {
            return;
        }

        await EnsureConnectedAsync(ct);
        var inbox = await SubscribeAsync(_inboxPrefix + ".*", null, ct);
        if (Interlocked.CompareExchange(ref _inbox, inbox, null) is not null)
        {
            await inbox.DisposeAsync();
            return;
        }

        _ = Task.Run(async () =>
        {
            await foreach (var msg in inbox.ReadAllAsync(CancellationToken.None))
            {
                var token = msg.Subject[(_inboxPrefix.Length + 1)..];
                if (_requests.TryRemove(token, out var waiter))
                {
                    waiter.TrySetResult(msg);
                }
            }
        }, CancellationToken.None);
    }

    private async Task WaitForBufferSpaceAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _pendingApprox) <= Opts.PublishBufferBytes)
        {
            return;
        }

        var deadline = Stopwatch.GetTimestamp();
        while (PendingBytes > Opts.PublishBufferBytes)
        {
            if (Stopwatch.GetElapsedTime(deadline) > Opts.RequestTimeout)
            {
                throw new NatsConnectionException(
                    $"The publish buffer is full ({PendingBytes} bytes) and was not drained within {Opts.RequestTimeout.TotalSeconds:0} s (state {ConnectionState}).");
            }

            ScheduleFlush();
            await Task.WhenAny(Volatile.Read(ref _drained).Task, Task.Delay(50, ct));
        }
    }

    private int PendingBytes
    {
        get
        {
            lock (_writeLock)
            {
                return _pending.WrittenCount;
            }
        }
    }

    // Wakes the writer once per batch rather than once per command.
    private void ScheduleFlush()
    {
        if (Interlocked.Exchange(ref _flushScheduled, 1) == 0)
        {
            _writeSignal.Writer.TryWrite(true);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void SetState(NatsConnectionState state) => Volatile.Write(ref _state, (int)state);

    private Activity? StartPublishActivity(string subject, ref NatsHeaders? headers)
    {
        if (!NatsTelemetry.Source.HasListeners())
        {
            return null;
        }

        var activity = NatsTelemetry.Source.StartActivity($"{subject} publish", ActivityKind.Producer);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag("messaging.system", "nats");
        activity.SetTag("messaging.operation.type", "publish");
        activity.SetTag("messaging.destination.name", subject);
        if (activity.Id is { } traceParent && (headers is null || !headers.ContainsKey("traceparent")))
        {
            headers = headers is null ? new NatsHeaders() : Copy(headers);
            headers.Set("traceparent", traceParent);
            if (activity.TraceStateString is { Length: > 0 } traceState)
            {
                headers.Set("tracestate", traceState);
            }
        }

        return activity;
    }

    private static NatsHeaders Copy(NatsHeaders headers)
    {
        var copy = new NatsHeaders();
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                copy.Add(name, value);
            }
        }

        return copy;
    }

    private static byte[] EncodeHeaders(NatsHeaders headers)
    {
        var writer = new ArrayBufferWriter<byte>(128);
        headers.WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteSub(IBufferWriter<byte> w, NatsSubscription subscription)
    {
        Ascii(w, "SUB ");
        Ascii(w, subscription.Subject);
        if (subscription.QueueGroup is not null)
        {
            Ascii(w, " ");
            Ascii(w, subscription.QueueGroup);
        }

        Ascii(w, " ");
        Number(w, subscription.Sid);
        w.Write(Crlf);
    }

    private static void Ascii(IBufferWriter<byte> w, string text)
    {
        var span = w.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        w.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private static void Number(IBufferWriter<byte> w, long value)
    {
        var span = w.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var written);
        w.Advance(written);
    }

    private static void ValidateSubject(string subject, bool wildcards = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        foreach (var c in subject)
        {
            if (c is ' ' or '\t' or '\r' or '\n' || (!wildcards && c is '*' or '>'))
            {
                throw new ArgumentException($"Invalid subject '{subject}'.", nameof(subject));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "NATS: could not connect to {Server}: {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string server, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NATS: connection to {Server} lost: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string server, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "NATS: connected to {Server}")]
    private static partial void LogConnected(ILogger logger, string server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NATS: subscription {Subject} is a slow consumer; dropped a message")]
    private static partial void LogSlowConsumer(ILogger logger, string subject);
}
