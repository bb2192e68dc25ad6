using System.Globalization;
using System.Runtime.CompilerServices;
using Catbird.Nats.JetStream;

namespace Catbird.Nats.KeyValueStore;

/// <summary>What an entry records.</summary>
public enum NatsKVOperation
{
    /// <summary>A value.</summary>
    Put,

    /// <summary>A delete marker.</summary>
    Del,

    /// <summary>A purge marker (history removed).</summary>
    Purge,
}

/// <summary>One revision of a key.</summary>
public sealed record NatsKVEntry(string Bucket, string Key, ReadOnlyMemory<byte> Value, long Revision, DateTimeOffset Created, NatsKVOperation Operation, long Delta = 0);

/// <summary>A bucket's configuration.</summary>
public sealed record NatsKVConfig
{
    /// <summary>Bucket name (<c>[A-Za-z0-9_-]+</c>).</summary>
    public required string Bucket { get; init; }

    /// <summary>Revisions kept per key (1–64).</summary>
    public int History { get; init; } = 1;

    /// <summary>How long values live (zero = forever).</summary>
    public TimeSpan MaxAge { get; init; }

    /// <summary>Bucket size limit (-1 unlimited).</summary>
    public long MaxBytes { get; init; } = -1;

    /// <summary>Largest value (-1 unlimited).</summary>
    public int MaxValueSize { get; init; } = -1;

    /// <summary>Replicas (1–5).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary><c>file</c> or <c>memory</c>.</summary>
    public string Storage { get; init; } = "file";
}

/// <summary>The key has no value (never set, deleted or purged).</summary>
public sealed class NatsKVKeyNotFoundException(string bucket, string key) : NatsException($"Key '{key}' not found in bucket '{bucket}'.");

/// <summary>A compare-and-set write lost: the key's revision was not the expected one.</summary>
public sealed class NatsKVWrongLastRevisionException(string bucket, string key, Exception inner) : NatsException($"Key '{key}' in bucket '{bucket}' changed meanwhile (wrong last revision).", inner);

/// <summary>A key exists already (<see cref="NatsKVStore.CreateAsync"/>).</summary>
public sealed class NatsKVCreateException(string bucket, string key, Exception inner) : NatsException($"Key '{key}' already exists in bucket '{bucket}'.", inner);

/// <summary>How a watch starts.</summary>
public sealed record NatsKVWatchOpts
{
    /// <summary>Deliver every revision, not only the latest per key.</summary>
    public bool IncludeHistory { get; init; }

    /// <summary>Skip current values; only changes from now on.</summary>
    public bool UpdatesOnly { get; init; }

    /// <summary>Skip delete and purge markers.</summary>
    public bool IgnoreDeletes { get; init; }

    /// <summary>Values are not needed (keys listing).</summary>
    public bool MetaOnly { get; init; }
}

/// <summary>Key-value buckets on JetStream, compatible with the official clients (ADR-8) on nats-server 2.9.</summary>
public sealed class NatsKVContext(NatsJSContext js)
{
    /// <summary>The JetStream context.</summary>
    public NatsJSContext JetStream { get; } = js;

    /// <summary>Creates a bucket (or updates its configuration) with the stream settings the official clients use.</summary>
    public async Task<NatsKVStore> CreateStoreAsync(NatsKVConfig config, CancellationToken ct = default)
    {
        ValidateBucket(config.Bucket);
        if (config.History is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(config), "History must be between 1 and 64.");
        }

