using System.Security.Cryptography;
using Catbird.Identity.Crypto;
using Catbird.Identity.Did;
using Catbird.Identity.Jwt;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Auth;

/// <summary>
/// ATProto inter-service JWT callers, verified by the shared Catbird.Identity verifier: <c>aud</c> must be
/// <c>SERVICE_DID</c> (or <c>SERVICE_DID#atproto_kas</c>), <c>lxm</c> is not required (KAS routes are not XRPC
/// methods), <c>jti</c> is single-use. The entity is the issuer DID, and its DID signing key is the client key the
/// signed request token must be signed with (ES256 or ES256K).
/// </summary>
public sealed class AtprotoServiceTokenValidator(ServiceJwtVerifier verifier, IDidKeyResolver keys, IOptions<KasOptions> options) : IAtprotoServiceTokenValidator
{
    private readonly string[] _audiences = [options.Value.ServiceDid!, options.Value.ServiceDid + "#atproto_kas"];

    /// <inheritdoc />
    public async Task<KasEntity> ValidateAsync(string token, CancellationToken ct)
    {
        VerifiedServiceJwt verified;
        AtprotoPublicKey key;
        try
        {
            verified = await verifier.VerifyAsync(token, new ServiceJwtExpectations(_audiences, Lxm: null, RequireLxm: false), ct);
            key = await keys.ResolveSigningKeyAsync(verified.IssuerDid, forceRefresh: false, ct);
        }
        catch (ServiceJwtException error)
        {
            throw new BearerTokenException($"service JWT refused ({error.ErrorName}): {error.Message}");
        }
        catch (DidResolutionException error)
        {
            throw new BearerTokenException("issuer DID could not be resolved: " + error.Message);
        }

        return new KasEntity(verified.IssuerDid, "atproto", [verified.IssuerDid, verified.Issuer], [], SigningKeyPem(key), null, token);
    }

    private static string SigningKeyPem(AtprotoPublicKey key)
    {
        var point = key.Uncompressed;
        var size = (point.Length - 1) / 2;
        using var ecdsa = ECDsa.Create(new ECParameters
        {
            Curve = key.Curve == AtprotoCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromValue("1.3.132.0.10"),
            Q = new ECPoint { X = point[1..(1 + size)], Y = point[(1 + size)..] },
        });
        return ecdsa.ExportSubjectPublicKeyInfoPem();
    }
}
