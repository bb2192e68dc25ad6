using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;
using Catbird.Testing;

namespace Catbird.System.Tests;

/// <summary>A resource as <c>GET /api/resources</c> reports it.</summary>
public sealed record ResourceInfo(string Name, string Type, string State, string? Health, EndpointInfo[] Endpoints, int Restarts, int? ProcessId);

/// <summary>An endpoint of a resource.</summary>
public sealed record EndpointInfo(string Name, string Url);

[JsonSerializable(typeof(ResourceInfo[]))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class SystemJson : JsonSerializerContext;

/// <summary>The real AppHost started the way a user starts it (<c>dotnet Catbird.AppHost.dll</c>), on a temporary state folder.</summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly bool _ownsStateDirectory;

    private AppHostProcess(ServerProcess process, string stateDirectory, Uri dashboard, bool ownsStateDirectory)
    {
        Process = process;
        StateDirectory = stateDirectory;
        Dashboard = dashboard;
        _ownsStateDirectory = ownsStateDirectory;
    }

    /// <summary>The AppHost process.</summary>
    public ServerProcess Process { get; }

    /// <summary>The state folder it runs on.</summary>
    public string StateDirectory { get; }

    /// <summary>The dashboard address.</summary>
    public Uri Dashboard { get; }

    /// <summary>The built AppHost assembly (written next to the tests by the build).</summary>
    public static string AssemblyPath =>
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "apphost-path.txt")).Trim();

    /// <summary>Starts the AppHost with a fresh state folder (deleted on dispose) and a free dashboard port.</summary>
    public static AppHostProcess Start() => Start(ServerBinaries.NewTempDirectory("apphost"), ownsStateDirectory: true);

    /// <summary>Starts the AppHost on an existing state folder, which the caller keeps.</summary>
    public static AppHostProcess StartOn(string stateDirectory) => Start(stateDirectory, ownsStateDirectory: false);

    private static AppHostProcess Start(string state, bool ownsStateDirectory)
    {
        var dashboard = new Uri($"http://127.0.0.1:{ServerProcess.FreePort()}");
        var process = ServerProcess.Start("apphost", "dotnet",
            [AssemblyPath, "--state-dir", state, "--dashboard-url", dashboard.ToString()], state);
        return new AppHostProcess(process, state, dashboard, ownsStateDirectory);
    }

    /// <summary>The console lines the dashboard holds for <paramref name="resource"/>.</summary>
    public Task<string> LogsAsync(string resource, CancellationToken ct) =>
        _http.GetStringAsync(new Uri(Dashboard, $"/api/resources/{resource}/logs"), ct);

    /// <summary>Runs the AppHost to completion with <paramref name="args"/> (publishing, for instance).</summary>
    public static async Task<(int ExitCode, string Output)> RunToCompletionAsync(string[] args, TimeSpan timeout)
    {
        await using var process = ServerProcess.Start("apphost", "dotnet", [AssemblyPath, .. args]);
        var deadline = DateTime.UtcNow + timeout;
        while (!process.HasExited && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        if (!process.HasExited)
        {
            throw new TimeoutException($"The AppHost did not finish within {timeout}: {process.RecentOutput}");
        }

        await Task.Delay(100);
        return (process.ExitCode, process.RecentOutput);
    }

    /// <summary>The resources as the dashboard reports them.</summary>
    public async Task<ResourceInfo[]> ResourcesAsync(CancellationToken ct) =>
        await _http.GetFromJsonAsync(new Uri(Dashboard, "/api/resources"), SystemJson.Default.ResourceInfoArray, ct) ?? [];

    /// <summary>Polls the dashboard until <paramref name="condition"/> holds for the resources, or fails with the last state and output.</summary>
    public async Task<ResourceInfo[]> WaitUntilAsync(Func<ResourceInfo[], bool> condition, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        ResourceInfo[] last = [];
        while (DateTime.UtcNow < deadline)
        {
            ct.ThrowIfCancellationRequested();
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited ({Process.ExitCode}):\n{Process.RecentOutput}");
            }

            try
            {
                last = await ResourcesAsync(ct);
                if (last.Length > 0 && condition(last))
                {
                    return last;
                }

                if (last.FirstOrDefault(r => r.State == "FailedToStart") is { } failed)
                {
                    throw new InvalidOperationException($"{failed.Name} failed to start.\nAppHost output:\n{Process.RecentOutput}");
                }
            }
            catch (HttpRequestException)
            {
                // The dashboard is not up yet.
            }

            await Task.Delay(250, ct);
        }

        var states = string.Join("\n", last.Select(r => $"  {r.Name}: {r.State} {r.Health} restarts={r.Restarts}"));
        throw new TimeoutException($"Condition not met within {timeout.TotalSeconds:0} s. Resources:\n{states}\nAppHost output:\n{Process.RecentOutput}");
    }

    /// <summary>Stops the AppHost as Ctrl+C would and waits for it to exit.</summary>
    public Task StopAsync() => Process.StopAsync(PosixSignal.SIGINT, TimeSpan.FromSeconds(60));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Process.DisposeAsync();
        _http.Dispose();
        if (_ownsStateDirectory)
        {
            ServerBinaries.DeleteDirectory(StateDirectory);
        }
    }
}
