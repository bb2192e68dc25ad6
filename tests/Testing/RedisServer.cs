using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Catbird.Testing;

/// <summary>A real <c>redis-server</c> on a free loopback port, without persistence.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private ServerProcess? _process;

    private RedisServer(int port, string? password, string directory)
    {
        Port = port;
        Password = password;
        _directory = directory;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The password (<c>requirepass</c>), if any.</summary>
    public string? Password { get; }

    /// <summary>The connection string in the format Aspire injects: <c>127.0.0.1:port[,password=…]</c>.</summary>
    public string ConnectionString => Password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={Password}";

    /// <summary>The running process (null while stopped).</summary>
    public ServerProcess? Process => _process;

    /// <summary>Starts a server and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync(string? password = null, CancellationToken ct = default)
    {
        var server = new RedisServer(ServerProcess.FreePort(), password, ServerBinaries.NewTempDirectory("redis"));
        await server.LaunchAsync(ct);
        return server;
    }

    /// <summary>Stops the server with SIGTERM.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            await process.StopAsync(PosixSignal.SIGTERM, TimeSpan.FromSeconds(10));
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

    /// <summary>Starts the server again on the same port (stopping it first if it runs).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await LaunchAsync(ct);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        ServerBinaries.DeleteDirectory(_directory);
    }

    private async Task LaunchAsync(CancellationToken ct)
    {
        var binary = ServerBinaries.Find("redis-server", "redis-server", "/usr/bin/redis-server");
        List<string> args = ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", _directory, "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"];
        if (Password is not null)
        {
            args.AddRange(["--requirepass", Password]);
        }

        _process = ServerProcess.Start($"redis-server:{Port}", binary, args, _directory);
        await _process.WaitUntilAsync(PingAsync, TimeSpan.FromSeconds(20), ct);
    }

    private async Task<bool> PingAsync(CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port, ct);
        var stream = client.GetStream();
        var request = Password is null ? "PING\r\n" : $"AUTH {Password}\r\nPING\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct);
        var buffer = new byte[256];
        var text = new StringBuilder();
        while (!text.ToString().Contains("PONG", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                return false;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
            if (text.ToString().Contains("-LOADING", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
