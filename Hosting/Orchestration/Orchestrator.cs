using System.Net;
using System.Net.Sockets;
using Catbird.Hosting.ApplicationModel;
using Microsoft.Extensions.Logging;

namespace Catbird.Hosting.Orchestration;

/// <summary>
/// Runs the application model: starts resources in dependency order once what they wait for is healthy, probes health,
/// restarts crashed processes with backoff, and stops everything in reverse order with each process's own signal.
/// </summary>
internal sealed partial class Orchestrator(IReadOnlyList<Resource> order, RunContext context, StateFolder folder,
    IReadOnlyDictionary<ProjectResource, string> assemblies, AppHostOptions options, ILogger logger)
{
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(15);
    private readonly Dictionary<Resource, ResourceRunner> _runners = [];
    private readonly Dictionary<Resource, TaskCompletionSource> _healthy = [];
    private readonly List<Task> _supervisors = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>The live state of every resource, in start order.</summary>
    public IReadOnlyList<ResourceState> States { get; private set; } = [];

    /// <summary>Assigns free ports to every resource that listens.</summary>
    public static void AssignPorts(IEnumerable<Resource> resources, RunContext context)
    {
        foreach (var resource in resources)
        {
            switch (resource)
            {
                case PostgresServerResource or RedisResource or ProjectResource:
                    context.SetPort(resource, FreePort());
                    break;
                case NatsResource:
                    context.SetPort(resource, FreePort());
                    context.SetPort(resource, "monitor", FreePort());
                    break;
            }
        }
    }

    /// <summary>Starts the supervisors; returns at once. Each resource waits for its dependencies on its own.</summary>
    public void Start()
    {
        var states = new List<ResourceState>();
        foreach (var resource in order.Where(r => r is not ParameterResource))
        {
            var state = new ResourceState(resource);
            state.Endpoints.AddRange(EndpointsOf(resource));
            states.Add(state);
            _runners[resource] = resource switch
            {
                PostgresServerResource server => new PostgresRunner(state, context, folder, server, Binaries.PostgresBinDirectory),
                PostgresDatabaseResource database => new DatabaseRunner(state, context, folder, database),
                RedisResource redis => new RedisRunner(state, context, folder, redis),
                NatsResource nats => new NatsRunner(state, context, folder, nats),
                ProjectResource project => new ProjectRunner(state, context, folder, project, assemblies[project]),
                _ => throw new NotSupportedException($"No runner for {resource.GetType().Name}."),
            };
            _healthy[resource] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        States = states;
        foreach (var runner in _runners.Values)
        {
            _supervisors.Add(Task.Run(() => SuperviseAsync(runner, _stopping.Token)));
        }
    }

    /// <summary>Completes when every resource is healthy (or throws when one failed to start).</summary>
    public Task AllHealthy => Task.WhenAll(_healthy.Values.Select(t => t.Task));

    /// <summary>Stops every resource in reverse start order.</summary>
    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        foreach (var runner in order.Reverse().Where(_runners.ContainsKey).Select(r => _runners[r]))
        {
            if (runner.HasProcess && runner.State.ProcessId is not null)
            {
                runner.State.Status = ResourceStatus.Stopping;
                LogStopping(logger, runner.Resource.Name);
                await runner.StopAsync(StopGrace);
            }

            runner.State.Status = ResourceStatus.Stopped;
            runner.State.Health = null;
        }

        await Task.WhenAll(_supervisors).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private async Task SuperviseAsync(ResourceRunner runner, CancellationToken stopping)
    {
        var resource = runner.Resource;
        var state = runner.State;
        try
        {
            state.Status = ResourceStatus.Waiting;
            foreach (var dependency in StartupOrder.DependenciesOf(resource).Where(_healthy.ContainsKey))
            {
                try
                {
                    await _healthy[dependency].Task.WaitAsync(stopping);
                }
                catch (InvalidOperationException)
                {
                    state.Status = ResourceStatus.FailedToStart;
                    state.HealthDetail = $"'{dependency.Name}' did not start";
                    _healthy[resource].TrySetException(new InvalidOperationException($"Resource '{resource.Name}' did not start: '{dependency.Name}' did not start."));
                    return;
                }
            }

            var backoff = TimeSpan.FromSeconds(1);
            var firstStart = true;
            while (!stopping.IsCancellationRequested)
            {
                state.Status = ResourceStatus.Starting;
                state.Health = null;
                try
                {
                    await runner.StartAsync(stopping);
                    await WaitHealthyAsync(runner, stopping);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
                {
                    state.Status = ResourceStatus.FailedToStart;
                    state.Health = "Unhealthy";
                    state.HealthDetail = e.Message;
                    LogFailed(logger, resource.Name, e.Message, state.Tail());
                    await runner.StopAsync(TimeSpan.FromSeconds(5));
                    if (firstStart)
                    {
                        _healthy[resource].TrySetException(new InvalidOperationException($"Resource '{resource.Name}' did not start: {e.Message}"));
                        return;
                    }

                    await Task.Delay(backoff, stopping);
                    backoff = Min(backoff * 2, TimeSpan.FromSeconds(30));
                    continue;
                }

                if (firstStart)
                {
                    await runner.OnReadyAsync(stopping);
                    LogHealthy(logger, resource.Name, string.Join(' ', state.Endpoints.Select(e => e.Url)));
                    _healthy[resource].TrySetResult();
                    firstStart = false;
                }

                state.Status = ResourceStatus.Running;
                backoff = TimeSpan.FromSeconds(1);
                if (!runner.HasProcess)
                {
                    await MonitorAsync(runner, Task.Delay(Timeout.Infinite, stopping), stopping);
                    return;
                }

                await MonitorAsync(runner, runner.Exited, stopping);
                if (stopping.IsCancellationRequested)
                {
                    return;
                }

                // The process exited on its own: record it and start it again after a backoff.
                state.Status = ResourceStatus.Restarting;
                state.Health = "Unhealthy";
                state.Restarts++;
                LogCrashed(logger, resource.Name, runner.ExitCode, backoff.TotalSeconds, state.Tail(10));
                await runner.StopAsync(TimeSpan.FromSeconds(1));
                await Task.Delay(backoff, stopping);
                backoff = Min(backoff * 2, TimeSpan.FromSeconds(30));
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task WaitHealthyAsync(ResourceRunner runner, CancellationToken stopping)
    {
        var deadline = DateTime.UtcNow + options.StartTimeout;
        var exited = runner.HasProcess ? runner.Exited : Task.Delay(Timeout.Infinite, stopping);
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            if (exited.IsCompleted)
            {
                throw new InvalidOperationException($"the process exited with code {runner.ExitCode} before it was healthy");
            }

            var result = await ProbeAsync(runner, stopping);
            runner.State.Health = result.Health;
            runner.State.HealthDetail = result.Detail;
            if (result.Health is "Healthy" or "Degraded")
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not healthy within {options.StartTimeout.TotalSeconds:0} s ({result.Detail})");
            }

            await Task.WhenAny(exited, Task.Delay(100, stopping));
        }
    }

    private static async Task MonitorAsync(ResourceRunner runner, Task exited, CancellationToken stopping)
    {
        while (!exited.IsCompleted && !stopping.IsCancellationRequested)
        {
            await Task.WhenAny(exited, Task.Delay(HealthInterval, stopping)).ContinueWith(_ => { }, TaskScheduler.Default);
            if (exited.IsCompleted || stopping.IsCancellationRequested)
            {
                return;
            }

            var result = await ProbeAsync(runner, stopping);
            runner.State.Health = result.Health;
            runner.State.HealthDetail = result.Detail;
        }
    }

    private static async Task<ProbeResult> ProbeAsync(ResourceRunner runner, CancellationToken stopping)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        attempt.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            return await runner.ProbeAsync(attempt.Token);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            return ProbeResult.Unhealthy(e.Message);
        }
    }

    private IEnumerable<ResourceEndpoint> EndpointsOf(Resource resource) => resource switch
    {
        ProjectResource project => [new ResourceEndpoint("http", context.HttpUrlOf(project))],
        PostgresServerResource or RedisResource => [new ResourceEndpoint("tcp", FormattableString.Invariant($"tcp://127.0.0.1:{context.PortOf(resource)}"))],
        NatsResource nats => [new ResourceEndpoint("tcp", FormattableString.Invariant($"nats://127.0.0.1:{context.PortOf(nats)}")),
            new ResourceEndpoint("monitor", FormattableString.Invariant($"http://127.0.0.1:{context.PortOf(nats, "monitor")}"))],
        _ => [],
    };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Resource} is healthy {Endpoints}")]
    private static partial void LogHealthy(ILogger logger, string resource, string endpoints);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Resource} did not come up: {Reason}. Its last output:\n{Tail}")]
    private static partial void LogFailed(ILogger logger, string resource, string reason, string tail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource} exited (code {ExitCode}); restarting in {Seconds} s. Its last output:\n{Tail}")]
    private static partial void LogCrashed(ILogger logger, string resource, int? exitCode, double seconds, string tail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping {Resource}")]
    private static partial void LogStopping(ILogger logger, string resource);
}
