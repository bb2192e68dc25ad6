using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Catbird.Mls.Api.Apis;
using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>
/// <c>idempotencyKey</c> handling: the first successful response of a (caller, key) is kept for 24 hours; the same
/// request again gets that response, a different request under the same key is 409 <c>Conflict</c>. The operations
/// themselves are also de-duplicated (msgId, commit hash), so a crash between the write and the record still answers
/// a retry the same way.
/// </summary>
public sealed class IdempotencyStore(NpgsqlDataSource db)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>SHA-256 of the request as the route understood it.</summary>
    public static byte[] Hash<T>(T input, JsonTypeInfo<T> type) => SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(input, type));

    /// <summary>The remembered response JSON, or null when the key is new (or expired).</summary>
    /// <exception cref="XrpcException">409 when the key was used for a different request.</exception>
    public async Task<string?> ReplayAsync(string caller, string key, string route, byte[] requestHash, CancellationToken ct)
    {
        Validate(key);
        await using var command = db.CreateCommand("SELECT route, request_hash, response FROM idempotency_keys WHERE caller = $1 AND key = $2 AND created_at > $3");
        command.Parameters.AddWithValue(caller);
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(DateTime.UtcNow - Lifetime);
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            return null;
        }

        if (reader.GetString(0) != route || !CryptographicOperations.FixedTimeEquals((byte[])reader[1], requestHash))
        {
            throw new XrpcException(409, "Conflict", "this idempotencyKey was already used for a different request");
        }

        return reader.GetString(2);
    }

    /// <summary>Remembers the response of a successful request.</summary>
    public async Task RecordAsync(string caller, string key, string route, byte[] requestHash, string responseJson, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            INSERT INTO idempotency_keys (caller, key, route, request_hash, response) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (caller, key) DO UPDATE SET route = EXCLUDED.route, request_hash = EXCLUDED.request_hash,
                response = EXCLUDED.response, created_at = now()
            WHERE idempotency_keys.created_at <= $6
            """);
        command.Parameters.AddWithValue(caller);
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(route);
        command.Parameters.AddWithValue(requestHash);
        command.Parameters.AddWithValue(responseJson);
        command.Parameters.AddWithValue(DateTime.UtcNow - Lifetime);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static void Validate(string key)
    {
        if (key.Length is 0 or > 64)
        {
            throw new XrpcException(400, "InvalidRequest", "idempotencyKey is 1 to 64 characters");
        }
    }
}
