using System.Text;
using Catbird.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging;

namespace Catbird.Hosting.Orchestration;

/// <summary>
/// Finds the built assembly of each project. The AppHost's build writes <c>resource-projects.txt</c> (project path and
/// target path per referenced project), so a normal start builds nothing; a project missing from it is built once.
/// </summary>
internal static partial class ProjectOutputs
{
    public const string ManifestFileName = "resource-projects.txt";

    public static async Task<IReadOnlyDictionary<ProjectResource, string>> ResolveAsync(IReadOnlyList<ProjectResource> projects, string appHostDirectory, ILogger logger)
    {
        var known = ReadBuildManifest(Path.Combine(AppContext.BaseDirectory, ManifestFileName));
        var result = new Dictionary<ProjectResource, string>();
        foreach (var project in projects)
        {
            var projectFile = Path.GetFullPath(Path.Combine(appHostDirectory, project.ProjectPath));
            if (!File.Exists(projectFile))
            {
                throw new InvalidOperationException($"Project '{project.Name}': {projectFile} does not exist.");
            }

            if (known.TryGetValue(projectFile, out var assembly) && File.Exists(assembly))
            {
                result[project] = assembly;
                continue;
            }

            LogBuilding(logger, project.Name);
            await RunDotnetAsync(["build", projectFile, "-nologo", "-v", "q", "-clp:ErrorsOnly"], project.Name);
            var targetPath = (await RunDotnetAsync(["msbuild", projectFile, "-getProperty:TargetPath"], project.Name)).Trim();
            if (!File.Exists(targetPath))
            {
                throw new InvalidOperationException($"Project '{project.Name}' built, but its output {targetPath} is missing.");
            }

            result[project] = targetPath;
        }

        return result;
    }

    private static Dictionary<string, string> ReadBuildManifest(string path)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!File.Exists(path))
        {
            return map;
        }

        foreach (var line in File.ReadAllLines(path))
        {
            var parts = line.Split('|', 2);
            if (parts.Length == 2)
            {
                map[Path.GetFullPath(parts[0].Trim())] = parts[1].Trim();
            }
        }

        return map;
    }

    private static async Task<string> RunDotnetAsync(string[] args, string projectName)
    {
        var output = new StringBuilder();
        using var process = ChildProcess.Start([Binaries.Dotnet, .. args], null, Directory.GetCurrentDirectory(), (line, _) =>
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        });
        await process.Exited.WaitAsync(TimeSpan.FromMinutes(5));
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Building '{projectName}' failed:\n{output}");
        }

        return output.ToString();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Building {Project} (not in the AppHost's build output)")]
    private static partial void LogBuilding(ILogger logger, string project);
}
