using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Mls.Api.Apis;
using Catbird.Mls.Api.Mls;
using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>
/// Epoch changes. A commit made at epoch N is accepted only while the conversation is at epoch N: the
/// compare-and-set on <c>conversations.epoch</c> lets exactly one of racing commits win; the others get 409
/// EpochMismatch with the current epoch and catch up through getCommits. Membership, key-package consumption,
/// welcomes, the stored commit (with its seq) and the outbox event change in the same transaction.
/// </summary>
public sealed class CommitStore(NpgsqlDataSource db)
{
    public sealed record CommitChange(string ConvoId, string Caller, byte[] Commit, long CommitEpoch,
        IReadOnlyList<string> Add, IReadOnlyList<string> Remove, MlsWelcome? Welcome, byte[]? WelcomeBytes,
        IReadOnlyList<KeyPackageHashInput> KeyPackageHashes);

    public sealed record CommitView(long Epoch, string Sender, BytesValue CommitData, DateTimeOffset CreatedAt, long Seq);

    /// <summary>Applies the change; returns the new epoch. Re-sending an accepted commit returns the same result.</summary>
    public async Task<long> ApplyAsync(CommitChange change, CancellationToken ct)
    {
        var commitId = "commit-" + Convert.ToHexStringLower(SHA256.HashData(change.Commit))[..40];
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        await using (var existing = new NpgsqlCommand("SELECT epoch FROM messages WHERE convo_id = $1 AND msg_id = $2", connection, tx))
        {
            existing.Parameters.AddWithValue(change.ConvoId);
            existing.Parameters.AddWithValue(commitId);
            if (await existing.ExecuteScalarAsync(ct) is long acceptedAt)
            {
                await tx.RollbackAsync(ct);
                return acceptedAt + 1;
            }
        }
        long seq;
        await using (var advance = new NpgsqlCommand("""
            UPDATE conversations SET epoch = epoch + 1, last_seq = last_seq + 1, last_message_at = now()
            WHERE id = $1 AND epoch = $2 RETURNING last_seq
            """, connection, tx))
        {
            advance.Parameters.AddWithValue(change.ConvoId);
            advance.Parameters.AddWithValue(change.CommitEpoch);
            if (await advance.ExecuteScalarAsync(ct) is not long newSeq)
            {
                await tx.RollbackAsync(ct);
                var current = await CurrentEpochAsync(change.ConvoId, ct);
                throw new XrpcException(409, "EpochMismatch", $"commit is for epoch {change.CommitEpoch} but the conversation is at epoch {current}");
            }
            seq = newSeq;
        }
        foreach (var did in change.Add)
        {
            await using var add = new NpgsqlCommand("""
                INSERT INTO members (convo_id, did, leaf_index) VALUES ($1, $2, NULL)
                ON CONFLICT (convo_id, did) DO UPDATE SET left_at = NULL, joined_at = now() WHERE members.left_at IS NOT NULL
                """, connection, tx);
            add.Parameters.AddWithValue(change.ConvoId);
            add.Parameters.AddWithValue(did);
            if (await add.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new XrpcException(409, "AlreadyMember", $"{did} is already a member");
            }
        }
        foreach (var did in change.Remove)
        {
            await using var remove = new NpgsqlCommand("UPDATE members SET left_at = now() WHERE convo_id = $1 AND did = $2 AND left_at IS NULL", connection, tx);
            remove.Parameters.AddWithValue(change.ConvoId);
            remove.Parameters.AddWithValue(did);
            if (await remove.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new XrpcException(403, "NotMember", $"{did} is not a member");
            }
        }
        if (change.Welcome is not null)
        {
            await ConvoStore.ConsumeForWelcomeAsync(connection, tx, change.ConvoId, change.Caller, change.Welcome, change.WelcomeBytes!, change.KeyPackageHashes, ct);
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO messages (convo_id, seq, msg_id, sender_did, message_type, epoch, ciphertext, content_hash)
            VALUES ($1, $2, $3, $4, 'commit', $5, $6, $7)
            """, connection, tx))
        {
            insert.Parameters.AddWithValue(change.ConvoId);
            insert.Parameters.AddWithValue(seq);
            insert.Parameters.AddWithValue(commitId);
            insert.Parameters.AddWithValue(change.Caller);
            insert.Parameters.AddWithValue(change.CommitEpoch);
            insert.Parameters.AddWithValue(change.Commit);
            insert.Parameters.AddWithValue(SHA256.HashData(change.Commit));
            await insert.ExecuteNonQueryAsync(ct);
        }
        // One commit may both add and remove members: each change gets its own event, so no consumer misses a removal.
        var events = new List<(string Kind, IReadOnlyCollection<string> Members)>();
        if (change.Add.Count > 0)
        {
            events.Add(("members-added", change.Add));
        }

        if (change.Remove.Count > 0)
        {
            events.Add(("members-removed", change.Remove));
        }

        if (events.Count == 0)
        {
            events.Add(("commit", []));
        }

        foreach (var (kind, members) in events)
        {
            await ConvoStore.AddEventAsync(connection, tx, $"catbird.events.mls.convo.{change.ConvoId}.{kind}", $"{change.ConvoId}:epoch:{change.CommitEpoch + 1}:{kind}",
                JsonSerializer.Serialize(new ConvoEvent(kind, change.ConvoId, change.CommitEpoch + 1, [.. members]), MlsJsonContext.Default.ConvoEvent), ct);
        }
        await tx.CommitAsync(ct);
        return change.CommitEpoch + 1;
    }

    /// <summary>Commits made at epochs from..to (inclusive), in order.</summary>
    public async Task<List<CommitView>> ReadAsync(string convoId, long fromEpoch, long toEpoch, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT epoch, sender_did, ciphertext, created_at, seq FROM messages
            WHERE convo_id = $1 AND message_type = 'commit' AND epoch BETWEEN $2 AND $3 ORDER BY epoch, seq
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(fromEpoch);
        command.Parameters.AddWithValue(toEpoch);
        var result = new List<CommitView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new CommitView(reader.GetInt64(0), reader.GetString(1), BytesValue.From((byte[])reader[2]),
                reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt64(4)));
        }
        return result;
    }

    /// <summary>
    /// Hands the caller's oldest available welcome out (state in_flight; re-fetchable after 5 minutes in flight),
    /// or null. <paramref name="consumed"/> tells whether one was already confirmed.
    /// </summary>
    public async Task<(byte[]? Welcome, bool Consumed)> TakeWelcomeAsync(string convoId, string caller, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            WITH next AS (
                SELECT key_package_hash FROM welcomes
                WHERE convo_id = $1 AND recipient_did = $2 AND expires_at > now()
                  AND (state = 'available' OR (state = 'in_flight' AND fetched_at < now() - interval '5 minutes'))
                ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            UPDATE welcomes w SET state = 'in_flight', fetched_at = now()
            FROM next WHERE w.convo_id = $1 AND w.recipient_did = $2 AND w.key_package_hash = next.key_package_hash
            RETURNING w.welcome
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(caller);
        if (await command.ExecuteScalarAsync(ct) is byte[] welcome)
        {
            return (welcome, false);
        }
        await using var consumed = db.CreateCommand("SELECT 1 FROM welcomes WHERE convo_id = $1 AND recipient_did = $2 AND state = 'consumed'");
        consumed.Parameters.AddWithValue(convoId);
        consumed.Parameters.AddWithValue(caller);
        return (null, await consumed.ExecuteScalarAsync(ct) is not null);
    }

    /// <summary>Marks the caller's in-flight welcome consumed (success) or available again (failure).</summary>
    public async Task ConfirmWelcomeAsync(string convoId, string caller, bool success, CancellationToken ct)
    {
        await using var command = db.CreateCommand(success
            ? "UPDATE welcomes SET state = 'consumed' WHERE convo_id = $1 AND recipient_did = $2 AND state = 'in_flight'"
            : "UPDATE welcomes SET state = 'available', fetched_at = NULL WHERE convo_id = $1 AND recipient_did = $2 AND state = 'in_flight'");
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(caller);
        await command.ExecuteNonQueryAsync(ct);
    }

    private async Task<long> CurrentEpochAsync(string convoId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT epoch FROM conversations WHERE id = $1");
        command.Parameters.AddWithValue(convoId);
        return await command.ExecuteScalarAsync(ct) is long epoch ? epoch : -1;
    }
}
