using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Catbird.Kas.Api.Rewrap;

namespace Catbird.Kas.Api.Auth;

/// <summary>A compact JWS split into its parts, with signature checks for the algorithms the KAS accepts from clients.</summary>
public sealed class Jws
{
    private Jws(JoseHeader header, byte[] payload, byte[] signingInput, byte[] signature)
    {
        Header = header;
        Payload = payload;
        SigningInput = signingInput;
        Signature = signature;
    }

    /// <summary>The protected header.</summary>
    public JoseHeader Header { get; }

    /// <summary>Decoded payload bytes.</summary>
    public byte[] Payload { get; }

    /// <summary>ASCII of <c>header.payload</c>.</summary>
    public byte[] SigningInput { get; }

    /// <summary>Decoded signature.</summary>
    public byte[] Signature { get; }

    /// <summary>Splits and decodes a compact JWS; null when malformed.</summary>
    public static Jws? Parse(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3 || token.Length > 1 << 20)
        {
            return null;
        }

        try
        {
            var header = JsonSerializer.Deserialize(Base64UrlDecode(parts[0]), KasJsonContext.Default.JoseHeader);
            if (header is null)
            {
                return null;
            }

            return new Jws(header, Base64UrlDecode(parts[1]), Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), Base64UrlDecode(parts[2]));
        }
        catch (Exception error) when (error is FormatException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Deserializes the payload; null when it is not the expected JSON.</summary>
    public T? PayloadAs<T>(JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(Payload, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The payload as a JSON element; default (undefined) when it is not JSON.</summary>
    public JsonElement PayloadElement()
    {
        try
        {
            return JsonSerializer.Deserialize(Payload, KasJsonContext.Default.JsonElement);
        }
        catch (JsonException)
        {
            return default;
        }
    }

    /// <summary>
    /// Verifies the signature with an EC or RSA public key. Only asymmetric algorithms that match the key are
    /// allowed; <c>none</c> and HMAC never verify.
    /// </summary>
    public bool VerifyWith(AsymmetricAlgorithm key)
    {
        var alg = Header.Alg ?? "";
        try
        {
            return (key, alg) switch
            {
                (ECDsa ec, "ES256") when CurveOf(ec) == NanoTdf.NanoTdfCurve.Secp256r1 => ec.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA256),
                (ECDsa ec, "ES256K") when CurveOf(ec) == NanoTdf.NanoTdfCurve.Secp256k1 => ec.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA256),
                (ECDsa ec, "ES384") when CurveOf(ec) == NanoTdf.NanoTdfCurve.Secp384r1 => ec.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA384),
                (ECDsa ec, "ES512") when CurveOf(ec) == NanoTdf.NanoTdfCurve.Secp521r1 => ec.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA512),
                (RSA rsa, "RS256") => rsa.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
                (RSA rsa, "RS384") => rsa.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
                (RSA rsa, "RS512") => rsa.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
                (RSA rsa, "PS256") => rsa.VerifyData(SigningInput, Signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
                _ => false,
            };
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static NanoTdf.NanoTdfCurve? CurveOf(ECDsa key) =>
        NanoTdf.EcCurveInfo.ForDotNetCurve(key.ExportParameters(false).Curve)?.Curve;

    /// <summary>Imports a public key from PEM (SPKI, or a certificate), or from base64 of such PEM; null when it is neither.</summary>
    public static AsymmetricAlgorithm? ImportPublicKeyPem(string text)
    {
        var pem = text.Contains("-----BEGIN", StringComparison.Ordinal) ? text : TryBase64Text(text);
        if (pem is null)
        {
            return null;
        }

        if (pem.Contains("BEGIN CERTIFICATE", StringComparison.Ordinal))
        {
            try
            {
                using var certificate = X509Certificate2.CreateFromPem(pem);
                return (AsymmetricAlgorithm?)certificate.GetECDsaPublicKey() ?? certificate.GetRSAPublicKey();
            }
            catch (CryptographicException)
            {
                return null;
            }
        }

        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            return ec;
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            ec.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return rsa;
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            return null;
        }
    }

    /// <summary>Imports a public JWK (EC P-256/384/521 or RSA); null when unusable.</summary>
    public static AsymmetricAlgorithm? ImportJwk(JsonElement jwk)
    {
        try
        {
            var kty = jwk.GetProperty("kty").GetString();
            if (kty == "EC")
            {
                var curve = jwk.GetProperty("crv").GetString() switch
                {
                    "P-256" => ECCurve.NamedCurves.nistP256,
                    "P-384" => ECCurve.NamedCurves.nistP384,
                    "P-521" => ECCurve.NamedCurves.nistP521,
                    _ => (ECCurve?)null,
                };
                if (curve is null || jwk.TryGetProperty("d", out _))
                {
                    return null;
                }

                return ECDsa.Create(new ECParameters
                {
                    Curve = curve.Value,
                    Q = new ECPoint
                    {
                        X = Base64UrlDecode(jwk.GetProperty("x").GetString()!),
                        Y = Base64UrlDecode(jwk.GetProperty("y").GetString()!),
                    },
                });
            }

            if (kty == "RSA" && !jwk.TryGetProperty("d", out _))
            {
                var rsa = RSA.Create();
                rsa.ImportParameters(new RSAParameters
                {
                    Modulus = Base64UrlDecode(jwk.GetProperty("n").GetString()!),
                    Exponent = Base64UrlDecode(jwk.GetProperty("e").GetString()!),
                });
                return rsa;
            }
        }
        catch (Exception error) when (error is KeyNotFoundException or InvalidOperationException or FormatException or CryptographicException)
        {
        }

        return null;
    }

    /// <summary>RFC 7638 thumbprint (base64url SHA-256 over the required members in lexicographic order).</summary>
    public static string? Thumbprint(JsonElement jwk)
    {
        try
        {
            var kty = jwk.GetProperty("kty").GetString();
            string canonical = kty switch
            {
                "EC" => $$"""{"crv":"{{jwk.GetProperty("crv").GetString()}}","kty":"EC","x":"{{jwk.GetProperty("x").GetString()}}","y":"{{jwk.GetProperty("y").GetString()}}"}""",
                "RSA" => $$"""{"e":"{{jwk.GetProperty("e").GetString()}}","kty":"RSA","n":"{{jwk.GetProperty("n").GetString()}}"}""",
                _ => throw new InvalidOperationException(),
            };
            return Base64UrlEncode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
        }
        catch (Exception error) when (error is KeyNotFoundException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Base64url without padding.</summary>
    public static string Base64UrlEncode(ReadOnlySpan<byte> data) =>
        Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Base64url (padding optional).</summary>
    public static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = (s.Length % 4) switch { 2 => s + "==", 3 => s + "=", 1 => throw new FormatException("bad base64url"), _ => s };
        return Convert.FromBase64String(s);
    }

    private static string? TryBase64Text(string text)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(text.Trim()));
            return decoded.Contains("-----BEGIN", StringComparison.Ordinal) ? decoded : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
