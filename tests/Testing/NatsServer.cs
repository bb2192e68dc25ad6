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
public sealed class NatsServer : LocalServer
{
    private readonly NatsServerOptions _options;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };

    private NatsServer(NatsServerOptions options, string directory)
        : base(directory, PosixSignal.SIGINT, TimeSpan.FromSeconds(10))
    {
        _options = options;
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
    public string Directory => WorkingDirectory;

    /// <summary>Starts a server and waits until its monitor reports healthy.</summary>
    public static async Task<NatsServer> StartAsync(NatsServerOptions? options = null, CancellationToken ct = default)
    {
        var server = new NatsServer(options ?? new NatsServerOptions(), ServerBinaries.NewTempDirectory("nats"));
        await server.LaunchAsync(ct);
        return server;
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _http.Dispose();
    }

    /// <inheritdoc />
    protected override async Task LaunchAsync(CancellationToken ct)
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
        Process = ServerProcess.Start($"nats-server:{Port}", binary, ["-c", ConfigPath], WorkingDirectory);
        await Process.WaitUntilAsync(HealthyAsync, TimeSpan.FromSeconds(20), ct);
    }

    private async Task<bool> HealthyAsync(CancellationToken ct)
    {
        var path = _options.JetStream ? "/healthz?js-enabled-only=true" : "/healthz";
        using var response = await _http.GetAsync($"http://127.0.0.1:{MonitorPort}{path}", ct);
        return response.IsSuccessStatusCode && await ServerProcess.CanConnectAsync(Port, ct);
    }
}
