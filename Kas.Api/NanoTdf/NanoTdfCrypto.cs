using System.Security.Cryptography;

namespace Catbird.Kas.Api.NanoTdf;

/// <summary>Which kind of policy binding a header carried and verified with.</summary>
public enum PolicyBindingKind
{
    /// <summary>The last 8 bytes of SHA-256 over the policy body (Go, web-sdk, Python KAS, opentdf-rs).</summary>
    Sha256Tail,

    /// <summary>A real GMAC: AES-GCM tag under the DEK, zero nonce, policy body as AAD, first 8 bytes (spec, OpenTDFKit).</summary>
    Gmac,

    /// <summary>ECDSA by the ephemeral key over SHA-256 of the policy body.</summary>
    Ecdsa,
}

/// <summary>
/// NanoTDF key derivation and policy cryptography (spec section 4): DEK = HKDF-SHA256(ECDH x-coordinate,
/// salt = SHA256(magic+version), info empty, 32 bytes); policies under the DEK with a zero IV.
/// </summary>
public static class NanoTdfCrypto
{
    /// <summary>Length of the data encryption key.</summary>
    public const int KeySize = 32;

    /// <summary>Nonce size of AES-GCM as the services use it.</summary>
    public const int NonceSize = 12;

    /// <summary>SHA256("L1L"), the v12 salt and the salt every client uses for the rewrap session key.</summary>
    public static readonly byte[] SaltL1L = SHA256.HashData("L1L"u8);

    /// <summary>SHA256("L1M"), the v13 salt.</summary>
    public static readonly byte[] SaltL1M = SHA256.HashData("L1M"u8);

    /// <summary>The HKDF salt of a header version.</summary>
    public static byte[] Salt(byte version) => version == NanoTdfHeader.VersionM ? SaltL1M : SaltL1L;

