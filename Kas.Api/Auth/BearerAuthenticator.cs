namespace Catbird.Kas.Api.Auth;

/// <summary>
/// Authenticates the caller of a KAS request from <c>Authorization: Bearer …</c> (or <c>DPoP …</c>): OIDC access
/// tokens against the configured issuer keys; ATProto service JWTs when an ATProto verifier is registered.
/// </summary>
public sealed class BearerAuthenticator(OidcTokenValidator oidc, ILogger<BearerAuthenticator> logger, IAtprotoServiceTokenValidator? atproto = null)
{
    /// <summary>Authenticates; throws <see cref="BearerTokenException"/> with the reason when the caller is not authenticated.</summary>
    public async Task<KasEntity> AuthenticateAsync(string? authorization, CancellationToken ct)
    {
        var token = TokenFrom(authorization) ?? throw Refuse("missing bearer token");
        var jws = Jws.Parse(token) ?? throw Refuse("bearer token is not a JWS");
        try
        {
            if (atproto is not null && IsAtproto(jws))
            {
                return await atproto.ValidateAsync(token, ct);
            }

            return await oidc.ValidateAsync(token, ct);
        }
        catch (BearerTokenException error)
        {
            throw Refuse(error.Message);
        }
    }

    /// <summary>The token of a <c>Bearer</c> or <c>DPoP</c> authorization header, or null.</summary>
    public static string? TokenFrom(string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization))
        {
            return null;
        }

        var space = authorization.IndexOf(' ', StringComparison.Ordinal);
        if (space < 0)
        {
            return null;
        }

        var scheme = authorization[..space];
        return scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase) || scheme.Equals("DPoP", StringComparison.OrdinalIgnoreCase)
            ? authorization[(space + 1)..].Trim()
            : null;
    }

    private static bool IsAtproto(Jws jws)
    {
        if (jws.Header.Alg == "ES256K")
        {
            return true;
        }

        var claims = jws.PayloadElement();
        // OIDC issuers are URLs; an issuer that is a DID means an AT Protocol service token.
        return claims.ValueKind == System.Text.Json.JsonValueKind.Object && claims.TryGetProperty("iss", out var iss)
            && iss.ValueKind == System.Text.Json.JsonValueKind.String && iss.GetString()!.StartsWith("did:", StringComparison.Ordinal);
    }

    private BearerTokenException Refuse(string reason)
    {
        KasLog.BearerRefused(logger, reason);
        return new BearerTokenException(reason);
    }
}

/// <summary>Validates ATProto inter-service JWTs (implemented over the shared Catbird.Identity verifier).</summary>
public interface IAtprotoServiceTokenValidator
{
    /// <summary>Validates the token and returns its entity (subject = the issuer DID).</summary>
    Task<KasEntity> ValidateAsync(string token, CancellationToken ct);
}
