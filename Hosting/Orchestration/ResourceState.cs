using Catbird.Hosting.ApplicationModel;

namespace Catbird.Hosting.Orchestration;

/// <summary>Lifecycle states a resource goes through.</summary>
public enum ResourceStatus
{
    /// <summary>Declared, not started yet.</summary>
    NotStarted,

    /// <summary>Waiting for its dependencies to be healthy.</summary>
    Waiting,

    /// <summary>Process started, not healthy yet.</summary>
    Starting,

    /// <summary>Running (see health).</summary>
    Running,

    /// <summary>Exited unexpectedly; will be started again after a backoff.</summary>
    Restarting,

    /// <summary>Could not be started or did not turn healthy in time.</summary>
    FailedToStart,

    /// <summary>Being stopped.</summary>
    Stopping,

    /// <summary>Stopped.</summary>
    Stopped,
}

/// <summary>One line a resource wrote.</summary>
public sealed record LogLine(long Sequence, DateTimeOffset Time, bool IsError, string Text);

/// <summary>An endpoint of a resource as the dashboard shows it.</summary>
public sealed record ResourceEndpoint(string Name, string Url);

/// <summary>The live state of one resource: status, health, endpoints, restarts and its recent console output.</summary>
public sealed class ResourceState(Resource resource)
{
    private const int MaxLines = 2000;
    private readonly Lock _lock = new();
    private readonly LinkedList<LogLine> _lines = new();
    private long _sequence;

    /// <summary>The resource.</summary>
    public Resource Resource { get; } = resource;

    /// <summary>The current status.</summary>
    public ResourceStatus Status { get; set; } = ResourceStatus.NotStarted;

    /// <summary>Healthy, Degraded, Unhealthy, or null while unknown.</summary>
    public string? Health { get; set; }

    /// <summary>Why the last health check failed.</summary>
    public string? HealthDetail { get; set; }

    /// <summary>How many times the process was restarted after a crash.</summary>
    public int Restarts { get; set; }

    /// <summary>The process id, while running.</summary>
    public int? ProcessId { get; set; }

    /// <summary>The endpoints, once ports are assigned.</summary>
    public List<ResourceEndpoint> Endpoints { get; } = [];

    /// <summary>Appends a console line.</summary>
    public void Append(string text, bool isError)
    {
        lock (_lock)
        {
            _lines.AddLast(new LogLine(++_sequence, DateTimeOffset.UtcNow, isError, text));
            if (_lines.Count > MaxLines)
            {
                _lines.RemoveFirst();
            }
        }
    }

    /// <summary>Lines with a sequence number above <paramref name="after"/>, oldest first.</summary>
    public IReadOnlyList<LogLine> LinesAfter(long after, int max = 500)
    {
        lock (_lock)
        {
            return _lines.Where(l => l.Sequence > after).Take(max).ToList();
        }
    }

    /// <summary>The last <paramref name="count"/> lines as text, for error messages.</summary>
    public string Tail(int count = 20)
    {
        lock (_lock)
        {
            return string.Join('\n', _lines.Skip(Math.Max(0, _lines.Count - count)).Select(l => l.Text));
        }
    }
}
