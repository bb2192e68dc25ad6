using System.Security.Cryptography;
using System.Text;
using Catbird.Kas.Api.NanoTdf;

namespace Catbird.Kas.Api.Tests.NanoTdf;

[Trait("Category", "Unit")]
public sealed class NanoTdfHeaderTests
{
    [Fact]
    public void Spec_example_6_1_parses_field_by_field()
    {
        var header = NanoTdfHeader.Parse(SpecVectors.Example61);

        Assert.Equal(142, header.Bytes.Length);
        Assert.Equal(NanoTdfHeader.VersionL, header.Version);
        Assert.Equal(new ResourceLocator(ResourceProtocol.Https, "kas.virtru.com"), header.Kas);
        Assert.Equal("https://kas.virtru.com", header.Kas.Url);
        Assert.True(header.UseEcdsaBinding);
        Assert.Equal(NanoTdfCurve.Secp256r1, header.Curve);
        Assert.True(header.HasSignature);
        Assert.Equal(0, header.Cipher);
        Assert.Equal(8, header.TagLength);
        Assert.Equal(NanoTdfPolicyType.Remote, header.Policy.Type);
        Assert.Equal("https://kas.virtru.com/policy", header.Policy.RemoteLocator!.Url);
        Assert.Equal(SpecVectors.Hex("01156b61732e7669727472752e636f6d2f706f6c696379"), header.Policy.Body);
        Assert.Equal(EcdsaBindingEncoding.Fixed, header.Policy.BindingEncoding);
        Assert.Equal(64, header.Policy.Binding.Length);
        Assert.Equal("02f77fbae52609dac5e8ebf786e11b7aedd70f8980f9480c7e671cbaab8e24509200".Length / 2 - 1,
            header.EphemeralPublicKey.Length);
        Assert.Equal(SpecVectors.Hex("02f77fbae52609dac5e8ebf786e11b7aedd70f8980f9480c7e671cbaab8e245092"), header.EphemeralPublicKey);
        Assert.Equal(SpecVectors.Example61[..142], header.ToBytes());
    }

    [Fact]
    public void Spec_example_6_2_parses_and_round_trips()
    {
        var header = NanoTdfHeader.Parse(SpecVectors.Example62);

        Assert.Equal("https://kas.example.com", header.Kas.Url);
        Assert.True(header.UseEcdsaBinding);
        Assert.False(header.HasSignature);
        Assert.Equal(NanoTdfCurve.Secp256k1, header.SignatureCurve);
        Assert.Equal(5, header.Cipher);
        Assert.Equal(16, header.TagLength);
        Assert.Equal("https://kas.example.com/policy/abcdef", header.Policy.RemoteLocator!.Url);
        Assert.Equal(SpecVectors.Hex("03e8b33f449a73927713d4a4a2b4e5e9452e2f0534339d35911bdfa15ee18b3adb"), header.EphemeralPublicKey);
        Assert.Equal(header.Bytes, header.ToBytes());
    }

    [Theory]
    [InlineData(SpecVectors.Example61Hex, SpecVectors.Example61RecipientPkcs8,
        "7400aa97800932032eb89f7582ff5d1ef076d7ea78656f977ba0742e150cbb88",
        "671e094b808e8d51b816581ab65a4aec02906e28f81159c4210b93086a78a163")]
    [InlineData(SpecVectors.Example62Hex, SpecVectors.Example62RecipientPkcs8,
        "f7d1b6c5fa8953535385e9fb54c661a910c81783d30522b176a59a1a4951b111",
        "43b4bdf463d0f7e2d1cf7159f514905304b6265b994fb1df7da7c00e596532fb")]
    public void Spec_examples_give_the_known_ecdh_dek_and_a_valid_ecdsa_binding(string hex, string pkcs8, string sharedX, string dek)
    {
        var header = NanoTdfHeader.Parse(SpecVectors.Hex(hex));
        using var kas = ECDiffieHellman.Create();
        kas.ImportPkcs8PrivateKey(Convert.FromBase64String(pkcs8), out _);

        var shared = NanoTdfCrypto.SharedSecret(kas, header.CurveInfo, header.EphemeralPublicKey);
        var derived = NanoTdfCrypto.DeriveDek(kas, header);

        Assert.Equal(sharedX, Convert.ToHexStringLower(shared));
        Assert.Equal(dek, Convert.ToHexStringLower(derived));
        Assert.Equal(PolicyBindingKind.Ecdsa, NanoTdfCrypto.VerifyBinding(header, derived));
    }

