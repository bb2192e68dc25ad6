using System.Net;
using System.Text.Json;
using Catbird.ServiceDefaults.Postgres;
using Catbird.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Catbird.ServiceDefaults.Tests;

[Trait("Category", "Service")]
public sealed class PostgresDefaultsTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly SchemaMigration[] TwoMigrations =
    [
        new(1, "create_notes", "CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL);"),
        new(2, "add_author", "ALTER TABLE notes ADD COLUMN author text;"),
    ];

    [Fact]
    public async Task Migrations_apply_once_in_order_and_rerun_as_no_ops()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.Server.CreateDatabaseAsync(ct: Ct));
        Assert.Equal(1, await Migrator(dataSource, TwoMigrations[..1]).MigrateAsync(Ct));
        Assert.Equal(1, await Migrator(dataSource, TwoMigrations).MigrateAsync(Ct));
        Assert.Equal(0, await Migrator(dataSource, TwoMigrations).MigrateAsync(Ct));

        await using var command = dataSource.CreateCommand("SELECT string_agg(version::text || ':' || name, ',' ORDER BY version) FROM schema_migrations");
        Assert.Equal("1:create_notes,2:add_author", await command.ExecuteScalarAsync(Ct));
        await using var insert = dataSource.CreateCommand("INSERT INTO notes (body, author) VALUES ('x', 'y')");
        Assert.Equal(1, await insert.ExecuteNonQueryAsync(Ct));
    }

    [Fact]
    public async Task Concurrent_runners_apply_each_migration_exactly_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.Server.CreateDatabaseAsync(ct: Ct));
        var runs = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Migrator(dataSource, TwoMigrations).MigrateAsync(Ct)))
            .WaitAsync(TimeSpan.FromSeconds(60), Ct);
        Assert.Equal(2, runs.Sum());
    }

    [Fact]
    public async Task A_newer_schema_or_an_edited_migration_refuses_to_start()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.Server.CreateDatabaseAsync(ct: Ct));
        await Migrator(dataSource, TwoMigrations).MigrateAsync(Ct);

        var newer = await Assert.ThrowsAsync<SchemaMismatchException>(() => Migrator(dataSource, TwoMigrations[..1]).MigrateAsync(Ct));
        Assert.Contains("newer than this build knows", newer.Message);

        SchemaMigration[] edited = [TwoMigrations[0] with { Sql = "CREATE TABLE notes (id int);" }, TwoMigrations[1]];
        var changed = await Assert.ThrowsAsync<SchemaMismatchException>(() => Migrator(dataSource, edited).MigrateAsync(Ct));
        Assert.Contains("was changed after it was applied", changed.Message);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_half_applied()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.Server.CreateDatabaseAsync(ct: Ct));
        SchemaMigration[] broken = [TwoMigrations[0], new(2, "broken", "ALTER TABLE notes ADD COLUMN a int; SELECT * FROM missing_table;")];
        await Assert.ThrowsAsync<PostgresException>(() => Migrator(dataSource, broken).MigrateAsync(Ct));
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM information_schema.columns WHERE table_name = 'notes' AND column_name = 'a'");
        Assert.Equal(0L, await command.ExecuteScalarAsync(Ct));
        Assert.Equal(1, await Migrator(dataSource, TwoMigrations).MigrateAsync(Ct));
    }

    [Fact]
    public async Task Health_endpoints_report_the_database_and_metrics_are_served()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync(ct: Ct);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["ConnectionStrings:testdb"] = connectionString;
        builder.AddServiceDefaults();
        builder.AddNpgsqlDataSource("testdb");
        await using var app = builder.Build();
        app.MapDefaultEndpoints();
        await app.StartAsync(Ct);
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(10) };

            using var ready = await http.GetAsync("/health/ready", Ct);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            using var document = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(Ct));
            Assert.Equal("Healthy", document.RootElement.GetProperty("status").GetString());
            Assert.Equal("Healthy", document.RootElement.GetProperty("entries").GetProperty("testdb").GetProperty("status").GetString());
            Assert.False(document.RootElement.GetProperty("entries").TryGetProperty("self", out _));

            using var all = JsonDocument.Parse(await http.GetStringAsync("/health", Ct));
            Assert.True(all.RootElement.GetProperty("entries").TryGetProperty("self", out _));
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", Ct)).StatusCode);

            var metrics = await http.GetStringAsync("/metrics", Ct);
            Assert.True(metrics.Contains("# TYPE http_server_request_duration_seconds histogram", StringComparison.Ordinal), metrics);

            await using (var connection = new NpgsqlConnection(postgres.Server.ConnectionString("postgres")))
            {
                await connection.OpenAsync(Ct);
                var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
                await using var revoke = new NpgsqlCommand($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'", connection);
                await revoke.ExecuteNonQueryAsync(Ct);
            }

            using var down = await http.GetAsync("/health/ready", Ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live", Ct)).StatusCode);
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static SchemaMigrator Migrator(NpgsqlDataSource dataSource, SchemaMigration[] migrations) =>
        new(dataSource, migrations, NullLogger<SchemaMigrator>.Instance);
}