    /// <summary>HKDF-SHA256 over an ECDH x-coordinate with empty info.</summary>
    public static byte[] DeriveKey(ReadOnlySpan<byte> sharedX, ReadOnlySpan<byte> salt)
    {
        var key = new byte[KeySize];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, sharedX, key, salt, ReadOnlySpan<byte>.Empty);
        return key;
    }

    /// <summary>Raw ECDH (the x-coordinate) between a private key and a SEC1 public point.</summary>
    public static byte[] SharedSecret(ECDiffieHellman privateKey, EcCurveInfo curve, ReadOnlySpan<byte> publicPoint)
    {
        using var peer = curve.ImportEcdhPublicKey(publicPoint);
        return privateKey.DeriveRawSecretAgreement(peer.PublicKey);
    }

    /// <summary>The DEK of a header for the KAS private key it was made for.</summary>
    public static byte[] DeriveDek(ECDiffieHellman kasPrivateKey, NanoTdfHeader header)
    {
        var shared = SharedSecret(kasPrivateKey, header.CurveInfo, header.EphemeralPublicKey);
        try
        {
            return DeriveKey(shared, Salt(header.Version));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>Decrypts an embedded encrypted policy (ciphertext‖tag, IV = 12 zero bytes), or returns null when the tag does not verify.</summary>
    public static byte[]? DecryptPolicy(ReadOnlySpan<byte> dek, NanoTdfHeader header)
    {
        var body = header.Policy.Body;
        var tagLength = header.TagLength;
        var plaintext = new byte[body.Length - tagLength];
        return GcmDecrypt(dek, stackalloc byte[NonceSize], body.AsSpan(0, plaintext.Length), body.AsSpan(plaintext.Length), plaintext)
            ? plaintext
            : null;
    }

    /// <summary>Encrypts a policy for embedding (IV = 12 zero bytes), returning ciphertext‖tag.</summary>
    public static byte[] EncryptPolicy(ReadOnlySpan<byte> dek, ReadOnlySpan<byte> policy, int tagLength)
    {
        var output = new byte[policy.Length + tagLength];
        GcmEncrypt(dek, stackalloc byte[NonceSize], policy, output.AsSpan(0, policy.Length), output.AsSpan(policy.Length));
        return output;
    }

    /// <summary>The SHA-256-tail binding of a policy body.</summary>
    public static byte[] Sha256TailBinding(ReadOnlySpan<byte> body) =>
        SHA256.HashData(body)[^NanoTdfPolicy.GmacBindingLength..];

    /// <summary>The true-GMAC binding of a policy body under the DEK.</summary>
    public static byte[] GmacBinding(ReadOnlySpan<byte> dek, ReadOnlySpan<byte> body)
    {
        Span<byte> tag = stackalloc byte[16];
        using var aes = new AesGcm(dek, 16);
        aes.Encrypt(stackalloc byte[NonceSize], ReadOnlySpan<byte>.Empty, Span<byte>.Empty, tag, body);
        return tag[..NanoTdfPolicy.GmacBindingLength].ToArray();
    }

    /// <summary>
    /// Verifies the header's policy binding in constant time, accepting either GMAC-flag variant, and says which
    /// one matched; null when none did. <paramref name="dek"/> is needed only for the true-GMAC variant.
    /// </summary>
    public static PolicyBindingKind? VerifyBinding(NanoTdfHeader header, ReadOnlySpan<byte> dek)
    {
        var policy = header.Policy;
        if (header.UseEcdsaBinding)
        {
            var curve = header.CurveInfo;
            byte[] signature;
            try
            {
                signature = policy.FixedWidthEcdsaSignature(curve);
            }
            catch (NanoTdfFormatException)
            {
                return null;
            }

            using var key = curve.ImportEcdsaPublicKey(header.EphemeralPublicKey);
            return key.VerifyHash(SHA256.HashData(policy.Body), signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
                ? PolicyBindingKind.Ecdsa
                : null;
        }

        var shaTail = Sha256TailBinding(policy.Body);
        var shaMatches = CryptographicOperations.FixedTimeEquals(shaTail, policy.Binding);
        var gmacMatches = !dek.IsEmpty && CryptographicOperations.FixedTimeEquals(GmacBinding(dek, policy.Body), policy.Binding);
        return shaMatches ? PolicyBindingKind.Sha256Tail : gmacMatches ? PolicyBindingKind.Gmac : null;
    }

    /// <summary>AES-256-GCM with a random 12-byte nonce: returns nonce‖ciphertext‖tag.</summary>
    public static byte[] Wrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, int tagLength)
    {
        var output = new byte[NonceSize + plaintext.Length + tagLength];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        GcmEncrypt(key, nonce, plaintext, output.AsSpan(NonceSize, plaintext.Length), output.AsSpan(NonceSize + plaintext.Length));
        return output;
    }

    /// <summary>Opens nonce‖ciphertext‖tag made by <see cref="Wrap"/>.</summary>
    public static byte[] Unwrap(ReadOnlySpan<byte> key, ReadOnlySpan<byte> wrapped, int tagLength)
    {
        var plaintext = new byte[wrapped.Length - NonceSize - tagLength];
        return GcmDecrypt(key, wrapped[..NonceSize], wrapped.Slice(NonceSize, plaintext.Length), wrapped[(NonceSize + plaintext.Length)..], plaintext)
            ? plaintext
            : throw new AuthenticationTagMismatchException();
    }

    /// <summary>
    /// AES-GCM encryption with any tag length from 8 to 16 bytes. .NET's AesGcm refuses tags under 12 bytes (the
    /// NanoTDF 64-bit cipher), and a truncated GCM tag is the prefix of the full one, so short tags are cut from it.
    /// </summary>
    public static void GcmEncrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> plaintext,
        Span<byte> ciphertext, Span<byte> tag, ReadOnlySpan<byte> associatedData = default)
    {
        if (tag.Length >= 12)
        {
            using var aes = new AesGcm(key, tag.Length);
            aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
            return;
        }

        Span<byte> full = stackalloc byte[16];
        using var fullAes = new AesGcm(key, 16);
        fullAes.Encrypt(nonce, plaintext, ciphertext, full, associatedData);
        full[..tag.Length].CopyTo(tag);
    }

    /// <summary>
    /// AES-GCM decryption with any tag length from 8 to 16 bytes; false when the tag does not verify (the output is
    /// then cleared). For short tags the CTR keystream is recovered by encrypting the ciphertext, then the full tag of
    /// the recovered plaintext is recomputed and its prefix compared in constant time.
    /// </summary>
    public static bool GcmDecrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext,
        ReadOnlySpan<byte> tag, Span<byte> plaintext, ReadOnlySpan<byte> associatedData = default)
    {
        if (tag.Length >= 12)
        {
            using var aes = new AesGcm(key, tag.Length);
            try
            {
                aes.Decrypt(nonce, ciphertext, tag, plaintext, associatedData);
                return true;
            }
            catch (AuthenticationTagMismatchException)
            {
                return false;
            }
        }

        if (tag.Length < 8)
        {
            return false;
        }

        using var fullAes = new AesGcm(key, 16);
        Span<byte> ignored = stackalloc byte[16];
        fullAes.Encrypt(nonce, ciphertext, plaintext, ignored);
        var check = ciphertext.Length <= 256 ? stackalloc byte[ciphertext.Length] : new byte[ciphertext.Length];
        Span<byte> full = stackalloc byte[16];
        fullAes.Encrypt(nonce, plaintext, check, full, associatedData);
        if (CryptographicOperations.FixedTimeEquals(full[..tag.Length], tag))
        {
            return true;
        }

        CryptographicOperations.ZeroMemory(plaintext);
        return false;
    }
}