    [Fact]
    public void A_flipped_ecdsa_binding_does_not_verify()
    {
        var bytes = SpecVectors.Example61;
        bytes[50] ^= 0x01;
        var header = NanoTdfHeader.Parse(bytes);

        Assert.Null(NanoTdfCrypto.VerifyBinding(header, new byte[32]));
    }

    [Fact]
    public void Arkavo_ecdh_known_answer()
    {
        using var kas = ECDiffieHellman.Create();
        kas.ImportPkcs8PrivateKey(Convert.FromBase64String(SpecVectors.Example61RecipientPkcs8), out _);
        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);

        var shared = NanoTdfCrypto.SharedSecret(kas, curve,
            SpecVectors.Hex("02c8eee0d2c24780cbc29169739acc68904bdee3c0553d5ec1183ba476942de686"));

        Assert.Equal("d5da0342ae4458cece9b3eb2d253c6212e9612ab9f8c9a4249ee4c9c59ccda13", Convert.ToHexStringLower(shared));
    }

    [Fact]
    public void Salts_match_the_spec_constants()
    {
        Assert.Equal("3de3ca1e50cf62d8b6aba603a96fca6761387a7ac86c3d3afe85ae2d1812edfc", Convert.ToHexStringLower(NanoTdfCrypto.SaltL1L));
        Assert.Equal("5878b49e2a825498d8e6570cb87b588c67a0052c6f5280e24edd89d91ae62fbb", Convert.ToHexStringLower(NanoTdfCrypto.SaltL1M));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(12)]
    public void Rewrap_response_known_answer_unwraps_to_the_dek(int tagLength)
    {
        var clientScalar = SHA256.HashData("client-session"u8);
        var kasScalar = SHA256.HashData("kas-session"u8);
        using var client = FromScalar(clientScalar);
        using var kasSession = FromScalar(kasScalar);

        var x = client.DeriveRawSecretAgreement(kasSession.PublicKey);
        var wrapKey = NanoTdfCrypto.DeriveKey(x, NanoTdfCrypto.SaltL1L);
        var wrapped = Convert.FromBase64String(tagLength == 16
            ? "AQIDBAUGBwgJCgsMB7KKA78H7WYAbn85hS/vB7nDVoBtdr/FKs43wQ1o3c9iUnybTcaPOWGHgArqCfKS"
            : "AQIDBAUGBwgJCgsMB7KKA78H7WYAbn85hS/vB7nDVoBtdr/FKs43wQ1o3c9iUnybTcaPOWGHgAo=");

        Assert.Equal("31f610c0ae57147611459d46e6f7a247c72144134c7320cfc39e06bfebed8979", Convert.ToHexStringLower(x));
        Assert.Equal("bb3a473aa9cbbade8047c425a3e11e0aa4efd3575c3834f79c98bcf56ec1d621", Convert.ToHexStringLower(wrapKey));
        Assert.Equal("671e094b808e8d51b816581ab65a4aec02906e28f81159c4210b93086a78a163",
            Convert.ToHexStringLower(NanoTdfCrypto.Unwrap(wrapKey, wrapped, tagLength)));
    }

    [Fact]
    public void Go_style_locator_with_kid_parses()
    {
        var kas = new ResourceLocator(ResourceProtocol.Http, "localhost:65432/kas", "e1");
        var output = new List<byte>();
        kas.Write(output);

        Assert.Equal(0x10, output[0]);
        Assert.Equal(2 + 19 + 2, output.Count);
        var created = Create(kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions());
        Assert.Equal("e1", NanoTdfHeader.Parse(created.Header.Bytes).Kas.Identifier);
    }

    [Fact]
    public void Short_kids_are_nul_padded_and_trimmed()
    {
        var kas = new ResourceLocator(ResourceProtocol.Https, "kas.example/kas", "k7");
        var longer = kas with { Identifier = "rotation-2026" };
        var created = Create(longer, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions());
        var header = NanoTdfHeader.Parse(created.Header.Bytes);

        Assert.Equal(0x31, created.Header.Bytes[3]);
        Assert.Equal("rotation-2026", header.Kas.Identifier);
    }

    public static TheoryData<NanoTdfCurve, NanoTdfPolicyType, NanoTdfBindingStyle, byte, byte> Combinations()
    {
        var data = new TheoryData<NanoTdfCurve, NanoTdfPolicyType, NanoTdfBindingStyle, byte, byte>();
        foreach (var curve in Enum.GetValues<NanoTdfCurve>())
        {
            foreach (var type in new[] { NanoTdfPolicyType.EmbeddedPlaintext, NanoTdfPolicyType.EmbeddedEncrypted })
            {
                foreach (var binding in Enum.GetValues<NanoTdfBindingStyle>())
                {
                    data.Add(curve, type, binding, (byte)((int)binding % 6), (int)binding % 2 == 0 ? NanoTdfHeader.VersionL : NanoTdfHeader.VersionM);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Created_headers_parse_back_and_verify(NanoTdfCurve curveId, NanoTdfPolicyType type, NanoTdfBindingStyle binding, byte cipher, byte version)
    {
        var curve = EcCurveInfo.For(curveId);
        using var kas = ECDiffieHellman.Create(curve.DotNetCurve);
        var policy = """{"uuid":"u","body":{"dataAttributes":[],"dissem":[]}}"""u8.ToArray();
        var created = NanoTdfCreator.Create(curve, curve.Compress(kas.ExportParameters(false).Q),
            new ResourceLocator(ResourceProtocol.Https, "kas.example/kas"), policy,
            new NanoTdfCreateOptions { PolicyType = type, Binding = binding, Cipher = cipher, Version = version });
        var nano = created.Seal("secret"u8);

        var header = NanoTdfHeader.Parse(nano);
        var dek = NanoTdfCrypto.DeriveDek(kas, header);

        Assert.Equal(created.Header.Bytes, header.Bytes);
        Assert.Equal(created.Dek, dek);
        Assert.Equal(version, header.Version);
        Assert.NotNull(NanoTdfCrypto.VerifyBinding(header, dek));
        Assert.Equal(binding switch
        {
            NanoTdfBindingStyle.EcdsaFixed => EcdsaBindingEncoding.Fixed,
            NanoTdfBindingStyle.EcdsaLengthPrefixed => EcdsaBindingEncoding.LengthPrefixed,
            _ => EcdsaBindingEncoding.None,
        }, header.Policy.BindingEncoding);
        var policyOut = type == NanoTdfPolicyType.EmbeddedEncrypted ? NanoTdfCrypto.DecryptPolicy(dek, header) : header.Policy.Body;
        Assert.Equal(policy, policyOut);
        Assert.Equal("secret"u8.ToArray(), CreatedNanoTdf.Open(dek, nano));
    }

    [Fact]
    public void Gmac_flag_accepts_both_variants_and_says_which()
    {
        var shaTail = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions { Binding = NanoTdfBindingStyle.Sha256Tail });
        var gmac = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions { Binding = NanoTdfBindingStyle.Gmac });

        Assert.Equal(PolicyBindingKind.Sha256Tail, NanoTdfCrypto.VerifyBinding(shaTail.Header, shaTail.Dek));
        Assert.Equal(PolicyBindingKind.Gmac, NanoTdfCrypto.VerifyBinding(gmac.Header, gmac.Dek));
        Assert.Null(NanoTdfCrypto.VerifyBinding(gmac.Header, new byte[32]));
    }

    [Fact]
    public void Tampered_policy_fails_the_binding()
    {
        var created = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions { PolicyType = NanoTdfPolicyType.EmbeddedPlaintext });
        var bytes = created.Header.Bytes.ToArray();
        var policyStart = Array.IndexOf(bytes, (byte)'{');
        bytes[policyStart + 3] ^= 0x20;
        var header = NanoTdfHeader.Parse(bytes);

        Assert.Null(NanoTdfCrypto.VerifyBinding(header, created.Dek));
    }

    [Fact]
    public void Policy_key_access_variant_parses()
    {
        var created = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions());
        var header = created.Header with
        {
            Policy = created.Header.Policy with
            {
                Type = NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess,
                KeyAccessLocator = new ResourceLocator(ResourceProtocol.Https, "cks.example/kas"),
                KeyAccessEphemeralKey = created.Header.EphemeralPublicKey,
            },
        };

        var parsed = NanoTdfHeader.Parse(header.ToBytes());

        Assert.Equal(NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess, parsed.Policy.Type);
        Assert.Equal("https://cks.example/kas", parsed.Policy.KeyAccessLocator!.Url);
        Assert.Equal(created.Header.EphemeralPublicKey, parsed.Policy.KeyAccessEphemeralKey);
    }

    [Fact]
    public void Every_truncation_is_a_format_error()
    {
        foreach (var bytes in new[] { SpecVectors.Example61[..142], SpecVectors.Example62[..(SpecVectors.Example62.Length - 46)],
                     Create(Kas, NanoTdfCurve.Secp521r1, new NanoTdfCreateOptions { Binding = NanoTdfBindingStyle.EcdsaLengthPrefixed }).Header.Bytes })
        {
            NanoTdfHeader.Parse(bytes);
            for (var length = 0; length < bytes.Length; length++)
            {
                Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes.AsSpan(0, length)));
            }
        }
    }

    [Theory]
    [InlineData(0, 0x4D, "bad magic")]
    [InlineData(2, 0x4B, "version")]
    [InlineData(2, 0x4E, "version")]
    [InlineData(3, 0x04, "protocol")]
    [InlineData(3, 0x41, "identifier size")]
    [InlineData(4, 0x00, "empty body")]
    public void Hostile_bytes_name_the_field(int offset, byte value, string expected)
    {
        var bytes = SpecVectors.Example61;
        bytes[offset] = value;

        var error = Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x84)]
    [InlineData(0x07)]
    public void Unknown_curves_are_refused(byte eccMode)
    {
        var bytes = SpecVectors.Example61;
        bytes[19] = eccMode;

        Assert.Contains("curve", Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x06)]
    [InlineData(0x0F)]
    public void Unknown_ciphers_are_refused(byte cipher)
    {
        var bytes = SpecVectors.Example62;
        bytes[21] = cipher;

        Assert.Contains("cipher", Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_policy_type_is_refused()
    {
        var bytes = SpecVectors.Example61;
        bytes[21] = 0x04;

        Assert.Contains("policy type", Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ephemeral_key_off_the_curve_is_refused()
    {
        var created = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions());
        var bytes = created.Header.Bytes.ToArray();
        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
        for (byte candidate = 1; ; candidate++)
        {
            bytes[^1] = candidate;
            try
            {
                curve.Decompress(bytes.AsSpan(bytes.Length - 33));
            }
            catch (NanoTdfFormatException)
            {
                break;
            }
        }

        Assert.Contains("point", Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes)).Message, StringComparison.Ordinal);
        bytes[^33] = 0x04;
        Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bytes));
    }

    [Fact]
    public void Encrypted_policy_shorter_than_its_tag_is_refused()
    {
        var header = Create(Kas, NanoTdfCurve.Secp256r1, new NanoTdfCreateOptions());
        var bad = header.Header with { Policy = header.Header.Policy with { Body = new byte[5] } };

        Assert.Contains("tag", Assert.Throws<NanoTdfFormatException>(() => NanoTdfHeader.Parse(bad.ToBytes())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_mutations_only_ever_raise_format_errors()
    {
        var random = new Random(1234);
        var seeds = new[]
        {
            SpecVectors.Example61, SpecVectors.Example62,
            Create(Kas, NanoTdfCurve.Secp384r1, new NanoTdfCreateOptions { Binding = NanoTdfBindingStyle.EcdsaLengthPrefixed }).Header.Bytes,
            Create(Kas, NanoTdfCurve.Secp256k1, new NanoTdfCreateOptions { PolicyType = NanoTdfPolicyType.EmbeddedPlaintext }).Header.Bytes,
        };
        for (var i = 0; i < 3000; i++)
        {
            var bytes = seeds[i % seeds.Length].ToArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            try
            {
                var header = NanoTdfHeader.Parse(bytes);
                Assert.True(header.Bytes.Length <= bytes.Length);
            }
            catch (NanoTdfFormatException)
            {
            }
        }
    }

    [Fact]
    public void Decompression_matches_dotnet_points_on_every_curve()
    {
        foreach (var curveId in Enum.GetValues<NanoTdfCurve>())
        {
            var curve = EcCurveInfo.For(curveId);
            for (var i = 0; i < 8; i++)
            {
                using var key = ECDiffieHellman.Create(curve.DotNetCurve);
                var q = key.ExportParameters(false).Q;
                var point = curve.Decompress(curve.Compress(q));
                Assert.Equal(q.X, point.X);
                Assert.Equal(q.Y, point.Y);
            }
        }
    }

    private static readonly ResourceLocator Kas = new(ResourceProtocol.Https, "kas.example/kas");

    private static CreatedNanoTdf Create(ResourceLocator kas, NanoTdfCurve curveId, NanoTdfCreateOptions options)
    {
        var curve = EcCurveInfo.For(curveId);
        using var key = ECDiffieHellman.Create(curve.DotNetCurve);
        return NanoTdfCreator.Create(curve, curve.Compress(key.ExportParameters(false).Q), kas,
            Encoding.UTF8.GetBytes("""{"body":{"dataAttributes":[],"dissem":[]}}"""), options);
    }

    private static ECDiffieHellman FromScalar(byte[] scalar)
    {
        using var probe = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var key = ECDiffieHellman.Create();
        key.ImportParameters(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = scalar });
        return key;
    }
}
