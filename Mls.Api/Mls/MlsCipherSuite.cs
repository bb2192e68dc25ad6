using System.Security.Cryptography;

namespace Catbird.Mls.Api.Mls;

/// <summary>The signature algorithm a cipher suite uses for SignWithLabel.</summary>
public enum MlsSignatureScheme
{
    Ed25519,
    Ed448,
    EcdsaP256Sha256,
    EcdsaP384Sha384,
    EcdsaP521Sha512,
}

/// <summary>One of the RFC 9420 §17.1 cipher suites.</summary>
public sealed record MlsCipherSuite(ushort Id, string Name, HashAlgorithmName Hash, MlsSignatureScheme Signature)
{
    /// <summary>The six RFC 9420 suites with a registered name, plus suite 7 (P-384).</summary>
    public static IReadOnlyList<MlsCipherSuite> Known { get; } =
    [
        new(1, "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", HashAlgorithmName.SHA256, MlsSignatureScheme.Ed25519),
        new(2, "MLS_128_DHKEMP256_AES128GCM_SHA256_P256", HashAlgorithmName.SHA256, MlsSignatureScheme.EcdsaP256Sha256),
        new(3, "MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", HashAlgorithmName.SHA256, MlsSignatureScheme.Ed25519),
        new(4, "MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", HashAlgorithmName.SHA512, MlsSignatureScheme.Ed448),
        new(5, "MLS_256_DHKEMP521_AES256GCM_SHA512_P521", HashAlgorithmName.SHA512, MlsSignatureScheme.EcdsaP521Sha512),
        new(6, "MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448", HashAlgorithmName.SHA512, MlsSignatureScheme.Ed448),
        new(7, "MLS_256_DHKEMP384_AES256GCM_SHA384_P384", HashAlgorithmName.SHA384, MlsSignatureScheme.EcdsaP384Sha384),
    ];

    /// <summary>The suite with this code point, or null when it is not one of the RFC 9420 suites.</summary>
    public static MlsCipherSuite? FromId(ushort id) => id is >= 1 and <= 7 ? Known[id - 1] : null;

    /// <summary>The suite with this registered name (exact, case-sensitive), or null.</summary>
    public static MlsCipherSuite? FromName(string name)
    {
        foreach (var suite in Known)
        {
            if (suite.Name == name)
            {
                return suite;
            }
        }
        return null;
    }

    /// <summary>Hash(value) with the suite's hash function.</summary>
    public byte[] HashData(ReadOnlySpan<byte> value) => Hash.Name switch
    {
        "SHA256" => SHA256.HashData(value),
        "SHA384" => SHA384.HashData(value),
        _ => SHA512.HashData(value),
    };
}
