using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Mls.Api.Apis;
using Catbird.Mls.Api.Mls;
using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>Conversations, members, messages and their outbox events, in Postgres.</summary>
public sealed class ConvoStore(NpgsqlDataSource db)
{
    public sealed record NewConvo(string Id, byte[] GroupId, string Creator, ushort Suite, long Epoch, string? IdempotencyKey,
        ConvoMetadata? Metadata, IReadOnlyList<string> Members, MlsWelcome? Welcome, byte[]? WelcomeBytes,
        IReadOnlyList<KeyPackageHashInput> KeyPackageHashes);

    /// <summary>Creates a conversation with its members (and their welcomes), consuming the key packages the Welcome names.</summary>
    public async Task<ConvoView> CreateAsync(NewConvo convo, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        if (convo.IdempotencyKey is not null)
        {
            await using var existing = new NpgsqlCommand("SELECT id FROM conversations WHERE creator_did = $1 AND idempotency_key = $2", connection, tx);
            existing.Parameters.AddWithValue(convo.Creator);
            existing.Parameters.AddWithValue(convo.IdempotencyKey);
            if (await existing.ExecuteScalarAsync(ct) is string existingId)
            {
                await tx.RollbackAsync(ct);
                return (await GetAsync(existingId, convo.Creator, ct))!;
            }
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO conversations (id, group_id, creator_did, cipher_suite, epoch, name, description, idempotency_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
            """, connection, tx))
        {
            insert.Parameters.AddWithValue(convo.Id);
            insert.Parameters.AddWithValue(convo.GroupId);
            insert.Parameters.AddWithValue(convo.Creator);
            insert.Parameters.AddWithValue((short)convo.Suite);
            insert.Parameters.AddWithValue(convo.Epoch);
            insert.Parameters.AddWithValue((object?)convo.Metadata?.Name ?? DBNull.Value);
            insert.Parameters.AddWithValue((object?)convo.Metadata?.Description ?? DBNull.Value);
            insert.Parameters.AddWithValue((object?)convo.IdempotencyKey ?? DBNull.Value);
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new XrpcException(409, "Conflict", "a conversation with this groupId already exists");
            }
        }
        var leaf = 0;
        foreach (var member in convo.Members)
        {
            await using var add = new NpgsqlCommand("INSERT INTO members (convo_id, did, leaf_index) VALUES ($1, $2, $3)", connection, tx);
            add.Parameters.AddWithValue(convo.Id);
            add.Parameters.AddWithValue(member);
            add.Parameters.AddWithValue(leaf++);
            await add.ExecuteNonQueryAsync(ct);
        }
        if (convo.Welcome is not null)
        {
            await ConsumeForWelcomeAsync(connection, tx, convo.Id, convo.Creator, convo.Welcome, convo.WelcomeBytes!, convo.KeyPackageHashes, ct);
        }
        await AddEventAsync(connection, tx, $"catbird.events.mls.convo.{convo.Id}.created", $"{convo.Id}:created",
            JsonSerializer.Serialize(new ConvoEvent("created", convo.Id, convo.Epoch, [.. convo.Members]), MlsJsonContext.Default.ConvoEvent), ct);
        await tx.CommitAsync(ct);
        return (await GetAsync(convo.Id, convo.Creator, ct))!;
    }

    /// <summary>The conversation as <paramref name="caller"/> sees it, or null when it does not exist or the caller is not an active member.</summary>
    public async Task<ConvoView?> GetAsync(string id, string caller, CancellationToken ct)
    {
        var page = await ListAsync(caller, null, 1, id, ct);
        return page.Count == 0 ? null : page[0];
    }

    /// <summary>Active conversations of <paramref name="caller"/>, newest first, paged by (created_at, id).</summary>
    public async Task<List<ConvoView>> ListAsync(string caller, (DateTimeOffset CreatedAt, string Id)? after, int limit, string? onlyId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT c.id, c.group_id, c.creator_did, c.epoch, c.cipher_suite, c.created_at, c.last_message_at, c.name, c.description,
                   (SELECT json_agg(json_build_object('did', m2.did, 'joinedAt', m2.joined_at, 'leafIndex', m2.leaf_index) ORDER BY m2.leaf_index, m2.did)
                    FROM members m2 WHERE m2.convo_id = c.id AND m2.left_at IS NULL)::text
            FROM members m JOIN conversations c ON c.id = m.convo_id
            WHERE m.did = $1 AND m.left_at IS NULL
              AND ($2::text IS NULL OR c.id = $2)
              AND ($3::timestamptz IS NULL OR (c.created_at, c.id) < ($3, $4))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT $5
            """);
        command.Parameters.AddWithValue(caller);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)onlyId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = after is null ? DBNull.Value : after.Value.CreatedAt, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)after?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.AddWithValue(limit);
        var result = new List<ConvoView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var members = new List<MemberView>();
            using (var json = JsonDocument.Parse(reader.GetString(9)))
            {
                foreach (var m in json.RootElement.EnumerateArray())
                {
                    members.Add(new MemberView(m.GetProperty("did").GetString()!, m.GetProperty("joinedAt").GetDateTimeOffset(),
                        m.GetProperty("leafIndex").ValueKind == JsonValueKind.Number ? m.GetProperty("leafIndex").GetInt32() : null));
                }
            }
            var name = reader.IsDBNull(7) ? null : reader.GetString(7);
            var description = reader.IsDBNull(8) ? null : reader.GetString(8);
            result.Add(new ConvoView(reader.GetString(0), Convert.ToHexStringLower((byte[])reader[1]), reader.GetString(2), members,
                reader.GetInt64(3), MlsCipherSuite.FromId((ushort)reader.GetInt16(4))!.Name, reader.GetFieldValue<DateTimeOffset>(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                name is null && description is null ? null : new ConvoMetadata(name, description)));
        }
        return result;
    }

    /// <summary>Membership and the state sendMessage checks against: (group id, epoch), or null when not an active member.</summary>
    public async Task<(byte[] GroupId, long Epoch, ushort Suite)?> GetStateForMemberAsync(string convoId, string caller, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT c.group_id, c.epoch, c.cipher_suite FROM conversations c
            JOIN members m ON m.convo_id = c.id AND m.did = $2 AND m.left_at IS NULL WHERE c.id = $1
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(caller);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ((byte[])reader[0], reader.GetInt64(1), (ushort)reader.GetInt16(2)) : null;
    }

    public async Task<bool> ExistsAsync(string convoId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT 1 FROM conversations WHERE id = $1");
        command.Parameters.AddWithValue(convoId);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>
    /// Stores an application message with the next sequence number of its conversation. The conversation row lock
    /// serialises senders, so seq is gap-free and msgId de-duplication is race-free; the same msgId with the same
    /// bytes returns the original result, with other bytes 409.
    /// </summary>
    public async Task<SendMessageOutput> AppendMessageAsync(string convoId, string sender, string msgId, byte[] ciphertext,
        long epoch, int epochWindow, CancellationToken ct)
    {
        var contentHash = SHA256.HashData(ciphertext);
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long current, seq;
        await using (var bump = new NpgsqlCommand(
            "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = now() WHERE id = $1 RETURNING last_seq, epoch", connection, tx))
        {
            bump.Parameters.AddWithValue(convoId);
            await using var reader = await bump.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw new XrpcException(404, "ConvoNotFound", "conversation not found");
            }
            seq = reader.GetInt64(0);
            current = reader.GetInt64(1);
        }
        await using (var existing = new NpgsqlCommand(
            "SELECT seq, epoch, created_at, content_hash FROM messages WHERE convo_id = $1 AND msg_id = $2", connection, tx))
        {
            existing.Parameters.AddWithValue(convoId);
            existing.Parameters.AddWithValue(msgId);
            await using var reader = await existing.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                var same = ((byte[])reader[3]).AsSpan().SequenceEqual(contentHash);
                var output = new SendMessageOutput(msgId, reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(0), reader.GetInt64(1));
                await reader.DisposeAsync();
                await tx.RollbackAsync(ct);
                return same ? output : throw new XrpcException(409, "Conflict", "msgId was already used for different content");
            }
        }
        if (epoch > current || epoch < current - epochWindow)
        {
            throw new XrpcException(409, "EpochMismatch", $"message epoch {epoch} but the conversation is at epoch {current}");
        }
        DateTimeOffset createdAt;
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO messages (convo_id, seq, msg_id, sender_did, message_type, epoch, ciphertext, content_hash)
            VALUES ($1, $2, $3, $4, 'app', $5, $6, $7) RETURNING created_at
            """, connection, tx))
        {
            insert.Parameters.AddWithValue(convoId);
            insert.Parameters.AddWithValue(seq);
            insert.Parameters.AddWithValue(msgId);
            insert.Parameters.AddWithValue(sender);
            insert.Parameters.AddWithValue(epoch);
            insert.Parameters.AddWithValue(ciphertext);
            insert.Parameters.AddWithValue(contentHash);
            createdAt = new DateTimeOffset(DateTime.SpecifyKind((DateTime)(await insert.ExecuteScalarAsync(ct))!, DateTimeKind.Utc));
        }
        await AddEventAsync(connection, tx, $"catbird.events.mls.convo.{convoId}.message", $"{convoId}:{seq}",
            JsonSerializer.Serialize(new MessageEvent("message", convoId, seq, epoch, "app", msgId), MlsJsonContext.Default.MessageEvent), ct);
        await tx.CommitAsync(ct);
        return new SendMessageOutput(msgId, createdAt, seq, epoch);
    }

    /// <summary>Messages with seq greater than <paramref name="afterSeq"/>, ascending, at most <paramref name="limit"/>.</summary>
    public async Task<List<MessageView>> ReadMessagesAsync(string convoId, long afterSeq, int limit, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT seq, msg_id, sender_did, ciphertext, epoch, created_at, message_type FROM messages
            WHERE convo_id = $1 AND seq > $2 ORDER BY seq LIMIT $3
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(afterSeq);
        command.Parameters.AddWithValue(limit);
        var result = new List<MessageView>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(new MessageView(reader.GetString(1), convoId, reader.GetString(2), BytesValue.From((byte[])reader[3]),
                reader.GetInt64(4), reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(5), reader.GetString(6)));
        }
        return result;
    }


    /// <summary>
    /// Consumes each named key package (it must belong to that DID, be unconsumed, not reserved by someone else, and be
    /// one of the Welcome's new members) and stores the Welcome for its recipient.
    /// </summary>
    internal static async Task ConsumeForWelcomeAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string convoId, string caller,
        MlsWelcome welcome, byte[] welcomeBytes, IReadOnlyList<KeyPackageHashInput> hashes, CancellationToken ct)
    {
        foreach (var pair in hashes)
        {
            await using var consume = new NpgsqlCommand("""
                UPDATE key_packages SET consumed_at = now(), consumed_convo = $3
                WHERE hash = $1 AND did = $2 AND consumed_at IS NULL AND ref = ANY($4)
                  AND (reserved_until IS NULL OR reserved_until < now() OR reserved_by = $5)
                """, connection, tx);
            consume.Parameters.AddWithValue(pair.Hash!.ToLowerInvariant());
            consume.Parameters.AddWithValue(pair.Did!);
            consume.Parameters.AddWithValue(convoId);
            consume.Parameters.AddWithValue(welcome.NewMemberKeyPackageRefs.ToArray());
            consume.Parameters.AddWithValue(caller);
            if (await consume.ExecuteNonQueryAsync(ct) != 1)
            {
                throw new XrpcException(409, "KeyPackageNotFound", $"key package {pair.Hash} of {pair.Did} is not available for this Welcome");
            }
            await using var store = new NpgsqlCommand("""
                INSERT INTO welcomes (convo_id, recipient_did, key_package_hash, welcome, expires_at)
                VALUES ($1, $2, $3, $4, now() + interval '7 days')
                """, connection, tx);
            store.Parameters.AddWithValue(convoId);
            store.Parameters.AddWithValue(pair.Did!);
            store.Parameters.AddWithValue(pair.Hash!.ToLowerInvariant());
            store.Parameters.AddWithValue(welcomeBytes);
            await store.ExecuteNonQueryAsync(ct);
        }
    }

    internal static async Task AddEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string subject, string msgId, string payload, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("INSERT INTO outbox (subject, msg_id, payload) VALUES ($1, $2, $3::jsonb) ON CONFLICT (msg_id) DO NOTHING", connection, tx);
        command.Parameters.AddWithValue(subject);
        command.Parameters.AddWithValue(msgId);
        command.Parameters.AddWithValue(payload);
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Remembers the last seq <paramref name="did"/> has seen in the conversation (never moves backwards).</summary>
    public async Task UpdateCursorAsync(string did, string convoId, long cursor, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO cursors (did, convo_id, cursor) VALUES ($1, $2, $3)
            ON CONFLICT (did, convo_id) DO UPDATE SET cursor = GREATEST(cursors.cursor, EXCLUDED.cursor), updated_at = now()
            """);
        command.Parameters.AddWithValue(did);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(cursor);
        await command.ExecuteNonQueryAsync(ct);
    }
}
