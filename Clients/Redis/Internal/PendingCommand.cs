using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace Catbird.Redis.Internal;

/// <summary>
/// One command from the call to its reply: its encoded bytes, its deadline, and the awaitable its caller holds.
/// Pooled: it has two owners, the caller (until it has awaited the result) and the pipeline (until the command's reply
/// slot is consumed or the command is dropped), and goes back to the pool when both let go. A command that completes
/// early (timeout, cancellation) keeps its slot in the reply queue so the stream stays in step; its reply is discarded.
/// </summary>
internal abstract class PendingCommand
{
    private int _state;
    private int _owners;

    public CommandBuffer Buffer { get; } = new();

    public string Name { get; protected set; } = "";

    /// <summary><see cref="Stopwatch"/> timestamp after which the command times out.</summary>
    public long Deadline { get; set; }

    public long StartTimestamp { get; protected set; }

    /// <summary>The next command of the same batch, written right after this one.</summary>
    public PendingCommand? Next { get; set; }

    protected Activity? Activity { get; set; }

    protected CancellationTokenRegistration Registration { get; set; }

    public bool IsCompleted => Volatile.Read(ref _state) != 0;

    /// <summary>Starts the clock, the activity and the cancellation registration; called once, just before sending.</summary>
    public void Begin(TimeSpan timeout, RedisEndPoint? endPoint, int database, CancellationToken ct)
    {
        StartTimestamp = Stopwatch.GetTimestamp();
        Deadline = StartTimestamp + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        Activity = RedisTelemetry.StartCommand(Name, endPoint, database);
        if (ct.CanBeCanceled)
        {
            if (ct.IsCancellationRequested)
            {
                TrySetException(new OperationCanceledException(ct));
            }
            else
            {
                Registration = ct.UnsafeRegister(static (state, token) => ((PendingCommand)state!).TrySetException(new OperationCanceledException(token)), this);
            }
        }
    }

    /// <summary>Delivers the reply frame (read loop). A command that already completed discards it.</summary>
    public abstract void OnReply(in ReadOnlySequence<byte> frame);

    /// <summary>Fails the command unless it already completed.</summary>
    public abstract bool TrySetException(Exception exception);

    /// <summary>The pipeline is done with this command (its reply was consumed, or it was dropped before sending).</summary>
    public void ReleaseSlot() => Release();

    /// <summary>Drops a command that could not be encoded; it was never begun or sent, and nobody awaits it.</summary>
    public void Discard()
    {
        TryClaim();
        Release();
        Release();
    }

    protected bool TryClaim() => Interlocked.Exchange(ref _state, 1) == 0;

    protected void ResetOwnership()
    {
        Volatile.Write(ref _state, 0);
        Volatile.Write(ref _owners, 2);
    }

    protected void Release()
    {
        if (Interlocked.Decrement(ref _owners) == 0)
        {
            Recycle();
        }
    }

    /// <summary>Ends telemetry and the cancellation registration once the outcome is known.</summary>
    protected void Finish(Exception? error)
    {
        // Dispose (not Unregister) waits for a cancellation callback running on another thread, so no callback can touch
        // this object after it has been recycled for another command.
        Registration.Dispose();
        Registration = default;
        if (Activity is { } activity)
        {
            RedisTelemetry.StopCommand(activity, error);
            Activity = null;
        }

        RedisTelemetry.RecordDuration(StartTimestamp, Name, error);
    }

    protected abstract void Recycle();
}

/// <summary>A pending command whose reply is decoded to <typeparamref name="T"/>.</summary>
internal sealed class PendingCommand<T> : PendingCommand, IValueTaskSource<T>
{
    private const int MaxPooled = 1024;
    private static readonly ConcurrentQueue<PendingCommand<T>> Pool = new();
    private static int _pooled;

    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    private ReplyDecoder<T>? _decoder;

    private PendingCommand()
    {
    }

    public static PendingCommand<T> Rent(string name, ReplyDecoder<T> decoder)
    {
        if (Pool.TryDequeue(out var command))
        {
            Interlocked.Decrement(ref _pooled);
        }
        else
        {
            command = new PendingCommand<T>();
        }

        command.Name = name;
        command._decoder = decoder;
        command.ResetOwnership();
        return command;
    }

    public ValueTask<T> AsValueTask() => new(this, _core.Version);

    public override void OnReply(in ReadOnlySequence<byte> frame)
    {
        if (IsCompleted)
        {
            return;
        }

        T value = default!;
        Exception? error = null;
        try
        {
            value = _decoder!.Decode(frame, Name);
        }
        catch (Exception e)
        {
            error = e;
        }

        if (!TryClaim())
        {
            return;
        }

        Finish(error);
        if (error is null)
        {
            _core.SetResult(value);
        }
        else
        {
            _core.SetException(error);
        }
    }

    public override bool TrySetException(Exception exception)
    {
        if (!TryClaim())
        {
            return false;
        }

        Finish(exception);
        _core.SetException(exception);
        return true;
    }

    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    protected override void Recycle()
    {
        Buffer.Clear();
        Next = null;
        _decoder = null;
        _core.Reset();
        if (Interlocked.Increment(ref _pooled) <= MaxPooled)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
