using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Npgsql;

namespace Catbird.Testing;

/// <summary>
/// A real PostgreSQL 15 server in a fresh temporary cluster on a free loopback port.
/// As root the server runs as the <c>postgres</c> user through <c>setpriv</c>, which keeps its PID ours.
/// </summary>
public sealed class PostgresServer : LocalServer
{
    private const string BinDirectory = "/usr/lib/postgresql/15/bin";

    private PostgresServer(string directory)
        : base(directory, PosixSignal.SIGINT, TimeSpan.FromSeconds(20))
    {
        Port = ServerProcess.FreePort();
        Password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The superuser name.</summary>
    public string Username => "catbird";

    /// <summary>The superuser password.</summary>
    public string Password { get; }

    /// <summary>Creates a cluster, starts the server and waits until it accepts connections.</summary>
    public static async Task<PostgresServer> StartAsync(CancellationToken ct = default)
    {
        var server = new PostgresServer(ServerBinaries.NewTempDirectory("pg"));
        await server.InitializeAsync(ct);
        await server.LaunchAsync(ct);
        return server;
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/>.</summary>
    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={Username};Password={Password};Database={database};Pooling=true;Timeout=10;Command Timeout=30";

    /// <summary>Creates an empty database (a unique name when none is given) and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string? name = null, CancellationToken ct = default)
    {
        name ??= "db_" + Guid.NewGuid().ToString("N")[..16];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await command.ExecuteNonQueryAsync(ct);
        return ConnectionString(name);
    }

    /// <summary>Stops the server with SIGINT (fast shutdown), closing pooled connections first.</summary>
    public override Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return base.StopAsync();
    }

    private string DataDirectory => Path.Combine(WorkingDirectory, "data");

    private async Task InitializeAsync(CancellationToken ct)
    {
        var initdb = ServerBinaries.Find("initdb", "postgresql-15", Path.Combine(BinDirectory, "initdb"));
        var passwordFile = Path.Combine(WorkingDirectory, "pwfile");
        await File.WriteAllTextAsync(passwordFile, Password + "\n", ct);
        if (ServerBinaries.IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", WorkingDirectory], ct);
        }

        string[] args = [initdb, "-D", DataDirectory, "-U", Username, $"--pwfile={passwordFile}", "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"];
        await RunAsync(AsServerUser(args), ct);
        File.Delete(passwordFile);
    }

    /// <inheritdoc />
    protected override async Task LaunchAsync(CancellationToken ct)
    {
        var postgres = ServerBinaries.Find("postgres", "postgresql-15", Path.Combine(BinDirectory, "postgres"));
        string[] args = [postgres, "-D", DataDirectory, "-p", Port.ToString(), "-h", "127.0.0.1", "-k", "",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200"];
        var command = AsServerUser(args);
        Process = ServerProcess.Start($"postgres:{Port}", command[0], command[1..], WorkingDirectory);
        await Process.WaitUntilAsync(CanQueryAsync, TimeSpan.FromSeconds(30), ct);
    }

    private async Task<bool> CanQueryAsync(CancellationToken ct)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
            await connection.OpenAsync(ct);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    private static string[] AsServerUser(string[] command) => ServerBinaries.IsRoot
        ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. command]
        : command;

    private static Task RunAsync(string[] command, CancellationToken ct) => RunAsync(command[0], command[1..], ct);

    private static async Task RunAsync(string fileName, string[] args, CancellationToken ct)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/tmp",
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(startInfo)
            ?? throw new InvalidOperationException($"could not start {fileName}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{fileName} {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }
}
