using System.Security.Cryptography;
using System.Text;
using Catbird.Kas.Api.Rewrap;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Auth;

/// <summary>Why a signed request token (or DPoP proof) was refused: always a 401.</summary>
public sealed class RequestTokenException(string message) : Exception(message);

/// <summary>
/// Verifies the signed request token of a rewrap with the client's own key as bound to the bearer token: the key in
/// the token's client-signing-key claim, or the DPoP proof key (which must match <c>cnf.jkt</c> when the token is
/// DPoP-bound). <c>alg: none</c>, HMAC, unbound tokens and bad signatures are refused.
/// </summary>
public sealed class SignedRequestTokenVerifier(IOptions<KasOptions> options, TimeProvider time)
{
    private readonly TimeSpan _skew = TimeSpan.FromSeconds(options.Value.ClockSkewSeconds);

    /// <summary>Verifies and returns the claims; throws <see cref="RequestTokenException"/>.</summary>
    public SignedRequestClaims Verify(string signedRequestToken, KasEntity entity, string? dpopProof, string method, string requestPath)
    {
        var jws = Jws.Parse(signedRequestToken) ?? throw new RequestTokenException("could not parse token");
        if (string.IsNullOrEmpty(jws.Header.Alg) || jws.Header.Alg.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            throw new RequestTokenException("unsigned request tokens (alg none) are refused");
        }

        var keys = new List<AsymmetricAlgorithm>();
        try
        {
            if (!string.IsNullOrEmpty(dpopProof))
            {
                keys.Add(VerifyDpopProof(dpopProof, entity, method, requestPath));
            }
            else if (entity.ConfirmationThumbprint is not null)
            {
                throw new RequestTokenException("the access token is DPoP-bound but no DPoP proof was sent");
            }

            if (entity.ClientSigningKeyPem is not null)
            {
                keys.Add(Jws.ImportPublicKeyPem(entity.ClientSigningKeyPem)
                         ?? throw new RequestTokenException("the token's client signing key is not a PEM public key"));
            }

            if (keys.Count == 0)
            {
                throw new RequestTokenException("the request token is not bound to a client key (no DPoP proof, no client signing key claim)");
            }

            if (!keys.Any(jws.VerifyWith))
            {
                throw new RequestTokenException("unable to verify request token");
            }
        }
        finally
        {
            foreach (var key in keys)
            {
                key.Dispose();
            }
        }

        var claims = jws.PayloadAs(KasJsonContext.Default.SignedRequestClaims) ?? throw new RequestTokenException("request token claims are not JSON");
        var now = time.GetUtcNow();
        if (claims.Expires is { } exp && DateTimeOffset.FromUnixTimeSeconds(exp) < now - _skew)
        {
            throw new RequestTokenException("request token expired");
        }

        if (claims.NotBefore is { } nbf && DateTimeOffset.FromUnixTimeSeconds(nbf) > now + _skew)
        {
            throw new RequestTokenException("request token not yet valid");
        }

        if (claims.IssuedAt is { } iat && DateTimeOffset.FromUnixTimeSeconds(iat) > now + _skew)
        {
            throw new RequestTokenException("request token issued in the future");
        }

        if (claims.Expires is null && claims.IssuedAt is null)
        {
            throw new RequestTokenException("request token has neither iat nor exp");
        }

        if (string.IsNullOrEmpty(claims.RequestBody))
        {
            throw new RequestTokenException("request token has no requestBody");
        }

        return claims;
    }

    private AsymmetricAlgorithm VerifyDpopProof(string proof, KasEntity entity, string method, string requestPath)
    {
        var jws = Jws.Parse(proof) ?? throw new RequestTokenException("could not parse DPoP proof");
        if (!string.Equals(jws.Header.Typ, "dpop+jwt", StringComparison.OrdinalIgnoreCase) || jws.Header.Jwk is not { } jwk)
        {
            throw new RequestTokenException("DPoP proof must have typ dpop+jwt and a jwk");
        }

        var key = Jws.ImportJwk(jwk) ?? throw new RequestTokenException("DPoP proof jwk is not a usable public key");
        try
        {
            if (!jws.VerifyWith(key))
            {
                throw new RequestTokenException("DPoP proof signature does not verify");
            }

            if (entity.ConfirmationThumbprint is { } jkt && !string.Equals(Jws.Thumbprint(jwk), jkt, StringComparison.Ordinal))
            {
                throw new RequestTokenException("DPoP key does not match the access token's cnf.jkt");
            }

            var claims = jws.PayloadAs(KasJsonContext.Default.DpopClaims) ?? throw new RequestTokenException("DPoP claims are not JSON");
            if (!string.Equals(claims.Htm, method, StringComparison.OrdinalIgnoreCase))
            {
                throw new RequestTokenException("DPoP htm does not match the request method");
            }

            if (claims.Htu is null || !Uri.TryCreate(claims.Htu, UriKind.Absolute, out var htu)
                                   || !string.Equals(htu.AbsolutePath.TrimEnd('/'), requestPath.TrimEnd('/'), StringComparison.Ordinal))
            {
                throw new RequestTokenException("DPoP htu does not match the request path");
            }

            if (claims.IssuedAt is not { } iat || Math.Abs((time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(iat)).TotalSeconds) > _skew.TotalSeconds)
            {
                throw new RequestTokenException("DPoP proof iat is missing or outside the allowed clock skew");
            }

            if (claims.Ath is { } ath)
            {
                var expected = Jws.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(entity.AccessToken)));
                if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(ath), Encoding.ASCII.GetBytes(expected)))
                {
                    throw new RequestTokenException("DPoP ath does not match the access token");
                }
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }
}
