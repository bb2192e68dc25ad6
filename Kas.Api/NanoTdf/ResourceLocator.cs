using System.Text;

namespace Catbird.Kas.Api.NanoTdf;

/// <summary>The protocol nibble of a resource locator.</summary>
public enum ResourceProtocol : byte
{
    /// <summary><c>http://</c></summary>
    Http = 0x0,

    /// <summary><c>https://</c></summary>
    Https = 0x1,

    /// <summary><c>ws://</c> (Arkavo).</summary>
    Ws = 0x2,

    /// <summary><c>wss://</c> (Arkavo).</summary>
    Wss = 0x3,

    /// <summary>The experimental shared resource directory (Arkavo writes the whole byte as 0xFF).</summary>
    SharedResourceDirectory = 0xF,
}

/// <summary>
/// A NanoTDF resource locator: protocol, body (the URL after <c>://</c>) and an optional identifier,
/// which for the KAS locator is the key id. Identifier sizes are 0, 2, 8 or 32 bytes, NUL padded.
/// </summary>
public sealed record ResourceLocator(ResourceProtocol Protocol, string Body, string? Identifier = null)
{
    /// <summary>The URL the locator names (<c>https://host/path</c>), or the body as is for non-URL protocols.</summary>
    public string Url => Protocol switch
    {
        ResourceProtocol.Http => "http://" + Body,
        ResourceProtocol.Https => "https://" + Body,
        ResourceProtocol.Ws => "ws://" + Body,
        ResourceProtocol.Wss => "wss://" + Body,
        _ => Body,
    };

    /// <summary>Reads a locator at the reader's position.</summary>
    internal static ResourceLocator Read(ref NanoTdfReader reader, string field)
    {
        var first = reader.ReadByte(field + " protocol");
        if (first == 0xFF)
        {
            var bodyLength = reader.ReadByte(field + " body length");
            var raw = reader.ReadBytes(bodyLength, field + " body");
            return new ResourceLocator(ResourceProtocol.SharedResourceDirectory, Encoding.UTF8.GetString(raw));
        }

        var protocol = (first & 0x0F) switch
        {
            0x0 => ResourceProtocol.Http,
            0x1 => ResourceProtocol.Https,
            0x2 => ResourceProtocol.Ws,
            0x3 => ResourceProtocol.Wss,
            0xF => ResourceProtocol.SharedResourceDirectory,
            var other => throw new NanoTdfFormatException($"{field}: unknown protocol {other:x}"),
        };
        var identifierSize = (first >> 4) switch
        {
            0 => 0,
            1 => 2,
            2 => 8,
            3 => 32,
            var other => throw new NanoTdfFormatException($"{field}: unknown identifier size {other}"),
        };
        var length = reader.ReadByte(field + " body length");
        if (length == 0)
        {
            throw new NanoTdfFormatException($"{field}: empty body");
        }

        var body = reader.ReadBytes(length, field + " body");
        string? identifier = null;
        if (identifierSize > 0)
        {
            var id = reader.ReadBytes(identifierSize, field + " identifier");
            var end = id.IndexOf((byte)0);
            var trimmed = end < 0 ? id : id[..end];
            identifier = trimmed.Length == 0 ? null : Encoding.UTF8.GetString(trimmed);
        }

        return new ResourceLocator(protocol, DecodeText(body, field), identifier);
    }

    /// <summary>Writes the locator, choosing the smallest identifier size that fits.</summary>
    public void Write(List<byte> output)
    {
        var body = Encoding.UTF8.GetBytes(Body);
        if (body.Length is 0 or > 255)
        {
            throw new ArgumentException("A resource locator body is 1 to 255 bytes.", nameof(Body));
        }

        var id = Identifier is null ? [] : Encoding.UTF8.GetBytes(Identifier);
        var (nibble, size) = id.Length switch
        {
            0 => (0, 0),
            <= 2 => (1, 2),
            <= 8 => (2, 8),
            <= 32 => (3, 32),
            _ => throw new ArgumentException("A resource locator identifier is at most 32 bytes.", nameof(Identifier)),
        };
        output.Add((byte)((nibble << 4) | ((byte)Protocol & 0x0F)));
        output.Add((byte)body.Length);
        output.AddRange(body);
        if (size > 0)
        {
            output.AddRange(id);
            output.AddRange(new byte[size - id.Length]);
        }
    }

    /// <summary>Parses a URL such as <c>https://kas.example.com/kas</c> into a locator.</summary>
    public static ResourceLocator FromUrl(string url, string? identifier = null)
    {
        foreach (var (prefix, protocol) in new[]
                 {
                     ("https://", ResourceProtocol.Https), ("http://", ResourceProtocol.Http),
                     ("wss://", ResourceProtocol.Wss), ("ws://", ResourceProtocol.Ws),
                 })
        {
            if (url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return new ResourceLocator(protocol, url[prefix.Length..], identifier);
            }
        }

        throw new ArgumentException($"'{url}' is not an http(s) or ws(s) URL.", nameof(url));
    }

    private static string DecodeText(ReadOnlySpan<byte> body, string field)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            throw new NanoTdfFormatException($"{field}: body is not UTF-8");
        }
    }
}
