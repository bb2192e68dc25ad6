using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Catbird.Clients.Tests.Redis;

/// <summary>
/// A TCP listener that speaks just enough RESP to pass the client's handshake (it answers the PING) and then plays a
/// script of hostile bytes, for testing how the client survives a misbehaving server.
/// </summary>
internal sealed class FakeRedisServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<NetworkStream, CancellationToken, Task> _afterHandshake;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _clients = [];
    private readonly Task _acceptLoop;
    private int _connections;

    public FakeRedisServer(Func<NetworkStream, CancellationToken, Task> afterHandshake)
    {
        _afterHandshake = afterHandshake;
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Reads until <paramref name="count"/> complete RESP commands (arrays of bulk strings) have arrived.</summary>
    public static async Task<string> ReadCommandsAsync(NetworkStream stream, int count, CancellationToken ct)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        while (CountCommands(text.ToString()) < count)
        {
            var read = await stream.ReadAsync(buffer, ct);
            if (read == 0)
            {
                throw new IOException("client closed");
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        try
        {
            await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private static int CountCommands(string text)
    {
        var count = 0;
        var position = 0;
        while (position < text.Length && text[position] == '*')
        {
            var end = text.IndexOf("\r\n", position, StringComparison.Ordinal);
            if (end < 0)
            {
                return count;
            }

            var items = int.Parse(text.AsSpan(position + 1, end - position - 1), System.Globalization.CultureInfo.InvariantCulture);
            position = end + 2;
            for (var i = 0; i < items; i++)
            {
                end = text.IndexOf("\r\n", position, StringComparison.Ordinal);
                if (end < 0)
                {
                    return count;
                }

                var length = int.Parse(text.AsSpan(position + 1, end - position - 1), System.Globalization.CultureInfo.InvariantCulture);
                position = end + 2 + length + 2;
                if (position > text.Length)
                {
                    return count;
                }
            }

            count++;
        }

        return count;
    }

    private async Task AcceptLoopAsync()
    {
        var handlers = new List<Task>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                lock (_clients)
                {
                    _clients.Add(client);
                }

                Interlocked.Increment(ref _connections);
                handlers.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(handlers);
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            var stream = client.GetStream();
            await ReadCommandsAsync(stream, 1, _stop.Token);
            await stream.WriteAsync("+PONG\r\n"u8.ToArray(), _stop.Token);
            await _afterHandshake(stream, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
        }
    }
}
