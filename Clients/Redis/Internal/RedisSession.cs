using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;

namespace Catbird.Redis.Internal;

/// <summary>
/// One live connection: a write loop that drains an outbox channel into the pipe (flushing when the outbox is empty), a
/// read loop that frames replies and hands each to the oldest waiting command, and a FIFO of commands awaiting replies.
/// A session never reconnects: when anything goes wrong it fails once, fails every command it holds, and tells its owner.
/// </summary>
internal sealed class RedisSession
{
    private const int FlushThreshold = 64 * 1024;

    private readonly RedisTransport _transport;
    private readonly RespLimits _limits;
    private readonly Action<RedisSession, Exception> _onFailed;
    private readonly Channel<PendingCommand> _outbox = Channel.CreateUnbounded<PendingCommand>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private readonly Queue<PendingCommand> _awaiting = new();
    private readonly Lock _awaitingLock = new();
    private bool _closed;
    private int _failed;
    private long _lastReadTimestamp = Stopwatch.GetTimestamp();
    private Task _readLoop = Task.CompletedTask;
    private Task _writeLoop = Task.CompletedTask;

    public RedisSession(RedisTransport transport, RedisOptions options, Action<RedisSession, Exception> onFailed)
    {
        _transport = transport;
        _limits = RespLimits.From(options);
        _onFailed = onFailed;
    }

    public RedisEndPoint EndPoint => _transport.EndPoint;

    public bool IsOpen => Volatile.Read(ref _failed) == 0;

    /// <summary>The reason the session failed, once it has.</summary>
    public Exception? Failure { get; private set; }

