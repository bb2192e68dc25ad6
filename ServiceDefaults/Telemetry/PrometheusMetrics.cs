using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Catbird.ServiceDefaults.Telemetry;

/// <summary>
/// Aggregates the measurements of the service's meters (those in <see cref="TelemetryExtensions.Meters"/>) with a
/// <see cref="MeterListener"/> and renders them in the Prometheus text exposition format 0.0.4.
/// </summary>
public sealed class PrometheusMetrics : IDisposable
{
    /// <summary>Histogram bucket bounds, chosen for durations in seconds and milliseconds alike.</summary>
    public static readonly double[] BucketBounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly ConcurrentDictionary<Instrument, Series> _series = new();
    private readonly MeterListener _listener = new();
    private readonly Func<string, bool> _meterFilter;
    private int _started;

    /// <summary>Creates the aggregator for the default meters.</summary>
    public PrometheusMetrics()
        : this(TelemetryExtensions.Meters)
    {
    }

    /// <summary>Creates the aggregator for meters matching <paramref name="meterPatterns"/> (a trailing <c>*</c> is a prefix match).</summary>
    public PrometheusMetrics(IEnumerable<string> meterPatterns)
    {
        var patterns = meterPatterns.ToArray();
        _meterFilter = name => patterns.Any(p => p.EndsWith('*') ? name.StartsWith(p[..^1], StringComparison.Ordinal) : name == p);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meterFilter(instrument.Meter.Name))
            {
                _series.TryAdd(instrument, new Series(instrument));
                listener.EnableMeasurementEvents(instrument, _series[instrument]);
            }
        };
        _listener.SetMeasurementEventCallback<double>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<float>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<long>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<int>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<short>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<byte>(static (i, v, tags, state) => ((Series)state!).Record(v, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, tags, state) => ((Series)state!).Record((double)v, tags));
    }

    /// <summary>Starts listening (idempotent).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _listener.Start();
        }
    }

    /// <summary>Renders every series in the Prometheus text format, observing observable instruments first.</summary>
    public string Render()
    {
        Start();
        foreach (var series in _series.Values)
        {
            series.ResetObservations();
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _series.Values.Where(s => s.HasData).GroupBy(s => s.MetricName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = group.First();
            if (first.Instrument.Description is { Length: > 0 } description)
            {
                text.Append("# HELP ").Append(group.Key).Append(' ').Append(EscapeHelp(description)).Append('\n');
            }

            text.Append("# TYPE ").Append(group.Key).Append(' ').Append(first.PrometheusType).Append('\n');
            foreach (var series in group)
            {
                series.WriteTo(text);
            }
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    /// <summary>Turns an instrument name and unit into a Prometheus metric name (<c>http.server.request.duration</c>, <c>s</c> → <c>http_server_request_duration_seconds</c>).</summary>
    public static string MetricName(string name, string? unit, bool isCounter)
    {
        var builder = new StringBuilder(name.Length + 16);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        var suffix = UnitSuffix(unit);
        var result = builder.ToString();
        if (suffix is not null && !result.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            result += "_" + suffix;
        }

        if (isCounter && !result.EndsWith("_total", StringComparison.Ordinal))
        {
            result += "_total";
        }

        return result;
    }

    /// <summary>Escapes a label value: backslash, double quote and newline.</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Formats a sample value as Prometheus expects (<c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>, invariant culture).</summary>
    public static string FormatValue(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string EscapeHelp(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string? UnitSuffix(string? unit) => unit switch
    {
        null or "" or "1" or "{request}" or "{connection}" => null,
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ when unit.StartsWith('{') => null,
        _ => new string([.. unit.Where(char.IsAsciiLetterOrDigit)]).ToLowerInvariant() is { Length: > 0 } cleaned ? cleaned : null,
    };

    private static string LabelName(string key)
    {
        var builder = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    private sealed class Series(Instrument instrument)
    {
        private readonly ConcurrentDictionary<string, Point> _points = new(StringComparer.Ordinal);
        private readonly bool _isHistogram = instrument.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
        private readonly bool _isCounter = instrument.GetType().Name is "Counter`1" or "ObservableCounter`1";
        private readonly bool _isObservable = instrument.IsObservable;

        public Instrument Instrument { get; } = instrument;

        public string MetricName { get; } = PrometheusMetrics.MetricName(instrument.Name, instrument.Unit,
            instrument.GetType().Name is "Counter`1" or "ObservableCounter`1");

        public string PrometheusType => _isHistogram ? "histogram" : _isCounter ? "counter" : "gauge";

        public bool HasData => !_points.IsEmpty;

        public void ResetObservations()
        {
            if (_isObservable)
            {
                _points.Clear();
            }
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = FormatLabels(tags);
            var point = _points.GetOrAdd(labels, static (_, histogram) => new Point(histogram), _isHistogram);
            if (_isHistogram)
            {
                point.Observe(value);
            }
            else if (_isObservable || Instrument.GetType().Name == "Gauge`1")
            {
                // Observable instruments report the current (cumulative) value; so does a synchronous gauge.
                point.Set(value);
            }
            else
            {
                point.Add(value);
            }
        }

        public void WriteTo(StringBuilder text)
        {
            foreach (var (labels, point) in _points.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (_isHistogram)
                {
                    point.WriteHistogram(text, MetricName, labels);
                }
                else
                {
                    text.Append(MetricName).Append(Braces(labels)).Append(' ').Append(FormatValue(point.Value)).Append('\n');
                }
            }
        }

        private static string Braces(string labels) => labels.Length == 0 ? "" : "{" + labels + "}";

        private static string FormatLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0)
            {
                return "";
            }

            var pairs = new List<(string Key, string Value)>(tags.Length);
            foreach (var tag in tags)
            {
                pairs.Add((LabelName(tag.Key), Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? ""));
            }

            pairs.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            return string.Join(',', pairs.Select(static p => $"{p.Key}=\"{EscapeLabelValue(p.Value)}\""));
        }
    }

    private sealed class Point(bool histogram)
    {
        private readonly Lock _lock = new();
        private readonly long[]? _buckets = histogram ? new long[BucketBounds.Length + 1] : null;
        private double _value;
        private double _sum;
        private long _count;

        public double Value
        {
            get
            {
                lock (_lock)
                {
                    return _value;
                }
            }
        }

        public void Add(double value)
        {
            lock (_lock)
            {
                _value += value;
            }
        }

        public void Set(double value)
        {
            lock (_lock)
            {
                _value = value;
            }
        }

        public void Observe(double value)
        {
            var index = Array.BinarySearch(BucketBounds, value);
            if (index < 0)
            {
                index = ~index;
            }

            lock (_lock)
            {
                _buckets![index]++;
                _sum += value;
                _count++;
            }
        }

        public void WriteHistogram(StringBuilder text, string name, string labels)
        {
            long[] buckets;
            double sum;
            long count;
            lock (_lock)
            {
                buckets = (long[])_buckets!.Clone();
                sum = _sum;
                count = _count;
            }

            var prefix = labels.Length == 0 ? "" : labels + ",";
            long cumulative = 0;
            for (var i = 0; i < BucketBounds.Length; i++)
            {
                cumulative += buckets[i];
                text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"").Append(FormatValue(BucketBounds[i])).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            text.Append(name).Append("_bucket{").Append(prefix).Append("le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            var braces = labels.Length == 0 ? "" : "{" + labels + "}";
            text.Append(name).Append("_sum").Append(braces).Append(' ').Append(FormatValue(sum)).Append('\n');
            text.Append(name).Append("_count").Append(braces).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}

/// <summary>Maps the Prometheus scrape endpoint.</summary>
public static class PrometheusEndpointExtensions
{
    /// <summary>Maps <paramref name="path"/> to the Prometheus text rendering of the service's metrics.</summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string path) =>
        endpoints.MapGet(path, static (PrometheusMetrics metrics) =>
            Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
}
