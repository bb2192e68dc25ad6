using System.Numerics;
using System.Security.Cryptography;

namespace Catbird.Identity.Crypto;

/// <summary>The two curves AT Protocol signing keys use.</summary>
public enum AtprotoCurve
{
    /// <summary>NIST P-256 (secp256r1), JWT alg ES256.</summary>
    P256,

    /// <summary>secp256k1 (k256), JWT alg ES256K.</summary>
    Secp256k1,
}

/// <summary>Prime-field parameters for point decompression and the low-S bound.</summary>
internal sealed class CurveParameters
{
    public static readonly CurveParameters P256 = new(
        "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
        "ffffffff00000001000000000000000000000000fffffffffffffffffffffffc",
        "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b",
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

    public static readonly CurveParameters Secp256k1 = new(
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f",
        "0",
        "7",
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");

    private CurveParameters(string p, string a, string b, string n)
    {
        P = Parse(p);
        A = Parse(a);
        B = Parse(b);
        N = Parse(n);
        HalfN = N >> 1;
    }

    public BigInteger P { get; }

    public BigInteger A { get; }

    public BigInteger B { get; }

    public BigInteger N { get; }

    public BigInteger HalfN { get; }

    public static CurveParameters For(AtprotoCurve curve) => curve == AtprotoCurve.P256 ? P256 : Secp256k1;

    public static ECCurve EcCurve(AtprotoCurve curve) =>
        curve == AtprotoCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromValue("1.3.132.0.10");

    /// <summary>The 65-byte uncompressed point for a 33-byte compressed one; throws when x is not on the curve.</summary>
    public byte[] Decompress(ReadOnlySpan<byte> compressed)
    {
        if (compressed.Length != 33 || (compressed[0] != 2 && compressed[0] != 3))
        {
            throw new FormatException("a compressed point is 33 bytes starting 02 or 03");
        }
        var x = new BigInteger(compressed[1..], isUnsigned: true, isBigEndian: true);
        if (x >= P)
        {
            throw new FormatException("point x coordinate out of range");
        }
        var rhs = (BigInteger.ModPow(x, 3, P) + A * x + B) % P;
        if (rhs.Sign < 0)
        {
            rhs += P;
        }
        // Both primes are 3 mod 4, so a square root is rhs^((p+1)/4).
        var y = BigInteger.ModPow(rhs, (P + 1) >> 2, P);
        if (BigInteger.ModPow(y, 2, P) != rhs)
        {
            throw new FormatException("point is not on the curve");
        }
        if ((y.IsEven ? 2 : 3) != compressed[0])
        {
            y = P - y;
        }
        var result = new byte[65];
        result[0] = 4;
        compressed[1..].CopyTo(result.AsSpan(1));
        WriteFixed(y, result.AsSpan(33, 32));
        return result;
    }

    /// <summary>True when the 64-byte r‖s signature has s ≤ n/2 (and r, s in range).</summary>
    public bool IsLowS(ReadOnlySpan<byte> signature)
    {
        var r = new BigInteger(signature[..32], isUnsigned: true, isBigEndian: true);
        var s = new BigInteger(signature[32..], isUnsigned: true, isBigEndian: true);
        return !r.IsZero && r < N && !s.IsZero && s <= HalfN;
    }

    internal static void WriteFixed(BigInteger value, Span<byte> destination)
    {
        destination.Clear();
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }

    private static BigInteger Parse(string hex) => BigInteger.Parse("0" + hex, System.Globalization.NumberStyles.HexNumber);
}