    public void Start()
    {
        _readLoop = Task.Run(ReadLoopAsync);
        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Queues a command (or a batch chain) for writing; false when the session has failed.</summary>
    public bool TryEnqueue(PendingCommand command) => _outbox.Writer.TryWrite(command);

    /// <summary>Fails commands in the reply queue whose deadline has passed; they keep their slots.</summary>
    public void ExpireOverdue(long now, TimeSpan timeout)
    {
        // How long past its deadline the oldest command may wait with nothing read before the connection counts as dead:
        // one more timeout, but at least a second, so that tiny timeouts do not churn connections.
        var grace = TimeSpan.FromTicks(Math.Max(timeout.Ticks, TimeSpan.TicksPerSecond));
        var graceTicks = (long)(grace.TotalSeconds * Stopwatch.Frequency);
        var stalled = false;

        // Completed under the lock: a command in the queue cannot be recycled for another caller until the read loop
        // dequeues it, and the read loop dequeues under this lock.
        lock (_awaitingLock)
        {
            foreach (var command in _awaiting)
            {
                if (command.Deadline > now)
                {
                    break;
                }

                if (!command.IsCompleted && command.TrySetException(new RedisTimeoutException(
                    $"{command.Name} got no reply from Redis at {EndPoint} within {timeout.TotalMilliseconds:0} ms (RedisOptions.CommandTimeout).")))
                {
                    RedisTelemetry.Timeouts.Add(1);
                }
            }

            // Nothing at all has arrived for the grace period after the oldest command was due: the server or the network
            // is gone without closing the socket (or a blocking command holds the connection far too long).
            // Failing the session also fails what waits in the outbox behind a write that cannot complete.
            stalled = _awaiting.TryPeek(out var oldest)
                && now - oldest.Deadline > graceTicks
                && Volatile.Read(ref _lastReadTimestamp) < oldest.Deadline;
        }

        if (stalled)
        {
            Fail(new RedisConnectionException(
                $"Redis at {EndPoint} sent nothing for more than {(timeout + grace).TotalMilliseconds:0} ms while commands waited for replies; the connection was closed."));
        }
    }

    /// <summary>Fails the session: closes the socket, fails every command it holds, and notifies the owner once.</summary>
    public void Fail(Exception reason)
    {
        if (Interlocked.Exchange(ref _failed, 1) != 0)
        {
            return;
        }

        Failure = reason;
        _outbox.Writer.TryComplete();
        _transport.Abort();
        PendingCommand[] inFlight;
        lock (_awaitingLock)
        {
            _closed = true;
            inFlight = [.. _awaiting];
            _awaiting.Clear();
        }

        foreach (var command in inFlight)
        {
            FailCommand(command, reason);
        }

        RedisTelemetry.ConnectionFailures.Add(1);
        _onFailed(this, reason);
    }

    /// <summary>Fails the session (if it has not) and waits for its loops to end.</summary>
    public async ValueTask CloseAsync(Exception reason)
    {
        Fail(reason);
        await Task.WhenAll(_readLoop, _writeLoop);
        await _transport.DisposeAsync();
    }

    private void FailCommand(PendingCommand command, Exception reason)
    {
        var message = reason is RedisProtocolException
            ? $"{command.Name} failed: Redis at {EndPoint} sent an invalid reply and the connection was closed: {reason.Message}"
            : $"{command.Name} failed: the connection to Redis at {EndPoint} was lost before its reply arrived: {reason.Message}";
        command.TrySetException(new RedisConnectionException(message, reason));
        command.ReleaseSlot();
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbox.Reader;
        var output = _transport.Output;
        try
        {
            while (await reader.WaitToReadAsync())
            {
                while (reader.TryRead(out var head))
                {
                    for (var command = head; command is not null;)
                    {
                        var next = command.Next;
                        Write(output, command);
                        command = next;
                    }

                    if (output.UnflushedBytes >= FlushThreshold)
                    {
                        await FlushAsync(output);
                    }
                }

                await FlushAsync(output);
            }
        }
        catch (Exception e)
        {
            Fail(e is RedisException ? e : new RedisConnectionException($"Writing to Redis at {EndPoint} failed: {e.Message}", e));
        }
        finally
        {
            // Commands still in the outbox were never sent.
            while (reader.TryRead(out var head))
            {
                for (var command = head; command is not null;)
                {
                    var next = command.Next;
                    FailCommand(command, Failure ?? new RedisConnectionException("The connection closed."));
                    command = next;
                }
            }
        }
    }

    private void Write(PipeWriter output, PendingCommand command)
    {
        if (command.IsCompleted)
        {
            // Cancelled before it was sent: no slot, no bytes.
            command.ReleaseSlot();
            return;
        }

        // Copy the bytes before the command joins the reply queue: once there, a failing session may complete and recycle
        // it. The bytes are not flushed yet, so no reply can arrive before the command is queued.
        output.Write(command.Buffer.Written);
        bool queued;
        lock (_awaitingLock)
        {
            queued = !_closed;
            if (queued)
            {
                _awaiting.Enqueue(command);
            }
        }

        if (!queued)
        {
            FailCommand(command, Failure ?? new RedisConnectionException("The connection closed."));
        }
    }

    private static async ValueTask FlushAsync(PipeWriter output)
    {
        var result = await output.FlushAsync();
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new RedisConnectionException("The connection was closed while writing.");
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                Volatile.Write(ref _lastReadTimestamp, Stopwatch.GetTimestamp());
                var buffer = result.Buffer;
                var consumed = ProcessReplies(buffer);
                input.AdvanceTo(consumed, buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    var partial = buffer.Slice(consumed).Length > 0 ? " in the middle of a reply" : "";
                    throw new RedisConnectionException($"Redis at {EndPoint} closed the connection{partial}.");
                }
            }
        }
        catch (Exception e)
        {
            Fail(e is RedisException ? e : new RedisConnectionException($"Reading from Redis at {EndPoint} failed: {e.Message}", e));
        }
    }

    private SequencePosition ProcessReplies(ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!RespReader.TrySkipFrame(ref reader, _limits))
            {
                return buffer.Start;
            }

            PendingCommand? command;
            lock (_awaitingLock)
            {
                _awaiting.TryDequeue(out command);
            }

            if (command is null)
            {
                if (!IsOpen)
                {
                    return buffer.Start;
                }

                throw new RedisProtocolException($"Redis at {EndPoint} sent a reply while no command was waiting for one.");
            }

            command.OnReply(buffer.Slice(0, reader.Position));
            command.ReleaseSlot();
            buffer = buffer.Slice(reader.Position);
        }
    }
}
