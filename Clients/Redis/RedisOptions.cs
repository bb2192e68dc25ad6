using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Catbird.Redis;

/// <summary>A Redis server address.</summary>
/// <param name="Host">Host name or IP address.</param>
/// <param name="Port">TCP port.</param>
public sealed record RedisEndPoint(string Host, int Port)
{
    /// <summary>The port Redis listens on unless told otherwise.</summary>
    public const int DefaultPort = 6379;

    /// <inheritdoc />
    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// Immutable options for <see cref="RedisConnection"/> and <see cref="RedisSubscriber"/>; change them with <c>with</c>.
/// <see cref="Parse"/> reads the StackExchange.Redis connection-string format that Aspire injects.
/// </summary>
public sealed record RedisOptions
{
    /// <summary>Options for a server on <c>localhost:6379</c>.</summary>
    public static readonly RedisOptions Default = new();

    /// <summary>Servers to try, in order. The first one that accepts the connection is used.</summary>
    public IReadOnlyList<RedisEndPoint> EndPoints { get; init; } = [new RedisEndPoint("localhost", RedisEndPoint.DefaultPort)];

    /// <summary>Host of the first endpoint; setting it replaces <see cref="EndPoints"/> with one server.</summary>
    public string Host
    {
        get => EndPoints[0].Host;
        init => EndPoints = [new RedisEndPoint(value, EndPoints.Count > 0 ? EndPoints[0].Port : RedisEndPoint.DefaultPort)];
    }

    /// <summary>Port of the first endpoint; setting it replaces <see cref="EndPoints"/> with one server.</summary>
    public int Port
    {
        get => EndPoints[0].Port;
        init => EndPoints = [new RedisEndPoint(EndPoints.Count > 0 ? EndPoints[0].Host : "localhost", value)];
    }

    /// <summary>ACL user name sent with <c>AUTH user password</c>; null for <c>AUTH password</c>.</summary>
    public string? User { get; init; }

    /// <summary>Password for <c>AUTH</c>; null sends no <c>AUTH</c>.</summary>
    public string? Password { get; init; }

    /// <summary>Connect with TLS.</summary>
    public bool Ssl { get; init; }

    /// <summary>Host name expected in the server certificate (and sent as SNI); defaults to the endpoint host.</summary>
    public string? SslHost { get; init; }

    /// <summary>
    /// A certificate authority the server certificate must chain to (pinning). When set, the system trust store is not
    /// consulted for the server certificate.
    /// </summary>
    public X509Certificate2? TrustedCertificateAuthority { get; init; }

    /// <summary>A custom server-certificate check; when set it replaces the default validation entirely.</summary>
    public RemoteCertificateValidationCallback? RemoteCertificateValidation { get; init; }

    /// <summary>A client certificate for servers that require one (<c>tls-auth-clients yes</c>).</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Database selected with <c>SELECT</c> after connecting.</summary>
    public int Database { get; init; }

    /// <summary>Name set with <c>CLIENT SETNAME</c>; null sets none. Must not contain spaces.</summary>
    public string? ClientName { get; init; }

    /// <summary>Time allowed for one connection attempt: TCP, TLS and the handshake.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time a command may take from the call to its reply, including any wait for a connection. A command that times out
    /// fails with <see cref="RedisTimeoutException"/>; its reply, if it comes later, is read and discarded. When nothing at
    /// all arrives for twice this long (and at least this plus one second) while commands wait, the connection is
    /// considered dead and replaced, so do not run blocking commands longer than that on the shared connection.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>When true, <see cref="RedisConnection.ConnectAsync"/> throws if the first attempt fails; when false it returns
    /// a connection that keeps retrying in the background.</summary>
    public bool AbortOnConnectFail { get; init; } = true;

    /// <summary>Shortest wait before a reconnect attempt (the backoff doubles from here, with jitter).</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between reconnect attempts.</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest bulk string accepted from the server; a larger length fails the connection as a protocol violation.</summary>
    public int MaxBulkLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>Largest array accepted from the server; a larger count fails the connection as a protocol violation.</summary>
    public int MaxArrayLength { get; init; } = 16 * 1024 * 1024;

    /// <summary>Capacity of each subscription's message channel; messages beyond it are dropped and counted.</summary>
    public int SubscriptionCapacity { get; init; } = 10_000;

    /// <summary>Logger factory for connection events.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Parses a connection string in the StackExchange.Redis format, as Aspire injects it:
    /// <c>host:port[,host2:port2][,password=…][,user=…][,ssl=true][,sslHost=…][,defaultDatabase=…][,connectTimeout=ms]
    /// [,syncTimeout=ms][,asyncTimeout=ms][,abortConnect=false][,name=…]</c>. Also accepts <c>redis://</c> and
    /// <c>rediss://[user:password@]host[:port][/db]</c> URLs.
    /// </summary>
    /// <exception cref="FormatException">The string is empty or has an unknown or malformed option.</exception>
    public static RedisOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = connectionString.Trim();
        if (text.Length == 0)
        {
            throw new FormatException("The Redis connection string is empty.");
        }

