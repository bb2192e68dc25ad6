// Signature-verification cost of the AT Protocol service-JWT path, single thread:
// ES256K through libsecp256k1 vs OpenSSL, ES256 through OpenSSL, and a whole ServiceJwtVerifier.VerifyAsync with a
// cached DID key. Usage: dotnet run -c Release --project bench/mls [seconds-per-case]
using System.Diagnostics;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Catbird.Identity.Crypto;
using Catbird.Identity.Did;
using Catbird.Identity.Jwt;

var seconds = args.Length > 0 ? double.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2.0;
var message = Encoding.ASCII.GetBytes("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NksifQ.eyJpc3MiOiJkaWQ6cGxjOmJlbmNoIn0");
var digest = SHA256.HashData(message);

var (k256, k256Signature) = Make(ECCurve.CreateFromValue("1.3.132.0.10"), AtprotoCurve.Secp256k1);
var (p256, p256Signature) = Make(ECCurve.NamedCurves.nistP256, AtprotoCurve.P256);
Console.WriteLine($"libsecp256k1 loaded: {Secp256k1Native.IsAvailable}");
var native = Measure("ES256K libsecp256k1", () => k256.VerifyDigest(digest, k256Signature, useNative: true));
var openssl = Measure("ES256K OpenSSL", () => k256.VerifyDigest(digest, k256Signature, useNative: false));
Measure("ES256  OpenSSL", () => p256.VerifyDigest(digest, p256Signature, useNative: false));
Console.WriteLine($"ES256K speed-up libsecp256k1 / OpenSSL: {native / openssl:0.0}x");

// Whole-token verification with the DID key cached in memory (no Redis), unique jti per token.
using var signer = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
var q = signer.ExportParameters(false).Q;
var key = AtprotoPublicKey.FromSec1(AtprotoCurve.Secp256k1, [4, .. q.X!, .. q.Y!]);
var verifier = new ServiceJwtVerifier(new FixedKey(key), new MemoryJtiReplayStore());
var tokens = Enumerable.Range(0, 20000).Select(_ => Mint(signer)).ToArray();
var expectations = new ServiceJwtExpectations(["did:web:mls.bench"], "blue.catbird.mls.sendMessage");
var next = 0;
Measure("ServiceJwtVerifier ES256K (cached key)", () =>
    next < tokens.Length && verifier.VerifyAsync(tokens[next++], expectations, CancellationToken.None).GetAwaiter().GetResult() is not null);

double Measure(string name, Func<bool> verify)
{
    for (var i = 0; i < 200; i++)
    {
        if (!verify())
        {
            throw new InvalidOperationException($"{name}: verification failed");
        }
    }
    var count = 0;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed.TotalSeconds < seconds)
    {
        if (!verify())
        {
            break;
        }
        count++;
    }
    var rate = count / watch.Elapsed.TotalSeconds;
    Console.WriteLine($"{name,-40} {rate,10:0} /s   {1e6 / rate,8:0.0} µs each");
    return rate;
}

(AtprotoPublicKey, byte[]) Make(ECCurve curve, AtprotoCurve atprotoCurve)
{
    using var ecdsa = ECDsa.Create(curve);
    var point = ecdsa.ExportParameters(false).Q;
    var signature = LowS(ecdsa.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation), atprotoCurve);
    return (AtprotoPublicKey.FromSec1(atprotoCurve, [4, .. point.X!, .. point.Y!]), signature);
}

static byte[] LowS(byte[] signature, AtprotoCurve curve)
{
    var n = BigInteger.Parse(curve == AtprotoCurve.P256
        ? "0ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
        : "0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", System.Globalization.NumberStyles.HexNumber);
    var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
    if (s > n / 2)
    {
        var low = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        signature.AsSpan(32).Clear();
        low.CopyTo(signature.AsSpan(64 - low.Length));
    }
    return signature;
}

static string Mint(ECDsa signer)
{
    static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var header = B64("""{"typ":"JWT","alg":"ES256K"}"""u8.ToArray());
    var payload = B64(Encoding.UTF8.GetBytes(
        $$"""{"iat":{{now}},"iss":"did:plc:benchaaaaaaaaaaaaaaaaaaa","aud":"did:web:mls.bench","exp":{{now + 600}},"lxm":"blue.catbird.mls.sendMessage","jti":"{{Guid.NewGuid():N}}"}"""));
    var signature = LowS(signer.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256,
        DSASignatureFormat.IeeeP1363FixedFieldConcatenation), AtprotoCurve.Secp256k1);
    return $"{header}.{payload}.{B64(signature)}";
}

sealed class FixedKey(AtprotoPublicKey key) : IDidKeyResolver
{
    public Task<AtprotoPublicKey> ResolveSigningKeyAsync(string did, bool forceRefresh, CancellationToken ct) => Task.FromResult(key);
}
