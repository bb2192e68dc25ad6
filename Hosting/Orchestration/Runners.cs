using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Catbird.Hosting.ApplicationModel;
using Npgsql;

namespace Catbird.Hosting.Orchestration;

/// <summary>What a health probe found.</summary>
public sealed record ProbeResult(string Health, string? Detail)
{
    /// <summary>Healthy.</summary>
    public static readonly ProbeResult Healthy = new("Healthy", null);

    /// <summary>Unhealthy, with the reason.</summary>
    public static ProbeResult Unhealthy(string detail) => new("Unhealthy", detail);
}

/// <summary>Starts, probes and stops one resource.</summary>
internal abstract class ResourceRunner(ResourceState state, RunContext context, StateFolder folder)
{
    private ChildProcess? _process;

    public ResourceState State { get; } = state;

    public Resource Resource => State.Resource;

    protected RunContext Context { get; } = context;

    protected StateFolder Folder { get; } = folder;

    /// <summary>Signal that stops the process cleanly.</summary>
    protected virtual int StopSignal => Signals.Terminate;

    /// <summary>Whether the resource runs a process (a database does not).</summary>
    public virtual bool HasProcess => true;

    /// <summary>Completes when the current process exits.</summary>
    public Task Exited => _process?.Exited ?? Task.Delay(Timeout.Infinite);

    /// <summary>The current process's exit code, once it exited.</summary>
    public int? ExitCode => _process is { HasExited: true } p ? p.ExitCode : null;

    /// <summary>Prepares and starts the process.</summary>
    public virtual async Task StartAsync(CancellationToken ct)
    {
        var (command, environment, workingDirectory) = await PrepareAsync(ct);
        var logPath = Path.Combine(Folder.LogDirectory, Resource.Name + ".log");
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var logLock = new Lock();
        _process = ChildProcess.Start(command, environment, workingDirectory, (line, isError) =>
        {
            State.Append(line, isError);
            lock (logLock)
            {
                log.WriteLine(line);
            }
        });
        _ = _process.Exited.ContinueWith(_ => log.Dispose(), TaskScheduler.Default);
        State.ProcessId = _process.Id;
        Folder.RecordProcess(Resource.Name, _process.Id, StopSignal);
    }

    /// <summary>Probes the resource's health.</summary>
    public abstract Task<ProbeResult> ProbeAsync(CancellationToken ct);

    /// <summary>Work to do once the resource is healthy for the first time (creating databases, for instance).</summary>
    public virtual Task OnReadyAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Stops the process with its signal, killing it after <paramref name="grace"/>.</summary>
    public virtual async Task StopAsync(TimeSpan grace)
    {
        if (_process is { } process)
        {
            await process.StopAsync(StopSignal, grace);
            process.Dispose();
            _process = null;
            State.ProcessId = null;
            Folder.ForgetProcess(Resource.Name);
        }
    }

    /// <summary>The command line, environment and working directory.</summary>
    protected abstract Task<(IReadOnlyList<string> Command, IReadOnlyDictionary<string, string>? Environment, string WorkingDirectory)> PrepareAsync(CancellationToken ct);
}

