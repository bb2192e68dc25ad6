using Microsoft.Data.Sqlite;

namespace Catbird.Membership.Worker.Storage;

/// <summary>A conversation event of Mls.Api, as published on <c>catbird.events.mls.convo.&lt;id&gt;.&lt;kind&gt;</c>.</summary>
public sealed record ConvoEvent(string Type, string ConvoId, long Epoch, string[]? Members);

/// <summary>What the store knows of one subject in one room.</summary>
public readonly record struct MembershipAnswer(bool Member, long Epoch);

/// <summary>Rooms and their members, the authoritative answer to "may this subject touch this room".</summary>
public interface IMembershipStore
{
    /// <summary>
    /// Applies a conversation event once: an event whose <paramref name="eventId"/> was applied before changes nothing.
    /// Returns false for a duplicate.
    /// </summary>
    Task<bool> ApplyAsync(ConvoEvent convoEvent, string eventId, CancellationToken ct);

    /// <summary>Whether <paramref name="subject"/> is a member of <paramref name="room"/>, and the room's epoch.</summary>
    Task<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct);

    /// <summary>The members of a room (empty when there is no such room).</summary>
    Task<IReadOnlyList<string>> MembersAsync(string room, CancellationToken ct);
}

/// <summary>The embedded store: one SQLite file in WAL mode with foreign keys on.</summary>
public sealed class SqliteMembershipStore : IMembershipStore, IDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writer = new(1, 1);

    /// <summary>Opens (creating if needed) the database at <paramref name="path"/>.</summary>
    public SqliteMembershipStore(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true, DefaultTimeout = 5 }.ToString();
        using var connection = Open();
        Execute(connection, null, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS rooms (
                room_id       TEXT PRIMARY KEY,
                current_epoch INTEGER NOT NULL,
                encrypted     INTEGER NOT NULL DEFAULT 1,
                created_at    INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS members (
                room_id      TEXT NOT NULL REFERENCES rooms(room_id) ON DELETE CASCADE,
                subject      TEXT NOT NULL,
                role         TEXT NOT NULL DEFAULT 'member',
                joined_epoch INTEGER NOT NULL,
                added_at     INTEGER NOT NULL,
                PRIMARY KEY (room_id, subject)
            );
            CREATE INDEX IF NOT EXISTS members_by_subject ON members(subject, room_id);
            CREATE TABLE IF NOT EXISTS applied_events (
                event_id   TEXT PRIMARY KEY,
                applied_at INTEGER NOT NULL
            );
            """);
    }

    /// <inheritdoc />
    public async Task<bool> ApplyAsync(ConvoEvent convoEvent, string eventId, CancellationToken ct)
    {
        await _writer.WaitAsync(ct);
        try
        {
            await using var connection = Open();
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(ct);
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (Execute(connection, tx, "INSERT OR IGNORE INTO applied_events (event_id, applied_at) VALUES ($id, $now)", ("$id", eventId), ("$now", now)) == 0)
            {
                return false;
            }

            var members = convoEvent.Members ?? [];
            switch (convoEvent.Type)
            {
                case "created":
                    Execute(connection, tx, "INSERT INTO rooms (room_id, current_epoch, created_at) VALUES ($room, $epoch, $now) ON CONFLICT(room_id) DO UPDATE SET current_epoch = max(current_epoch, $epoch)",
                        ("$room", convoEvent.ConvoId), ("$epoch", convoEvent.Epoch), ("$now", now));
                    for (var i = 0; i < members.Length; i++)
                    {
                        AddMember(connection, tx, convoEvent.ConvoId, members[i], i == 0 ? "owner" : "member", convoEvent.Epoch, now);
                    }

                    break;
                case "members-added":
                    EnsureRoom(connection, tx, convoEvent, now);
                    foreach (var member in members)
                    {
                        AddMember(connection, tx, convoEvent.ConvoId, member, "member", convoEvent.Epoch, now);
                    }

                    break;
                case "members-removed":
                    EnsureRoom(connection, tx, convoEvent, now);
                    foreach (var member in members)
                    {
                        Execute(connection, tx, "DELETE FROM members WHERE room_id = $room AND subject = $subject", ("$room", convoEvent.ConvoId), ("$subject", member));
                    }

                    break;
                default:
                    // Messages and commits change no membership; an epoch carried by any event is still recorded.
                    Execute(connection, tx, "UPDATE rooms SET current_epoch = max(current_epoch, $epoch) WHERE room_id = $room", ("$room", convoEvent.ConvoId), ("$epoch", convoEvent.Epoch));
                    break;
            }

            await tx.CommitAsync(ct);
            return true;
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <inheritdoc />
    public async Task<MembershipAnswer> CheckAsync(string room, string subject, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT r.current_epoch, m.subject IS NOT NULL
            FROM rooms r LEFT JOIN members m ON m.room_id = r.room_id AND m.subject = $subject
            WHERE r.room_id = $room
            """;
        command.Parameters.AddWithValue("$room", room);
        command.Parameters.AddWithValue("$subject", subject);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new MembershipAnswer(reader.GetInt64(1) == 1, reader.GetInt64(0)) : new MembershipAnswer(false, 0);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> MembersAsync(string room, CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT subject FROM members WHERE room_id = $room ORDER BY subject";
        command.Parameters.AddWithValue("$room", room);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var members = new List<string>();
        while (await reader.ReadAsync(ct))
        {
            members.Add(reader.GetString(0));
        }

        return members;
    }

    /// <summary>True when the database answers a query.</summary>
    public async Task<bool> PingAsync(CancellationToken ct)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM rooms";
        await command.ExecuteScalarAsync(ct);
        return true;
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
        pragma.ExecuteNonQuery();
        return connection;
    }

    private static void EnsureRoom(SqliteConnection connection, SqliteTransaction tx, ConvoEvent convoEvent, long now) =>
        Execute(connection, tx, "INSERT INTO rooms (room_id, current_epoch, created_at) VALUES ($room, $epoch, $now) ON CONFLICT(room_id) DO UPDATE SET current_epoch = max(current_epoch, $epoch)",
            ("$room", convoEvent.ConvoId), ("$epoch", convoEvent.Epoch), ("$now", now));

    private static void AddMember(SqliteConnection connection, SqliteTransaction tx, string room, string subject, string role, long epoch, long now) =>
        Execute(connection, tx, "INSERT INTO members (room_id, subject, role, joined_epoch, added_at) VALUES ($room, $subject, $role, $epoch, $now) ON CONFLICT(room_id, subject) DO NOTHING",
            ("$room", room), ("$subject", subject), ("$role", role), ("$epoch", epoch), ("$now", now));

    private static int Execute(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteNonQuery();
    }
}
