using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Catbird.Redis.Internal;

/// <summary>The client's ActivitySource and Meter, both named <c>Catbird.Redis</c>.</summary>
internal static class RedisTelemetry
{
    public const string Name = "Catbird.Redis";

    public static readonly ActivitySource Source = new(Name, typeof(RedisTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(RedisTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Command duration from the call to the reply (OpenTelemetry database semantic conventions).</summary>
    public static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "db.client.operation.duration",
        unit: "s",
        description: "Duration of Redis commands, from the call to the reply.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Counter<long> Timeouts = Meter.CreateCounter<long>(
        "catbird.redis.client.timeouts", unit: "{command}", description: "Commands that got no reply within the command timeout.");

    public static readonly Counter<long> ConnectionFailures = Meter.CreateCounter<long>(
        "catbird.redis.client.connection.failures", unit: "{failure}", description: "Connection attempts that failed and connections that were lost.");

    public static readonly Counter<long> Reconnects = Meter.CreateCounter<long>(
        "catbird.redis.client.reconnects", unit: "{connection}", description: "Connections re-established after a loss.");

    public static readonly Counter<long> DroppedMessages = Meter.CreateCounter<long>(
        "catbird.redis.client.pubsub.dropped", unit: "{message}", description: "Pub/sub messages dropped because a subscriber's channel was full.");

    public static Activity? StartCommand(string command, RedisEndPoint? endPoint, int database)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var previous = Activity.Current;
        var activity = Source.StartActivity(command, ActivityKind.Client);
        if (activity is null)
        {
            return null;
        }

        // The command completes on the read loop; the caller's flow keeps its own current activity.
        Activity.Current = previous;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("db.system", "redis");
            activity.SetTag("db.system.name", "redis");
            activity.SetTag("db.operation", command);
            activity.SetTag("db.operation.name", command);
            activity.SetTag("db.namespace", database);
            if (endPoint is not null)
            {
                activity.SetTag("server.address", endPoint.Host);
                activity.SetTag("server.port", endPoint.Port);
            }
        }

        return activity;
    }

    public static void StopCommand(Activity activity, Exception? error)
    {
        var previous = Activity.Current;
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.SetTag("error.type", error.GetType().Name);
        }

        activity.Stop();
        Activity.Current = previous;
    }

    public static void RecordDuration(long startTimestamp, string command, Exception? error)
    {
        if (!Duration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "db.system.name", "redis" },
            { "db.operation.name", command },
        };
        if (error is not null)
        {
            tags.Add("error.type", error.GetType().Name);
        }

        Duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
    }
}
