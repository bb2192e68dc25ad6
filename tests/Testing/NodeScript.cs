using System.Diagnostics;

namespace Catbird.Testing;

/// <summary>What a node script printed and how it ended.</summary>
public sealed record NodeResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Throws with the script's output unless it exited with 0.</summary>
    public NodeResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} failed with exit code {ExitCode}.\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
        }

        return this;
    }
}

/// <summary>Runs the npm interoperability clients in <c>tests/interop</c> with node.</summary>
public static class NodeScript
{
    /// <summary>Runs <paramref name="scriptPath"/> (relative to <c>tests/interop</c>) and returns its exit code and output; kills it on timeout.</summary>
    public static async Task<NodeResult> RunAsync(string scriptPath, IEnumerable<string> args, IDictionary<string, string>? env,
        TimeSpan timeout, CancellationToken ct)
    {
        var interop = TestPaths.InteropDirectory;
        if (!Directory.Exists(Path.Combine(interop, "node_modules")))
        {
            throw new InvalidOperationException($"{interop}/node_modules is missing: run `npm ci --prefix tests/interop` (./test.sh does it).");
        }

        var node = ServerBinaries.Find("node", "nodejs", "/usr/bin/node", "/usr/local/bin/node");
        var startInfo = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = interop,
        };
        startInfo.ArgumentList.Add(Path.Combine(interop, scriptPath));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        if (env is not null)
        {
            foreach (var (key, value) in env)
            {
                startInfo.Environment[key] = value;
            }
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start node");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(ct).WaitAsync(timeout, ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
            throw new TimeoutException($"node {scriptPath} did not finish within {timeout.TotalSeconds:0} s.\nstdout:\n{await stdout}\nstderr:\n{await stderr}", e);
        }

        return new NodeResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Well-known paths of the repository, found from the test assembly's location.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding <c>Catbird.sln</c>).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary><c>tests/interop</c>, where the npm clients live.</summary>
    public static string InteropDirectory => Path.Combine(RepoRoot, "tests", "interop");

    /// <summary><c>../shared</c> beside the repository (design, references and vectors).</summary>
    public static string SharedDirectory => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    private static string FindRoot()
    {
        var fromBuild = typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "CatbirdRepoRoot")?.Value;
        if (fromBuild is not null && File.Exists(Path.Combine(fromBuild, "Catbird.sln")))
        {
            return fromBuild;
        }

        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Catbird.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        var fromEnvironment = Environment.GetEnvironmentVariable("CATBIRD_REPO_ROOT");
        if (fromEnvironment is not null && File.Exists(Path.Combine(fromEnvironment, "Catbird.sln")))
        {
            return fromEnvironment;
        }

        throw new InvalidOperationException("Catbird.sln not found above the test assembly; set CATBIRD_REPO_ROOT.");
    }
}
