using System.Numerics;
using System.Security.Cryptography;
using System.Text.Json;
using Catbird.Identity.Crypto;
using Catbird.Identity.Did;

namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Unit")]
public sealed class AtprotoKeyTests
{
    private static readonly BigInteger Secp256k1Order =
        BigInteger.Parse("0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", System.Globalization.NumberStyles.HexNumber);

    [Fact]
    public void Libsecp256k1_is_loaded()
    {
        Assert.True(Secp256k1Native.IsAvailable, "libsecp256k1.so.1 (Debian libsecp256k1-1) should be installed");
    }

    [Fact]
    public void Signature_fixtures_verify_as_labelled_on_every_path()
    {
        var cases = Vectors.Load("atproto", "signature-fixtures.json");
        Assert.Equal(6, cases.GetArrayLength());
        foreach (var item in cases.EnumerateArray())
        {
            var message = Base64UrlText.Decode(item.GetProperty("messageBase64").GetString());
            var signature = Base64UrlText.Decode(item.GetProperty("signatureBase64").GetString());
            var expected = item.GetProperty("validSignature").GetBoolean();
            var algorithm = item.GetProperty("algorithm").GetString();
            var fromDid = AtprotoPublicKey.FromDidKey(item.GetProperty("publicKeyDid").GetString()!);
            Assert.Equal(algorithm, fromDid.JwtAlgorithm);
            var legacy = AtprotoPublicKey.FromLegacyMultibase(fromDid.Curve, item.GetProperty("publicKeyMultibase").GetString()!);
            Assert.Equal(fromDid.Uncompressed, legacy.Uncompressed);
            Assert.Equal(expected, fromDid.Verify(message, signature));
            var digest = SHA256.HashData(message);
            Assert.Equal(expected, fromDid.VerifyDigest(digest, signature, useNative: false));
            Assert.Equal(expected, fromDid.VerifyDigest(digest, signature, useNative: true));
        }
    }

    [Fact]
    public void High_s_fixtures_are_mathematically_valid_but_refused_by_the_low_s_rule()
    {
        foreach (var item in Vectors.Load("atproto", "signature-fixtures.json").EnumerateArray())
        {
            if (item.GetProperty("tags").EnumerateArray().All(t => t.GetString() != "high-s"))
            {
                continue;
            }
            var key = AtprotoPublicKey.FromDidKey(item.GetProperty("publicKeyDid").GetString()!);
            var message = Base64UrlText.Decode(item.GetProperty("messageBase64").GetString());
            var signature = Base64UrlText.Decode(item.GetProperty("signatureBase64").GetString());
            using var ecdsa = ECDsa.Create(new ECParameters
            {
                Curve = key.Curve == AtprotoCurve.P256 ? ECCurve.NamedCurves.nistP256 : ECCurve.CreateFromValue("1.3.132.0.10"),
                Q = new ECPoint { X = key.Uncompressed[1..33], Y = key.Uncompressed[33..] },
            });
            Assert.True(ecdsa.VerifyData(message, signature, HashAlgorithmName.SHA256));
            Assert.False(key.Verify(message, signature));
        }
    }

    [Fact]
    public void K256_did_keys_derive_from_private_keys()
    {
        foreach (var item in Vectors.Load("atproto", "w3c_didkey_K256.json").EnumerateArray())
        {
            var key = PublicFromPrivate(ECCurve.CreateFromValue("1.3.132.0.10"), item.Hex("privateKeyBytesHex"), AtprotoCurve.Secp256k1);
            var expected = item.GetProperty("publicDidKey").GetString()!;
            Assert.Equal(expected, key.DidKey);
            Assert.Equal(key.Uncompressed, AtprotoPublicKey.FromDidKey(expected).Uncompressed);
        }
    }

    [Fact]
    public void P256_did_key_derives_from_private_key()
    {
        foreach (var item in Vectors.Load("atproto", "w3c_didkey_P256.json").EnumerateArray())
        {
            var privateKey = Base58Btc.Decode(item.GetProperty("privateKeyBytesBase58").GetString());
            var key = PublicFromPrivate(ECCurve.NamedCurves.nistP256, privateKey, AtprotoCurve.P256);
            Assert.Equal(item.GetProperty("publicDidKey").GetString(), key.DidKey);
        }
    }

