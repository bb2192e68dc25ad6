using System.Numerics;
using System.Text;

namespace Catbird.Kas.Api.WebSocket;

/// <summary>Base58 (Bitcoin alphabet), as arkavo names profiles and stored objects by it.</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// <summary>Encodes bytes; leading zero bytes become leading '1's.</summary>
    public static string Encode(ReadOnlySpan<byte> data)
    {
        var value = new BigInteger(data, isUnsigned: true, isBigEndian: true);
        var output = new StringBuilder();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var remainder);
            output.Insert(0, Alphabet[(int)remainder]);
        }

        foreach (var b in data)
        {
            if (b != 0)
            {
                break;
            }

            output.Insert(0, '1');
        }

        return output.ToString();
    }
}
