using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Catbird.Nats;

/// <summary>Options of a <see cref="NatsConnection"/>; immutable, changed with <c>with</c>.</summary>
public sealed record NatsOpts
{
    /// <summary>The defaults: <c>nats://127.0.0.1:4222</c>.</summary>
    public static readonly NatsOpts Default = new();

    /// <summary>Server URLs, comma-separated (<c>nats://host:port</c>); credentials in the URL are used when no explicit ones are set.</summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>Client name shown by the server.</summary>
    public string? Name { get; init; }

    /// <summary>User for user/password authentication.</summary>
    public string? User { get; init; }

    /// <summary>Password for user/password authentication.</summary>
    public string? Password { get; init; }

    /// <summary>Token authentication.</summary>
    public string? Token { get; init; }

    /// <summary>An nkey seed (<c>SU…</c>) to sign the server nonce with.</summary>
    public string? NKeySeed { get; init; }

    /// <summary>A user JWT (decentralized auth); signed with <see cref="NKeySeed"/>.</summary>
    public string? Jwt { get; init; }

    /// <summary>TLS settings.</summary>
    public NatsTlsOpts Tls { get; init; } = new();

    /// <summary>How long connecting (TCP, TLS, CONNECT/PONG) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The default timeout of <see cref="NatsConnection.RequestAsync"/> and of JetStream API calls.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the client pings the server.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Unanswered pings after which the connection is considered dead.</summary>
    public int MaxPingsOut { get; init; } = 2;

    /// <summary>Base delay between reconnect attempts (doubled per failure, up to <see cref="ReconnectWaitMax"/>).</summary>
    public TimeSpan ReconnectWait { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between reconnect attempts.</summary>
    public TimeSpan ReconnectWaitMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Random extra delay added to each reconnect wait.</summary>
    public TimeSpan ReconnectJitter { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Reconnect attempts before giving up (-1 = forever).</summary>
    public int MaxReconnectRetry { get; init; } = -1;

    /// <summary>Messages buffered per subscription before newer ones are dropped (and counted as slow-consumer drops).</summary>
    public int SubPendingChannelCapacity { get; init; } = 10_000;

    /// <summary>Bytes of publishes buffered while disconnected (or not yet written) before publishers wait.</summary>
    public int PublishBufferBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Where the connection logs.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>
    /// Options from a connection string as Aspire injects it: <c>nats://[user:pass@|token@]host:port[,nats://…]</c>
    /// (userinfo URL-decoded).
    /// </summary>
    /// <exception cref="FormatException">A URL is malformed.</exception>
    public static NatsOpts FromUrl(string url)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(url);
        var options = Default with { Url = url };
        var first = NatsServerAddress.ParseList(url)[0];
        if (first.UserInfo is { Length: > 0 } userInfo)
        {
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            options = colon < 0
                ? options with { Token = Uri.UnescapeDataString(userInfo) }
                : options with { User = Uri.UnescapeDataString(userInfo[..colon]), Password = Uri.UnescapeDataString(userInfo[(colon + 1)..]) };
        }

        return options;
    }
}

/// <summary>TLS settings of a NATS connection.</summary>
public sealed record NatsTlsOpts
{
    /// <summary>Use TLS even if the server does not require it (<c>tls://</c> URLs also do).</summary>
    public bool Required { get; init; }

    /// <summary>PEM file of the CA the server certificate must chain to (pinning); null = the system store.</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate PEM file (with <see cref="KeyFile"/>).</summary>
    public string? CertFile { get; init; }

    /// <summary>Client private key PEM file.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Skip server certificate validation (tests only).</summary>
    public bool InsecureSkipVerify { get; init; }
}

/// <summary>One server address of the seed list.</summary>
public sealed record NatsServerAddress(string Host, int Port, bool Tls, string? UserInfo)
{
    /// <summary>Parses a comma-separated list of <c>nats://</c>, <c>tls://</c> URLs or bare <c>host:port</c>.</summary>
    public static IReadOnlyList<NatsServerAddress> ParseList(string urls)
    {
        var list = new List<NatsServerAddress>();
        foreach (var raw in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var text = raw.Contains("://", StringComparison.Ordinal) ? raw : "nats://" + raw;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls") || string.IsNullOrEmpty(uri.Host))
            {
                throw new FormatException($"'{raw}' is not a NATS URL (nats://host:port).");
            }

            list.Add(new NatsServerAddress(uri.Host, uri.IsDefaultPort || uri.Port <= 0 ? 4222 : uri.Port, uri.Scheme == "tls", uri.UserInfo));
        }

        return list.Count > 0 ? list : throw new FormatException("No NATS server URL given.");
    }

    /// <inheritdoc />
    public override string ToString() => $"{(Tls ? "tls" : "nats")}://{Host}:{Port}";
}
