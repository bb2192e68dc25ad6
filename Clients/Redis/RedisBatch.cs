using Catbird.Redis.Internal;

namespace Catbird.Redis;

/// <summary>
/// Commands queued together and sent in one piece, in order, by <see cref="FlushAsync"/>: one write, one flush, for hot
/// paths that issue several commands at once. Each typed method returns at once; await its result after
/// <see cref="FlushAsync"/> (a result awaited before the flush never completes). A batch is not a transaction: other
/// callers' commands may run between its commands (use a script for atomicity).
/// </summary>
/// <example>
/// <code>
/// var batch = connection.CreateBatch();
/// var count = batch.IncrementAsync("hits");
/// var ttl = batch.ExpireAsync("hits", TimeSpan.FromMinutes(1));
/// await batch.FlushAsync(ct);
/// var hits = await count;
/// await ttl;
/// </code>
/// </example>
public sealed class RedisBatch : RedisCommands
{
    private readonly RedisConnection _connection;
    private PendingCommand? _head;
    private PendingCommand? _tail;
    private bool _flushed;

    internal RedisBatch(RedisConnection connection) => _connection = connection;

    /// <summary>How many commands are queued.</summary>
    public int Count { get; private set; }

    /// <summary>Sends every queued command. Returns once they are handed to the connection (not when replies arrive).</summary>
    /// <exception cref="RedisConnectionException">No connection could be had within the command timeout; every queued command failed too.</exception>
    public ValueTask FlushAsync(CancellationToken ct = default)
    {
        if (_flushed)
        {
            throw new InvalidOperationException("This batch was already flushed; create a new one.");
        }

        _flushed = true;
        var head = _head;
        _head = _tail = null;
        return head is null ? ValueTask.CompletedTask : _connection.SendChainAsync(head, ct);
    }

    private protected override ValueTask<T> SendAsync<T>(PendingCommand<T> command, CancellationToken ct)
    {
        if (_flushed)
        {
            // A follow-up command from inside a typed method (the EVAL after NOSCRIPT) goes straight to the connection.
            return _connection.SendNow(command, ct);
        }

        _connection.BeginBatched(command, ct);
        var result = command.AsValueTask();
        if (_tail is null)
        {
            _head = command;
        }
        else
        {
            _tail.Next = command;
        }

        _tail = command;
        Count++;
        return result;
    }
}
