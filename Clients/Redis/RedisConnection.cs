using System.Diagnostics;
using Catbird.Redis.Internal;
using Microsoft.Extensions.Logging;

namespace Catbird.Redis;

/// <summary>
/// One multiplexed connection to Redis, shared by any number of concurrent callers: their commands are pipelined on one
/// socket and each reply goes to the caller whose command it answers. The connection heals itself: when it is lost,
/// commands in flight fail with <see cref="RedisConnectionException"/>, and it reconnects in the background with jittered
/// exponential backoff; commands issued meanwhile wait up to <see cref="RedisOptions.CommandTimeout"/>.
/// </summary>
/// <remarks>
/// Create one per process and share it. The constructor does not connect: the first command does (so that dependency
/// injection never blocks on Redis), or call <see cref="ConnectAsync(RedisOptions, CancellationToken)"/> to connect up front.
/// </remarks>
public sealed class RedisConnection : RedisCommands, IAsyncDisposable, IDisposable
{
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposing = new();
    private readonly Lock _stateLock = new();
    private readonly Timer _timeoutSweeper;
    private RedisSession? _session;
    private RedisSession? _lostSession;
    private TaskCompletionSource<RedisSession> _ready = NewReadySignal();
    private Task _connectLoop = Task.CompletedTask;
    private bool _connecting;
    private bool _everConnected;
    private Exception? _lastError;
    private int _nextEndPoint;
    private int _disposed;

    /// <summary>The name of the client's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string TelemetryName = RedisTelemetry.Name;

    /// <summary>Creates a connection that connects on first use.</summary>
    public RedisConnection(RedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = options.LoggerFactory.CreateLogger<RedisConnection>();
        var period = TimeSpan.FromMilliseconds(Math.Clamp(options.CommandTimeout.TotalMilliseconds / 20, 5, 250));
        _timeoutSweeper = new Timer(static state => ((RedisConnection)state!).ExpireOverdueCommands(), this, period, period);
    }

    /// <summary>Creates a connection from a StackExchange-format connection string; it connects on first use.</summary>
    public RedisConnection(string connectionString)
        : this(RedisOptions.Parse(connectionString))
    {
    }

    /// <summary>The options this connection was created with.</summary>
    public RedisOptions Options { get; }

    /// <summary>Whether a connection is up right now.</summary>
    public bool IsConnected => Volatile.Read(ref _session)?.IsOpen == true;

    /// <summary>The server currently connected, or null.</summary>
    public RedisEndPoint? ConnectedEndPoint => Volatile.Read(ref _session)?.EndPoint;

