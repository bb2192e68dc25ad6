using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Catbird.Kas.Api.NanoTdf;

namespace Catbird.Kas.Api.Keys;

/// <summary>
/// One KAS key pair with its key id: an EC key (NanoTDF, by curve) or an RSA key (TDF3). Holds the public forms
/// the endpoints serve: SPKI PEM, a self-signed X.509 certificate PEM (what <c>@opentdf/client</c> 1.x imports) and a JWK.
/// </summary>
public sealed class KasKey : IDisposable
{
    private KasKey(string kid, string algorithm, ECDiffieHellman? ec, EcCurveInfo? curve, RSA? rsa)
    {
        Kid = kid;
        Algorithm = algorithm;
        Ec = ec;
        Curve = curve;
        Rsa = rsa;
        var spki = ec is not null ? ec.ExportSubjectPublicKeyInfo() : rsa!.ExportSubjectPublicKeyInfo();
        PublicKeyPem = PemEncoding.WriteString("PUBLIC KEY", spki) + "\n";
        CompressedPublicKey = ec is not null ? curve!.Compress(ec.ExportParameters(false).Q) : [];
        CertificatePem = CreateCertificate();
        Jwk = CreateJwk();
    }

    /// <summary>The key id (NanoTDF locator identifier, <c>kid</c> in responses).</summary>
    public string Kid { get; }

    /// <summary>OpenTDF algorithm name: <c>ec:secp256r1</c>, <c>ec:secp384r1</c>, <c>ec:secp521r1</c>, <c>rsa:2048</c>…</summary>
    public string Algorithm { get; }

    /// <summary>The EC private key, when this is an EC key.</summary>
    public ECDiffieHellman? Ec { get; }

    /// <summary>The curve of an EC key.</summary>
    public EcCurveInfo? Curve { get; }

    /// <summary>The RSA private key, when this is an RSA key.</summary>
    public RSA? Rsa { get; }

    /// <summary>SubjectPublicKeyInfo PEM.</summary>
    public string PublicKeyPem { get; }

    /// <summary>Compressed SEC1 public point of an EC key (empty for RSA).</summary>
    public byte[] CompressedPublicKey { get; }

    /// <summary>A self-signed certificate over the key, PEM (empty when the platform cannot sign with the curve).</summary>
    public string CertificatePem { get; }

    /// <summary>The public key as a JWK.</summary>
    public KasJwk Jwk { get; }

    /// <summary>Makes a key from a private-key PEM: SEC1 <c>EC PRIVATE KEY</c>, PKCS#8 <c>PRIVATE KEY</c> (EC or RSA) or PKCS#1 <c>RSA PRIVATE KEY</c>.</summary>
    /// <param name="pem">The PEM text; the first private key in it is used.</param>
    /// <param name="kid">The key id, or null to derive one from the public key.</param>
    /// <param name="source">Where the PEM came from, for error messages.</param>
    public static KasKey FromPem(string pem, string? kid, string source)
    {
        if (pem.Contains("ENCRYPTED PRIVATE KEY", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{source}: encrypted PEM private keys are not supported; use an unencrypted key or KMS.");
        }

        var ec = ECDiffieHellman.Create();
        try
        {
            ec.ImportFromPem(pem);
            var curve = EcCurveInfo.ForDotNetCurve(ec.ExportParameters(false).Curve)
                        ?? throw new InvalidOperationException($"{source}: the EC key's curve is not one NanoTDF supports.");
            return new KasKey(kid ?? DeriveKid(ec.ExportSubjectPublicKeyInfo()), curve.Algorithm, ec, curve, null);
        }
        catch (Exception ecError) when (ecError is CryptographicException or ArgumentException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            if (rsa.KeySize < 2048)
            {
                throw new InvalidOperationException($"{source}: RSA keys shorter than 2048 bits are refused.");
            }

            return new KasKey(kid ?? DeriveKid(rsa.ExportSubjectPublicKeyInfo()), $"rsa:{rsa.KeySize}", null, null, rsa);
        }
        catch (Exception rsaError) when (rsaError is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new InvalidOperationException(
                $"{source}: no EC or RSA private key found (expected PEM 'EC PRIVATE KEY', 'PRIVATE KEY' or 'RSA PRIVATE KEY').");
        }
    }

    /// <summary>Wraps an existing EC key (takes ownership).</summary>
    public static KasKey FromEc(ECDiffieHellman ec, string? kid)
    {
        var curve = EcCurveInfo.ForDotNetCurve(ec.ExportParameters(false).Curve)
                    ?? throw new InvalidOperationException("The EC key's curve is not one NanoTDF supports.");
        return new KasKey(kid ?? DeriveKid(ec.ExportSubjectPublicKeyInfo()), curve.Algorithm, ec, curve, null);
    }

    /// <summary>A stable key id from the public key: 8 hex digits of SHA-256(SPKI), fitting the 8-byte locator identifier.</summary>
    public static string DeriveKid(ReadOnlySpan<byte> spki) => Convert.ToHexStringLower(SHA256.HashData(spki))[..8];

    /// <inheritdoc />
    public void Dispose()
    {
        Ec?.Dispose();
        Rsa?.Dispose();
    }

    private string CreateCertificate()
    {
        var now = DateTimeOffset.UtcNow;
        var subject = $"CN=Catbird KAS {Kid}";
        try
        {
            if (Ec is not null)
            {
                using var signer = ECDsa.Create(Ec.ExportParameters(true));
                var request = new CertificateRequest(subject, signer, HashAlgorithmName.SHA256);
                using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
                return certificate.ExportCertificatePem() + "\n";
            }

            var rsaRequest = new CertificateRequest(subject, Rsa!, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var rsaCertificate = rsaRequest.CreateSelfSigned(now.AddDays(-1), now.AddYears(1));
            return rsaCertificate.ExportCertificatePem() + "\n";
        }
        catch (CryptographicException)
        {
            return string.Empty;
        }
    }

    private KasJwk CreateJwk()
    {
        if (Ec is not null)
        {
            var q = Ec.ExportParameters(false).Q;
            var crv = Curve!.Curve switch
            {
                NanoTdfCurve.Secp256r1 => "P-256",
                NanoTdfCurve.Secp384r1 => "P-384",
                NanoTdfCurve.Secp521r1 => "P-521",
                _ => "secp256k1",
            };
            return new KasJwk("EC", Kid, "ECDH-ES", crv, Base64Url(q.X!), Base64Url(q.Y!), null, null);
        }

        var parameters = Rsa!.ExportParameters(false);
        return new KasJwk("RSA", Kid, "RSA-OAEP", null, null, null, Base64Url(parameters.Modulus!), Base64Url(parameters.Exponent!));
    }

    private static string Base64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A public JWK (RFC 7517) of a KAS key.</summary>
public sealed record KasJwk(string Kty, string Kid, string Alg, string? Crv, string? X, string? Y, string? N, string? E);
