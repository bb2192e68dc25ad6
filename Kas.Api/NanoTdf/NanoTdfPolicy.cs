namespace Catbird.Kas.Api.NanoTdf;

/// <summary>The policy type enum of the NanoTDF header.</summary>
public enum NanoTdfPolicyType : byte
{
    /// <summary>A resource locator pointing at a policy elsewhere.</summary>
    Remote = 0x00,

    /// <summary>Embedded policy in plaintext.</summary>
    EmbeddedPlaintext = 0x01,

    /// <summary>Embedded policy encrypted with the payload key under a zero IV.</summary>
    EmbeddedEncrypted = 0x02,

    /// <summary>Embedded encrypted policy whose key comes from a separate Policy Key Access section.</summary>
    EmbeddedEncryptedWithKeyAccess = 0x03,
}

/// <summary>How an ECDSA policy binding was written.</summary>
public enum EcdsaBindingEncoding
{
    /// <summary>Not an ECDSA binding.</summary>
    None,

    /// <summary>Fixed-width <c>r‖s</c> (spec, Arkavo).</summary>
    Fixed,

    /// <summary><c>len(r)‖r‖len(s)‖s</c> (Go SDK, web-sdk).</summary>
    LengthPrefixed,
}

/// <summary>
/// The policy section of a header. <see cref="Body"/> is the byte string the binding covers: the content for
/// embedded policies, the serialized locator for remote ones.
/// </summary>
public sealed record NanoTdfPolicy(
    NanoTdfPolicyType Type,
    byte[] Body,
    byte[] Binding,
    EcdsaBindingEncoding BindingEncoding,
    ResourceLocator? RemoteLocator = null,
    ResourceLocator? KeyAccessLocator = null,
    byte[]? KeyAccessEphemeralKey = null)
{
    /// <summary>Length of a GMAC-style binding in bytes.</summary>
    public const int GmacBindingLength = 8;

    /// <summary>The ECDSA binding as fixed-width <c>r‖s</c> for the curve, whatever encoding it arrived in.</summary>
    public byte[] FixedWidthEcdsaSignature(EcCurveInfo curve)
    {
        if (BindingEncoding == EcdsaBindingEncoding.Fixed)
        {
            return Binding;
        }

        var size = curve.CoordinateSize;
        var output = new byte[size * 2];
        var rLength = Binding[0];
        var r = Binding.AsSpan(1, rLength);
        var s = Binding.AsSpan(2 + rLength, Binding[1 + rLength]);
        CopyInteger(r, output.AsSpan(0, size));
        CopyInteger(s, output.AsSpan(size, size));
        return output;
    }

    private static void CopyInteger(ReadOnlySpan<byte> value, Span<byte> destination)
    {
        while (value.Length > destination.Length && value[0] == 0)
        {
            value = value[1..];
        }

        if (value.Length > destination.Length)
        {
            throw new NanoTdfFormatException("ECDSA binding integer is larger than the curve order");
        }

        value.CopyTo(destination[(destination.Length - value.Length)..]);
    }
}
