using System.Numerics;

namespace Catbird.Identity.Crypto;

/// <summary>Base58 with the Bitcoin alphabet, as multibase prefix <c>z</c> uses it.</summary>
public static class Base58Btc
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static readonly sbyte[] Digits = BuildDigits();

    /// <summary>Decodes <paramref name="text"/>; throws <see cref="FormatException"/> on a character outside the alphabet.</summary>
    public static byte[] Decode(ReadOnlySpan<char> text)
    {
        if (text.Length > 256)
        {
            throw new FormatException("base58 text too long for a key");
        }
        var value = BigInteger.Zero;
        var leadingZeros = 0;
        var seenNonZero = false;
        foreach (var c in text)
        {
            var digit = c < 128 ? Digits[c] : -1;
            if (digit < 0)
            {
                throw new FormatException($"'{c}' is not a base58btc character");
            }
            if (digit == 0 && !seenNonZero)
            {
                leadingZeros++;
                continue;
            }
            seenNonZero = true;
            value = value * 58 + digit;
        }
        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = new byte[leadingZeros + body.Length];
        body.CopyTo(result, leadingZeros);
        return result;
    }

    /// <summary>Encodes <paramref name="data"/>.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var leadingZeros = 0;
        while (leadingZeros < data.Length && data[leadingZeros] == 0)
        {
            leadingZeros++;
        }
        var value = new BigInteger(data, isUnsigned: true, isBigEndian: true);
        var chars = new List<char>();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var remainder);
            chars.Add(Alphabet[(int)remainder]);
        }
        chars.AddRange(Enumerable.Repeat('1', leadingZeros));
        chars.Reverse();
        return new string([.. chars]);
    }

    private static sbyte[] BuildDigits()
    {
        var digits = new sbyte[128];
        Array.Fill(digits, (sbyte)-1);
        for (var i = 0; i < Alphabet.Length; i++)
        {
            digits[Alphabet[i]] = (sbyte)i;
        }
        return digits;
    }
}
