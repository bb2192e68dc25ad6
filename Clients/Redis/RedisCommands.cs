using Catbird.Redis.Internal;

namespace Catbird.Redis;

/// <summary>When <c>SET</c> writes the value.</summary>
public enum SetCondition
{
    /// <summary>Always.</summary>
    Always,

    /// <summary>Only if the key does not exist (<c>NX</c>).</summary>
    NotExists,

    /// <summary>Only if the key exists (<c>XX</c>).</summary>
    Exists,
}

/// <summary>
/// The typed Redis commands, shared by <see cref="RedisConnection"/> (sent at once, pipelined with other callers' commands)
/// and <see cref="RedisBatch"/> (sent together when the batch executes). Every command takes a
/// <see cref="CancellationToken"/> and is bounded by <see cref="RedisOptions.CommandTimeout"/>.
/// </summary>
/// <remarks>Each returned <see cref="ValueTask{TResult}"/> must be awaited exactly once (or converted with <c>AsTask()</c>).</remarks>
public abstract class RedisCommands
{
    private protected RedisCommands()
    {
    }

    /// <summary><c>PING</c>: returns the round-trip time.</summary>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken ct = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var command = Start("PING", "$4\r\nPING\r\n"u8, 0, Decoders.Text);
        var reply = await SendAsync(command, ct);
        return reply == "PONG"
            ? System.Diagnostics.Stopwatch.GetElapsedTime(started)
            : throw new RedisException($"PING got '{reply}' instead of PONG.");
    }

    /// <summary><c>GET key</c>: the value's bytes, or null if the key does not exist.</summary>
    public ValueTask<byte[]?> GetAsync(string key, CancellationToken ct = default)
    {
        var command = Start("GET", "$3\r\nGET\r\n"u8, 1, Decoders.Bytes);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>GET key</c>: the value as UTF-8 text, or null if the key does not exist.</summary>
    public ValueTask<string?> GetStringAsync(string key, CancellationToken ct = default)
    {
        var command = Start("GET", "$3\r\nGET\r\n"u8, 1, Decoders.Text);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>SET key value [NX|XX] [PX ms] [KEEPTTL]</c>: true if the value was written (false when the condition failed).</summary>
    public ValueTask<bool> SetAsync(string key, string value, TimeSpan? expiry = null, SetCondition when = SetCondition.Always, bool keepTtl = false, CancellationToken ct = default)
    {
        var command = StartSet(key, expiry, when, keepTtl);
        command.Buffer.WriteBulk(value);
        WriteSetOptions(command.Buffer, expiry, when, keepTtl);
        return SendAsync(command, ct);
    }

    /// <summary><c>SET key value [NX|XX] [PX ms] [KEEPTTL]</c> with a binary value.</summary>
    public ValueTask<bool> SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry = null, SetCondition when = SetCondition.Always, bool keepTtl = false, CancellationToken ct = default)
    {
        var command = StartSet(key, expiry, when, keepTtl);
        command.Buffer.WriteBulk(value.Span);
        WriteSetOptions(command.Buffer, expiry, when, keepTtl);
        return SendAsync(command, ct);
    }

    /// <summary><c>DEL key</c>: the number of keys removed (0 or 1).</summary>
    public ValueTask<long> DeleteAsync(string key, CancellationToken ct = default) => DeleteAsync([key], ct);

    /// <summary><c>DEL key [key …]</c>: the number of keys removed.</summary>
    public ValueTask<long> DeleteAsync(params string[] keys) => DeleteAsync((IReadOnlyList<string>)keys, default);

    /// <summary><c>DEL key [key …]</c>: the number of keys removed.</summary>
    public ValueTask<long> DeleteAsync(IReadOnlyList<string> keys, CancellationToken ct = default)
    {
        RequireAny(keys, nameof(keys));
        var command = Start("DEL", "$3\r\nDEL\r\n"u8, keys.Count, Decoders.Integer);
        WriteAll(command.Buffer, keys);
        return SendAsync(command, ct);
    }

    /// <summary><c>EXISTS key</c>: whether the key exists.</summary>
    public ValueTask<bool> ExistsAsync(string key, CancellationToken ct = default)
    {
        var command = Start("EXISTS", "$6\r\nEXISTS\r\n"u8, 1, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>INCR key</c> or <c>INCRBY key by</c>: the value after the increment.</summary>
    public ValueTask<long> IncrementAsync(string key, long by = 1, CancellationToken ct = default)
    {
        PendingCommand<long> command;
        if (by == 1)
        {
            command = Start("INCR", "$4\r\nINCR\r\n"u8, 1, Decoders.Integer);
            command.Buffer.WriteBulk(key);
        }
        else
        {
            command = Start("INCRBY", "$6\r\nINCRBY\r\n"u8, 2, Decoders.Integer);
            command.Buffer.WriteBulk(key);
            command.Buffer.WriteBulk(by);
        }

        return SendAsync(command, ct);
    }

    /// <summary><c>EXPIRE key seconds</c> (rounded up to whole seconds): true if the timeout was set.</summary>
    public ValueTask<bool> ExpireAsync(string key, TimeSpan expiry, CancellationToken ct = default)
    {
        var command = Start("EXPIRE", "$6\r\nEXPIRE\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk((long)Math.Ceiling(expiry.TotalSeconds));
        return SendAsync(command, ct);
    }

    /// <summary><c>PEXPIRE key milliseconds</c>: true if the timeout was set.</summary>
    public ValueTask<bool> PExpireAsync(string key, TimeSpan expiry, CancellationToken ct = default)
    {
        var command = Start("PEXPIRE", "$7\r\nPEXPIRE\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk((long)Math.Ceiling(expiry.TotalMilliseconds));
        return SendAsync(command, ct);
    }

    /// <summary><c>PTTL key</c>: the remaining time to live, or null if the key does not exist or has no expiry.</summary>
    public ValueTask<TimeSpan?> TimeToLiveAsync(string key, CancellationToken ct = default)
    {
        var command = Start("PTTL", "$4\r\nPTTL\r\n"u8, 1, Decoders.MillisecondsToLive);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>HGET key field</c>: the field's bytes, or null.</summary>
    public ValueTask<byte[]?> HashGetAsync(string key, string field, CancellationToken ct = default)
    {
        var command = Start("HGET", "$4\r\nHGET\r\n"u8, 2, Decoders.Bytes);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(field);
        return SendAsync(command, ct);
    }

    /// <summary><c>HGET key field</c>: the field as UTF-8 text, or null.</summary>
    public ValueTask<string?> HashGetStringAsync(string key, string field, CancellationToken ct = default)
    {
        var command = Start("HGET", "$4\r\nHGET\r\n"u8, 2, Decoders.Text);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(field);
        return SendAsync(command, ct);
    }

    /// <summary><c>HSET key field value</c>: true if the field is new.</summary>
    public ValueTask<bool> HashSetAsync(string key, string field, string value, CancellationToken ct = default)
    {
        var command = Start("HSET", "$4\r\nHSET\r\n"u8, 3, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(field);
        command.Buffer.WriteBulk(value);
        return SendAsync(command, ct);
    }

    /// <summary><c>HSET key field value</c> with a binary value: true if the field is new.</summary>
    public ValueTask<bool> HashSetAsync(string key, string field, ReadOnlyMemory<byte> value, CancellationToken ct = default)
    {
        var command = Start("HSET", "$4\r\nHSET\r\n"u8, 3, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(field);
        command.Buffer.WriteBulk(value.Span);
        return SendAsync(command, ct);
    }

    /// <summary><c>HSET key field value [field value …]</c>: the number of new fields.</summary>
    public ValueTask<long> HashSetAsync(string key, IReadOnlyCollection<KeyValuePair<string, string>> fields, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0)
        {
            throw new ArgumentException("HSET needs at least one field.", nameof(fields));
        }

        var command = Start("HSET", "$4\r\nHSET\r\n"u8, 1 + (2 * fields.Count), Decoders.Integer);
        command.Buffer.WriteBulk(key);
        foreach (var (field, value) in fields)
        {
            command.Buffer.WriteBulk(field);
            command.Buffer.WriteBulk(value);
        }

        return SendAsync(command, ct);
    }

    /// <summary><c>HDEL key field</c>: true if the field was removed.</summary>
    public ValueTask<bool> HashDeleteAsync(string key, string field, CancellationToken ct = default)
    {
        var command = Start("HDEL", "$4\r\nHDEL\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(field);
        return SendAsync(command, ct);
    }

    /// <summary><c>HDEL key field [field …]</c>: the number of fields removed.</summary>
    public ValueTask<long> HashDeleteAsync(string key, IReadOnlyList<string> fields, CancellationToken ct = default)
    {
        RequireAny(fields, nameof(fields));
        var command = Start("HDEL", "$4\r\nHDEL\r\n"u8, 1 + fields.Count, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        WriteAll(command.Buffer, fields);
        return SendAsync(command, ct);
    }

    /// <summary><c>HGETALL key</c>: every field with its bytes (empty if the key does not exist).</summary>
    public ValueTask<Dictionary<string, byte[]>> HashGetAllAsync(string key, CancellationToken ct = default)
    {
        var command = Start("HGETALL", "$7\r\nHGETALL\r\n"u8, 1, Decoders.HashBytes);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>HGETALL key</c>: every field with its UTF-8 text (empty if the key does not exist).</summary>
    public ValueTask<Dictionary<string, string>> HashGetAllStringsAsync(string key, CancellationToken ct = default)
    {
        var command = Start("HGETALL", "$7\r\nHGETALL\r\n"u8, 1, Decoders.HashText);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>SADD key member</c>: true if the member is new.</summary>
    public ValueTask<bool> SetAddAsync(string key, string member, CancellationToken ct = default)
    {
        var command = Start("SADD", "$4\r\nSADD\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(member);
        return SendAsync(command, ct);
    }

    /// <summary><c>SADD key member [member …]</c>: the number of new members.</summary>
    public ValueTask<long> SetAddAsync(string key, IReadOnlyList<string> members, CancellationToken ct = default)
    {
        RequireAny(members, nameof(members));
        var command = Start("SADD", "$4\r\nSADD\r\n"u8, 1 + members.Count, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        WriteAll(command.Buffer, members);
        return SendAsync(command, ct);
    }

    /// <summary><c>SREM key member</c>: true if the member was removed.</summary>
    public ValueTask<bool> SetRemoveAsync(string key, string member, CancellationToken ct = default)
    {
        var command = Start("SREM", "$4\r\nSREM\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(member);
        return SendAsync(command, ct);
    }

    /// <summary><c>SREM key member [member …]</c>: the number of members removed.</summary>
    public ValueTask<long> SetRemoveAsync(string key, IReadOnlyList<string> members, CancellationToken ct = default)
    {
        RequireAny(members, nameof(members));
        var command = Start("SREM", "$4\r\nSREM\r\n"u8, 1 + members.Count, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        WriteAll(command.Buffer, members);
        return SendAsync(command, ct);
    }

    /// <summary><c>SMEMBERS key</c>: the members as UTF-8 text, in no particular order.</summary>
    public ValueTask<string[]> SetMembersAsync(string key, CancellationToken ct = default)
    {
        var command = Start("SMEMBERS", "$8\r\nSMEMBERS\r\n"u8, 1, Decoders.TextArray);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>SCARD key</c>: the number of members.</summary>
    public ValueTask<long> SetLengthAsync(string key, CancellationToken ct = default)
    {
        var command = Start("SCARD", "$5\r\nSCARD\r\n"u8, 1, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZADD key score member</c>: true if the member is new (an existing member's score is updated).</summary>
    public ValueTask<bool> SortedSetAddAsync(string key, string member, double score, CancellationToken ct = default)
    {
        var command = Start("ZADD", "$4\r\nZADD\r\n"u8, 3, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(score);
        command.Buffer.WriteBulk(member);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZADD key score member [score member …]</c>: the number of new members.</summary>
    public ValueTask<long> SortedSetAddAsync(string key, IReadOnlyList<(string Member, double Score)> members, CancellationToken ct = default)
    {
        RequireAny(members, nameof(members));
        var command = Start("ZADD", "$4\r\nZADD\r\n"u8, 1 + (2 * members.Count), Decoders.Integer);
        command.Buffer.WriteBulk(key);
        foreach (var (member, score) in members)
        {
            command.Buffer.WriteBulk(score);
            command.Buffer.WriteBulk(member);
        }

        return SendAsync(command, ct);
    }

    /// <summary><c>ZREM key member</c>: true if the member was removed.</summary>
    public ValueTask<bool> SortedSetRemoveAsync(string key, string member, CancellationToken ct = default)
    {
        var command = Start("ZREM", "$4\r\nZREM\r\n"u8, 2, Decoders.IntegerIsOne);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(member);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZREM key member [member …]</c>: the number of members removed.</summary>
    public ValueTask<long> SortedSetRemoveAsync(string key, IReadOnlyList<string> members, CancellationToken ct = default)
    {
        RequireAny(members, nameof(members));
        var command = Start("ZREM", "$4\r\nZREM\r\n"u8, 1 + members.Count, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        WriteAll(command.Buffer, members);
        return SendAsync(command, ct);
    }

    /// <summary>
    /// <c>ZRANGEBYSCORE key min max [LIMIT skip take]</c>: members with <paramref name="min"/> ≤ score ≤ <paramref name="max"/>
    /// (use infinities for open ends), lowest score first.
    /// </summary>
    public ValueTask<string[]> SortedSetRangeByScoreAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long skip = 0, long? take = null, CancellationToken ct = default)
    {
        var limited = skip != 0 || take is not null;
        var command = Start("ZRANGEBYSCORE", "$13\r\nZRANGEBYSCORE\r\n"u8, limited ? 6 : 3, Decoders.TextArray);
        WriteRangeByScore(command.Buffer, key, min, max, skip, take);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZRANGEBYSCORE key min max WITHSCORES [LIMIT skip take]</c>: members with their scores, lowest first.</summary>
    public ValueTask<(string Member, double Score)[]> SortedSetRangeByScoreWithScoresAsync(string key, double min = double.NegativeInfinity, double max = double.PositiveInfinity, long skip = 0, long? take = null, CancellationToken ct = default)
    {
        var limited = skip != 0 || take is not null;
        var command = Start("ZRANGEBYSCORE", "$13\r\nZRANGEBYSCORE\r\n"u8, limited ? 7 : 4, Decoders.ScoredMembers);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(min);
        command.Buffer.WriteBulk(max);
        command.Buffer.WriteBulk("WITHSCORES"u8);
        WriteLimit(command.Buffer, skip, take);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZREMRANGEBYSCORE key min max</c>: the number of members removed.</summary>
    public ValueTask<long> SortedSetRemoveRangeByScoreAsync(string key, double min, double max, CancellationToken ct = default)
    {
        var command = Start("ZREMRANGEBYSCORE", "$16\r\nZREMRANGEBYSCORE\r\n"u8, 3, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        command.Buffer.WriteBulk(min);
        command.Buffer.WriteBulk(max);
        return SendAsync(command, ct);
    }

    /// <summary><c>ZCARD key</c>: the number of members.</summary>
    public ValueTask<long> SortedSetLengthAsync(string key, CancellationToken ct = default)
    {
        var command = Start("ZCARD", "$5\r\nZCARD\r\n"u8, 1, Decoders.Integer);
        command.Buffer.WriteBulk(key);
        return SendAsync(command, ct);
    }

    /// <summary><c>PUBLISH channel message</c>: the number of subscribers that received it.</summary>
    public ValueTask<long> PublishAsync(string channel, string message, CancellationToken ct = default)
    {
        var command = Start("PUBLISH", "$7\r\nPUBLISH\r\n"u8, 2, Decoders.Integer);
        command.Buffer.WriteBulk(channel);
        command.Buffer.WriteBulk(message);
        return SendAsync(command, ct);
    }

    /// <summary><c>PUBLISH channel message</c> with a binary message.</summary>
    public ValueTask<long> PublishAsync(string channel, ReadOnlyMemory<byte> message, CancellationToken ct = default)
    {
        var command = Start("PUBLISH", "$7\r\nPUBLISH\r\n"u8, 2, Decoders.Integer);
        command.Buffer.WriteBulk(channel);
        command.Buffer.WriteBulk(message.Span);
        return SendAsync(command, ct);
    }

    /// <summary>
    /// Runs a Lua script: <c>EVALSHA</c> first, and on <c>NOSCRIPT</c> (the server's script cache was flushed or never had
    /// it) <c>EVAL</c> with the full text, which also caches it on the server. A top-level error reply throws
    /// <see cref="RedisServerException"/>.
    /// </summary>
    /// <param name="script">The script.</param>
    /// <param name="keys">The <c>KEYS</c> the script touches.</param>
    /// <param name="args">The <c>ARGV</c> values: strings, byte arrays, numbers or booleans.</param>
    /// <param name="ct">Cancels the wait.</param>
    public async ValueTask<RedisReply> EvalAsync(RedisScript script, IReadOnlyList<string>? keys = null, IReadOnlyList<object>? args = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        try
        {
            return await SendAsync(StartEval(script, useSha: true, keys, args), ct);
        }
        catch (RedisServerException e) when (e.ErrorCode == "NOSCRIPT")
        {
            return await SendAsync(StartEval(script, useSha: false, keys, args), ct);
        }
    }

    /// <summary>
    /// Sends any command, for what the typed methods do not cover: <c>ExecuteAsync("HINCRBY", key, field, 5)</c>.
    /// Arguments may be strings, byte arrays, <see cref="ReadOnlyMemory{T}"/> of bytes, numbers or booleans. A top-level
    /// error reply throws <see cref="RedisServerException"/>.
    /// </summary>
    public ValueTask<RedisReply> ExecuteAsync(params object[] args) => ExecuteAsync(args, default);

    /// <summary>Sends any command given as its name and arguments; see <see cref="ExecuteAsync(object[])"/>.</summary>
    public ValueTask<RedisReply> ExecuteAsync(object[] args, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] is not string name || name.Length == 0)
        {
            throw new ArgumentException("The first argument must be the command name.", nameof(args));
        }

        var command = PendingCommand<RedisReply>.Rent(name.ToUpperInvariant(), Decoders.Reply);
        try
        {
            command.Buffer.WriteArrayHeader(args.Length);
            foreach (var arg in args)
            {
                command.Buffer.WriteArgument(arg);
            }
        }
        catch
        {
            Abandon(command);
            throw;
        }

        return SendAsync(command, ct);
    }

    /// <summary>Sends a prepared command (at once on a connection; later on a batch).</summary>
    private protected abstract ValueTask<T> SendAsync<T>(PendingCommand<T> command, CancellationToken ct);

    private static PendingCommand<T> Start<T>(string name, ReadOnlySpan<byte> nameResp, int argumentCount, ReplyDecoder<T> decoder)
    {
        var command = PendingCommand<T>.Rent(name, decoder);
        command.Buffer.WriteArrayHeader(argumentCount + 1);
        command.Buffer.WriteRaw(nameResp);
        return command;
    }

    private static void Abandon(PendingCommand command) => command.Discard();

    private static PendingCommand<bool> StartSet(string key, TimeSpan? expiry, SetCondition when, bool keepTtl)
    {
        if (expiry is not null && keepTtl)
        {
            throw new ArgumentException("SET cannot take both an expiry and KEEPTTL.", nameof(keepTtl));
        }

        if (expiry is { } e && e <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(expiry), expiry, "The expiry must be positive.");
        }

        var count = 2 + (expiry is null ? 0 : 2) + (when == SetCondition.Always ? 0 : 1) + (keepTtl ? 1 : 0);
        var command = Start("SET", "$3\r\nSET\r\n"u8, count, Decoders.OkOrNull);
        command.Buffer.WriteBulk(key);
        return command;
    }

    private static void WriteSetOptions(CommandBuffer buffer, TimeSpan? expiry, SetCondition when, bool keepTtl)
    {
        if (expiry is { } e)
        {
            buffer.WriteBulk("PX"u8);
            buffer.WriteBulk(Math.Max(1, (long)Math.Ceiling(e.TotalMilliseconds)));
        }

        if (when == SetCondition.NotExists)
        {
            buffer.WriteBulk("NX"u8);
        }
        else if (when == SetCondition.Exists)
        {
            buffer.WriteBulk("XX"u8);
        }

        if (keepTtl)
        {
            buffer.WriteBulk("KEEPTTL"u8);
        }
    }

    private static void WriteRangeByScore(CommandBuffer buffer, string key, double min, double max, long skip, long? take)
    {
        buffer.WriteBulk(key);
        buffer.WriteBulk(min);
        buffer.WriteBulk(max);
        WriteLimit(buffer, skip, take);
    }

    private static void WriteLimit(CommandBuffer buffer, long skip, long? take)
    {
        if (skip != 0 || take is not null)
        {
            buffer.WriteBulk("LIMIT"u8);
            buffer.WriteBulk(skip);
            buffer.WriteBulk(take ?? -1);
        }
    }

    private static PendingCommand<RedisReply> StartEval(RedisScript script, bool useSha, IReadOnlyList<string>? keys, IReadOnlyList<object>? args)
    {
        var keyCount = keys?.Count ?? 0;
        var argCount = args?.Count ?? 0;
        var command = useSha
            ? Start("EVALSHA", "$7\r\nEVALSHA\r\n"u8, 2 + keyCount + argCount, Decoders.Reply)
            : Start("EVAL", "$4\r\nEVAL\r\n"u8, 2 + keyCount + argCount, Decoders.Reply);
        try
        {
            command.Buffer.WriteBulk(useSha ? script.Sha1 : script.Text);
            command.Buffer.WriteBulk(keyCount);
            if (keys is not null)
            {
                WriteAll(command.Buffer, keys);
            }

            if (args is not null)
            {
                foreach (var arg in args)
                {
                    command.Buffer.WriteArgument(arg);
                }
            }
        }
        catch
        {
            Abandon(command);
            throw;
        }

        return command;
    }

    private static void WriteAll(CommandBuffer buffer, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            buffer.WriteBulk(values[i]);
        }
    }

    private static void RequireAny<T>(IReadOnlyCollection<T> values, string name)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Count == 0)
        {
            throw new ArgumentException("At least one value is required.", name);
        }
    }
}
