using System.Text.Json;
using System.Text.Json.Serialization;

namespace Catbird.Kas.Api.Rewrap;

/// <summary>The outer rewrap body: <c>{"signedRequestToken": JWS}</c> (protojson also allows <c>signed_request_token</c>).</summary>
public sealed class RewrapRequestBody
{
    /// <summary>The signed request token (camelCase).</summary>
    [JsonPropertyName("signedRequestToken")]
    public string? SignedRequestToken { get; set; }

    /// <summary>The signed request token (snake_case).</summary>
    [JsonPropertyName("signed_request_token")]
    public string? SignedRequestTokenSnake { get; set; }

    /// <summary>Whichever spelling was sent.</summary>
    [JsonIgnore]
    public string? Token => SignedRequestToken ?? SignedRequestTokenSnake;
}

/// <summary>The request inside the SRT: v2 (<c>requests</c>) or v1 (<c>keyAccess</c> + <c>algorithm</c>).</summary>
public sealed class UnsignedRewrapRequest
{
    /// <summary>The client's ephemeral public key (SPKI PEM) the result is wrapped for.</summary>
    public string? ClientPublicKey { get; set; }

    /// <summary>v2: per-policy groups of key access objects.</summary>
    public List<PolicyRewrapRequest>? Requests { get; set; }

    /// <summary>v1: the single key access object.</summary>
    public KeyAccess? KeyAccess { get; set; }

    /// <summary>v1: <c>ec:secp256r1</c> for NanoTDF.</summary>
    public string? Algorithm { get; set; }

    /// <summary>v1: the policy (string or object), unused for NanoTDF.</summary>
    public JsonElement? Policy { get; set; }
}

/// <summary>One policy group of a v2 request.</summary>
public sealed class PolicyRewrapRequest
{
    /// <summary>Algorithm of the group.</summary>
    public string? Algorithm { get; set; }

    /// <summary>Policy reference (<c>{id, body}</c>).</summary>
    public PolicyReference? Policy { get; set; }

    /// <summary>The key access objects.</summary>
    public List<KeyAccessObjectEntry>? KeyAccessObjects { get; set; }
}

/// <summary>Policy id and optional body of a v2 group.</summary>
public sealed class PolicyReference
{
    /// <summary>Policy id echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>Base64 policy body (not used for NanoTDF).</summary>
    public string? Body { get; set; }
}

/// <summary>A key access object with its id.</summary>
public sealed class KeyAccessObjectEntry
{
    /// <summary>Id echoed in the result.</summary>
    public string? KeyAccessObjectId { get; set; }

    /// <summary>The object.</summary>
    public KeyAccess? KeyAccessObject { get; set; }
}

/// <summary>OpenTDF KeyAccess (JSON names from the proto).</summary>
public sealed class KeyAccess
{
    /// <summary><c>remote</c> or <c>wrapped</c>.</summary>
    public string? Type { get; set; }

    /// <summary>KAS URL.</summary>
    public string? Url { get; set; }

    /// <summary><c>kas</c>.</summary>
    public string? Protocol { get; set; }

    /// <summary>Key id.</summary>
    public string? Kid { get; set; }

    /// <summary>Split id.</summary>
    public string? Sid { get; set; }

    /// <summary>TDF3 wrapped key (base64).</summary>
    public string? WrappedKey { get; set; }

    /// <summary>NanoTDF header (base64).</summary>
    public string? Header { get; set; }

    /// <summary>TDF3 EC-wrapped ephemeral key.</summary>
    public string? EphemeralPublicKey { get; set; }

    /// <summary>TDF3 policy binding: a string, or <c>{"alg","hash"}</c>; base64 of the hex HMAC-SHA256(DEK, base64 policy).</summary>
    public JsonElement? PolicyBinding { get; set; }
}

/// <summary>The rewrap response (v2 fields plus the v1 <c>entityWrappedKey</c>).</summary>
public sealed class RewrapResponse
{
    /// <summary>SPKI PEM of this request's session key.</summary>
    public string? SessionPublicKey { get; set; }

    /// <summary>v2 per-policy results.</summary>
    public List<PolicyRewrapResult>? Responses { get; set; }

    /// <summary>v1: the wrapped DEK.</summary>
    public string? EntityWrappedKey { get; set; }

    /// <summary>Deprecated schema version, for clients that read it.</summary>
    public string? SchemaVersion { get; set; }
}

/// <summary>Results of one policy group.</summary>
public sealed class PolicyRewrapResult
{
    /// <summary>Policy id from the request.</summary>
    public string PolicyId { get; set; } = "";

    /// <summary>One result per key access object.</summary>
    public List<KeyAccessRewrapResult> Results { get; set; } = [];
}

/// <summary>The result of one key access object: <c>permit</c> with <c>kasWrappedKey</c>, or <c>fail</c> with <c>error</c>.</summary>
public sealed class KeyAccessRewrapResult
{
    /// <summary>Id from the request.</summary>
    public string KeyAccessObjectId { get; set; } = "";

    /// <summary><c>permit</c> or <c>fail</c>.</summary>
    public string Status { get; set; } = "";

    /// <summary>Base64 of nonce‖ciphertext‖tag.</summary>
    public string? KasWrappedKey { get; set; }

    /// <summary>Failure reason.</summary>
    public string? Error { get; set; }

    /// <summary>Metadata (required obligations; the error again, as OpenTDFKit reads it).</summary>
    public Dictionary<string, JsonElement>? Metadata { get; set; }
}

