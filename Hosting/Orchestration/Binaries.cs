namespace Catbird.Hosting.Orchestration;

/// <summary>The programs the AppHost runs, found where Debian's packages put them.</summary>
public static class Binaries
{
    /// <summary>The PostgreSQL 15 binaries directory.</summary>
    public static string PostgresBinDirectory => "/usr/lib/postgresql/15/bin";

    /// <summary>redis-server.</summary>
    public static string RedisServer => Find("redis-server", "/usr/bin/redis-server");

    /// <summary>nats-server (in /usr/sbin on Debian).</summary>
    public static string NatsServer => Find("nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server");

    /// <summary>The dotnet host running this process.</summary>
    public static string Dotnet => Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : Find("dotnet", "/usr/bin/dotnet", "/usr/share/dotnet/dotnet");

    /// <summary>
    /// Checks that the programs the model needs are installed; returns one sentence per missing program naming the apt
    /// package that provides it.
    /// </summary>
    public static IReadOnlyList<string> FindMissing(bool postgres, bool redis, bool nats)
    {
        var missing = new List<string>();
        if (postgres && !File.Exists(Path.Combine(PostgresBinDirectory, "postgres")))
        {
            missing.Add("PostgreSQL 15 is not installed (no /usr/lib/postgresql/15/bin/postgres): apt-get install -y postgresql-15");
        }

        if (redis && TryFind("redis-server", "/usr/bin/redis-server") is null)
        {
            missing.Add("redis-server is not installed: apt-get install -y redis-server");
        }

        if (nats && TryFind("nats-server", "/usr/sbin/nats-server", "/usr/bin/nats-server") is null)
        {
            missing.Add("nats-server is not installed: apt-get install -y nats-server");
        }

        if (postgres && Signals.IsRoot && !File.Exists("/usr/bin/setpriv"))
        {
            missing.Add("setpriv is needed to run PostgreSQL as the postgres user: apt-get install -y util-linux");
        }

        return missing;
    }

    private static string Find(string program, params string[] candidates) =>
        TryFind(program, candidates) ?? throw new InvalidOperationException($"'{program}' was not found.");

    private static string? TryFind(string program, params string[] candidates)
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

        return null;
    }
}
