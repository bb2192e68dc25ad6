using System.Runtime.InteropServices;

namespace Catbird.Testing;

/// <summary>
/// A server process a test owns, in its own temporary directory: started by the subclass, stopped with the server's
/// clean-shutdown signal, killed to simulate a crash, restarted in place, and cleaned up on dispose.
/// </summary>
public abstract class LocalServer(string workingDirectory, PosixSignal stopSignal, TimeSpan stopGrace) : IAsyncDisposable
{
    /// <summary>The server's temporary directory (deleted on dispose).</summary>
    protected string WorkingDirectory { get; } = workingDirectory;

    /// <summary>The running process (null while stopped).</summary>
    public ServerProcess? Process { get; protected set; }

    /// <summary>Stops the server with its clean-shutdown signal.</summary>
    public virtual async Task StopAsync()
    {
        if (Process is { } process)
        {
            await process.StopAsync(stopSignal, stopGrace);
            await process.DisposeAsync();
            Process = null;
        }
    }

    /// <summary>Kills the server with SIGKILL, as a crash would.</summary>
    public void Kill()
    {
        Process?.Kill();
        Process = null;
    }

    /// <summary>Starts the server again with the same ports and data (stopping it first if it runs).</summary>
    public async Task RestartAsync(CancellationToken ct = default)
    {
        await StopAsync();
        await LaunchAsync(ct);
    }

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        await StopAsync();
        ServerBinaries.DeleteDirectory(WorkingDirectory);
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the process and waits until the server answers.</summary>
    protected abstract Task LaunchAsync(CancellationToken ct);
}
