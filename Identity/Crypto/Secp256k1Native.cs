using System.Runtime.InteropServices;

namespace Catbird.Identity.Crypto;

/// <summary>
/// ES256K verification through Bitcoin Core's libsecp256k1 (Debian <c>libsecp256k1-1</c>), about 8× faster than
/// OpenSSL's generic curve code. <see cref="IsAvailable"/> is false when the library cannot be loaded; callers then
/// use the OpenSSL path.
/// </summary>
public static partial class Secp256k1Native
{
    private const string Library = "libsecp256k1.so.1";
    private const uint ContextVerify = (1 << 0) | (1 << 8);

    private static readonly Lazy<nint> Context = new(CreateContext);

    /// <summary>True when libsecp256k1 was loaded and a verification context created.</summary>
    public static bool IsAvailable => Context.Value != 0;

    /// <summary>
    /// Verifies a 64-byte compact r‖s signature over a 32-byte digest. libsecp256k1 accepts only lower-S signatures,
    /// which is the AT Protocol rule.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> digest32, ReadOnlySpan<byte> signature64)
    {
        var context = Context.Value;
        if (context == 0)
        {
            throw new InvalidOperationException("libsecp256k1 is not available");
        }
        if (digest32.Length != 32 || signature64.Length != 64 || (publicKey.Length != 33 && publicKey.Length != 65))
        {
            return false;
        }
        Span<byte> parsedKey = stackalloc byte[64];
        Span<byte> parsedSignature = stackalloc byte[64];
        unsafe
        {
            fixed (byte* key = publicKey, keyOut = parsedKey, sig = signature64, sigOut = parsedSignature, msg = digest32)
            {
                if (secp256k1_ec_pubkey_parse(context, keyOut, key, (nuint)publicKey.Length) != 1)
                {
                    return false;
                }
                if (secp256k1_ecdsa_signature_parse_compact(context, sigOut, sig) != 1)
                {
                    return false;
                }
                return secp256k1_ecdsa_verify(context, sigOut, msg, keyOut) == 1;
            }
        }
    }

    private static nint CreateContext()
    {
        try
        {
            return secp256k1_context_create(ContextVerify);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return 0;
        }
    }

    [LibraryImport(Library)]
    private static partial nint secp256k1_context_create(uint flags);

    [LibraryImport(Library)]
    private static unsafe partial int secp256k1_ec_pubkey_parse(nint context, byte* pubkey, byte* input, nuint inputLength);

    [LibraryImport(Library)]
    private static unsafe partial int secp256k1_ecdsa_signature_parse_compact(nint context, byte* signature, byte* input64);

    [LibraryImport(Library)]
    private static unsafe partial int secp256k1_ecdsa_verify(nint context, byte* signature, byte* message32, byte* pubkey);
}