/// <summary><c>GET /kas/v2/kas_public_key</c> response.</summary>
public sealed record PublicKeyResponse(
    [property: JsonPropertyName("publicKey")] string PublicKey,
    [property: JsonPropertyName("kid"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Kid);

/// <summary>ConnectRPC <c>PublicKeyRequest</c> (JSON).</summary>
public sealed class PublicKeyRequest
{
    /// <summary>Algorithm.</summary>
    public string? Algorithm { get; set; }

    /// <summary>Format.</summary>
    public string? Fmt { get; set; }

    /// <summary>Version.</summary>
    public string? V { get; set; }
}

/// <summary>The body of a signed request token.</summary>
public sealed class SignedRequestClaims
{
    /// <summary>JSON text of <see cref="UnsignedRewrapRequest"/>.</summary>
    [JsonPropertyName("requestBody")]
    public string? RequestBody { get; set; }

    /// <summary>Issued at (seconds).</summary>
    [JsonPropertyName("iat")]
    public long? IssuedAt { get; set; }

    /// <summary>Expires (seconds).</summary>
    [JsonPropertyName("exp")]
    public long? Expires { get; set; }

    /// <summary>Not before (seconds).</summary>
    [JsonPropertyName("nbf")]
    public long? NotBefore { get; set; }
}

/// <summary>A JOSE header with the fields the service reads.</summary>
public sealed class JoseHeader
{
    /// <summary>Algorithm.</summary>
    [JsonPropertyName("alg")]
    public string? Alg { get; set; }

    /// <summary>Type.</summary>
    [JsonPropertyName("typ")]
    public string? Typ { get; set; }

    /// <summary>Embedded public JWK (DPoP proofs).</summary>
    [JsonPropertyName("jwk")]
    public JsonElement? Jwk { get; set; }
}

/// <summary>Claims of a DPoP proof (RFC 9449).</summary>
public sealed class DpopClaims
{
    /// <summary>HTTP method.</summary>
    [JsonPropertyName("htm")]
    public string? Htm { get; set; }

    /// <summary>HTTP URI.</summary>
    [JsonPropertyName("htu")]
    public string? Htu { get; set; }

    /// <summary>Issued at.</summary>
    [JsonPropertyName("iat")]
    public long? IssuedAt { get; set; }

    /// <summary>Hash of the access token.</summary>
    [JsonPropertyName("ath")]
    public string? Ath { get; set; }

    /// <summary>Unique id.</summary>
    [JsonPropertyName("jti")]
    public string? Jti { get; set; }
}

/// <summary>The OpenTDF policy object carried in a NanoTDF header.</summary>
public sealed class OpenTdfPolicy
{
    /// <summary>Policy id.</summary>
    public string? Uuid { get; set; }

    /// <summary>The body.</summary>
    public OpenTdfPolicyBody? Body { get; set; }
}

/// <summary>The attributes and dissemination list of a policy.</summary>
public sealed class OpenTdfPolicyBody
{
    /// <summary>Data attributes; each must be satisfied.</summary>
    public List<OpenTdfAttribute>? DataAttributes { get; set; }

    /// <summary>Entities allowed; empty means anyone satisfying the attributes.</summary>
    public List<string>? Dissem { get; set; }
}

/// <summary>One data attribute (the extra fields web-sdk writes are ignored).</summary>
public sealed class OpenTdfAttribute
{
    /// <summary>Attribute value FQN, e.g. <c>https://example.com/attr/a/value/b</c>.</summary>
    public string? Attribute { get; set; }
}

/// <summary>Membership check request on <c>catbird.membership.check</c>.</summary>
public sealed record MembershipCheckRequest(
    [property: JsonPropertyName("room")] string Room,
    [property: JsonPropertyName("subject")] string Subject);

/// <summary>Membership check reply.</summary>
public sealed record MembershipCheckReply(
    [property: JsonPropertyName("member")] bool Member,
    [property: JsonPropertyName("epoch")] long Epoch);

/// <summary>JSON contracts of Kas.Api, source generated.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(RewrapRequestBody))]
[JsonSerializable(typeof(UnsignedRewrapRequest))]
[JsonSerializable(typeof(RewrapResponse))]
[JsonSerializable(typeof(PublicKeyResponse))]
[JsonSerializable(typeof(PublicKeyRequest))]
[JsonSerializable(typeof(SignedRequestClaims))]
[JsonSerializable(typeof(JoseHeader))]
[JsonSerializable(typeof(DpopClaims))]
[JsonSerializable(typeof(OpenTdfPolicy))]
[JsonSerializable(typeof(MembershipCheckRequest))]
[JsonSerializable(typeof(MembershipCheckReply))]
[JsonSerializable(typeof(Keys.KasJwk))]
[JsonSerializable(typeof(Media.SessionStartRequest))]
[JsonSerializable(typeof(Media.SessionStartResponse))]
[JsonSerializable(typeof(Media.MediaKeyRequest))]
[JsonSerializable(typeof(Media.MediaKeyResponse))]
[JsonSerializable(typeof(Media.HeartbeatRequest))]
[JsonSerializable(typeof(Media.HeartbeatResponse))]
[JsonSerializable(typeof(Media.MediaError))]
[JsonSerializable(typeof(Media.PlaybackSession))]
[JsonSerializable(typeof(Media.MediaEvent))]
[JsonSerializable(typeof(WebSocket.WebSocketError))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(JsonElement))]
public sealed partial class KasJsonContext : JsonSerializerContext;
