using System.Buffers;
using System.Globalization;
using System.Text;

namespace Catbird.Nats;

/// <summary>Message headers: case-preserving, multi-valued, with the optional status line of server messages.</summary>
public sealed class NatsHeaders : Dictionary<string, List<string>>
{
    private const string Preamble = "NATS/1.0";

    /// <summary>Creates empty headers.</summary>
    public NatsHeaders()
        : base(StringComparer.OrdinalIgnoreCase)
    {
    }

    /// <summary>The status code of a server message (503 no responders, 404 no messages, 408 timeout, 100 heartbeat…), or 0.</summary>
    public int Code { get; private set; }

    /// <summary>The status description, if any.</summary>
    public string? Description { get; private set; }

    /// <summary>Sets <paramref name="name"/> to the single value <paramref name="value"/>.</summary>
    public NatsHeaders Set(string name, string value)
    {
        Validate(name, value);
        base[name] = [value];
        return this;
    }

    /// <summary>Adds a value to <paramref name="name"/>.</summary>
    public void Add(string name, string value)
    {
        Validate(name, value);
        if (TryGetValue(name, out var values))
        {
            values.Add(value);
        }
        else
        {
            base[name] = [value];
        }
    }

    /// <summary>The last value of <paramref name="name"/>, or null.</summary>
    public string? GetLast(string name) => TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    /// <summary>Writes the headers in wire format (<c>NATS/1.0\r\nName: value\r\n…\r\n</c>).</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var text = new StringBuilder(Preamble).Append("\r\n");
        foreach (var (name, values) in this)
        {
            foreach (var value in values)
            {
                Validate(name, value);
                text.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }

        text.Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        writer.Write(bytes);
    }

    /// <summary>The encoded length, for HPUB.</summary>
    public int EncodedLength()
    {
        var writer = new ArrayBufferWriter<byte>();
        WriteTo(writer);
        return writer.WrittenCount;
    }

    /// <summary>Parses the header block of an HMSG.</summary>
    /// <exception cref="NatsProtocolException">The block is malformed.</exception>
    public static NatsHeaders Parse(ReadOnlySpan<byte> block)
    {
        var text = Encoding.UTF8.GetString(block);
        if (!text.StartsWith(Preamble, StringComparison.Ordinal))
        {
            throw new NatsProtocolException("header block does not start with NATS/1.0");
        }

        var headers = new NatsHeaders();
        var lines = text.Split("\r\n");
        var status = lines[0][Preamble.Length..].Trim();
        if (status.Length > 0)
        {
            var space = status.IndexOf(' ', StringComparison.Ordinal);
            var code = space < 0 ? status : status[..space];
            if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                throw new NatsProtocolException($"bad status line '{status}'");
            }

            headers.Code = number;
            headers.Description = space < 0 ? null : status[(space + 1)..];
        }

        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0)
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new NatsProtocolException($"bad header line '{line}'");
            }

            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (headers.TryGetValue(name, out var values))
            {
                values.Add(value);
            }
            else
            {
                headers.Add(name, value);
            }
        }

        return headers;
    }

    private static void Validate(string name, string value)
    {
        if (name.Length == 0 || name.Any(c => c is ':' or ' ' or '\r' or '\n' || c < 33 || c > 126))
        {
            throw new ArgumentException($"Invalid header name '{name}'.", nameof(name));
        }

        if (value.Contains('\r', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Header '{name}' has a line break in its value.", nameof(value));
        }
    }
}
