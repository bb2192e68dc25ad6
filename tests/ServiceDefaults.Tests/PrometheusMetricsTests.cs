using System.Diagnostics.Metrics;
using Catbird.ServiceDefaults.Telemetry;

namespace Catbird.ServiceDefaults.Tests;

[Trait("Category", "Unit")]
public sealed class PrometheusMetricsTests
{
    [Theory]
    [InlineData("http.server.request.duration", "s", false, "http_server_request_duration_seconds")]
    [InlineData("catbird.redis.commands", "{command}", true, "catbird_redis_commands_total")]
    [InlineData("bytes.sent", "By", true, "bytes_sent_bytes_total")]
    [InlineData("9lives", null, false, "_9lives")]
    [InlineData("queue-depth", "1", false, "queue_depth")]
    public void Metric_names_follow_prometheus_conventions(string name, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusMetrics.MetricName(name, unit, counter));

    [Fact]
    public void Label_values_and_special_numbers_are_escaped()
    {
        Assert.Equal("a\\\"b\\\\c\\nd", PrometheusMetrics.EscapeLabelValue("a\"b\\c\nd"));
        Assert.Equal("+Inf", PrometheusMetrics.FormatValue(double.PositiveInfinity));
        Assert.Equal("NaN", PrometheusMetrics.FormatValue(double.NaN));
        Assert.Equal("0.25", PrometheusMetrics.FormatValue(0.25));
    }

    [Fact]
    public void Counters_histograms_and_gauges_render_in_text_format()
    {
        var meterName = "Catbird.Test." + Guid.NewGuid().ToString("N");
        using var metrics = new PrometheusMetrics([meterName]);
        metrics.Start();
        using var meter = new Meter(meterName);
        var counter = meter.CreateCounter<long>("jobs.done", "{job}", "Jobs finished");
        var histogram = meter.CreateHistogram<double>("job.duration", "s");
        var depth = 7;
        meter.CreateObservableGauge("queue.depth", () => depth);

        counter.Add(2, new KeyValuePair<string, object?>("kind", "a\"b"));
        counter.Add(3, new KeyValuePair<string, object?>("kind", "a\"b"));
        counter.Add(1, new KeyValuePair<string, object?>("kind", "c"));
        histogram.Record(0.02);
        histogram.Record(3);

        var text = metrics.Render();
        Assert.Contains("# HELP jobs_done_total Jobs finished\n", text);
        Assert.Contains("# TYPE jobs_done_total counter\n", text);
        Assert.Contains("jobs_done_total{kind=\"a\\\"b\"} 5\n", text);
        Assert.Contains("jobs_done_total{kind=\"c\"} 1\n", text);
        Assert.Contains("# TYPE job_duration_seconds histogram\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"0.01\"} 0\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"0.025\"} 1\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"5\"} 2\n", text);
        Assert.Contains("job_duration_seconds_bucket{le=\"+Inf\"} 2\n", text);
        Assert.Contains("job_duration_seconds_sum 3.02\n", text);
        Assert.Contains("job_duration_seconds_count 2\n", text);
        Assert.Contains("# TYPE queue_depth gauge\nqueue_depth 7\n", text);

        depth = 3;
        Assert.Contains("queue_depth 3\n", metrics.Render());
    }
}
