using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Hosting.ApplicationModel;

namespace Catbird.Hosting.Orchestration;

/// <summary>
/// The AppHost's state folder: resource data (<c>data/</c>), generated secrets (<c>secrets.json</c>, mode 0600),
/// console logs (<c>logs/</c>) and the PIDs of running children (<c>run/</c>) used to clean up after a crashed run.
/// </summary>
public sealed class StateFolder
{
    private const string Alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

    /// <summary>Opens (creating if needed) the folder at <paramref name="path"/>.</summary>
    public StateFolder(string path)
    {
        Root = Path.GetFullPath(path);
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(RunDirectory);
        Directory.CreateDirectory(LogDirectory);
        Directory.CreateDirectory(DataDirectory);
        if (!OperatingSystem.IsWindows())
        {
            // Traversable so that postgres (run as its own user when we are root) reaches its data directory.
            File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(DataDirectory, (UnixFileMode)0b111_101_101);
        }
    }

    /// <summary>The folder.</summary>
    public string Root { get; }

    /// <summary>Resource data.</summary>
    public string DataDirectory => Path.Combine(Root, "data");

    /// <summary>PID files of running children.</summary>
    public string RunDirectory => Path.Combine(Root, "run");

    /// <summary>Console logs, one file per resource.</summary>
    public string LogDirectory => Path.Combine(Root, "logs");

    private string SecretsPath => Path.Combine(Root, "secrets.json");

    /// <summary>
    /// The first directory above <paramref name="path"/> that other users cannot enter (no <c>o+x</c>), or null when
    /// every one can be. As root, PostgreSQL runs as the <c>postgres</c> user and must traverse each of them.
    /// </summary>
    public static string? FirstClosedParent(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        for (var directory = Path.GetDirectoryName(Path.GetFullPath(path)); directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (Directory.Exists(directory) && (File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) == 0)
            {
                return directory;
            }
        }

        return null;
    }

    /// <summary>Deletes all data and secrets (for <c>--fresh</c>).</summary>
    public void DeleteData()
    {
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        File.Delete(SecretsPath);
        Directory.CreateDirectory(DataDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(DataDirectory, (UnixFileMode)0b111_101_101);
        }
    }

    /// <summary>Returns the stored value of each secret parameter, generating and storing the missing ones.</summary>
    public IReadOnlyDictionary<string, string> LoadOrCreateSecrets(IEnumerable<ParameterResource> parameters)
    {
        var secrets = File.Exists(SecretsPath)
            ? JsonSerializer.Deserialize(File.ReadAllText(SecretsPath), HostingJsonContext.Default.DictionaryStringString) ?? []
            : new Dictionary<string, string>(StringComparer.Ordinal);
        var changed = false;
        foreach (var parameter in parameters.Where(p => p.Secret))
        {
            if (!secrets.ContainsKey(parameter.Name))
            {
                secrets[parameter.Name] = Generate(parameter.MinLength);
                changed = true;
            }
        }

        if (changed)
        {
            var temporary = SecretsPath + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(secrets, HostingJsonContext.Default.DictionaryStringString));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, SecretsPath, overwrite: true);
        }

        return secrets;
    }

    /// <summary>Records a running child so that a later run can stop it if this one crashes.</summary>
    public void RecordProcess(string name, int pid, int stopSignal)
    {
        var startTime = Signals.StartTimeOf(pid);
        File.WriteAllText(Path.Combine(RunDirectory, name + ".pid"), FormattableString.Invariant($"{pid} {startTime} {stopSignal}\n"));
    }

    /// <summary>Forgets a child that has stopped.</summary>
    public void ForgetProcess(string name) => File.Delete(Path.Combine(RunDirectory, name + ".pid"));

    /// <summary>
    /// Stops children left running by a previous AppHost that did not shut down (same PID and start time), each with its
    /// own stop signal; returns the names of those found.
    /// </summary>
    public async Task<IReadOnlyList<string>> StopLeftoversAsync(TimeSpan grace)
    {
        var found = new List<string>();
        foreach (var file in Directory.EnumerateFiles(RunDirectory, "*.pid"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            var parts = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 3
                && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(parts[1], CultureInfo.InvariantCulture, out var startTime)
                && int.TryParse(parts[2], CultureInfo.InvariantCulture, out var signal)
                && Signals.IsAlive(pid) && Signals.StartTimeOf(pid) == startTime)
            {
                found.Add(name);
                Signals.Send(pid, signal);
                var deadline = DateTime.UtcNow + grace;
                while (Signals.IsAlive(pid) && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(50);
                }

                if (Signals.IsAlive(pid))
                {
                    Signals.Send(pid, Signals.Kill);
                }
            }

            File.Delete(file);
        }

        return found;
    }

    private static string Generate(int length)
    {
        // Letters and digits only: the value goes into URLs and StackExchange-style connection strings unescaped.
        return RandomNumberGenerator.GetString(Alphabet, Math.Max(length, 16));
    }
}