    /// <summary>
    /// Connects before returning. With <see cref="RedisOptions.AbortOnConnectFail"/> (the default) a failed first attempt
    /// (every endpoint tried once) throws <see cref="RedisConnectionException"/> or
    /// <see cref="RedisAuthenticationException"/>; without it, the connection is returned and keeps retrying.
    /// </summary>
    public static async Task<RedisConnection> ConnectAsync(RedisOptions options, CancellationToken ct = default)
    {
        var connection = new RedisConnection(options);
        try
        {
            if (options.AbortOnConnectFail)
            {
                await connection.ConnectOnceAsync(ct);
            }
            else
            {
                connection.EnsureConnecting();
                try
                {
                    await connection._ready.Task.WaitAsync(options.ConnectTimeout, ct);
                }
                catch (Exception e) when (e is TimeoutException or RedisConnectionException)
                {
                    // Keeps retrying in the background; commands wait for it.
                }
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a batch: commands queued on it are sent together, in order, by <see cref="RedisBatch.FlushAsync"/>.</summary>
    public RedisBatch CreateBatch() => new(this);

    /// <summary>Closes synchronously, for containers that dispose synchronously; prefer <see cref="DisposeAsync"/>.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Closes the connection; commands in flight fail with <see cref="RedisConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync();
        await _timeoutSweeper.DisposeAsync();
        RedisSession? session;
        RedisSession? lost;
        Task connectLoop;
        lock (_stateLock)
        {
            session = _session;
            lost = _lostSession;
            _session = null;
            _lostSession = null;
            connectLoop = _connectLoop;
            _ready.TrySetException(new ObjectDisposedException(nameof(RedisConnection)));
        }

        await connectLoop;
        var reason = new RedisConnectionException("The Redis connection was disposed.");
        if (session is not null)
        {
            await session.CloseAsync(reason);
        }

        if (lost is not null)
        {
            await lost.CloseAsync(reason);
        }

        _disposing.Dispose();
    }

    private protected override ValueTask<T> SendAsync<T>(PendingCommand<T> command, CancellationToken ct)
    {
        var session = Volatile.Read(ref _session);
        command.Begin(Options.CommandTimeout, session?.EndPoint ?? Options.EndPoints[0], Options.Database, ct);
        if (session is not null && session.TryEnqueue(command))
        {
            return command.AsValueTask();
        }

        return SendWhenConnectedAsync(command, ct);
    }

    /// <summary>Sends a prepared command at once (for a batch that was already flushed).</summary>
    internal ValueTask<T> SendNow<T>(PendingCommand<T> command, CancellationToken ct) => SendAsync(command, ct);

    /// <summary>Begins a command that a batch will send later.</summary>
    internal void BeginBatched(PendingCommand command, CancellationToken ct) =>
        command.Begin(Options.CommandTimeout, Volatile.Read(ref _session)?.EndPoint ?? Options.EndPoints[0], Options.Database, ct);

    /// <summary>Sends a chain of begun commands in one piece.</summary>
    internal async ValueTask SendChainAsync(PendingCommand head, CancellationToken ct)
    {
        var session = Volatile.Read(ref _session);
        if (session is not null && session.TryEnqueue(head))
        {
            return;
        }

        try
        {
            while (true)
            {
                session = await WaitForSessionAsync(head.Deadline, "batch", ct);
                if (session.TryEnqueue(head))
                {
                    return;
                }
            }
        }
        catch (Exception e)
        {
            for (var command = head; command is not null;)
            {
                var next = command.Next;
                command.TrySetException(e);
                command.ReleaseSlot();
                command = next;
            }

            throw;
        }
    }

    private async ValueTask<T> SendWhenConnectedAsync<T>(PendingCommand<T> command, CancellationToken ct)
    {
        var result = command.AsValueTask();
        var enqueued = false;
        try
        {
            while (!command.IsCompleted)
            {
                var session = await WaitForSessionAsync(command.Deadline, command.Name, ct);
                if (session.TryEnqueue(command))
                {
                    enqueued = true;
                    break;
                }
            }
        }
        catch (Exception e)
        {
            command.TrySetException(e);
        }

        if (!enqueued)
        {
            // The pipeline never took the command, so its share of ownership ends here.
            command.ReleaseSlot();
        }

        return await result;
    }

    private async ValueTask<RedisSession> WaitForSessionAsync(long deadline, string what, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        EnsureConnecting();
        Task<RedisSession> ready;
        lock (_stateLock)
        {
            ready = _ready.Task;
        }

        var remaining = deadline - Stopwatch.GetTimestamp();
        try
        {
            if (remaining <= 0)
            {
                throw new TimeoutException();
            }

            return await ready.WaitAsync(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency), ct);
        }
        catch (TimeoutException)
        {
            var last = Volatile.Read(ref _lastError);
            RedisTelemetry.Timeouts.Add(1);
            throw new RedisTimeoutException(
                $"{what} could not be sent: no connection to Redis at {string.Join(", ", Options.EndPoints)} within {Options.CommandTimeout.TotalMilliseconds:0} ms"
                + (last is null ? "." : $" (last error: {last.Message})"),
                last);
        }
    }

    private void EnsureConnecting()
    {
        lock (_stateLock)
        {
            if (_connecting || _session is not null || Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            _connecting = true;
            _connectLoop = Task.Run(ConnectLoopAsync);
        }
    }

    private async Task ConnectOnceAsync(CancellationToken ct)
    {
        Exception? last = null;
        foreach (var endPoint in Options.EndPoints)
        {
            try
            {
                var transport = await RedisTransport.ConnectAsync(Options, endPoint, selectDatabase: true, ct);
                await InstallAsync(transport);
                return;
            }
            catch (RedisConnectionException e)
            {
                last = e;
                _lastError = e;
                RedisTelemetry.ConnectionFailures.Add(1);
            }
        }

        throw last!;
    }

    private async Task ConnectLoopAsync()
    {
        var attempt = 0;
        var installed = false;
        var token = _disposing.Token;
        try
        {
            if (Interlocked.Exchange(ref _lostSession, null) is { } lost)
            {
                await lost.CloseAsync(lost.Failure ?? new RedisConnectionException("The connection was lost."));
            }

            while (!token.IsCancellationRequested)
            {
                var endPoint = Options.EndPoints[_nextEndPoint % Options.EndPoints.Count];
                try
                {
                    var transport = await RedisTransport.ConnectAsync(Options, endPoint, selectDatabase: true, token);
                    await InstallAsync(transport);
                    installed = true;
                    return;
                }
                catch (Exception e) when (!token.IsCancellationRequested)
                {
                    attempt++;
                    _nextEndPoint++;
                    Volatile.Write(ref _lastError, e);
                    RedisTelemetry.ConnectionFailures.Add(1);
                    var delay = Backoff(attempt);
                    RedisLog.ConnectFailed(_logger, e, endPoint, attempt, (long)delay.TotalMilliseconds);
                    await Task.Delay(delay, token);
                }
            }
        }
        catch (Exception) when (token.IsCancellationRequested)
        {
            // Disposed while connecting or waiting to retry.
        }
        finally
        {
            if (!installed)
            {
                lock (_stateLock)
                {
                    _connecting = false;
                }
            }
        }
    }

    private async Task InstallAsync(RedisTransport transport)
    {
        var session = new RedisSession(transport, Options, OnSessionFailed);
        TaskCompletionSource<RedisSession> ready;
        lock (_stateLock)
        {
            if (Volatile.Read(ref _disposed) != 0 || _session is not null)
            {
                ready = null!;
            }
            else
            {
                // Cleared together with installing the session, so a failure of this session starts a new loop.
                _connecting = false;
                session.Start();
                Volatile.Write(ref _session, session);
                if (_everConnected)
                {
                    RedisTelemetry.Reconnects.Add(1);
                }

                _everConnected = true;
                ready = _ready;
            }
        }

        if (ready is null)
        {
            await transport.DisposeAsync();
            throw new ObjectDisposedException(nameof(RedisConnection));
        }

        RedisLog.Connected(_logger, transport.EndPoint);
        ready.TrySetResult(session);
    }

    private void OnSessionFailed(RedisSession session, Exception reason)
    {
        lock (_stateLock)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            Volatile.Write(ref _session, null);
            _lostSession = session;
            _ready = NewReadySignal();
            Volatile.Write(ref _lastError, reason);
        }

        if (reason is RedisProtocolException)
        {
            RedisLog.ProtocolViolation(_logger, reason, session.EndPoint);
        }
        else
        {
            RedisLog.ConnectionLost(_logger, reason, session.EndPoint);
        }

        EnsureConnecting();
    }

    private void ExpireOverdueCommands() =>
        Volatile.Read(ref _session)?.ExpireOverdue(Stopwatch.GetTimestamp(), Options.CommandTimeout);

    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Options.ReconnectMinDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16));
        var capped = Math.Min(ceiling, Options.ReconnectMaxDelay.TotalMilliseconds);
        // Half fixed, half random, so that many clients do not reconnect in lockstep.
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
    }

    private static TaskCompletionSource<RedisSession> NewReadySignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
