using System.Security.Cryptography;

namespace Catbird.Kas.Api.NanoTdf;

/// <summary>Which binding a created header carries.</summary>
public enum NanoTdfBindingStyle
{
    /// <summary>SHA-256 tail (what OpenTDF SDKs write).</summary>
    Sha256Tail,

    /// <summary>True GMAC (what OpenTDFKit writes).</summary>
    Gmac,

    /// <summary>ECDSA, fixed-width <c>r‖s</c>.</summary>
    EcdsaFixed,

    /// <summary>ECDSA, <c>len(r)‖r‖len(s)‖s</c>.</summary>
    EcdsaLengthPrefixed,
}

/// <summary>Options of <see cref="NanoTdfCreator.Create"/>.</summary>
public sealed record NanoTdfCreateOptions
{
    /// <summary>Embedded policy type (plaintext or encrypted).</summary>
    public NanoTdfPolicyType PolicyType { get; init; } = NanoTdfPolicyType.EmbeddedEncrypted;

    /// <summary>Binding style.</summary>
    public NanoTdfBindingStyle Binding { get; init; } = NanoTdfBindingStyle.Sha256Tail;

    /// <summary>Cipher enum (0..5); 1 = AES-256-GCM-96, the web-sdk default.</summary>
    public byte Cipher { get; init; } = 1;

    /// <summary>Version byte (<c>L</c> or <c>M</c>).</summary>
    public byte Version { get; init; } = NanoTdfHeader.VersionL;
}

/// <summary>A created NanoTDF header with the DEK it hides.</summary>
public sealed record CreatedNanoTdf(NanoTdfHeader Header, byte[] Dek)
{
    /// <summary>Encrypts a payload under the DEK and returns the whole NanoTDF (header, payload, no signature).</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var header = Header.ToBytes();
        var tagLength = Header.TagLength;
        var payloadLength = 3 + plaintext.Length + tagLength;
        var output = new byte[header.Length + 3 + payloadLength];
        header.CopyTo(output, 0);
        var at = header.Length;
        output[at] = (byte)(payloadLength >> 16);
        output[at + 1] = (byte)(payloadLength >> 8);
        output[at + 2] = (byte)payloadLength;
        output[at + 5] = 1;
        Span<byte> nonce = stackalloc byte[NanoTdfCrypto.NonceSize];
        nonce[^1] = 1;
        NanoTdfCrypto.GcmEncrypt(Dek, nonce, plaintext, output.AsSpan(at + 6, plaintext.Length), output.AsSpan(at + 6 + plaintext.Length, tagLength));
        return output;
    }

    /// <summary>Decrypts the payload of a NanoTDF made by <see cref="Seal"/> (nonce = 9 zero bytes ‖ IV).</summary>
    public static byte[] Open(ReadOnlySpan<byte> dek, ReadOnlySpan<byte> nanoTdf)
    {
        var header = NanoTdfHeader.Parse(nanoTdf);
        var at = header.Bytes.Length;
        var payloadLength = (nanoTdf[at] << 16) | (nanoTdf[at + 1] << 8) | nanoTdf[at + 2];
        var payload = nanoTdf.Slice(at + 3, payloadLength);
        Span<byte> nonce = stackalloc byte[NanoTdfCrypto.NonceSize];
        payload[..3].CopyTo(nonce[9..]);
        var ciphertext = payload[3..^header.TagLength];
        var plaintext = new byte[ciphertext.Length];
        return NanoTdfCrypto.GcmDecrypt(dek, nonce, ciphertext, payload[^header.TagLength..], plaintext)
            ? plaintext
            : throw new CryptographicException("payload tag mismatch");
    }
}

/// <summary>Makes NanoTDF headers for a KAS public key: what a client does, used by tests, benchmarks and tools.</summary>
public static class NanoTdfCreator
{
    /// <summary>Creates a header for the KAS public point (SEC1) with the policy embedded as the options say.</summary>
    public static CreatedNanoTdf Create(EcCurveInfo curve, ReadOnlySpan<byte> kasPublicPoint, ResourceLocator kas,
        ReadOnlySpan<byte> policy, NanoTdfCreateOptions? options = null)
    {
        options ??= new NanoTdfCreateOptions();
        using var ephemeral = ECDiffieHellman.Create(curve.DotNetCurve);
        var ephemeralParameters = ephemeral.ExportParameters(true);
        var ephemeralPoint = curve.Compress(ephemeralParameters.Q);
        var shared = NanoTdfCrypto.SharedSecret(ephemeral, curve, kasPublicPoint);
        var dek = NanoTdfCrypto.DeriveKey(shared, NanoTdfCrypto.Salt(options.Version));
        var tagLength = new NanoTdfHeader(options.Version, kas, false, curve.Curve, false, 0, options.Cipher,
            new NanoTdfPolicy(NanoTdfPolicyType.EmbeddedPlaintext, [], [], EcdsaBindingEncoding.None), []).TagLength;
        var body = options.PolicyType == NanoTdfPolicyType.EmbeddedPlaintext
            ? policy.ToArray()
            : NanoTdfCrypto.EncryptPolicy(dek, policy, tagLength);

        var useEcdsa = options.Binding is NanoTdfBindingStyle.EcdsaFixed or NanoTdfBindingStyle.EcdsaLengthPrefixed;
        byte[] binding;
        var encoding = EcdsaBindingEncoding.None;
        switch (options.Binding)
        {
            case NanoTdfBindingStyle.Sha256Tail:
                binding = NanoTdfCrypto.Sha256TailBinding(body);
                break;
            case NanoTdfBindingStyle.Gmac:
                binding = NanoTdfCrypto.GmacBinding(dek, body);
                break;
            default:
                using (var signer = ECDsa.Create(ephemeralParameters))
                {
                    var signature = signer.SignHash(SHA256.HashData(body), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
                    if (options.Binding == NanoTdfBindingStyle.EcdsaFixed)
                    {
                        binding = signature;
                        encoding = EcdsaBindingEncoding.Fixed;
                    }
                    else
                    {
                        var r = TrimLeadingZeros(signature.AsSpan(0, curve.CoordinateSize));
                        var s = TrimLeadingZeros(signature.AsSpan(curve.CoordinateSize));
                        binding = [(byte)r.Length, .. r, (byte)s.Length, .. s];
                        encoding = EcdsaBindingEncoding.LengthPrefixed;
                    }
                }

                break;
        }

        CryptographicOperations.ZeroMemory(shared);
        var header = new NanoTdfHeader(options.Version, kas, useEcdsa, curve.Curve, false, 0, options.Cipher,
            new NanoTdfPolicy(options.PolicyType, body, binding, encoding), ephemeralPoint);
        return new CreatedNanoTdf(header with { Bytes = header.ToBytes() }, dek);
    }

    private static byte[] TrimLeadingZeros(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length - 1 && value[start] == 0)
        {
            start++;
        }

        return value[start..].ToArray();
    }
}
