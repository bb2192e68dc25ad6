using System.Text;
using System.Text.Json;
using Catbird.Identity.Crypto;
using Catbird.Identity.Did;

namespace Catbird.Identity.Jwt;

/// <summary>
/// Verifies AT Protocol inter-service JWTs: alg ES256K or ES256 with a 64-byte low-S r‖s signature by the issuer's
/// <c>#atproto</c> key, <c>iss</c> a DID (optionally <c>did#fragment</c>), <c>aud</c> one of the expected audiences,
/// <c>exp</c> in the future and within the maximum lifetime, <c>lxm</c> as expected, <c>jti</c> present and unused.
/// A failed signature triggers one forced refetch of the DID document (key rotation). The jti is recorded only
/// after the signature verifies, so forged tokens cannot burn another issuer's nonces.
/// </summary>
public sealed class ServiceJwtVerifier(IDidKeyResolver resolver, IJtiReplayStore replayStore, ServiceJwtVerifierOptions? options = null,
    TimeProvider? time = null)
{
    private static readonly string[] ForbiddenTypes = ["at+jwt", "refresh+jwt", "dpop+jwt"];
    private readonly ServiceJwtVerifierOptions _options = options ?? new ServiceJwtVerifierOptions();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Verifies <paramref name="token"/>; throws <see cref="ServiceJwtException"/> when it is refused.</summary>
    public async Task<VerifiedServiceJwt> VerifyAsync(string token, ServiceJwtExpectations expectations, CancellationToken ct)
    {
        if (token.Length > _options.MaxTokenLength)
        {
            throw Fail(ServiceJwtError.BadJwt, "token too long");
        }
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            throw Fail(ServiceJwtError.BadJwt, "a JWT has three parts");
        }
        var (alg, typ) = ReadHeader(parts[0]);
        if (alg is not ("ES256K" or "ES256") && !(alg == "HS256" && _options.DevelopmentHmacSecret is not null))
        {
            throw Fail(ServiceJwtError.BadJwt, $"unsupported alg {alg ?? "(none)"}");
        }
        if (typ is not null && ForbiddenTypes.Contains(typ.ToLowerInvariant()))
        {
            throw Fail(ServiceJwtError.BadJwtType, $"token type {typ} is not a service token");
        }
        var claims = ReadClaims(parts[1]);
        var now = _time.GetUtcNow();

        if (claims.Iss is null || claims.IssuerDid is null || !DidSyntax.IsValid(claims.IssuerDid))
        {
            throw Fail(ServiceJwtError.BadJwtIssuer, "iss must be a DID");
        }
        if (claims.Exp is not { } exp)
        {
            throw Fail(ServiceJwtError.BadJwt, "exp is required");
        }
        var expires = DateTimeOffset.FromUnixTimeSeconds(exp);
        if (expires <= now)
        {
            throw Fail(ServiceJwtError.ExpiredToken, "token has expired");
        }
        DateTimeOffset? issuedAt = claims.Iat is { } iat ? DateTimeOffset.FromUnixTimeSeconds(iat) : null;
        if (issuedAt > now + _options.ClockSkew)
        {
            throw Fail(ServiceJwtError.BadJwt, "iat is in the future");
        }
        if (expires - (issuedAt ?? now) > _options.MaxLifetime || expires - now > _options.MaxLifetime + _options.ClockSkew)
        {
            throw Fail(ServiceJwtError.BadJwt, "token lifetime is too long");
        }
        if (claims.Aud is null || !expectations.Audiences.Contains(claims.Aud))
        {
            throw Fail(ServiceJwtError.BadJwtAudience, "token is not for this service");
        }
        if (expectations.Lxm is not null)
        {
            if (claims.Lxm is null ? expectations.RequireLxm : claims.Lxm != expectations.Lxm)
            {
                throw Fail(ServiceJwtError.BadJwtLexiconMethod, claims.Lxm is null ? "lxm is required" : "token is for another method");
            }
        }
        if (string.IsNullOrEmpty(claims.Jti) || claims.Jti.Length > 256)
        {
            throw Fail(ServiceJwtError.BadJwt, "jti is required");
        }

        var signature = DecodeSegment(parts[2], "signature");
        var signedBytes = Encoding.ASCII.GetBytes(token.AsSpan(0, parts[0].Length + 1 + parts[1].Length).ToString());
        var verified = alg == "HS256"
            ? System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Security.Cryptography.HMACSHA256.HashData(_options.DevelopmentHmacSecret!, signedBytes), signature)
            : await VerifySignatureAsync(claims.IssuerDid, alg, signedBytes, signature, ct).ConfigureAwait(false);
        if (!verified)
        {
            throw Fail(ServiceJwtError.BadJwtSignature, "signature does not verify with the issuer's key");
        }
        if (!await replayStore.TryRecordAsync(claims.IssuerDid, claims.Jti, expires, ct).ConfigureAwait(false))
        {
            throw Fail(ServiceJwtError.ReplayedToken, "token was already used");
        }
        return new VerifiedServiceJwt(claims.Iss, claims.IssuerDid, claims.Aud, claims.Lxm, claims.Jti, expires, issuedAt, alg);
    }

    private async Task<bool> VerifySignatureAsync(string did, string alg, byte[] signed, byte[] signature, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            AtprotoPublicKey key;
            try
            {
                key = await resolver.ResolveSigningKeyAsync(did, forceRefresh: attempt > 0, ct).ConfigureAwait(false);
            }
            catch (DidResolutionException e)
            {
                throw Fail(ServiceJwtError.BadJwtIssuer, "could not resolve the issuer's signing key", e);
            }
            if (key.JwtAlgorithm == alg && key.Verify(signed, signature))
            {
                return true;
            }
        }
        return false;
    }

    private static (string? Alg, string? Typ) ReadHeader(string segment)
    {
        var json = DecodeSegment(segment, "header");
        try
        {
            var reader = new Utf8JsonReader(json);
            string? alg = null, typ = null;
            ReadObject(ref reader, (string name, ref Utf8JsonReader r) =>
            {
                switch (name)
                {
                    case "alg": alg = ReadString(ref r, "alg"); break;
                    case "typ": typ = ReadString(ref r, "typ"); break;
                    default: r.Skip(); break;
                }
            });
            return (alg, typ);
        }
        catch (JsonException e)
        {
            throw Fail(ServiceJwtError.BadJwt, "header is not a JSON object", e);
        }
    }

    private static Claims ReadClaims(string segment)
    {
        var json = DecodeSegment(segment, "payload");
        var claims = new Claims();
        try
        {
            var reader = new Utf8JsonReader(json);
            ReadObject(ref reader, (string name, ref Utf8JsonReader r) =>
            {
                switch (name)
                {
                    case "iss": claims.Iss = ReadString(ref r, name); break;
                    case "aud": claims.Aud = ReadString(ref r, name); break;
                    case "lxm": claims.Lxm = ReadString(ref r, name); break;
                    case "jti": claims.Jti = ReadString(ref r, name); break;
                    case "exp": claims.Exp = ReadSeconds(ref r, name); break;
                    case "iat": claims.Iat = ReadSeconds(ref r, name); break;
                    default: r.Skip(); break;
                }
            });
        }
        catch (JsonException e)
        {
            throw Fail(ServiceJwtError.BadJwt, "payload is not a JSON object", e);
        }
        if (claims.Iss is { } iss)
        {
            var hash = iss.IndexOf('#', StringComparison.Ordinal);
            claims.IssuerDid = hash < 0 ? iss : iss[..hash];
        }
        return claims;
    }

    private delegate void PropertyReader(string name, ref Utf8JsonReader reader);

    private static void ReadObject(ref Utf8JsonReader reader, PropertyReader onProperty)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected an object");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            if (!seen.Add(name))
            {
                throw new JsonException($"duplicate property {name}");
            }
            reader.Read();
            onProperty(name, ref reader);
        }
        if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
        {
            throw new JsonException("trailing data after the object");
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, string name) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"{name} must be a string");

    private static long ReadSeconds(ref Utf8JsonReader reader, string name) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var value) && value is > 0 and < 253402300799
            ? value
            : throw new JsonException($"{name} must be an integer number of seconds");

    private static byte[] DecodeSegment(string segment, string what)
    {
        if (segment.Length == 0 || segment.Contains('=') || segment.Contains('+') || segment.Contains('/')
            || !Base64UrlText.TryDecode(segment, out var bytes))
        {
            throw Fail(ServiceJwtError.BadJwt, $"{what} is not base64url");
        }
        return bytes;
    }

    private static ServiceJwtException Fail(ServiceJwtError error, string message, Exception? inner = null) => new(error, message, inner);

    private sealed class Claims
    {
        public string? Iss { get; set; }

        public string? IssuerDid { get; set; }

        public string? Aud { get; set; }

        public string? Lxm { get; set; }

        public string? Jti { get; set; }

        public long? Exp { get; set; }

        public long? Iat { get; set; }
    }
}
