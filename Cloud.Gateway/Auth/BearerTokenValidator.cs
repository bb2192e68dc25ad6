using System.Buffers.Text;
using System.Text;
using System.Text.Json;

namespace Catbird.Cloud.Gateway.Auth;

/// <summary>What the validator requires of a token besides a good signature.</summary>
public sealed record TokenRules
{
    /// <summary>Required <c>iss</c>, when set (<c>AUTH_ISSUER</c>).</summary>
    public string? Issuer { get; init; }

    /// <summary>Required <c>aud</c> (a string or one member of an array), when set (<c>AUTH_AUDIENCE</c>).</summary>
    public string? Audience { get; init; }

    /// <summary>Clock skew tolerated on <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>A verified token's subject and claims.</summary>
public sealed record VerifiedToken(string Subject, JsonElement Claims);

/// <summary>
/// Verifies a compact JWS bearer token: the header's <c>alg</c> must be EdDSA, ES256 or RS256 and its <c>kid</c> must select a
/// key of that type (so <c>alg: none</c> and HS256 are refused outright); <c>exp</c> is required; <c>nbf</c>, <c>iss</c> and
/// <c>aud</c> are checked as <see cref="TokenRules"/> say.
/// </summary>
public sealed class BearerTokenValidator(JwksProvider keys, TokenRules rules, TimeProvider time)
{
    private const int MaxTokenLength = 16 * 1024;

    /// <summary>Returns the verified token, or null with the reason in <paramref name="error"/>.</summary>
    public async ValueTask<(VerifiedToken? Token, string? Error)> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > MaxTokenLength)
        {
            return (null, "token too long");
        }
        var parts = token.Split('.');
        if (parts.Length != 3 || parts[2].Length == 0)
        {
            return (null, "not a signed JWT");
        }
        if (!TryDecodeJson(parts[0], out var header) || !TryDecodeJson(parts[1], out var claims))
        {
            return (null, "malformed token");
        }
        var alg = String(header, "alg");
        if (alg is not ("EdDSA" or "ES256" or "RS256"))
        {
            return (null, "algorithm not accepted");
        }
        if (String(header, "kid") is not { Length: > 0 } kid)
        {
            return (null, "no kid");
        }
        byte[] signature;
        try
        {
            signature = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return (null, "malformed signature");
        }
        var keySet = await keys.GetKeysForAsync(kid, cancellationToken).ConfigureAwait(false);
        if (!keySet.Contains(kid))
        {
            return (null, "unknown kid");
        }
        var signed = Encoding.ASCII.GetBytes(token, 0, parts[0].Length + 1 + parts[1].Length);
        if (!keySet.Verify(kid, alg, signed, signature))
        {
            return (null, "bad signature");
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var skew = (long)rules.ClockSkew.TotalSeconds;
        if (Number(claims, "exp") is not { } exp)
        {
            return (null, "exp missing");
        }
        if (now > exp + skew)
        {
            return (null, "expired");
        }
        if (Number(claims, "nbf") is { } nbf && now + skew < nbf)
        {
            return (null, "not yet valid");
        }
        if (rules.Issuer is { } issuer && String(claims, "iss") != issuer)
        {
            return (null, "wrong issuer");
        }
        if (rules.Audience is { } audience && !HasAudience(claims, audience))
        {
            return (null, "wrong audience");
        }
        if (String(claims, "sub") is not { Length: > 0 } subject)
        {
            return (null, "sub missing");
        }
        return (new VerifiedToken(subject, claims), null);
    }

    private static bool TryDecodeJson(string part, out JsonElement element)
    {
        element = default;
        try
        {
            using var document = JsonDocument.Parse(Base64Url.DecodeFromChars(part));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            element = document.RootElement.Clone();
            return true;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return false;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;

    private static bool HasAudience(JsonElement claims, string audience)
    {
        if (!claims.TryGetProperty("aud", out var aud))
        {
            return false;
        }
        return aud.ValueKind switch
        {
            JsonValueKind.String => aud.GetString() == audience,
            JsonValueKind.Array => aud.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && a.GetString() == audience),
            _ => false,
        };
    }
}
