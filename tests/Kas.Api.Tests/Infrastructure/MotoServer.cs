using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Catbird.Kas.Api.Tests.Infrastructure;

/// <summary>A moto_server (Python moto: local AWS KMS/S3) on a random port; null when moto_server is not installed.</summary>
internal sealed class MotoServer : IAsyncDisposable
{
    private readonly Process _process;

    private MotoServer(Process process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
    }

    public string Url { get; }

    public static string? FindExecutable()
    {
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/root/.pyenv/shims"))
        {
            var candidate = Path.Combine(folder, "moto_server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    public static async Task<MotoServer> StartAsync(string executable, CancellationToken ct)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            ArgumentList = { "-H", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start moto_server");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new MotoServer(process, port);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    using var response = await http.GetAsync(server.Url + "/moto-api/", ct);
                    if ((int)response.StatusCode < 500)
                    {
                        return server;
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                }
                catch (TaskCanceledException) when (DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
                {
                }

                if (DateTime.UtcNow >= deadline || process.HasExited)
                {
                    throw new InvalidOperationException("moto_server did not become ready");
                }

                await Task.Delay(100, ct);
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
