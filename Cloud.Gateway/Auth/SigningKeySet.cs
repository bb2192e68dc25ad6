using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text.Json;
using System.Buffers.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Catbird.Cloud.Gateway.Auth;

/// <summary>
/// The identity provider's public signing keys by <c>kid</c>, parsed from a JWKS: Ed25519 (<c>kty: OKP</c>, EdDSA),
/// P-256 (<c>kty: EC</c>, ES256) and RSA (RS256). Keys of other types or curves are skipped. Each key verifies only the one
/// algorithm its type implies, so <c>alg: none</c> and HS256 keyed with a public key have nothing to verify against.
/// </summary>
public sealed class SigningKeySet
{
    private readonly FrozenDictionary<string, SigningKey> _keys;

    private SigningKeySet(FrozenDictionary<string, SigningKey> keys) => _keys = keys;

    /// <summary>An empty set (before the first successful fetch).</summary>
    public static SigningKeySet Empty { get; } = new(FrozenDictionary<string, SigningKey>.Empty);

    /// <summary>How many usable keys the set holds.</summary>
    public int Count => _keys.Count;

    /// <summary>Whether a key with this <c>kid</c> is present.</summary>
    public bool Contains(string kid) => _keys.ContainsKey(kid);

    /// <summary>Parses a JWKS document; throws <see cref="FormatException"/> when it is not one.</summary>
    public static SigningKeySet Parse(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        if (!document.RootElement.TryGetProperty("keys", out var keys) || keys.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException("A JWKS needs a \"keys\" array.");
        }
        var parsed = new Dictionary<string, SigningKey>(StringComparer.Ordinal);
        foreach (var key in keys.EnumerateArray())
        {
            if (key.ValueKind != JsonValueKind.Object || Text(key, "kid") is not { Length: > 0 } kid
                || (Text(key, "use") is { } use && use != "sig"))
            {
                continue;
            }
            var signingKey = (Text(key, "kty"), Text(key, "crv")) switch
            {
                ("OKP", "Ed25519") => Ed25519Key(key),
                ("EC", "P-256") => EcKey(key),
                ("RSA", _) => RsaKey(key),
                _ => null,
            };
            // A key that names an algorithm must name the one its type implies.
            if (signingKey is not null && (Text(key, "alg") is not { } alg || alg == signingKey.Algorithm))
            {
                parsed[kid] = signingKey;
            }
        }
        return new SigningKeySet(parsed.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>Verifies <paramref name="signature"/> over <paramref name="signedPart"/> with key <paramref name="kid"/>,
    /// which must be a key for <paramref name="algorithm"/>.</summary>
    public bool Verify(string kid, string algorithm, ReadOnlySpan<byte> signedPart, ReadOnlySpan<byte> signature) =>
        _keys.TryGetValue(kid, out var key) && key.Algorithm == algorithm && key.Verify(signedPart, signature);

    private static string? Text(JsonElement key, string name) =>
        key.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static byte[] Bytes(JsonElement key, string name) =>
        Text(key, name) is { } text ? Base64Url.DecodeFromChars(text) : throw new FormatException($"JWK member {name} missing.");

    private static SigningKey? Ed25519Key(JsonElement key)
    {
        var x = Bytes(key, "x");
        return x.Length == 32 ? new SigningKey("EdDSA", (data, signature) =>
        {
            if (signature.Length != 64)
            {
                return false;
            }
            var verifier = new Ed25519Signer();
            verifier.Init(false, new Ed25519PublicKeyParameters(x, 0));
            verifier.BlockUpdate(data.ToArray(), 0, data.Length);
            return verifier.VerifySignature(signature.ToArray());
        }) : null;
    }

    private static SigningKey? EcKey(JsonElement key)
    {
        var (x, y) = (Bytes(key, "x"), Bytes(key, "y"));
        if (x.Length != 32 || y.Length != 32)
        {
            return null;
        }
        var ecdsa = ECDsa.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = new ECPoint { X = x, Y = y } });
        return new SigningKey("ES256", (data, signature) =>
            signature.Length == 64 && ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256));
    }

    private static SigningKey? RsaKey(JsonElement key)
    {
        var n = Bytes(key, "n");
        if (n.Length < 256)
        {
            return null; // below 2048 bits
        }
        var rsa = RSA.Create(new RSAParameters { Modulus = n, Exponent = Bytes(key, "e") });
        return new SigningKey("RS256", (data, signature) =>
            rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
    }

    private delegate bool VerifySignature(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature);

    private sealed record SigningKey(string Algorithm, VerifySignature Verify);
}
