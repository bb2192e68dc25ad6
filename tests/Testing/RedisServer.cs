using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Catbird.Testing;

/// <summary>A real <c>redis-server</c> on a free loopback port, without persistence.</summary>
public sealed class RedisServer : LocalServer
{
    private RedisServer(int port, string? password, string directory)
        : base(directory, PosixSignal.SIGTERM, TimeSpan.FromSeconds(10))
    {
        Port = port;
        Password = password;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The password (<c>requirepass</c>), if any.</summary>
    public string? Password { get; }

    /// <summary>The connection string in the format Aspire injects: <c>127.0.0.1:port[,password=…]</c>.</summary>
    public string ConnectionString => Password is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},password={Password}";

    /// <summary>Starts a server and waits until it answers PING.</summary>
    public static async Task<RedisServer> StartAsync(string? password = null, CancellationToken ct = default)
    {
        var server = new RedisServer(ServerProcess.FreePort(), password, ServerBinaries.NewTempDirectory("redis"));
        await server.LaunchAsync(ct);
        return server;
    }

    /// <inheritdoc />
    protected override async Task LaunchAsync(CancellationToken ct)
    {
        var binary = ServerBinaries.Find("redis-server", "redis-server", "/usr/bin/redis-server");
        List<string> args = ["--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", WorkingDirectory, "--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning"];
        if (Password is not null)
        {
            args.AddRange(["--requirepass", Password]);
        }

        Process = ServerProcess.Start($"redis-server:{Port}", binary, args, WorkingDirectory);
        await Process.WaitUntilAsync(PingAsync, TimeSpan.FromSeconds(20), ct);
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
