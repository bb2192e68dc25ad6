using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace Catbird.Mls.Api.Mls;

/// <summary>The labelled hash and signature operations of RFC 9420 §5.2 and §5.1.2 that a DS needs without group keys.</summary>
public static class MlsCrypto
{
    private static readonly byte[] LabelPrefix = "MLS 1.0 "u8.ToArray();

    /// <summary>RefHash(label, value) = Hash(RefHashInput{label, value}); the label is used as given (RFC 9420 §5.2).</summary>
    public static byte[] RefHash(MlsCipherSuite suite, string label, ReadOnlySpan<byte> value)
    {
        var buffer = new ArrayBufferWriter<byte>(value.Length + label.Length + 8);
        MlsWriter.WriteOpaque(buffer, Encoding.ASCII.GetBytes(label));
        MlsWriter.WriteOpaque(buffer, value);
        return suite.HashData(buffer.WrittenSpan);
    }

    /// <summary>KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage) over the bare KeyPackage encoding.</summary>
    public static byte[] KeyPackageRef(MlsCipherSuite suite, ReadOnlySpan<byte> keyPackage) =>
        RefHash(suite, "MLS 1.0 KeyPackage Reference", keyPackage);

    /// <summary>VerifyWithLabel: checks <paramref name="signature"/> over SignContent{"MLS 1.0 " + label, content}.</summary>
    public static bool VerifyWithLabel(MlsCipherSuite suite, ReadOnlySpan<byte> publicKey, string label,
        ReadOnlySpan<byte> content, ReadOnlySpan<byte> signature)
    {
        var signContent = SignContent(label, content);
        return suite.Signature switch
        {
            MlsSignatureScheme.Ed25519 => publicKey.Length == Ed25519.PublicKeySize && signature.Length == Ed25519.SignatureSize
                && VerifyEd25519(publicKey, signContent, signature),
            MlsSignatureScheme.Ed448 => publicKey.Length == Ed448.PublicKeySize && signature.Length == Ed448.SignatureSize
                && Ed448.Verify(signature.ToArray(), 0, publicKey.ToArray(), 0, [], signContent, 0, signContent.Length),
            MlsSignatureScheme.EcdsaP256Sha256 => VerifyEcdsa(ECCurve.NamedCurves.nistP256, 32, HashAlgorithmName.SHA256, publicKey, signContent, signature),
            MlsSignatureScheme.EcdsaP384Sha384 => VerifyEcdsa(ECCurve.NamedCurves.nistP384, 48, HashAlgorithmName.SHA384, publicKey, signContent, signature),
            MlsSignatureScheme.EcdsaP521Sha512 => VerifyEcdsa(ECCurve.NamedCurves.nistP521, 66, HashAlgorithmName.SHA512, publicKey, signContent, signature),
            _ => false,
        };
    }

    /// <summary>The TLS encoding of SignContent{opaque label&lt;V&gt; = "MLS 1.0 " + label; opaque content&lt;V&gt;}.</summary>
    public static byte[] SignContent(string label, ReadOnlySpan<byte> content)
    {
        var fullLabel = new byte[LabelPrefix.Length + Encoding.ASCII.GetByteCount(label)];
        LabelPrefix.CopyTo(fullLabel, 0);
        Encoding.ASCII.GetBytes(label, fullLabel.AsSpan(LabelPrefix.Length));
        var buffer = new ArrayBufferWriter<byte>(content.Length + fullLabel.Length + 8);
        MlsWriter.WriteOpaque(buffer, fullLabel);
        MlsWriter.WriteOpaque(buffer, content);
        return buffer.WrittenSpan.ToArray();
    }

    private static bool VerifyEd25519(ReadOnlySpan<byte> publicKey, byte[] message, ReadOnlySpan<byte> signature)
    {
        try
        {
            return Ed25519.Verify(signature.ToArray(), 0, publicKey.ToArray(), 0, message, 0, message.Length);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // MLS ECDSA public keys are SEC1 points (RFC 9420 §5.1.1 names the uncompressed form; ts-mls writes P-256 keys
    // compressed, so a compressed P-256 point is accepted too); signatures are DER.
    private static bool VerifyEcdsa(ECCurve curve, int coordinateLength, HashAlgorithmName hash,
        ReadOnlySpan<byte> publicKey, byte[] message, ReadOnlySpan<byte> signature)
    {
        if (coordinateLength == 32 && publicKey.Length == 33 && curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value)
        {
            try
            {
                publicKey = Catbird.Identity.Crypto.AtprotoPublicKey.FromSec1(Catbird.Identity.Crypto.AtprotoCurve.P256, publicKey).Uncompressed;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        if (publicKey.Length != 1 + 2 * coordinateLength || publicKey[0] != 0x04)
        {
            return false;
        }
        try
        {
            using var ecdsa = ECDsa.Create(new ECParameters
            {
                Curve = curve,
                Q = new ECPoint
                {
                    X = publicKey.Slice(1, coordinateLength).ToArray(),
                    Y = publicKey.Slice(1 + coordinateLength, coordinateLength).ToArray(),
                },
            });
            return ecdsa.VerifyData(message, signature, hash, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
