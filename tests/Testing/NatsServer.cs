using System.Runtime.InteropServices;
using System.Text;

namespace Catbird.Testing;

/// <summary>How a test's <c>nats-server</c> is configured.</summary>
public sealed record NatsServerOptions
{
    /// <summary>Enable JetStream (store under the server's own temporary directory, small limits).</summary>
    public bool JetStream { get; init; } = true;

    /// <summary>Text appended verbatim to the generated configuration file (authorization, tls, operator, resolver blocks).</summary>
    public string? ExtraConfig { get; init; }

    /// <summary>Server name (defaults to one made from the port).</summary>
    public string? ServerName { get; init; }
}

/// <summary>A real <c>nats-server</c> on free loopback ports, with JetStream by default.</summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly NatsServerOptions _options;
    private readonly string _directory;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private ServerProcess? _process;

    private NatsServer(NatsServerOptions options, string directory)
    {
        _options = options;
        _directory = directory;
        Port = ServerProcess.FreePort();
        MonitorPort = ServerProcess.FreePort();
        ConfigPath = Path.Combine(directory, "nats.conf");
        StoreDirectory = Path.Combine(directory, "store");
    }

    /// <summary>The client port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The HTTP monitoring port on 127.0.0.1.</summary>
    public int MonitorPort { get; }

    /// <summary>The client URL, <c>nats://127.0.0.1:port</c>.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>The JetStream store directory (kept across <see cref="RestartAsync"/>).</summary>
    public string StoreDirectory { get; }

    /// <summary>The generated configuration file.</summary>
    public string ConfigPath { get; }

    /// <summary>The server's temporary directory (for certificates and credentials a test writes).</summary>
    public string Directory => _directory;

    /// <summary>The running process (null while stopped).</summary>
    public ServerProcess? Process => _process;

    /// <summary>Starts a server and waits until its monitor reports healthy.</summary>
    public static async Task<NatsServer> StartAsync(NatsServerOptions? options = null, CancellationToken ct = default)
    {
        var server = new NatsServer(options ?? new NatsServerOptions(), ServerBinaries.NewTempDirectory("nats"));
        await server.LaunchAsync(ct);
        return server;
    }

    /// <summary>Stops the server with SIGINT (exit 0).</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            await process.StopAsync(PosixSignal.SIGINT, TimeSpan.FromSeconds(10));
            await process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Kills the server with SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        _process?.Kill();
        _process = null;
    }

    /// <summary>Starts the server again with the same ports and store (stopping it first if it runs).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await LaunchAsync(ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _http.Dispose();
        ServerBinaries.DeleteDirectory(_directory);
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        var binary = ServerBinaries.Find("nats-server", "nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server");
        var config = new StringBuilder();
        config.AppendLine($"server_name: \"{_options.ServerName ?? $"test-{Port}"}\"");
        config.AppendLine("listen: \"127.0.0.1:" + Port + "\"");
        config.AppendLine("http: \"127.0.0.1:" + MonitorPort + "\"");
        if (_options.JetStream)
        {
            config.AppendLine($"jetstream {{\n  store_dir: \"{StoreDirectory}\"\n  max_mem: 256MB\n  max_file: 1GB\n}}");
        }

        if (_options.ExtraConfig is { } extra)
        {
            config.AppendLine(extra);
        }

        await File.WriteAllTextAsync(ConfigPath, config.ToString(), ct);
        _process = ServerProcess.Start($"nats-server:{Port}", binary, ["-c", ConfigPath], _directory);
        await _process.WaitUntilAsync(HealthyAsync, TimeSpan.FromSeconds(20), ct);
    }

    private async Task<bool> HealthyAsync(CancellationToken ct)
    {
        var path = _options.JetStream ? "/healthz?js-enabled-only=true" : "/healthz";
        using var response = await _http.GetAsync($"http://127.0.0.1:{MonitorPort}{path}", ct);
        return response.IsSuccessStatusCode && await ServerProcess.CanConnectAsync(Port, ct);
    }
}
