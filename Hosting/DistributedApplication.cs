using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Catbird.Hosting.ApplicationModel;
using Catbird.Hosting.Dashboard;
using Catbird.Hosting.Orchestration;
using Catbird.Hosting.Publishing;
using Microsoft.Extensions.Logging;

namespace Catbird.Hosting;

/// <summary>
/// A distributed application declared with <see cref="DistributedApplicationBuilder"/>: run it (local processes,
/// health waits, dashboard) or publish it (<c>--publisher manifest</c>).
/// </summary>
public sealed partial class DistributedApplication
{
    private readonly DistributedApplicationBuilder _builder;

    internal DistributedApplication(DistributedApplicationBuilder builder, IReadOnlyList<Resource> startupOrder)
    {
        _builder = builder;
        StartupOrder = startupOrder;
    }

    /// <summary>The resources in the order they start.</summary>
    public IReadOnlyList<Resource> StartupOrder { get; }

    /// <summary>Creates a builder from the command line (see <see cref="AppHostOptions.Usage"/>).</summary>
    public static DistributedApplicationBuilder CreateBuilder(string[] args)
    {
        AppHostOptions options;
        try
        {
            options = AppHostOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Environment.Exit(2);
            throw;
        }

        return new DistributedApplicationBuilder(options, FindAppHostDirectory());
    }

    /// <summary>Creates a builder with explicit options (tests, tools).</summary>
    public static DistributedApplicationBuilder CreateBuilder(AppHostOptions options, string appHostDirectory) => new(options, appHostDirectory);

    /// <summary>Runs or publishes the application; sets the process exit code.</summary>
    public void Run() => Environment.ExitCode = RunAsync().GetAwaiter().GetResult();

    /// <summary>Runs or publishes the application; returns the exit code.</summary>
    public async Task<int> RunAsync()
    {
        var options = _builder.Options;
        if (options.Help)
        {
            Console.WriteLine(AppHostOptions.Usage);
            return 0;
        }

        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }));
        var logger = loggerFactory.CreateLogger("Catbird.AppHost");
        try
        {
            if (options.Publisher is { } publisher)
            {
                var path = Path.GetFullPath(options.OutputPath!);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                var content = publisher == "kubernetes"
                    ? KubernetesPublisher.Render(StartupOrder)
                    : ManifestPublisher.Render(StartupOrder, _builder.AppHostDirectory, Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, content);
                LogPublished(logger, publisher, path);
                return 0;
            }

            return await RunLocallyAsync(options, logger);
        }
        catch (InvalidOperationException e)
        {
            LogFatal(logger, e.Message);
            return 1;
        }
    }

    private async Task<int> RunLocallyAsync(AppHostOptions options, ILogger logger)
    {
        var missing = Binaries.FindMissing(
            StartupOrder.OfType<PostgresServerResource>().Any(), StartupOrder.OfType<RedisResource>().Any(), StartupOrder.OfType<NatsResource>().Any());
        if (missing.Count > 0)
        {
            throw new InvalidOperationException("Missing programs:\n  " + string.Join("\n  ", missing));
        }

        if (Signals.IsRoot && StartupOrder.OfType<PostgresServerResource>().Any() && StateFolder.FirstClosedParent(options.StateDirectory) is { } closed)
        {
            throw new InvalidOperationException(
                $"As root, PostgreSQL runs as the postgres user, which cannot enter {closed} (no o+x) above the state folder {options.StateDirectory}. "
                + "Choose a --state-dir whose parent directories everyone may traverse, such as the default /var/lib/catbird.");
        }

        var started = Stopwatch.StartNew();
        var folder = new StateFolder(options.StateDirectory);
        var leftovers = await folder.StopLeftoversAsync(TimeSpan.FromSeconds(15));
        if (leftovers.Count > 0)
        {
            LogLeftovers(logger, string.Join(", ", leftovers));
        }

        if (options.Fresh)
        {
            folder.DeleteData();
        }

        var context = new RunContext(folder.Root, options.DashboardUrl);
        var secrets = folder.LoadOrCreateSecrets(StartupOrder.OfType<ParameterResource>());
        foreach (var parameter in StartupOrder.OfType<ParameterResource>())
        {
            var value = Environment.GetEnvironmentVariable($"Parameters__{parameter.Name}") ?? (secrets.TryGetValue(parameter.Name, out var secret) ? secret : null)
                ?? throw new InvalidOperationException($"Parameter '{parameter.Name}' has no value: set Parameters__{parameter.Name}.");
            context.SetValue(parameter, value);
        }

        Orchestrator.AssignPorts(StartupOrder, context);
        var assemblies = await ProjectOutputs.ResolveAsync(StartupOrder.OfType<ProjectResource>().ToList(), _builder.AppHostDirectory, logger);

        var telemetry = new TelemetryStore();
        Orchestrator? orchestrator = null;
        await using var dashboard = new DashboardServer(options.DashboardUrl, () => orchestrator?.States ?? [], telemetry);
        await dashboard.StartAsync(CancellationToken.None);
        LogDashboard(logger, options.DashboardUrl, folder.Root);

        orchestrator = new Orchestrator(StartupOrder, context, folder, assemblies, options, logger);
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; stop.TrySetResult(); });

        orchestrator.Start();
        var exitCode = 0;
        var healthy = orchestrator.AllHealthy;
        if (await Task.WhenAny(healthy, stop.Task) == healthy)
        {
            if (healthy.IsCompletedSuccessfully)
            {
                LogAllHealthy(logger, orchestrator.States.Count, started.Elapsed.TotalSeconds);
            }
            else
            {
                LogNotAllHealthy(logger, healthy.Exception?.InnerExceptions.FirstOrDefault()?.Message ?? "unknown");
                exitCode = 1;
            }
        }

        await stop.Task;
        LogStopping(logger);
        await orchestrator.StopAsync();
        LogStopped(logger);
        return exitCode;
    }

    private static string FindAppHostDirectory()
    {
        var entry = Assembly.GetEntryAssembly();
        var fromBuild = entry?.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "AppHostProjectDirectory")?.Value;
        return fromBuild is not null && Directory.Exists(fromBuild) ? fromBuild : Directory.GetCurrentDirectory();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Wrote the {Publisher} manifest to {Path}")]
    private static partial void LogPublished(ILogger logger, string publisher, string path);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Message}")]
    private static partial void LogFatal(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped processes left running by an earlier AppHost: {Names}")]
    private static partial void LogLeftovers(ILogger logger, string names);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard: {Url} (state folder {StateDirectory}); Ctrl+C stops everything")]
    private static partial void LogDashboard(ILogger logger, Uri url, string stateDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "All {Count} resources are healthy after {Seconds:0.0} s")]
    private static partial void LogAllHealthy(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Not every resource came up: {Reason}. The dashboard shows each resource's console; Ctrl+C stops the rest.")]
    private static partial void LogNotAllHealthy(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping")]
    private static partial void LogStopping(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped")]
    private static partial void LogStopped(ILogger logger);
}
