using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Catbird.ServiceDefaults.Postgres;

/// <summary>One numbered schema change: <c>0003_add_cursors.sql</c> is version 3, named <c>add_cursors</c>.</summary>
public sealed record SchemaMigration(int Version, string Name, string Sql)
{
    /// <summary>SHA-256 of the SQL text (line endings normalised), recorded so an edited migration is noticed.</summary>
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

/// <summary>A database whose schema is newer than this code, or whose recorded migrations differ from the code's.</summary>
public sealed class SchemaMismatchException(string message) : Exception(message);

/// <summary>
/// Applies numbered SQL migrations in order, each in its own transaction, under a PostgreSQL advisory lock so that
/// replicas starting together apply each one exactly once; applied versions are recorded in <c>schema_migrations</c>.
/// </summary>
public sealed partial class SchemaMigrator(NpgsqlDataSource dataSource, IReadOnlyList<SchemaMigration> migrations, ILogger<SchemaMigrator> logger)
{
    // An arbitrary constant that names "Catbird schema migrations" among advisory locks.
    private const long AdvisoryLockKey = 0x43_61_74_62_69_72_64; // "Catbird"

    /// <summary>The migrations this code knows, in version order.</summary>
    public IReadOnlyList<SchemaMigration> Migrations { get; } = Validate(migrations);

    /// <summary>Reads migrations embedded in <paramref name="assembly"/> whose resource names end in <c>Migrations.NNNN_name.sql</c>.</summary>
    public static IReadOnlyList<SchemaMigration> FromAssembly(Assembly assembly)
    {
        var list = new List<SchemaMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var match = ResourcePattern().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new SchemaMigration(int.Parse(match.Groups["version"].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups["name"].Value, reader.ReadToEnd()));
        }

        return list;
    }

    /// <summary>Applies the pending migrations; returns how many were applied.</summary>
    /// <exception cref="SchemaMismatchException">The database is newer than the code, or an applied migration changed.</exception>
    public async Task<int> MigrateAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, null, "SELECT pg_advisory_lock(@key)", ct, ("key", AdvisoryLockKey));
        try
        {
            await ExecuteAsync(connection, null, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    checksum   text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, ct);
            var applied = await ReadAppliedAsync(connection, ct);
            Verify(applied);

            var count = 0;
            foreach (var migration in Migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(ct);
                await ExecuteAsync(connection, transaction, migration.Sql, ct);
                await ExecuteAsync(connection, transaction,
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (@version, @name, @checksum)", ct,
                    ("version", migration.Version), ("name", migration.Name), ("checksum", migration.Checksum));
                await transaction.CommitAsync(ct);
                LogApplied(logger, migration.Version, migration.Name);
                count++;
            }

            return count;
        }
        finally
        {
            await ExecuteAsync(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", AdvisoryLockKey));
        }
    }

    private void Verify(Dictionary<int, (string Name, string Checksum)> applied)
    {
        var known = Migrations.ToDictionary(m => m.Version);
        var newest = Migrations.Count == 0 ? 0 : Migrations[^1].Version;
        foreach (var (version, (name, checksum)) in applied.OrderBy(a => a.Key))
        {
            if (!known.TryGetValue(version, out var migration))
            {
                throw new SchemaMismatchException(version > newest
                    ? $"The database schema is at version {applied.Keys.Max()} ({name}), newer than this build knows (up to {newest}). Deploy a newer build or restore the database."
                    : $"The database has migration {version} ({name}) that this build does not contain.");
            }

            if (migration.Checksum != checksum)
            {
                throw new SchemaMismatchException(
                    $"Migration {version} ({migration.Name}) was changed after it was applied (checksum {checksum} in the database, {migration.Checksum} in the code). Add a new migration instead of editing an applied one.");
            }
        }
    }

    private static async Task<Dictionary<int, (string, string)>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var applied = new Dictionary<int, (string, string)>();
        await using var command = new NpgsqlCommand("SELECT version, name, checksum FROM schema_migrations ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            applied[reader.GetInt32(0)] = (reader.GetString(1), reader.GetString(2));
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken ct,
        params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(ct);
    }

    private static List<SchemaMigration> Validate(IReadOnlyList<SchemaMigration> migrations)
    {
        var ordered = migrations.OrderBy(m => m.Version).ToList();
        var duplicate = ordered.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}: {string.Join(", ", duplicate.Select(m => m.Name))}.");
        }

        return ordered;
    }

    [GeneratedRegex(@"Migrations\.(?<version>\d{4})_(?<name>[A-Za-z0-9_]+)\.sql$")]
    private static partial Regex ResourcePattern();

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied schema migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);
}

/// <summary>Runs the service's migrations when the host starts, before the server listens.</summary>
internal sealed partial class SchemaMigrationService(SchemaMigrator migrator, ILogger<SchemaMigrationService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var applied = await migrator.MigrateAsync(cancellationToken);
        LogReady(logger, migrator.Migrations.Count == 0 ? 0 : migrator.Migrations[^1].Version, applied);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema at version {Version} ({Applied} migrations applied now)")]
    private static partial void LogReady(ILogger logger, int version, int applied);
}

/// <summary>Registration of the migration runner.</summary>
public static class SchemaMigrationExtensions
{
    /// <summary>
    /// Applies the SQL migrations embedded in <paramref name="assembly"/> (<c>Migrations/NNNN_name.sql</c> as
    /// <c>EmbeddedResource</c>) to the registered <see cref="NpgsqlDataSource"/> at startup, before the server listens.
    /// Call after <c>AddNpgsqlDataSource</c>.
    /// </summary>
    public static IHostApplicationBuilder AddPostgresMigrations(this IHostApplicationBuilder builder, Assembly assembly)
    {
        var migrations = SchemaMigrator.FromAssembly(assembly);
        builder.Services.AddSingleton(services => new SchemaMigrator(
            services.GetRequiredService<NpgsqlDataSource>(), migrations, services.GetRequiredService<ILogger<SchemaMigrator>>()));
        builder.Services.AddHostedService<SchemaMigrationService>();
        return builder;
    }
}
