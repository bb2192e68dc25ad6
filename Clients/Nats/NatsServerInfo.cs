using System.Text.Json.Serialization;

namespace Catbird.Nats;

/// <summary>The server's INFO.</summary>
public sealed record NatsServerInfo
{
    /// <summary>Server id.</summary>
    [JsonPropertyName("server_id")] public string? ServerId { get; init; }

    /// <summary>Server name.</summary>
    [JsonPropertyName("server_name")] public string? ServerName { get; init; }

    /// <summary>Server version.</summary>
    [JsonPropertyName("version")] public string? Version { get; init; }

    /// <summary>Largest payload (headers included) the server accepts.</summary>
    [JsonPropertyName("max_payload")] public long MaxPayload { get; init; }

    /// <summary>Whether the server speaks headers.</summary>
    [JsonPropertyName("headers")] public bool Headers { get; init; }

    /// <summary>Whether authentication is required.</summary>
    [JsonPropertyName("auth_required")] public bool AuthRequired { get; init; }

    /// <summary>Whether TLS is required.</summary>
    [JsonPropertyName("tls_required")] public bool TlsRequired { get; init; }

    /// <summary>Nonce to sign for nkey / JWT auth.</summary>
    [JsonPropertyName("nonce")] public string? Nonce { get; init; }

    /// <summary>Other servers of the cluster.</summary>
    [JsonPropertyName("connect_urls")] public string[]? ConnectUrls { get; init; }

    /// <summary>The server is in lame duck mode: clients should move elsewhere.</summary>
    [JsonPropertyName("ldm")] public bool LameDuckMode { get; init; }

    /// <summary>Whether JetStream is enabled.</summary>
    [JsonPropertyName("jetstream")] public bool JetStream { get; init; }
}

internal sealed record ConnectCommand
{
    [JsonPropertyName("verbose")] public bool Verbose { get; init; }

    [JsonPropertyName("pedantic")] public bool Pedantic { get; init; }

    [JsonPropertyName("tls_required")] public bool TlsRequired { get; init; }

    [JsonPropertyName("lang")] public string Lang { get; init; } = ".NET (Catbird)";

    [JsonPropertyName("version")] public string Version { get; init; } = "1.0.0";

    [JsonPropertyName("protocol")] public int Protocol { get; init; } = 1;

    [JsonPropertyName("headers")] public bool Headers { get; init; } = true;

    [JsonPropertyName("no_responders")] public bool NoResponders { get; init; } = true;

    [JsonPropertyName("echo")] public bool Echo { get; init; } = true;

    [JsonPropertyName("name")] public string? Name { get; init; }

    [JsonPropertyName("user")] public string? User { get; init; }

    [JsonPropertyName("pass")] public string? Pass { get; init; }

    [JsonPropertyName("auth_token")] public string? AuthToken { get; init; }

    [JsonPropertyName("nkey")] public string? NKey { get; init; }

    [JsonPropertyName("jwt")] public string? Jwt { get; init; }

    [JsonPropertyName("sig")] public string? Sig { get; init; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(NatsServerInfo))]
[JsonSerializable(typeof(ConnectCommand))]
internal sealed partial class NatsCoreJsonContext : JsonSerializerContext;