        if (text.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseUrl(text);
        }

        var options = new RedisOptions();
        var endPoints = new List<RedisEndPoint>();
        TimeSpan? syncTimeout = null;
        TimeSpan? asyncTimeout = null;
        foreach (var rawPart in text.Split(','))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                endPoints.Add(ParseEndPoint(part));
                continue;
            }

            var key = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "password":
                    options = options with { Password = value };
                    break;
                case "user":
                    options = options with { User = value };
                    break;
                case "ssl":
                    options = options with { Ssl = ParseBool(key, value) };
                    break;
                case "sslhost":
                    options = options with { SslHost = value };
                    break;
                case "defaultdatabase":
                    options = options with { Database = ParseInt(key, value, 0, int.MaxValue) };
                    break;
                case "connecttimeout":
                    options = options with { ConnectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue)) };
                    break;
                case "synctimeout":
                    syncTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                case "asynctimeout":
                    asyncTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                case "abortconnect":
                    options = options with { AbortOnConnectFail = ParseBool(key, value) };
                    break;
                case "name":
                    options = options with { ClientName = value.Length == 0 ? null : value };
                    break;
                // StackExchange.Redis options that have no meaning for this client; accepted so that shared strings work.
                case "allowadmin":
                case "keepalive":
                case "resolvedns":
                case "tiebreaker":
                case "version":
                case "channelprefix":
                case "configchannel":
                case "configcheckseconds":
                case "connectretry":
                case "responsetimeout":
                case "sslprotocols":
                case "checkcertificaterevocation":
                case "proxy":
                case "servicename":
                case "setlib":
                case "protocol":
                case "highprioritythreads":
                case "heartbeatinterval":
                    break;
                default:
                    throw new FormatException($"The Redis connection string has an unknown option '{key}'.");
            }
        }

        if (endPoints.Count == 0)
        {
            throw new FormatException("The Redis connection string names no server (expected 'host:port' first).");
        }

        return options with { EndPoints = endPoints, CommandTimeout = asyncTimeout ?? syncTimeout ?? options.CommandTimeout };
    }

    private static RedisOptions ParseUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            throw new FormatException("The Redis URL is malformed.");
        }

        var options = new RedisOptions
        {
            EndPoints = [new RedisEndPoint(uri.Host.Trim('[', ']'), uri.IsDefaultPort || uri.Port < 0 ? RedisEndPoint.DefaultPort : uri.Port)],
            Ssl = uri.Scheme.Equals("rediss", StringComparison.OrdinalIgnoreCase),
        };
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            options = colon < 0
                ? options with { Password = Uri.UnescapeDataString(uri.UserInfo) }
                : options with
                {
                    User = colon == 0 ? null : Uri.UnescapeDataString(uri.UserInfo[..colon]),
                    Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]),
                };
        }

        var path = uri.AbsolutePath.Trim('/');
        if (path.Length > 0)
        {
            options = options with { Database = ParseInt("database", path, 0, int.MaxValue) };
        }

        return options;
    }

    private static RedisEndPoint ParseEndPoint(string text)
    {
        string host;
        var port = RedisEndPoint.DefaultPort;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new FormatException($"The Redis endpoint '{text}' is malformed.");
            }

            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':')
                {
                    throw new FormatException($"The Redis endpoint '{text}' is malformed.");
                }

                port = ParseInt("port", text[(close + 2)..], 1, 65535);
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                host = text; // bare IPv6 address without a port
            }
            else if (colon >= 0)
            {
                host = text[..colon];
                port = ParseInt("port", text[(colon + 1)..], 1, 65535);
            }
            else
            {
                host = text;
            }
        }

        if (host.Length == 0)
        {
            throw new FormatException($"The Redis endpoint '{text}' has no host.");
        }

        return new RedisEndPoint(host, port);
    }

    private static bool ParseBool(string key, string value) => bool.TryParse(value, out var result)
        ? result
        : throw new FormatException($"The Redis connection string option '{key}' must be true or false, not '{value}'.");

    private static int ParseInt(string key, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max
            ? result
            : throw new FormatException($"The Redis connection string option '{key}' must be a whole number from {min} to {max}, not '{value}'.");

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (EndPoints.Count == 0)
        {
            throw new ArgumentException("RedisOptions.EndPoints is empty.");
        }

        if (CommandTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("RedisOptions.CommandTimeout and ConnectTimeout must be positive.");
        }

        if (ClientName is not null && ClientName.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException("RedisOptions.ClientName must not contain spaces.");
        }

        if (MaxBulkLength <= 0 || MaxArrayLength <= 0 || SubscriptionCapacity <= 0)
        {
            throw new ArgumentException("RedisOptions limits must be positive.");
        }
    }
}
