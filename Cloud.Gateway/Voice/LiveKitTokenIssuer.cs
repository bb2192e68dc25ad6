using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Catbird.Cloud.Gateway.Voice;

/// <summary>LiveKit settings (<c>LIVEKIT_URL</c>, <c>LIVEKIT_API_KEY</c>, <c>LIVEKIT_API_SECRET</c>).</summary>
public sealed record LiveKitOptions
{
    /// <summary>The LiveKit server URL handed to clients.</summary>
    public required Uri Url { get; init; }

    /// <summary>The API key (the token's <c>iss</c>).</summary>
    public required string ApiKey { get; init; }

    /// <summary>The API secret (HS256 key); at least 32 bytes.</summary>
    public required string ApiSecret { get; init; }

    /// <summary>Lifetime of a minted token.</summary>
    public TimeSpan TokenLifetime { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Mints LiveKit access tokens: HS256 JWTs signed with the API secret carrying <c>iss</c> = API key, <c>sub</c> = identity,
/// <c>nbf</c>, <c>exp</c>, <c>name</c> and a <c>video</c> grant for one room. Refuses to be built with a secret shorter than
/// 32 bytes.
/// </summary>
public sealed class LiveKitTokenIssuer
{
    private readonly LiveKitOptions _options;
    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    /// <summary>Creates the issuer; throws <see cref="ArgumentException"/> for a missing key or a short secret.</summary>
    public LiveKitTokenIssuer(LiveKitOptions options, TimeProvider time)
    {
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            throw new ArgumentException("LIVEKIT_API_KEY is required.", nameof(options));
        }
        _secret = Encoding.UTF8.GetBytes(options.ApiSecret ?? "");
        if (_secret.Length < 32)
        {
            throw new ArgumentException("LIVEKIT_API_SECRET must be at least 32 bytes.", nameof(options));
        }
        _options = options;
        _time = time;
    }

    /// <summary>The LiveKit URL clients connect to.</summary>
    public Uri Url => _options.Url;

    /// <summary>Mints a token for <paramref name="identity"/> to join <paramref name="room"/>.</summary>
    public string Mint(string identity, string displayName, string room, bool canPublish, bool canSubscribe)
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        using var payload = new MemoryStream();
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteString("iss", _options.ApiKey);
            json.WriteString("sub", identity);
            json.WriteString("name", displayName);
            json.WriteNumber("nbf", now);
            json.WriteNumber("exp", now + (long)_options.TokenLifetime.TotalSeconds);
            json.WriteString("jti", identity);
            json.WriteStartObject("video");
            json.WriteBoolean("roomJoin", true);
            json.WriteString("room", room);
            json.WriteBoolean("canPublish", canPublish);
            json.WriteBoolean("canSubscribe", canSubscribe);
            json.WriteBoolean("canPublishData", canPublish);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        var signingInput = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8) + "." + Base64Url.EncodeToString(payload.ToArray());
        var signature = HMACSHA256.HashData(_secret, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }
}