/// <summary>PostgreSQL from the postgresql-15 package; as root the server runs as <c>postgres</c> through setpriv (same PID).</summary>
internal sealed class PostgresRunner(ResourceState state, RunContext context, StateFolder folder, PostgresServerResource server, string binDirectory)
    : ResourceRunner(state, context, folder)
{
    protected override int StopSignal => Signals.Interrupt;

    private string DataDirectory => Path.Combine(Context.DataDirectoryOf(server), "pgdata");

    protected override async Task<(IReadOnlyList<string>, IReadOnlyDictionary<string, string>?, string)> PrepareAsync(CancellationToken ct)
    {
        var root = Context.DataDirectoryOf(server);
        Directory.CreateDirectory(root);
        if (Signals.IsRoot)
        {
            await RunToCompletionAsync(["chown", "postgres:postgres", root], ct);
        }

        if (!File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            var passwordFile = Path.Combine(root, "pwfile");
            await File.WriteAllTextAsync(passwordFile, Context.ValueOf(server.Password) + "\n", ct);
            if (Signals.IsRoot)
            {
                await RunToCompletionAsync(["chown", "postgres:postgres", passwordFile], ct);
            }

            try
            {
                State.Append("initdb: creating the cluster", false);
                await RunToCompletionAsync(AsServerUser([Path.Combine(binDirectory, "initdb"), "-D", DataDirectory, "-U", PostgresServerResource.UserName,
                    $"--pwfile={passwordFile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                    "--no-sync", "--no-instructions"]), ct);
            }
            finally
            {
                File.Delete(passwordFile);
            }
        }

        // A postmaster.pid left by a killed server blocks start only while its PID lives; the leftover check stopped ours.
        var command = AsServerUser([Path.Combine(binDirectory, "postgres"), "-D", DataDirectory, "-p", Context.PortOf(server).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-h", "127.0.0.1", "-k", "", "-c", "max_connections=200"]);
        return (command, null, root);
    }

    public override async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(server.GetConnectionString(Context) + ";Database=postgres;Pooling=false;Timeout=3");
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        await command.ExecuteScalarAsync(ct);
        return ProbeResult.Healthy;
    }

    public override async Task OnReadyAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(server.GetConnectionString(Context) + ";Database=postgres;Pooling=false");
        await connection.OpenAsync(ct);
        foreach (var database in server.Databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database.DatabaseName);
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.DatabaseName.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(ct);
                State.Append($"created database {database.DatabaseName}", false);
            }
        }
    }

    private static string[] AsServerUser(string[] command) =>
        Signals.IsRoot ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. command] : command;

    private async Task RunToCompletionAsync(string[] command, CancellationToken ct)
    {
        var output = new StringBuilder();
        using var process = ChildProcess.Start(command, null, "/tmp", (line, _) => output.AppendLine(line));
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(60), ct);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(command[0])} failed with exit code {process.ExitCode}: {output}");
        }
    }
}

/// <summary>A PostgreSQL database: no process of its own; healthy once it exists and accepts connections.</summary>
internal sealed class DatabaseRunner(ResourceState state, RunContext context, StateFolder folder, PostgresDatabaseResource database)
    : ResourceRunner(state, context, folder)
{
    public override bool HasProcess => false;

    public override Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    public override Task StopAsync(TimeSpan grace) => Task.CompletedTask;

    public override async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database.GetConnectionString(Context) + ";Pooling=false;Timeout=3");
        await connection.OpenAsync(ct);
        return ProbeResult.Healthy;
    }

    protected override Task<(IReadOnlyList<string>, IReadOnlyDictionary<string, string>?, string)> PrepareAsync(CancellationToken ct) =>
        throw new NotSupportedException("A database has no process.");
}

/// <summary>Redis from the redis-server package, with an append-only file so data survives restarts.</summary>
internal sealed class RedisRunner(ResourceState state, RunContext context, StateFolder folder, RedisResource redis)
    : ResourceRunner(state, context, folder)
{
    protected override Task<(IReadOnlyList<string>, IReadOnlyDictionary<string, string>?, string)> PrepareAsync(CancellationToken ct)
    {
        var directory = Context.DataDirectoryOf(redis);
        Directory.CreateDirectory(directory);
        IReadOnlyList<string> command = [Binaries.RedisServer, "--port", Context.PortOf(redis).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1", "--requirepass", Context.ValueOf(redis.Password), "--dir", directory, "--save", "",
            "--appendonly", "yes", "--daemonize", "no", "--protected-mode", "yes"];
        return Task.FromResult((command, (IReadOnlyDictionary<string, string>?)null, directory));
    }

    public override async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Context.PortOf(redis), ct);
        var stream = client.GetStream();
        var password = Context.ValueOf(redis.Password);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nAUTH\r\n${password.Length}\r\n{password}\r\n*1\r\n$4\r\nPING\r\n"), ct);
        var buffer = new byte[512];
        var reply = new StringBuilder();
        while (!reply.ToString().Contains("\r\n+PONG\r\n", StringComparison.Ordinal) && !reply.ToString().StartsWith('-'))
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var text = reply.ToString();
        return text.Contains("+PONG", StringComparison.Ordinal) ? ProbeResult.Healthy : ProbeResult.Unhealthy(text.Trim());
    }
}

