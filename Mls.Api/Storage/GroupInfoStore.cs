using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>The latest GroupInfo of each conversation; a newer epoch replaces an older one, never the reverse.</summary>
public sealed class GroupInfoStore(NpgsqlDataSource db)
{
    /// <summary>Stores <paramref name="groupInfo"/> for <paramref name="epoch"/> unless a newer epoch is stored; true when stored.</summary>
    public async Task<bool> UpdateAsync(string convoId, long epoch, byte[] groupInfo, string caller, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO group_info (convo_id, epoch, group_info, updated_by) VALUES ($1, $2, $3, $4)
            ON CONFLICT (convo_id) DO UPDATE SET epoch = EXCLUDED.epoch, group_info = EXCLUDED.group_info,
                updated_by = EXCLUDED.updated_by, updated_at = now()
            WHERE group_info.epoch <= EXCLUDED.epoch
            """);
        command.Parameters.AddWithValue(convoId);
        command.Parameters.AddWithValue(epoch);
        command.Parameters.AddWithValue(groupInfo);
        command.Parameters.AddWithValue(caller);
        return await command.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The stored GroupInfo and its epoch, or null.</summary>
    public async Task<(byte[] GroupInfo, long Epoch)?> GetAsync(string convoId, CancellationToken ct)
    {
        await using var command = db.CreateCommand("SELECT group_info, epoch FROM group_info WHERE convo_id = $1");
        command.Parameters.AddWithValue(convoId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ((byte[])reader[0], reader.GetInt64(1)) : null;
    }
}