        var maxAgeNanos = (long)(config.MaxAge.TotalMilliseconds * 1_000_000);
        var duplicateWindow = maxAgeNanos is > 0 and < 120_000_000_000 ? maxAgeNanos : 120_000_000_000;
        var stream = new StreamConfig
        {
            Name = "KV_" + config.Bucket,
            Subjects = [$"$KV.{config.Bucket}.>"],
            Retention = "limits",
            MaxConsumers = -1,
            MaxMsgs = -1,
            MaxBytes = config.MaxBytes,
            MaxAge = maxAgeNanos,
            MaxMsgsPerSubject = config.History,
            MaxMsgSize = config.MaxValueSize,
            Discard = "new",
            Storage = config.Storage,
            NumReplicas = config.Replicas,
            DuplicateWindow = duplicateWindow,
            AllowRollupHdrs = true,
            DenyDelete = true,
            DenyPurge = false,
            AllowDirect = true,
            MirrorDirect = false,
        };
        var info = await JetStream.CreateOrUpdateStreamAsync(stream, ct);
        return new NatsKVStore(JetStream, config.Bucket, info.Config.AllowDirect == true);
    }

    /// <summary>Opens an existing bucket.</summary>
    /// <exception cref="NatsJSApiException">No such bucket (10059 stream not found).</exception>
    public async Task<NatsKVStore> GetStoreAsync(string bucket, CancellationToken ct = default)
    {
        ValidateBucket(bucket);
        var info = await JetStream.GetStreamAsync("KV_" + bucket, ct);
        return new NatsKVStore(JetStream, bucket, info.Config.AllowDirect == true);
    }

    /// <summary>Deletes a bucket and everything in it.</summary>
    public Task DeleteStoreAsync(string bucket, CancellationToken ct = default) => JetStream.DeleteStreamAsync("KV_" + bucket, ct);

    internal static void ValidateBucket(string bucket)
    {
        if (string.IsNullOrEmpty(bucket) || !bucket.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException($"Invalid bucket name '{bucket}'.", nameof(bucket));
        }
    }
}

/// <summary>One key-value bucket.</summary>
public sealed class NatsKVStore
{
    private readonly NatsJSContext _js;
    private readonly bool _direct;
    private readonly string _stream;
    private readonly string _prefix;

    internal NatsKVStore(NatsJSContext js, string bucket, bool direct)
    {
        _js = js;
        Bucket = bucket;
        _direct = direct;
        _stream = "KV_" + bucket;
        _prefix = $"$KV.{bucket}.";
    }

    /// <summary>The bucket name.</summary>
    public string Bucket { get; }

    /// <summary>Writes a value; returns its revision.</summary>
    public async Task<long> PutAsync(string key, ReadOnlyMemory<byte> value, CancellationToken ct = default)
    {
        ValidateKey(key);
        return (await _js.PublishAsync(_prefix + key, value, null, null, ct)).Seq;
    }

    /// <summary>Writes a value only if the key has none (never set, or deleted/purged); returns its revision.</summary>
    /// <exception cref="NatsKVCreateException">The key has a value.</exception>
    public async Task<long> CreateAsync(string key, ReadOnlyMemory<byte> value, CancellationToken ct = default)
    {
        ValidateKey(key);
        try
        {
            return await UpdateAsync(key, value, 0, ct);
        }
        catch (NatsKVWrongLastRevisionException first)
        {
            // Over a delete or purge marker a create is allowed: retry against the marker's revision.
            var latest = await GetLatestAsync(key, ct);
            if (latest is { Operation: not NatsKVOperation.Put } marker)
            {
                try
                {
                    return await UpdateAsync(key, value, marker.Revision, ct);
                }
                catch (NatsKVWrongLastRevisionException again)
                {
                    throw new NatsKVCreateException(Bucket, key, again);
                }
            }

            throw new NatsKVCreateException(Bucket, key, first);
        }
    }

    /// <summary>Writes a value only if the key's latest revision is <paramref name="revision"/> (compare-and-set).</summary>
    /// <exception cref="NatsKVWrongLastRevisionException">The revision differs.</exception>
    public async Task<long> UpdateAsync(string key, ReadOnlyMemory<byte> value, long revision, CancellationToken ct = default)
    {
        ValidateKey(key);
        try
        {
            return (await _js.PublishAsync(_prefix + key, value, new NatsJSPubOpts { ExpectedLastSubjectSequence = revision }, null, ct)).Seq;
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10071)
        {
            throw new NatsKVWrongLastRevisionException(Bucket, key, e);
        }
    }

    /// <summary>Places a delete marker (history kept); with <paramref name="revision"/>, only if the key is at that revision.</summary>
    public async Task DeleteAsync(string key, long? revision = null, CancellationToken ct = default)
    {
        ValidateKey(key);
        var headers = new NatsHeaders().Set("KV-Operation", "DEL");
        try
        {
            await _js.PublishAsync(_prefix + key, default, revision is { } r ? new NatsJSPubOpts { ExpectedLastSubjectSequence = r } : null, headers, ct);
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10071)
        {
            throw new NatsKVWrongLastRevisionException(Bucket, key, e);
        }
    }

