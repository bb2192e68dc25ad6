using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisTelemetryTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Commands_EmitClientActivities_AndDurationHistogram_WithoutKeyValues()
    {
        var port = fixture.Server.Port;
        var activities = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RedisConnection.TelemetryName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("server.port") is int p && p == port)
                {
                    activities.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(activityListener);

        var durations = new ConcurrentQueue<(double Seconds, string? Operation)>();
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RedisConnection.TelemetryName && instrument.Name == "db.client.operation.duration")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            string? operation = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "db.operation.name")
                {
                    operation = tag.Value as string;
                }
            }

            durations.Enqueue((value, operation));
        });
        meterListener.Start();

        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(fixture.Server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        const string secretKey = "user:secret-key-name";
        using (var parent = new Activity("request").Start())
        {
            await redis.SetAsync(secretKey, "secret-value", ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
            Assert.Same(parent, Activity.Current);
            await redis.GetStringAsync(secretKey, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
            await Assert.ThrowsAsync<RedisServerException>(() => redis.IncrementAsync(secretKey, ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
            Assert.Same(parent, Activity.Current);

            var recorded = activities.ToArray();
            Assert.Equal(["SET", "GET", "INCR"], recorded.Select(a => a.DisplayName));
            foreach (var activity in recorded)
            {
                Assert.Equal(ActivityKind.Client, activity.Kind);
                Assert.Equal(parent.TraceId, activity.TraceId);
                Assert.Equal(parent.SpanId, activity.ParentSpanId);
                Assert.Equal("redis", activity.GetTagItem("db.system"));
                Assert.Equal(activity.DisplayName, activity.GetTagItem("db.operation"));
                Assert.Equal("127.0.0.1", activity.GetTagItem("server.address"));
                Assert.DoesNotContain(activity.TagObjects, tag => tag.Value?.ToString()?.Contains("secret", StringComparison.Ordinal) == true);
            }

            Assert.Equal(ActivityStatusCode.Error, recorded[2].Status);
        }

        Assert.Contains(durations, d => d.Operation == "GET" && d.Seconds > 0);
    }
}
