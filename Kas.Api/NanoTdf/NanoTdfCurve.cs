using System.Numerics;
using System.Security.Cryptography;

namespace Catbird.Kas.Api.NanoTdf;

/// <summary>The ECC parameter enum of the NanoTDF header (3 bits).</summary>
public enum NanoTdfCurve : byte
{
    /// <summary>NIST P-256.</summary>
    Secp256r1 = 0,

    /// <summary>NIST P-384.</summary>
    Secp384r1 = 1,

    /// <summary>NIST P-521.</summary>
    Secp521r1 = 2,

    /// <summary>The Koblitz curve used by Bitcoin and ATProto.</summary>
    Secp256k1 = 3,
}

/// <summary>
/// What the service needs to know about a NanoTDF curve: sizes, the .NET curve, and SEC1 point compression.
/// .NET imports only uncompressed points, so compressed keys from headers are decompressed here.
/// </summary>
public sealed class EcCurveInfo
{
    private static readonly EcCurveInfo[] All =
    [
        new(NanoTdfCurve.Secp256r1, "ec:secp256r1", ECCurve.NamedCurves.nistP256, 32),
        new(NanoTdfCurve.Secp384r1, "ec:secp384r1", ECCurve.NamedCurves.nistP384, 48),
        new(NanoTdfCurve.Secp521r1, "ec:secp521r1", ECCurve.NamedCurves.nistP521, 66),
        new(NanoTdfCurve.Secp256k1, "ec:secp256k1", ECCurve.CreateFromValue("1.3.132.0.10"), 32),
    ];

    private readonly Lazy<(BigInteger P, BigInteger A, BigInteger B)> _explicit;

    private EcCurveInfo(NanoTdfCurve curve, string algorithm, ECCurve dotnetCurve, int coordinateSize)
    {
        Curve = curve;
        Algorithm = algorithm;
        DotNetCurve = dotnetCurve;
        CoordinateSize = coordinateSize;
        _explicit = new Lazy<(BigInteger, BigInteger, BigInteger)>(() =>
        {
            using var key = ECDiffieHellman.Create(dotnetCurve);
            var parameters = key.ExportExplicitParameters(false).Curve;
            return (ToBig(parameters.Prime!), ToBig(parameters.A!), ToBig(parameters.B!));
        });
    }

    /// <summary>The header enum value.</summary>
    public NanoTdfCurve Curve { get; }

    /// <summary>The OpenTDF algorithm name (<c>ec:secp256r1</c>…).</summary>
    public string Algorithm { get; }

    /// <summary>The curve as .NET names it.</summary>
    public ECCurve DotNetCurve { get; }

    /// <summary>Bytes in one coordinate (and in the ECDH shared secret).</summary>
    public int CoordinateSize { get; }

    /// <summary>Bytes in a compressed SEC1 point.</summary>
    public int CompressedPointSize => CoordinateSize + 1;

    /// <summary>Bytes in a fixed-width <c>r‖s</c> ECDSA signature.</summary>
    public int SignatureSize => CoordinateSize * 2;

    /// <summary>Looks a curve up by its header value.</summary>
    public static EcCurveInfo For(NanoTdfCurve curve) => (int)curve < All.Length
        ? All[(int)curve]
        : throw new NanoTdfFormatException($"unsupported ECC curve {(int)curve}");

    /// <summary>Looks a curve up by OpenTDF algorithm name, or returns null.</summary>
    public static EcCurveInfo? ForAlgorithm(string algorithm) =>
        All.FirstOrDefault(c => string.Equals(c.Algorithm, algorithm, StringComparison.OrdinalIgnoreCase));

    /// <summary>Finds the curve of .NET key parameters by coordinate size and OID, or returns null.</summary>
    public static EcCurveInfo? ForDotNetCurve(ECCurve curve)
    {
        var oid = curve.Oid?.Value;
        var friendly = curve.Oid?.FriendlyName;
        foreach (var info in All)
        {
            var known = info.DotNetCurve.Oid;
            if ((oid is not null && oid == known.Value) || (friendly is not null && known.FriendlyName is not null &&
                    string.Equals(friendly, known.FriendlyName, StringComparison.OrdinalIgnoreCase)))
            {
                return info;
            }
        }

        return friendly switch
        {
            "ECDSA_P256" or "ECDH_P256" or "prime256v1" => All[0],
            "ECDSA_P384" or "ECDH_P384" => All[1],
            "ECDSA_P521" or "ECDH_P521" => All[2],
            _ => null,
        };
    }

