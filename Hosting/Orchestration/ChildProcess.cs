using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Catbird.Hosting.Orchestration;

/// <summary>A child process whose output goes to a sink, stopped with a chosen signal and killed only as a last resort.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Completes when the process exits.</summary>
    public Task Exited { get; private set; } = Task.CompletedTask;

    /// <summary>Starts <paramref name="command"/> (program then arguments) with extra environment, sending each output line to <paramref name="output"/>.</summary>
    public static ChildProcess Start(IReadOnlyList<string> command, IReadOnlyDictionary<string, string>? environment, string workingDirectory,
        Action<string, bool> output)
    {
        var startInfo = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in command.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                startInfo.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output(e.Data, false);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output(e.Data, true);
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{command[0]}': {e.Message}", e);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process) { Exited = process.WaitForExitAsync() };
    }

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="grace"/>, then kills the process.</summary>
    /// <returns>True when the process exited on the signal.</returns>
    public async Task<bool> StopAsync(int signal, TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return true;
        }

        Signals.Send(_process.Id, signal);
        if (await Task.WhenAny(Exited, Task.Delay(grace)) == Exited)
        {
            return true;
        }

        Kill();
        return false;
    }

    /// <summary>Kills the process (SIGKILL) and waits for it.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Exited meanwhile.
            }

            _process.WaitForExit(10_000);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _process.Dispose();
}

/// <summary>POSIX signals through libc.</summary>
public static class Signals
{
    /// <summary>SIGINT.</summary>
    public const int Interrupt = 2;

    /// <summary>SIGKILL.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM.</summary>
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when no such process.</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    /// <summary>True when a process with <paramref name="pid"/> exists (and is not a zombie).</summary>
    public static bool IsAlive(int pid)
    {
        var status = $"/proc/{pid}/stat";
        if (!File.Exists(status))
        {
            return false;
        }

        try
        {
            var text = File.ReadAllText(status);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The kernel's start time of <paramref name="pid"/> (clock ticks since boot), to tell a PID reused by another process.</summary>
    public static long? StartTimeOf(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>True when the current process runs as root.</summary>
    public static bool IsRoot => GetEffectiveUserId() == 0;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEffectiveUserId();
}
