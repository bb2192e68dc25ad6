using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Catbird.Nats;

/// <summary>The kind of an nkey, as its first character shows (<c>U</c> user, <c>A</c> account, <c>O</c> operator, …).</summary>
public enum NKeyType : byte
{
    /// <summary>Operator (<c>O</c>).</summary>
    Operator = 14 << 3,

    /// <summary>Server (<c>N</c>).</summary>
    Server = 13 << 3,

    /// <summary>Cluster (<c>C</c>).</summary>
    Cluster = 2 << 3,

    /// <summary>Account (<c>A</c>).</summary>
    Account = 0,

    /// <summary>User (<c>U</c>).</summary>
    User = 20 << 3,
}

/// <summary>
/// An Ed25519 key pair in NATS's nkey encoding: base32 (RFC 4648, no padding) of prefix ‖ key ‖ CRC-16/XMODEM
/// (little-endian); seeds carry two prefix bytes (<c>S</c> + type).
/// </summary>
public sealed class NKeyPair
{
    private const byte SeedPrefix = 18 << 3;
    private readonly byte[] _seed;

    private NKeyPair(NKeyType type, byte[] seed)
    {
        Type = type;
        _seed = seed;
        PublicKeyBytes = new Ed25519PrivateKeyParameters(seed, 0).GeneratePublicKey().GetEncoded();
    }

    /// <summary>The key type.</summary>
    public NKeyType Type { get; }

    /// <summary>The 32-byte Ed25519 public key.</summary>
    public byte[] PublicKeyBytes { get; }

    /// <summary>The encoded public key (<c>U…</c>, <c>A…</c>, …).</summary>
    public string PublicKey => Encode([(byte)Type, .. PublicKeyBytes]);

    /// <summary>The encoded seed (<c>SU…</c>, <c>SA…</c>, …).</summary>
    public string Seed => Encode([(byte)(SeedPrefix | ((byte)Type >> 5)), (byte)(((byte)Type & 31) << 3), .. _seed]);

    /// <summary>A new random key pair.</summary>
    public static NKeyPair Create(NKeyType type) => new(type, RandomNumberGenerator.GetBytes(32));

    /// <summary>The key pair whose Ed25519 seed is <paramref name="ed25519Seed"/> (re-encoding an existing signing key).</summary>
    public static NKeyPair FromEd25519Seed(NKeyType type, ReadOnlySpan<byte> ed25519Seed) =>
        ed25519Seed.Length == 32 ? new(type, ed25519Seed.ToArray()) : throw new ArgumentException("An Ed25519 seed is 32 bytes.", nameof(ed25519Seed));

    /// <summary>Decodes an encoded seed.</summary>
    /// <exception cref="FormatException">Bad base32, CRC, prefix or length.</exception>
    public static NKeyPair FromSeed(string seed)
    {
        var raw = Decode(seed);
        if (raw.Length != 34 || (raw[0] & 0xF8) != SeedPrefix)
        {
            throw new FormatException("Not an nkey seed.");
        }

        var type = (NKeyType)(((raw[0] & 7) << 5) | ((raw[1] & 0xF8) >> 3));
        if (!Enum.IsDefined(type))
        {
            throw new FormatException("Unknown nkey type in seed.");
        }

        return new NKeyPair(type, raw[2..]);
    }

    /// <summary>Decodes an encoded public key, checking its CRC and type; returns the raw 32 bytes.</summary>
    /// <exception cref="FormatException">Bad encoding.</exception>
    public static byte[] DecodePublicKey(string publicKey, out NKeyType type)
    {
        var raw = Decode(publicKey);
        type = (NKeyType)raw[0];
        if (raw.Length != 33 || !Enum.IsDefined(type))
        {
            throw new FormatException("Not an nkey public key.");
        }

        return raw[1..];
    }

    /// <summary>Signs <paramref name="data"/> with Ed25519.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data)
    {
        var signer = new Ed25519Signer();
        signer.Init(true, new Ed25519PrivateKeyParameters(_seed, 0));
        var bytes = data.ToArray();
        signer.BlockUpdate(bytes, 0, bytes.Length);
        return signer.GenerateSignature();
    }

    /// <summary>Verifies an Ed25519 signature by the public key <paramref name="publicKey"/> (encoded).</summary>
    public static bool Verify(string publicKey, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        var key = DecodePublicKey(publicKey, out _);
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(key, 0));
        var bytes = data.ToArray();
        verifier.BlockUpdate(bytes, 0, bytes.Length);
        return verifier.VerifySignature(signature.ToArray());
    }

    /// <summary>CRC-16/XMODEM (poly 0x1021, init 0).</summary>
    public static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var b in data)
        {
            crc ^= (ushort)(b << 8);
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
        }

        return crc;
    }

    private static string Encode(byte[] payload)
    {
        var crc = Crc16(payload);
        return Base32.Encode([.. payload, (byte)(crc & 0xFF), (byte)(crc >> 8)]);
    }

    private static byte[] Decode(string text)
    {
        var raw = Base32.Decode(text);
        if (raw.Length < 3)
        {
            throw new FormatException("nkey too short.");
        }

        var payload = raw.AsSpan(0, raw.Length - 2);
        var crc = (ushort)(raw[^2] | (raw[^1] << 8));
        if (Crc16(payload) != crc)
        {
            throw new FormatException("nkey checksum mismatch.");
        }

        return payload.ToArray();
    }
}

/// <summary>RFC 4648 base32 without padding, as nkeys use it.</summary>
public static class Base32
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>Encodes without padding.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var output = new System.Text.StringBuilder((data.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            output.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return output.ToString();
    }

    /// <summary>Decodes (padding ignored).</summary>
    /// <exception cref="FormatException">A character outside the alphabet.</exception>
    public static byte[] Decode(string text)
    {
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            var value = Alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (value < 0)
            {
                throw new FormatException($"'{c}' is not a base32 character.");
            }

            buffer = (buffer << 5) | value;
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. output];
    }
}