    [Fact]
    public void Native_and_openssl_secp256k1_agree_on_random_signatures()
    {
        using var signer = ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10"));
        var q = signer.ExportParameters(false).Q;
        var key = AtprotoPublicKey.FromSec1(AtprotoCurve.Secp256k1, [4, .. q.X!, .. q.Y!]);
        var random = new Random(256);
        for (var i = 0; i < 40; i++)
        {
            var message = new byte[random.Next(1, 200)];
            random.NextBytes(message);
            var digest = SHA256.HashData(message);
            var signature = signer.SignHash(digest, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
            var low = (byte[])signature.Clone();
            var high = (byte[])signature.Clone();
            var other = Secp256k1Order - s;
            WriteS(s > Secp256k1Order / 2 ? low : high, other);
            Assert.True(key.VerifyDigest(digest, low, useNative: true));
            Assert.True(key.VerifyDigest(digest, low, useNative: false));
            Assert.False(key.VerifyDigest(digest, high, useNative: true));
            Assert.False(key.VerifyDigest(digest, high, useNative: false));
            low[random.Next(64)] ^= (byte)(1 << random.Next(8));
            Assert.Equal(key.VerifyDigest(digest, low, useNative: false), key.VerifyDigest(digest, low, useNative: true));
        }
    }

    [Theory]
    [InlineData("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", true)]
    [InlineData("zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo", true)]
    [InlineData("Q3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc", false)] // no multibase prefix
    [InlineData("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJw0", false)] // '0' is not base58
    [InlineData("z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", false)] // Ed25519 multicodec
    [InlineData("z", false)]
    public void Multikey_parsing_accepts_atproto_curves_only(string multikey, bool valid)
    {
        if (valid)
        {
            Assert.Equal(multikey, AtprotoPublicKey.FromMultikey(multikey).Multikey);
        }
        else
        {
            Assert.Throws<FormatException>(() => AtprotoPublicKey.FromMultikey(multikey));
        }
    }

    [Fact]
    public void Off_curve_points_are_refused()
    {
        var key = AtprotoPublicKey.FromMultikey("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
        var bad = (byte[])key.Uncompressed.Clone();
        bad[64] ^= 1;
        Assert.Throws<FormatException>(() => AtprotoPublicKey.FromSec1(AtprotoCurve.Secp256k1, bad));
        Assert.Throws<FormatException>(() => AtprotoPublicKey.FromSec1(AtprotoCurve.P256, key.Compressed));
    }

    [Fact]
    public void Did_documents_in_new_legacy_and_jwk_forms_yield_the_same_key()
    {
        var key = AtprotoPublicKey.FromMultikey("zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc");
        const string did = "did:plc:ewvi7nxzyoun6zhxrhs64oiz";
        foreach (var document in new[]
        {
            DidDocuments.Multikey(did, key),
            DidDocuments.LegacyPlc(did, key),
            $$$"""{"id":"{{{did}}}","verificationMethod":[{"id":"{{{did}}}#atproto","type":"JsonWebKey2020","controller":"{{{did}}}","publicKeyJwk":{"kty":"EC","crv":"secp256k1","x":"{{{B64Url(key.Uncompressed[1..33])}}}","y":"{{{B64Url(key.Uncompressed[33..])}}}"}}]}""",
        })
        {
            using var json = JsonDocument.Parse(document);
            Assert.Equal(key.Uncompressed, DidDocumentKeys.FindSigningKey(json.RootElement, did).Uncompressed);
        }
        using var other = JsonDocument.Parse(DidDocuments.Multikey("did:plc:someoneelseaaaaaaaaaaaaa", key));
        Assert.Throws<FormatException>(() => DidDocumentKeys.FindSigningKey(other.RootElement, did));
        using var noKey = JsonDocument.Parse($$$"""{"id":"{{{did}}}","verificationMethod":[{"id":"{{{did}}}#other","type":"Multikey","publicKeyMultibase":"{{{key.Multikey}}}"}]}""");
        Assert.Throws<FormatException>(() => DidDocumentKeys.FindSigningKey(noKey.RootElement, did));
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.32.0.1", true)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700::1111", true)]
    public void Ssrf_guard_classifies_addresses(string address, bool isPublic)
    {
        Assert.Equal(isPublic, DidResolver.IsPublic(System.Net.IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("did:web:mls.example.com", "https://mls.example.com/.well-known/did.json")]
    [InlineData("did:plc:ewvi7nxzyoun6zhxrhs64oiz", "https://plc.directory/did:plc:ewvi7nxzyoun6zhxrhs64oiz")]
    public void Document_urls(string did, string url)
    {
        using var resolver = new DidResolver(new DidResolverOptions(), new HttpClient());
        Assert.Equal(url, resolver.DocumentUrl(did).ToString());
        Assert.Throws<DidResolutionException>(() => resolver.DocumentUrl("did:web:example.com:8443"));
        Assert.Throws<DidResolutionException>(() => resolver.DocumentUrl("did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc"));
    }

    private static AtprotoPublicKey PublicFromPrivate(ECCurve curve, byte[] privateKey, AtprotoCurve atprotoCurve)
    {
        using var ecdsa = ECDsa.Create(new ECParameters { Curve = curve, D = privateKey });
        var q = ecdsa.ExportParameters(false).Q;
        return AtprotoPublicKey.FromSec1(atprotoCurve, [4, .. q.X!, .. q.Y!]);
    }

    private static void WriteS(byte[] signature, BigInteger s)
    {
        signature.AsSpan(32).Clear();
        var bytes = s.ToByteArray(isUnsigned: true, isBigEndian: true);
        bytes.CopyTo(signature.AsSpan(64 - bytes.Length));
    }

    private static string B64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
