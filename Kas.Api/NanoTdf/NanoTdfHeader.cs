namespace Catbird.Kas.Api.NanoTdf;

/// <summary>
/// A parsed NanoTDF header (spec sections 3.3.1 and 3.4): magic and version, KAS locator, ECC and binding mode,
/// symmetric and payload config, policy with binding, and the ephemeral public key.
/// </summary>
public sealed record NanoTdfHeader(
    byte Version,
    ResourceLocator Kas,
    bool UseEcdsaBinding,
    NanoTdfCurve Curve,
    bool HasSignature,
    NanoTdfCurve SignatureCurve,
    byte Cipher,
    NanoTdfPolicy Policy,
    byte[] EphemeralPublicKey)
{
    /// <summary>Version byte of <c>L1L</c> (v12).</summary>
    public const byte VersionL = 0x4C;

    /// <summary>Version byte of <c>L1M</c> (v13).</summary>
    public const byte VersionM = 0x4D;

    private static readonly int[] TagLengths = [8, 12, 13, 14, 15, 16];

    /// <summary>The raw header bytes as read (or as written by <see cref="ToBytes"/>).</summary>
    public byte[] Bytes { get; init; } = [];

    /// <summary>The three magic+version bytes.</summary>
    public byte[] MagicAndVersion => [0x4C, 0x31, Version];

    /// <summary>Length of the AES-GCM tag the cipher enum names, in bytes.</summary>
    public int TagLength => TagLengths[Cipher];

    /// <summary>The ephemeral (and binding) curve.</summary>
    public EcCurveInfo CurveInfo => EcCurveInfo.For(Curve);

    /// <summary>Parses a header from the start of <paramref name="data"/>; trailing bytes (payload, signature) are ignored.</summary>
    /// <exception cref="NanoTdfFormatException">The bytes are not a header this service can read.</exception>
    public static NanoTdfHeader Parse(ReadOnlySpan<byte> data)
    {
        var reader = new NanoTdfReader(data);
        var magic = reader.ReadBytes(3, "magic");
        if (magic[0] != 0x4C || magic[1] != 0x31 || (magic[2] != VersionL && magic[2] != VersionM))
        {
            throw new NanoTdfFormatException(magic[0] == 0x4C && magic[1] == 0x31
                ? $"unsupported NanoTDF version 0x{magic[2]:x2} (L1L and L1M are supported)"
                : "not a NanoTDF: bad magic number");
        }

        var kas = ResourceLocator.Read(ref reader, "KAS locator");
        var eccMode = reader.ReadByte("ECC and binding mode");
        var useEcdsa = (eccMode & 0x80) != 0;
        var curveValue = eccMode & 0x07;
        if (curveValue > (int)NanoTdfCurve.Secp256k1)
        {
            throw new NanoTdfFormatException($"unsupported ECC curve {curveValue}");
        }

        var curve = EcCurveInfo.For((NanoTdfCurve)curveValue);
        var symmetric = reader.ReadByte("symmetric and payload config");
        var cipher = (byte)(symmetric & 0x0F);
        if (cipher >= TagLengths.Length)
        {
            throw new NanoTdfFormatException($"unsupported symmetric cipher {cipher}");
        }

        var signatureCurve = (symmetric >> 4) & 0x07;
        var hasSignature = (symmetric & 0x80) != 0;
        if (hasSignature && signatureCurve > (int)NanoTdfCurve.Secp256k1)
        {
            throw new NanoTdfFormatException($"unsupported signature curve {signatureCurve}");
        }

        var policy = ReadPolicy(ref reader, useEcdsa, curve, TagLengths[cipher]);
        var ephemeral = reader.ReadBytes(curve.CompressedPointSize, "ephemeral public key").ToArray();
        curve.Decompress(ephemeral);
        return new NanoTdfHeader(magic[2], kas, useEcdsa, curve.Curve, hasSignature, (NanoTdfCurve)signatureCurve,
            cipher, policy, ephemeral)
        {
            Bytes = data[..reader.Position].ToArray(),
        };
    }

    /// <summary>Serializes the header.</summary>
    public byte[] ToBytes()
    {
        var output = new List<byte>(256) { 0x4C, 0x31, Version };
        Kas.Write(output);
        output.Add((byte)((UseEcdsaBinding ? 0x80 : 0) | (byte)Curve));
        output.Add((byte)((HasSignature ? 0x80 : 0) | (((byte)SignatureCurve & 0x07) << 4) | Cipher));
        output.Add((byte)Policy.Type);
        switch (Policy.Type)
        {
            case NanoTdfPolicyType.Remote:
                Policy.RemoteLocator!.Write(output);
                break;
            default:
                output.Add((byte)(Policy.Body.Length >> 8));
                output.Add((byte)Policy.Body.Length);
                output.AddRange(Policy.Body);
                if (Policy.Type == NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess)
                {
                    Policy.KeyAccessLocator!.Write(output);
                    output.AddRange(Policy.KeyAccessEphemeralKey!);
                }

                break;
        }

        output.AddRange(Policy.Binding);
        output.AddRange(EphemeralPublicKey);
        return [.. output];
    }

    private static NanoTdfPolicy ReadPolicy(ref NanoTdfReader reader, bool useEcdsa, EcCurveInfo curve, int tagLength)
    {
        var typeValue = reader.ReadByte("policy type");
        if (typeValue > (byte)NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess)
        {
            throw new NanoTdfFormatException($"unknown policy type {typeValue}");
        }

        var type = (NanoTdfPolicyType)typeValue;
        ResourceLocator? remote = null, keyAccessLocator = null;
        byte[]? keyAccessKey = null;
        byte[] body;
        if (type == NanoTdfPolicyType.Remote)
        {
            var start = reader.Position;
            remote = ResourceLocator.Read(ref reader, "remote policy locator");
            body = reader.Data[start..reader.Position].ToArray();
        }
        else
        {
            var length = reader.ReadUInt16("policy length");
            if (length == 0)
            {
                throw new NanoTdfFormatException("embedded policy is empty");
            }

            body = reader.ReadBytes(length, "policy body").ToArray();
            if (type != NanoTdfPolicyType.EmbeddedPlaintext && length < tagLength)
            {
                throw new NanoTdfFormatException($"encrypted policy is shorter than its {tagLength}-byte tag");
            }

            if (type == NanoTdfPolicyType.EmbeddedEncryptedWithKeyAccess)
            {
                keyAccessLocator = ResourceLocator.Read(ref reader, "policy key access locator");
                keyAccessKey = reader.ReadBytes(curve.CompressedPointSize, "policy key access ephemeral key").ToArray();
                curve.Decompress(keyAccessKey);
            }
        }

        if (!useEcdsa)
        {
            var gmac = reader.ReadBytes(NanoTdfPolicy.GmacBindingLength, "policy binding").ToArray();
            return new NanoTdfPolicy(type, body, gmac, EcdsaBindingEncoding.None, remote, keyAccessLocator, keyAccessKey);
        }

        var (binding, encoding) = ReadEcdsaBinding(ref reader, curve);
        return new NanoTdfPolicy(type, body, binding, encoding, remote, keyAccessLocator, keyAccessKey);
    }

    /// <summary>
    /// The ECDSA binding comes in two encodings that the bytes do not label. A candidate is plausible when a
    /// valid ephemeral point follows it; when both are, the one that ends the data exactly wins, then the
    /// length-prefixed form (a fixed-width signature almost never reads as a plausible prefixed one, the
    /// reverse happens for about 1 in 250 signatures).
    /// </summary>
    private static (byte[] Binding, EcdsaBindingEncoding Encoding) ReadEcdsaBinding(ref NanoTdfReader reader, EcCurveInfo curve)
    {
        var start = reader.Position;
        var data = reader.Data;
        var fixedEnd = start + curve.SignatureSize;
        var fixedOk = PointFollows(data, fixedEnd, curve);

        var prefixedEnd = -1;
        if (start < data.Length)
        {
            int rLength = data[start];
            var sAt = start + 1 + rLength;
            if (rLength is > 0 && rLength <= curve.CoordinateSize + 1 && sAt < data.Length)
            {
                int sLength = data[sAt];
                if (sLength is > 0 && sLength <= curve.CoordinateSize + 1)
                {
                    prefixedEnd = sAt + 1 + sLength;
                }
            }
        }

        var prefixedOk = prefixedEnd > 0 && PointFollows(data, prefixedEnd, curve);
        bool usePrefixed;
        if (fixedOk && prefixedOk)
        {
            var fixedExact = fixedEnd + curve.CompressedPointSize == data.Length;
            var prefixedExact = prefixedEnd + curve.CompressedPointSize == data.Length;
            usePrefixed = prefixedExact || !fixedExact;
        }
        else if (fixedOk || prefixedOk)
        {
            usePrefixed = prefixedOk;
        }
        else
        {
            throw new NanoTdfFormatException(data.Length < fixedEnd + curve.CompressedPointSize && prefixedEnd < 0
                ? $"truncated header: ECDSA policy binding and ephemeral key need {curve.SignatureSize + curve.CompressedPointSize} bytes at offset {start}"
                : "ECDSA policy binding is not followed by a valid ephemeral public key");
        }

        var end = usePrefixed ? prefixedEnd : fixedEnd;
        var binding = reader.ReadBytes(end - start, "ECDSA policy binding").ToArray();
        return (binding, usePrefixed ? EcdsaBindingEncoding.LengthPrefixed : EcdsaBindingEncoding.Fixed);
    }

    private static bool PointFollows(ReadOnlySpan<byte> data, int offset, EcCurveInfo curve)
    {
        if (offset + curve.CompressedPointSize > data.Length)
        {
            return false;
        }

        try
        {
            curve.Decompress(data.Slice(offset, curve.CompressedPointSize));
            return true;
        }
        catch (NanoTdfFormatException)
        {
            return false;
        }
    }
}