    /// <summary>Removes the key's history, leaving a purge marker.</summary>
    public async Task PurgeAsync(string key, CancellationToken ct = default)
    {
        ValidateKey(key);
        var headers = new NatsHeaders().Set("KV-Operation", "PURGE").Set("Nats-Rollup", "sub");
        await _js.PublishAsync(_prefix + key, default, null, headers, ct);
    }

    /// <summary>The key's current value.</summary>
    /// <exception cref="NatsKVKeyNotFoundException">No value (never set, deleted or purged).</exception>
    public async Task<NatsKVEntry> GetEntryAsync(string key, CancellationToken ct = default) =>
        await TryGetEntryAsync(key, ct) ?? throw new NatsKVKeyNotFoundException(Bucket, key);

    /// <summary>The key's current value, or null.</summary>
    public async Task<NatsKVEntry?> TryGetEntryAsync(string key, CancellationToken ct = default)
    {
        var latest = await GetLatestAsync(key, ct);
        return latest is { Operation: NatsKVOperation.Put } ? latest : null;
    }

    /// <summary>Every key that has a value.</summary>
    public async IAsyncEnumerable<string> GetKeysAsync(string filter = ">", [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var entry in ReadInitialAsync(filter, new NatsKVWatchOpts { IgnoreDeletes = true, MetaOnly = true }, ct))
        {
            yield return entry.Key;
        }
    }

    /// <summary>Every stored revision of <paramref name="key"/>, oldest first.</summary>
    public IAsyncEnumerable<NatsKVEntry> GetHistoryAsync(string key, CancellationToken ct = default)
    {
        ValidateKey(key);
        return ReadInitialAsync(key, new NatsKVWatchOpts { IncludeHistory = true }, ct);
    }

    /// <summary>
    /// Current values matching <paramref name="filter"/> (unless <see cref="NatsKVWatchOpts.UpdatesOnly"/>), then every
    /// change, until <paramref name="ct"/> is cancelled; resumes after a reconnect from the last revision seen.
    /// </summary>
    public IAsyncEnumerable<NatsKVEntry> WatchAsync(string filter = ">", NatsKVWatchOpts? opts = null, CancellationToken ct = default) =>
        new NatsKVWatcher(_js, this, _stream, _prefix, filter, opts ?? new NatsKVWatchOpts(), stopAtInitialEnd: false).RunAsync(ct);

    internal string SubjectPrefix => _prefix;

    private IAsyncEnumerable<NatsKVEntry> ReadInitialAsync(string filter, NatsKVWatchOpts opts, CancellationToken ct) =>
        new NatsKVWatcher(_js, this, _stream, _prefix, filter, opts, stopAtInitialEnd: true).RunAsync(ct);

    private async Task<NatsKVEntry?> GetLatestAsync(string key, CancellationToken ct)
    {
        ValidateKey(key);
        if (_direct)
        {
            var msg = await _js.DirectGetLastAsync(_stream, _prefix + key, ct);
            if (msg is not { } found)
            {
                return null;
            }

            var headers = found.Headers;
            var sequence = long.Parse(headers?.GetLast("Nats-Sequence") ?? "0", CultureInfo.InvariantCulture);
            var created = DateTimeOffset.TryParse(headers?.GetLast("Nats-Time-Stamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : default;
            return new NatsKVEntry(Bucket, key, found.Data, sequence, created, OperationOf(headers));
        }

        try
        {
            var response = await _js.GetMessageAsync(_stream, new StreamMsgGetRequest { LastBySubj = _prefix + key }, ct);
            var message = response.Message!;
            var headers = message.Hdrs is null ? null : NatsHeaders.Parse(Convert.FromBase64String(message.Hdrs));
            return new NatsKVEntry(Bucket, key, message.Data is null ? default : Convert.FromBase64String(message.Data), message.Seq, message.Time, OperationOf(headers));
        }
        catch (NatsJSApiException e) when (e.Error.ErrCode == 10037)
        {
            return null;
        }
    }

    internal static NatsKVOperation OperationOf(NatsHeaders? headers) => headers?.GetLast("KV-Operation") switch
    {
        "DEL" => NatsKVOperation.Del,
        "PURGE" => NatsKVOperation.Purge,
        _ => NatsKVOperation.Put,
    };

    internal static void ValidateKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.StartsWith('.') || key.EndsWith('.') || key.StartsWith("_kv", StringComparison.Ordinal)
            || !key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/' or '=' or '.'))
        {
            throw new ArgumentException($"Invalid key '{key}'.", nameof(key));
        }
    }
}