/// <summary>NATS from the nats-server package, with user/password auth and (optionally) JetStream.</summary>
internal sealed class NatsRunner(ResourceState state, RunContext context, StateFolder folder, NatsResource nats)
    : ResourceRunner(state, context, folder)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    protected override int StopSignal => Signals.Interrupt;

    protected override async Task<(IReadOnlyList<string>, IReadOnlyDictionary<string, string>?, string)> PrepareAsync(CancellationToken ct)
    {
        var directory = Context.DataDirectoryOf(nats);
        Directory.CreateDirectory(directory);
        var config = new StringBuilder()
            .AppendLine(FormattableString.Invariant($"server_name: \"catbird-{nats.Name}\""))
            .AppendLine(FormattableString.Invariant($"listen: \"127.0.0.1:{Context.PortOf(nats)}\""))
            .AppendLine(FormattableString.Invariant($"http: \"127.0.0.1:{Context.PortOf(nats, "monitor")}\""))
            .AppendLine("authorization {")
            .AppendLine($"  user: \"{NatsResource.UserName}\"")
            .AppendLine($"  password: \"{Context.ValueOf(nats.Password)}\"")
            .AppendLine("}");
        if (nats.JetStream)
        {
            config.AppendLine("jetstream {").AppendLine($"  store_dir: \"{Path.Combine(directory, "jetstream-store")}\"")
                .AppendLine("  max_mem: 256MB").AppendLine("  max_file: 4GB").AppendLine("}");
        }

        var path = Path.Combine(directory, "nats.conf");
        await File.WriteAllTextAsync(path, config.ToString(), ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return ([Binaries.NatsServer, "-c", path], null, directory);
    }

    public override async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        var query = nats.JetStream ? "?js-enabled-only=true" : "";
        using var response = await Http.GetAsync(FormattableString.Invariant($"http://127.0.0.1:{Context.PortOf(nats, "monitor")}/healthz{query}"), ct);
        return response.IsSuccessStatusCode ? ProbeResult.Healthy : ProbeResult.Unhealthy(await response.Content.ReadAsStringAsync(ct));
    }
}

/// <summary>A .NET project run with <c>dotnet &lt;dll&gt;</c> from its build output.</summary>
internal sealed class ProjectRunner(ResourceState state, RunContext context, StateFolder folder, ProjectResource project, string assemblyPath)
    : ResourceRunner(state, context, folder)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    protected override Task<(IReadOnlyList<string>, IReadOnlyDictionary<string, string>?, string)> PrepareAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(Context.DataDirectoryOf(project));
        IReadOnlyList<string> command = [Binaries.Dotnet, assemblyPath];
        return Task.FromResult((command, (IReadOnlyDictionary<string, string>?)ProjectEnvironment.Build(project, Context), Path.GetDirectoryName(assemblyPath)!));
    }

    public override async Task<ProbeResult> ProbeAsync(CancellationToken ct)
    {
        using var response = await Http.GetAsync(Context.HttpUrlOf(project) + project.HealthPath, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        var reported = ReadStatus(body);
        if (response.IsSuccessStatusCode)
        {
            return reported == "Degraded" ? new ProbeResult("Degraded", body) : ProbeResult.Healthy;
        }

        return ProbeResult.Unhealthy($"{(int)response.StatusCode} {body}");
    }

    private static string? ReadStatus(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("status", out var status)
                ? status.GetString()
                : null;
        }
        catch (JsonException)
        {
            return body.Trim();
        }
    }
}
