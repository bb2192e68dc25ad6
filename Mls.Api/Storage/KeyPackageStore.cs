using System.Security.Cryptography;
using Catbird.Mls.Api.Apis;
using Catbird.Mls.Api.Mls;
using Npgsql;

namespace Catbird.Mls.Api.Storage;

/// <summary>Published key packages: validated on publish, reserved on fetch, consumed by the Welcome that uses them.</summary>
public sealed class KeyPackageStore(NpgsqlDataSource db)
{
    /// <summary>Stores a validated key package (bare encoding); publishing the same bytes again is a no-op.</summary>
    public async Task<string> PublishAsync(string did, MlsKeyPackage keyPackage, DateTimeOffset expires, int maxPerDid, CancellationToken ct)
    {
        var suite = MlsCipherSuite.FromId(keyPackage.CipherSuite)!;
        var hash = Convert.ToHexStringLower(SHA256.HashData(keyPackage.Encoded));
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        // Serialise publishes per DID so the count limit holds under concurrency.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('kp:' || $1))", connection, tx))
        {
            lockCommand.Parameters.AddWithValue(did);
            await lockCommand.ExecuteNonQueryAsync(ct);
        }
        await using (var count = new NpgsqlCommand(
            "SELECT count(*) FROM key_packages WHERE did = $1 AND consumed_at IS NULL AND expires_at > now() AND hash <> $2", connection, tx))
        {
            count.Parameters.AddWithValue(did);
            count.Parameters.AddWithValue(hash);
            if ((long)(await count.ExecuteScalarAsync(ct))! >= maxPerDid)
            {
                throw new XrpcException(400, "TooManyKeyPackages", $"at most {maxPerDid} unconsumed key packages per DID");
            }
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO key_packages (hash, did, cipher_suite, key_package, ref, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE key_packages.did = EXCLUDED.did
            """, connection, tx))
        {
            insert.Parameters.AddWithValue(hash);
            insert.Parameters.AddWithValue(did);
            insert.Parameters.AddWithValue((short)keyPackage.CipherSuite);
            insert.Parameters.AddWithValue(keyPackage.Encoded);
            insert.Parameters.AddWithValue(MlsCrypto.KeyPackageRef(suite, keyPackage.Encoded));
            insert.Parameters.AddWithValue(expires);
            if (await insert.ExecuteNonQueryAsync(ct) == 0)
            {
                throw new XrpcException(409, "Conflict", "this key package was already published by another DID");
            }
        }
        await tx.CommitAsync(ct);
        return hash;
    }

    /// <summary>
    /// Reserves one available key package per DID (oldest first, skipping live reservations of others) for
    /// <paramref name="caller"/>; returns the packages and the DIDs that have none.
    /// </summary>
    public async Task<(List<KeyPackageRefView> Found, List<string> Missing)> ReserveAsync(string caller, IReadOnlyList<string> dids,
        ushort? suite, TimeSpan reservation, CancellationToken ct)
    {
        var found = new List<KeyPackageRefView>();
        var missing = new List<string>();
        await using var connection = await db.OpenConnectionAsync(ct);
        foreach (var did in dids)
        {
            await using var command = new NpgsqlCommand("""
                UPDATE key_packages SET reserved_by = $1, reserved_until = now() + $4
                WHERE hash = (
                    SELECT hash FROM key_packages
                    WHERE did = $2 AND consumed_at IS NULL AND expires_at > now()
                      AND ($3::smallint IS NULL OR cipher_suite = $3)
                      AND (reserved_until IS NULL OR reserved_until < now() OR reserved_by = $1)
                    ORDER BY created_at, hash
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING hash, cipher_suite, key_package
                """, connection);
            command.Parameters.AddWithValue(caller);
            command.Parameters.AddWithValue(did);
            command.Parameters.Add(new NpgsqlParameter { Value = suite is null ? DBNull.Value : (short)suite.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Smallint });
            command.Parameters.AddWithValue(reservation);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                var suiteName = MlsCipherSuite.FromId((ushort)reader.GetInt16(1))!.Name;
                found.Add(new KeyPackageRefView(did, Convert.ToBase64String((byte[])reader[2]), suiteName, reader.GetString(0)));
            }
            else
            {
                missing.Add(did);
            }
        }
        return (found, missing);
    }

    /// <summary>Available (unconsumed, unexpired) and consumed counts per cipher suite for <paramref name="did"/>, and the soonest expiry.</summary>
    public async Task<(List<(ushort Suite, long Available, long Consumed)> BySuite, DateTimeOffset? OldestExpiry)> StatsAsync(string did, ushort? suite, CancellationToken ct)
    {
        await using var command = db.CreateCommand("""
            SELECT cipher_suite,
                   count(*) FILTER (WHERE consumed_at IS NULL AND expires_at > now()),
                   count(*) FILTER (WHERE consumed_at IS NOT NULL),
                   min(expires_at) FILTER (WHERE consumed_at IS NULL AND expires_at > now())
            FROM key_packages WHERE did = $1 AND ($2::smallint IS NULL OR cipher_suite = $2)
            GROUP BY cipher_suite ORDER BY cipher_suite
            """);
        command.Parameters.AddWithValue(did);
        command.Parameters.Add(new NpgsqlParameter { Value = suite is null ? DBNull.Value : (short)suite.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Smallint });
        var result = new List<(ushort, long, long)>();
        DateTimeOffset? oldest = null;
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result.Add(((ushort)reader.GetInt16(0), reader.GetInt64(1), reader.GetInt64(2)));
            if (!reader.IsDBNull(3))
            {
                var expiry = reader.GetFieldValue<DateTimeOffset>(3);
                oldest = oldest is null || expiry < oldest ? expiry : oldest;
            }
        }
        return (result, oldest);
    }
}
