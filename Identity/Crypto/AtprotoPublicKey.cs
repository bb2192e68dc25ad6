using System.Security.Cryptography;

namespace Catbird.Identity.Crypto;

/// <summary>
/// An AT Protocol signing public key (P-256 or secp256k1), parsed from Multikey / did:key, the legacy multibase form
/// or a JWK, with the verification rule the protocol requires: SHA-256, ECDSA, 64-byte r‖s, low-S only.
/// </summary>
/// <remarks>
/// Low-S choice: the AT Protocol cryptography spec requires low-S signatures on both curves and the interop fixtures
/// mark high-S as invalid, so high-S signatures are refused (the reference TypeScript verifier is laxer for JWTs;
/// keys made by @atproto/crypto always produce low-S, so real tokens are unaffected). DER signatures are refused.
/// </remarks>
public sealed class AtprotoPublicKey
{
    private const byte MulticodecSecp256k1First = 0xE7, MulticodecSecp256k1Second = 0x01;
    private const byte MulticodecP256First = 0x80, MulticodecP256Second = 0x24;

    private AtprotoPublicKey(AtprotoCurve curve, byte[] uncompressed)
    {
        Curve = curve;
        Uncompressed = uncompressed;
    }

    /// <summary>The curve.</summary>
    public AtprotoCurve Curve { get; }

    /// <summary>The JWT alg that signs with this key: ES256 or ES256K.</summary>
    public string JwtAlgorithm => Curve == AtprotoCurve.P256 ? "ES256" : "ES256K";

    /// <summary>The 65-byte uncompressed SEC1 point.</summary>
    public byte[] Uncompressed { get; }

    /// <summary>The 33-byte compressed SEC1 point.</summary>
    public byte[] Compressed
    {
        get
        {
            var compressed = new byte[33];
            compressed[0] = (byte)((Uncompressed[64] & 1) == 0 ? 2 : 3);
            Uncompressed.AsSpan(1, 32).CopyTo(compressed.AsSpan(1));
            return compressed;
        }
    }

    /// <summary>The Multikey form: <c>z</c> + base58btc(multicodec prefix ‖ compressed point).</summary>
    public string Multikey
    {
        get
        {
            byte[] prefix = Curve == AtprotoCurve.P256 ? [MulticodecP256First, MulticodecP256Second] : [MulticodecSecp256k1First, MulticodecSecp256k1Second];
            return "z" + Base58Btc.Encode([.. prefix, .. Compressed]);
        }
    }

    /// <summary>The did:key form.</summary>
    public string DidKey => "did:key:" + Multikey;

    /// <summary>Builds a key from a SEC1 point (33-byte compressed or 65-byte uncompressed); throws <see cref="FormatException"/> when off-curve.</summary>
    public static AtprotoPublicKey FromSec1(AtprotoCurve curve, ReadOnlySpan<byte> point)
    {
        var parameters = CurveParameters.For(curve);
        if (point.Length == 33)
        {
            return new AtprotoPublicKey(curve, parameters.Decompress(point));
        }
        if (point.Length == 65 && point[0] == 4)
        {
            // Check the point by compressing and decompressing it.
            var compressed = new byte[33];
            compressed[0] = (byte)((point[64] & 1) == 0 ? 2 : 3);
            point.Slice(1, 32).CopyTo(compressed.AsSpan(1));
            var roundTrip = parameters.Decompress(compressed);
            if (!roundTrip.AsSpan().SequenceEqual(point))
            {
                throw new FormatException("point is not on the curve");
            }
            return new AtprotoPublicKey(curve, roundTrip);
        }
        throw new FormatException($"a public key point is 33 or 65 bytes, got {point.Length}");
    }

    /// <summary>Parses a Multikey string (<c>z</c> + base58btc with the 0xE7 0x01 or 0x80 0x24 multicodec prefix).</summary>
    public static AtprotoPublicKey FromMultikey(string multikey)
    {
        var bytes = DecodeMultibase(multikey);
        if (bytes.Length > 2 && bytes[0] == MulticodecSecp256k1First && bytes[1] == MulticodecSecp256k1Second)
        {
            return FromSec1(AtprotoCurve.Secp256k1, bytes.AsSpan(2));
        }
        if (bytes.Length > 2 && bytes[0] == MulticodecP256First && bytes[1] == MulticodecP256Second)
        {
            return FromSec1(AtprotoCurve.P256, bytes.AsSpan(2));
        }
        throw new FormatException("multikey has no secp256k1 (0xE7 0x01) or P-256 (0x80 0x24) multicodec prefix");
    }

    /// <summary>Parses a legacy <c>publicKeyMultibase</c> without multicodec prefix; the curve comes from the verification method type.</summary>
    public static AtprotoPublicKey FromLegacyMultibase(AtprotoCurve curve, string multibase) =>
        FromSec1(curve, DecodeMultibase(multibase));

    /// <summary>Parses <c>did:key:z…</c>.</summary>
    public static AtprotoPublicKey FromDidKey(string didKey)
    {
        const string prefix = "did:key:";
        if (!didKey.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new FormatException("not a did:key");
        }
        return FromMultikey(didKey[prefix.Length..]);
    }

    /// <summary>Parses an EC JWK (crv P-256 or secp256k1, base64url x and y).</summary>
    public static AtprotoPublicKey FromJwk(string? kty, string? crv, string? x, string? y)
    {
        if (kty != "EC" || x is null || y is null)
        {
            throw new FormatException("JWK must be kty EC with x and y");
        }
        var curve = crv switch
        {
            "P-256" => AtprotoCurve.P256,
            "secp256k1" or "K-256" or "P-256K" => AtprotoCurve.Secp256k1,
            _ => throw new FormatException($"unsupported JWK curve {crv}"),
        };
        var xBytes = Base64UrlText.Decode(x);
        var yBytes = Base64UrlText.Decode(y);
        if (xBytes.Length != 32 || yBytes.Length != 32)
        {
            throw new FormatException("JWK coordinates must be 32 bytes");
        }
        return FromSec1(curve, [4, .. xBytes, .. yBytes]);
    }

    /// <summary>
    /// Verifies a 64-byte r‖s ECDSA signature over SHA-256(<paramref name="data"/>); high-S, DER and malformed
    /// signatures are false.
    /// </summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(data, digest);
        return VerifyDigest(digest, signature, useNative: true);
    }

    /// <summary>As <see cref="Verify"/> on a precomputed SHA-256 digest; <paramref name="useNative"/> false forces the OpenSSL path.</summary>
    public bool VerifyDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature, bool useNative)
    {
        if (signature.Length != 64 || digest.Length != 32 || !CurveParameters.For(Curve).IsLowS(signature))
        {
            return false;
        }
        if (Curve == AtprotoCurve.Secp256k1 && useNative && Secp256k1Native.IsAvailable)
        {
            return Secp256k1Native.Verify(Uncompressed, digest, signature);
        }
        try
        {
            using var ecdsa = ECDsa.Create(new ECParameters
            {
                Curve = CurveParameters.EcCurve(Curve),
                Q = new ECPoint { X = Uncompressed[1..33], Y = Uncompressed[33..] },
            });
            return ecdsa.VerifyHash(digest, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static byte[] DecodeMultibase(string multibase)
    {
        if (multibase.Length < 2 || multibase[0] != 'z')
        {
            throw new FormatException("only base58btc multibase ('z' prefix) is supported");
        }
        return Base58Btc.Decode(multibase.AsSpan(1));
    }
}
