using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Catbird.Testing;

/// <summary>
/// A server child process owned by a test: started with captured output, stopped with a signal, never orphaned.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const int MaxLogLines = 400;
    private readonly Process _process;
    private readonly Queue<string> _log = new();
    private readonly Lock _logLock = new();

    private ServerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>A short name used in messages.</summary>
    public string Name { get; }

    /// <summary>The operating-system process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote to stdout and stderr.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_logLock)
            {
                return string.Join('\n', _log);
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/>, capturing its output.</summary>
    public static ServerProcess Start(string name, string fileName, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var server = new ServerProcess(process, name);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name}: could not start {fileName}.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Sends <paramref name="signal"/> and waits for the process to exit; escalates to SIGKILL after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(PosixSignal signal, TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return;
        }

        Signal(signal);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>Sends a POSIX signal to the process.</summary>
    public void Signal(PosixSignal signal)
    {
        if (_process.HasExited)
        {
            return;
        }

        var number = signal switch
        {
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGQUIT => 3,
            PosixSignal.SIGTERM => 15,
            PosixSignal.SIGHUP => 1,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "unsupported signal"),
        };
        _ = SendSignal(_process.Id, number);
    }

    /// <summary>Polls <paramref name="probe"/> until it returns true, failing with the process output on timeout or exit.</summary>
    public async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready. Output:\n{RecentOutput}");
            }

            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                attempt.CancelAfter(TimeSpan.FromSeconds(2));
                if (await probe(attempt.Token))
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException or HttpRequestException && !ct.IsCancellationRequested)
            {
                // Not ready yet.
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{Name} was not ready within {timeout.TotalSeconds:0} s. Output:\n{RecentOutput}");
            }

            await Task.Delay(25, ct);
        }
    }

    /// <summary>Returns a TCP port that was free on 127.0.0.1 a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>True when a TCP connection to 127.0.0.1:<paramref name="port"/> succeeds.</summary>
    public static async Task<bool> CanConnectAsync(int port, CancellationToken ct)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, ct);
        return true;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(PosixSignal.SIGTERM, TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logLock)
        {
            _log.Enqueue(line);
            while (_log.Count > MaxLogLines)
            {
                _log.Dequeue();
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

/// <summary>Locates programs that tests need and explains how to install the missing ones.</summary>
public static class ServerBinaries
{
    /// <summary>Returns the first existing path among <paramref name="candidates"/> or on PATH; throws naming the apt package otherwise.</summary>
    public static string Find(string program, string aptPackage, params string[] candidates)
    {
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(directory, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"'{program}' was not found. Install it with: apt-get install -y {aptPackage}");
    }

    /// <summary>True when the test process runs as root.</summary>
    public static bool IsRoot => Environment.UserName == "root" || GetEffectiveUserId() == 0;

    /// <summary>A fresh temporary directory that every user can traverse (postgres needs that when we run as root).</summary>
    public static string NewTempDirectory(string prefix)
    {
        var path = Path.Combine("/tmp", $"cb-{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(path);
        if (OperatingSystem.IsWindows())
        {
            return path;
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return path;
    }

    /// <summary>Deletes a directory tree, ignoring what is already gone.</summary>
    public static void DeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A child still closing files; the directory is under /tmp and unique.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    internal static string ReadAll(Stream stream) => new StreamReader(stream, Encoding.UTF8).ReadToEnd();

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();
}
