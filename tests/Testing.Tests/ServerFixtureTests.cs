using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace Catbird.Testing.Tests;

/// <summary>The server fixtures every service test depends on: they start real servers, restart them in place and stop them.</summary>
[Trait("Category", "Service")]
public sealed class ServerFixtureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Redis_answers_with_password_and_restarts_on_the_same_port()
    {
        await using var redis = await RedisServer.StartAsync("s3cret", Ct);
        Assert.Equal($"127.0.0.1:{redis.Port},password=s3cret", redis.ConnectionString);
        Assert.Contains("+PONG", await SendAsync(redis.Port, "AUTH s3cret\r\nPING\r\n", "PONG"));
        Assert.Contains("NOAUTH", await SendAsync(redis.Port, "PING\r\n", "NOAUTH"));

        var firstPid = redis.Process!.Id;
        await redis.RestartAsync(Ct);
        Assert.NotEqual(firstPid, redis.Process!.Id);
        Assert.Contains("+PONG", await SendAsync(redis.Port, "AUTH s3cret\r\nPING\r\n", "PONG"));

        await redis.StopAsync();
        await Assert.ThrowsAnyAsync<SocketException>(() => SendAsync(redis.Port, "PING\r\n", "PONG"));
    }

    [Fact]
    public async Task Nats_serves_jetstream_and_keeps_its_store_across_restarts()
    {
        await using var nats = await NatsServer.StartAsync(ct: Ct);
        var info = await SendAsync(nats.Port, "", "\r\n");
        Assert.StartsWith("INFO {", info);
        Assert.Contains("\"jetstream\":true", info);

        await nats.RestartAsync(Ct);
        Assert.True(Directory.Exists(Path.Combine(nats.StoreDirectory, "jetstream")));
        Assert.StartsWith("INFO {", await SendAsync(nats.Port, "", "\r\n"));
    }

    [Fact]
    public async Task Postgres_creates_isolated_databases()
    {
        await using var postgres = await PostgresServer.StartAsync(Ct);
        var first = await postgres.CreateDatabaseAsync(ct: Ct);
        var second = await postgres.CreateDatabaseAsync("named_db", Ct);
        Assert.Contains("Database=named_db", second);

        await using (var connection = new NpgsqlConnection(first))
        {
            await connection.OpenAsync(Ct);
            await using var create = new NpgsqlCommand("CREATE TABLE t(x int); INSERT INTO t VALUES (1)", connection);
            await create.ExecuteNonQueryAsync(Ct);
        }

        await using (var connection = new NpgsqlConnection(second))
        {
            await connection.OpenAsync(Ct);
            await using var count = new NpgsqlCommand("SELECT count(*) FROM pg_tables WHERE tablename = 't'", connection);
            Assert.Equal(0L, await count.ExecuteScalarAsync(Ct));
            await using var encoding = new NpgsqlCommand("SHOW server_encoding", connection);
            Assert.Equal("UTF8", await encoding.ExecuteScalarAsync(Ct));
        }

        var pid = postgres.Process!.Id;
        await postgres.StopAsync();
        Assert.False(File.Exists($"/proc/{pid}/status") && File.ReadAllText($"/proc/{pid}/status").Contains("State:\tS", StringComparison.Ordinal));
    }

    private static async Task<string> SendAsync(int port, string request, string until)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var stream = client.GetStream();
        if (request.Length > 0)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        }

        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (!text.ToString().Contains(until, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
            if (read == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
