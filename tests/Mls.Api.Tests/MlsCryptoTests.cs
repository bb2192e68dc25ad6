using System.Text;
using Catbird.Mls.Api.Mls;

namespace Catbird.Mls.Api.Tests;

[Trait("Category", "Unit")]
public sealed class MlsCryptoTests
{
    [Fact]
    public void RefHash_matches_crypto_basics_for_every_suite()
    {
        foreach (var item in Vectors.Load("mls", "crypto-basics.json").EnumerateArray())
        {
            var suite = MlsCipherSuite.FromId(item.GetProperty("cipher_suite").GetUInt16())!;
            var refHash = item.GetProperty("ref_hash");
            var label = refHash.GetProperty("label").GetString()!;
            Assert.Equal(refHash.Hex("out"), MlsCrypto.RefHash(suite, label, refHash.Hex("value")));
        }
    }

    [Fact]
    public void SignWithLabel_vectors_verify_and_tampering_fails_for_every_suite()
    {
        var verified = 0;
        foreach (var item in Vectors.Load("mls", "crypto-basics.json").EnumerateArray())
        {
            var suite = MlsCipherSuite.FromId(item.GetProperty("cipher_suite").GetUInt16())!;
            var sign = item.GetProperty("sign_with_label");
            var label = sign.GetProperty("label").GetString()!;
            var publicKey = sign.Hex("pub");
            var content = sign.Hex("content");
            var signature = sign.Hex("signature");
            Assert.True(MlsCrypto.VerifyWithLabel(suite, publicKey, label, content, signature), $"suite {suite.Id}");
            Assert.False(MlsCrypto.VerifyWithLabel(suite, publicKey, label + "x", content, signature));
            Assert.False(MlsCrypto.VerifyWithLabel(suite, publicKey, label, [.. content, 0], signature));
            var flipped = (byte[])signature.Clone();
            flipped[^1] ^= 1;
            Assert.False(MlsCrypto.VerifyWithLabel(suite, publicKey, label, content, flipped));
            Assert.False(MlsCrypto.VerifyWithLabel(suite, publicKey.AsSpan(1), label, content, signature));
            verified++;
        }
        Assert.Equal(7, verified);
    }

    [Fact]
    public void Welcome_vector_key_packages_validate_and_their_refs_appear_in_the_welcome()
    {
        foreach (var item in Vectors.Load("mls", "welcome.json").EnumerateArray())
        {
            var suiteId = item.GetProperty("cipher_suite").GetUInt16();
            var keyPackage = MlsDecoder.DecodeKeyPackage(item.Hex("key_package"));
            Assert.Equal(suiteId, keyPackage.CipherSuite);
            var notBefore = DateTimeOffset.FromUnixTimeSeconds((long)keyPackage.LeafNode.Lifetime!.NotBefore);
            Assert.Null(KeyPackageValidator.Validate(keyPackage, "did:plc:unrelated", notBefore.AddSeconds(1)));

            var welcome = MlsDecoder.DecodeMessage(item.Hex("welcome")).Welcome!;
            Assert.Equal(suiteId, welcome.CipherSuite);
            var reference = MlsCrypto.KeyPackageRef(MlsCipherSuite.FromId(suiteId)!, keyPackage.Encoded);
            Assert.Contains(welcome.NewMemberKeyPackageRefs, r => r.AsSpan().SequenceEqual(reference));
        }
    }

    [Fact]
    public void Key_package_with_a_tampered_signature_or_expired_lifetime_is_refused()
    {
        foreach (var item in Vectors.Load("mls", "welcome.json").EnumerateArray().Take(2))
        {
            var bytes = item.Hex("key_package");
            var keyPackage = MlsDecoder.DecodeKeyPackage(bytes);
            var lifetime = keyPackage.LeafNode.Lifetime!;
            var valid = DateTimeOffset.FromUnixTimeSeconds((long)lifetime.NotBefore).AddSeconds(1);
            var tampered = keyPackage with { Signature = Flip(keyPackage.Signature) };
            Assert.Equal("key package signature is invalid", KeyPackageValidator.Validate(tampered, "did:plc:a", valid)?.Message);
            var tamperedLeaf = keyPackage with { LeafNode = keyPackage.LeafNode with { Signature = Flip(keyPackage.LeafNode.Signature) } };
            Assert.Equal("leaf node signature is invalid", KeyPackageValidator.Validate(tamperedLeaf, "did:plc:a", valid)?.Message);
            if (lifetime.NotAfter < (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            {
                var expired = DateTimeOffset.FromUnixTimeSeconds((long)lifetime.NotAfter).AddSeconds(1);
                Assert.Equal("key package lifetime has expired", KeyPackageValidator.Validate(keyPackage, "did:plc:a", expired)?.Message);
            }
            var now = DateTimeOffset.UtcNow;
            var future = keyPackage with
            {
                LeafNode = keyPackage.LeafNode with { Lifetime = new((ulong)now.AddHours(1).ToUnixTimeSeconds(), (ulong)now.AddHours(2).ToUnixTimeSeconds()) },
            };
            Assert.Equal("key package is not yet valid", KeyPackageValidator.Validate(future, "did:plc:a", now)?.Message);
            Assert.Equal("unknown cipher suite 9", KeyPackageValidator.Validate(keyPackage with { CipherSuite = 9 }, "did:plc:a", valid)?.Message);
            Assert.Equal("unsupported protocol version 2", KeyPackageValidator.Validate(keyPackage with { Version = 2 }, "did:plc:a", valid)?.Message);
        }
    }

    [Fact]
    public void Credential_did_binding_accepts_device_fragments_and_refuses_other_accounts()
    {
        var credential = new MlsCredential(MlsCredential.Basic, Encoding.UTF8.GetBytes("did:plc:alice#device-1"), []);
        Assert.Equal("did:plc:alice#device-1", KeyPackageValidator.CredentialDid(credential));
        Assert.Null(KeyPackageValidator.CredentialDid(credential with { Identity = "alice"u8.ToArray() }));
        Assert.Null(KeyPackageValidator.CredentialDid(credential with { Identity = [0xff, 0xfe, 0x64, 0x69, 0x64, 0x3a] }));
    }

    [Fact]
    public void Known_suites_have_names_and_hashes()
    {
        Assert.Equal(1, MlsCipherSuite.FromName("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519")!.Id);
        Assert.Equal(2, MlsCipherSuite.FromName("MLS_128_DHKEMP256_AES128GCM_SHA256_P256")!.Id);
        Assert.Null(MlsCipherSuite.FromName("MLS_256_XWING_CHACHA20POLY1305_SHA256_Ed25519"));
        Assert.Null(MlsCipherSuite.FromId(0));
        Assert.Null(MlsCipherSuite.FromId(8));
    }

    private static byte[] Flip(byte[] value)
    {
        var copy = (byte[])value.Clone();
        copy[copy.Length / 2] ^= 0x01;
        return copy;
    }
}
