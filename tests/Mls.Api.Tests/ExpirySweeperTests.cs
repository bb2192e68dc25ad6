using Catbird.Mls.Api.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Service")]
public sealed class ExpirySweeperTests(MlsServiceFixture fixture) : IClassFixture<MlsServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lapsed_reservations_are_released_and_long_expired_rows_removed()
    {
        _ = fixture.Client; // the service has migrated the database
        await using var db = NpgsqlDataSource.Create(fixture.Settings["ConnectionStrings:mlsdb"]!);
        var prefix = Guid.NewGuid().ToString("N")[..8];
        await using (var insert = db.CreateCommand("""
            INSERT INTO key_packages (hash, did, cipher_suite, key_package, ref, expires_at, reserved_by, reserved_until) VALUES
              ($1 || '-old', 'did:plc:x', 1, '\x00', '\x00', now() - interval '8 days', NULL, NULL),
              ($1 || '-reserved', 'did:plc:x', 1, '\x00', '\x01', now() + interval '1 day', 'did:plc:y', now() - interval '1 minute'),
              ($1 || '-fresh', 'did:plc:x', 1, '\x00', '\x02', now() + interval '1 day', 'did:plc:y', now() + interval '5 minutes')
            """))
        {
            insert.Parameters.AddWithValue(prefix);
            await insert.ExecuteNonQueryAsync(Ct);
        }

        await using (var insert = db.CreateCommand("""
            INSERT INTO idempotency_keys (caller, key, route, request_hash, response, created_at) VALUES
              ('did:plc:x', $1 || '-old', 'sendMessage', '\x00', '{}', now() - interval '25 hours'),
              ('did:plc:x', $1 || '-new', 'sendMessage', '\x00', '{}', now());
            """))
        {
            insert.Parameters.AddWithValue(prefix);
            await insert.ExecuteNonQueryAsync(Ct);
        }

        await new ExpirySweeper(db, NullLogger<ExpirySweeper>.Instance).SweepAsync(Ct);

        await using var check = db.CreateCommand("""
            SELECT
              (SELECT count(*) FROM key_packages WHERE hash = $1 || '-old'),
              (SELECT count(*) FROM key_packages WHERE hash = $1 || '-reserved' AND reserved_by IS NULL),
              (SELECT count(*) FROM key_packages WHERE hash = $1 || '-fresh' AND reserved_by IS NOT NULL),
              (SELECT count(*) FROM idempotency_keys WHERE key LIKE $1 || '%')
            """);
        check.Parameters.AddWithValue(prefix);
        await using var reader = await check.ExecuteReaderAsync(Ct);
        Assert.True(await reader.ReadAsync(Ct));
        Assert.Equal((0L, 1L, 1L, 1L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
    }
}