    /// <summary>Compresses a point given as .NET parameters.</summary>
    public byte[] Compress(ECPoint q)
    {
        var output = new byte[CompressedPointSize];
        output[0] = (byte)(0x02 | (q.Y![^1] & 1));
        q.X.AsSpan().CopyTo(output.AsSpan(1 + CoordinateSize - q.X!.Length));
        return output;
    }

    /// <summary>
    /// Decompresses a SEC1 point (compressed, or uncompressed 0x04 form) and checks that it lies on the curve.
    /// Every supported prime is 3 mod 4, so the square root is one exponentiation.
    /// </summary>
    public ECPoint Decompress(ReadOnlySpan<byte> point)
    {
        if (point.Length == 1 + 2 * CoordinateSize && point[0] == 0x04)
        {
            var ux = point.Slice(1, CoordinateSize).ToArray();
            var uy = point.Slice(1 + CoordinateSize).ToArray();
            var (p0, a0, b0) = _explicit.Value;
            var xx = ToBig(ux);
            var yy = ToBig(uy);
            if (xx >= p0 || yy >= p0 || BigInteger.ModPow(yy, 2, p0) != Rhs(xx, p0, a0, b0))
            {
                throw new NanoTdfFormatException($"public key is not a point on {Algorithm}");
            }

            return new ECPoint { X = ux, Y = uy };
        }

        if (point.Length != CompressedPointSize || (point[0] != 0x02 && point[0] != 0x03))
        {
            throw new NanoTdfFormatException($"public key is not a compressed {Algorithm} point");
        }

        var (p, a, b) = _explicit.Value;
        var x = ToBig(point[1..]);
        if (x >= p)
        {
            throw new NanoTdfFormatException($"public key is not a point on {Algorithm}");
        }

        var rhs = Rhs(x, p, a, b);
        var y = BigInteger.ModPow(rhs, (p + 1) / 4, p);
        if (BigInteger.ModPow(y, 2, p) != rhs)
        {
            throw new NanoTdfFormatException($"public key is not a point on {Algorithm}");
        }

        if ((y.IsEven ? 0 : 1) != (point[0] & 1))
        {
            y = p - y;
        }

        return new ECPoint { X = point[1..].ToArray(), Y = ToFixed(y, CoordinateSize) };
    }

    /// <summary>Imports a SEC1 point as an ECDH public key.</summary>
    public ECDiffieHellman ImportEcdhPublicKey(ReadOnlySpan<byte> point)
    {
        var key = ECDiffieHellman.Create();
        try
        {
            key.ImportParameters(new ECParameters { Curve = DotNetCurve, Q = Decompress(point) });
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new NanoTdfFormatException($"public key is not a valid {Algorithm} point");
        }
    }

    /// <summary>Imports a SEC1 point as an ECDSA public key.</summary>
    public ECDsa ImportEcdsaPublicKey(ReadOnlySpan<byte> point)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportParameters(new ECParameters { Curve = DotNetCurve, Q = Decompress(point) });
            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw new NanoTdfFormatException($"public key is not a valid {Algorithm} point");
        }
    }

    private static BigInteger Rhs(BigInteger x, BigInteger p, BigInteger a, BigInteger b)
    {
        var value = (BigInteger.ModPow(x, 3, p) + a * x + b) % p;
        return value.Sign < 0 ? value + p : value;
    }

    private static BigInteger ToBig(ReadOnlySpan<byte> bigEndian) => new(bigEndian, isUnsigned: true, isBigEndian: true);

    private static byte[] ToFixed(BigInteger value, int size)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        if (bytes.Length == size)
        {
            return bytes;
        }

        var output = new byte[size];
        bytes.CopyTo(output, size - bytes.Length);
        return output;
    }
}
