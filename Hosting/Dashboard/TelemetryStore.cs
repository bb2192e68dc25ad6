using System.Collections.Concurrent;
using System.Text;

namespace Catbird.Hosting.Dashboard;

/// <summary>What the dashboard received over OTLP from one service.</summary>
public sealed record TelemetrySummary(string Service, long Spans, long Metrics, long LogRecords, long Bytes, IReadOnlyList<string> RecentSpans, IReadOnlyList<string> RecentLogs);

/// <summary>
/// Keeps what services export over OTLP/HTTP, per service: counts, bytes, and the most recent span names and log lines.
/// It reads the protobuf envelope by hand (no protobuf compiler here): the three export requests share one shape,
/// <c>repeated Resource* = 1 { Resource resource = 1 { repeated KeyValue attributes = 1 }; repeated Scope* = 2 { repeated item = 2 } }</c>.
/// </summary>
public sealed class TelemetryStore
{
    private const int Recent = 50;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The kinds of OTLP export.</summary>
    public enum Signal
    {
        /// <summary>ExportTraceServiceRequest.</summary>
        Traces,

        /// <summary>ExportMetricsServiceRequest.</summary>
        Metrics,

        /// <summary>ExportLogsServiceRequest.</summary>
        Logs,
    }

    /// <summary>Records one export request body.</summary>
    /// <exception cref="FormatException">The body is not a well-formed protobuf message.</exception>
    public void Record(Signal signal, ReadOnlySpan<byte> body)
    {
        var reader = new ProtobufReader(body);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                RecordResource(signal, reader.ReadBytes());
            }
            else
            {
                reader.Skip(wireType);
            }
        }
    }

    /// <summary>A summary per service, by name.</summary>
    public IReadOnlyList<TelemetrySummary> Summaries() =>
        _entries.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Value.Summary(e.Key)).ToList();

    private void RecordResource(Signal signal, ReadOnlySpan<byte> resourceItems)
    {
        var service = "unknown";
        long count = 0;
        var names = new List<string>();
        var reader = new ProtobufReader(resourceItems);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                service = ServiceName(reader.ReadBytes()) ?? service;
            }
            else if (field == 2 && wireType == 2)
            {
                var scope = new ProtobufReader(reader.ReadBytes());
                while (scope.Next(out var scopeField, out var scopeWire))
                {
                    if (scopeField == 2 && scopeWire == 2)
                    {
                        count++;
                        var name = ItemText(signal, scope.ReadBytes());
                        if (name is not null)
                        {
                            names.Add(name);
                        }
                    }
                    else
                    {
                        scope.Skip(scopeWire);
                    }
                }
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        _entries.GetOrAdd(service, _ => new Entry()).Add(signal, count, resourceItems.Length, names);
    }

    private static string? ServiceName(ReadOnlySpan<byte> resource)
    {
        var reader = new ProtobufReader(resource);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                var (key, value) = KeyValue(reader.ReadBytes());
                if (key == "service.name")
                {
                    return value;
                }
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return null;
    }

    // Span.name = 5; LogRecord.body = 5 (AnyValue); Metric.name = 1.
    private static string? ItemText(Signal signal, ReadOnlySpan<byte> item)
    {
        var wanted = signal == Signal.Metrics ? 1 : 5;
        var reader = new ProtobufReader(item);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == wanted && wireType == 2)
            {
                var bytes = reader.ReadBytes();
                return signal == Signal.Logs ? AnyValueString(bytes) : Encoding.UTF8.GetString(bytes);
            }

            reader.Skip(wireType);
        }

        return null;
    }

    private static (string? Key, string? Value) KeyValue(ReadOnlySpan<byte> keyValue)
    {
        string? key = null, value = null;
        var reader = new ProtobufReader(keyValue);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                key = Encoding.UTF8.GetString(reader.ReadBytes());
            }
            else if (field == 2 && wireType == 2)
            {
                value = AnyValueString(reader.ReadBytes());
            }
            else
            {
                reader.Skip(wireType);
            }
        }

        return (key, value);
    }

    private static string? AnyValueString(ReadOnlySpan<byte> anyValue)
    {
        var reader = new ProtobufReader(anyValue);
        while (reader.Next(out var field, out var wireType))
        {
            if (field == 1 && wireType == 2)
            {
                return Encoding.UTF8.GetString(reader.ReadBytes());
            }

            reader.Skip(wireType);
        }

        return null;
    }

    private sealed class Entry
    {
        private readonly Lock _lock = new();
        private readonly Queue<string> _spans = new();
        private readonly Queue<string> _logs = new();
        private long _spanCount;
        private long _metricCount;
        private long _logCount;
        private long _bytes;

        public void Add(Signal signal, long count, int bytes, List<string> names)
        {
            lock (_lock)
            {
                _bytes += bytes;
                switch (signal)
                {
                    case Signal.Traces:
                        _spanCount += count;
                        Push(_spans, names);
                        break;
                    case Signal.Metrics:
                        _metricCount += count;
                        break;
                    default:
                        _logCount += count;
                        Push(_logs, names);
                        break;
                }
            }
        }

        public TelemetrySummary Summary(string service)
        {
            lock (_lock)
            {
                return new TelemetrySummary(service, _spanCount, _metricCount, _logCount, _bytes, [.. _spans], [.. _logs]);
            }
        }

        private static void Push(Queue<string> queue, List<string> items)
        {
            foreach (var item in items)
            {
                queue.Enqueue(item);
                if (queue.Count > Recent)
                {
                    queue.Dequeue();
                }
            }
        }
    }
}

/// <summary>A bounds-checked reader of protobuf wire format (varint, 64-bit, length-delimited, 32-bit fields).</summary>
public ref struct ProtobufReader(ReadOnlySpan<byte> buffer)
{
    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;

    /// <summary>Reads the next field key; false at the end.</summary>
    public bool Next(out int field, out int wireType)
    {
        if (_position >= _buffer.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        var key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field <= 0)
        {
            throw new FormatException("protobuf: field number 0");
        }

        return true;
    }

    /// <summary>Reads a length-delimited value.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadVarint();
        if (length > (ulong)(_buffer.Length - _position))
        {
            throw new FormatException("protobuf: length beyond the end of the message");
        }

        var value = _buffer.Slice(_position, (int)length);
        _position += (int)length;
        return value;
    }

    /// <summary>Skips a value of <paramref name="wireType"/>.</summary>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Advance(8);
                break;
            case 2:
                ReadBytes();
                break;
            case 5:
                Advance(4);
                break;
            default:
                throw new FormatException($"protobuf: unsupported wire type {wireType}");
        }
    }

    private void Advance(int count)
    {
        if (count > _buffer.Length - _position)
        {
            throw new FormatException("protobuf: value beyond the end of the message");
        }

        _position += count;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _buffer.Length)
            {
                throw new FormatException("protobuf: truncated varint");
            }

            var b = _buffer[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("protobuf: varint longer than 10 bytes");
    }
}
