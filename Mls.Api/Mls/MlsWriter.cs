using System.Buffers;
using System.Buffers.Binary;

namespace Catbird.Mls.Api.Mls;

/// <summary>Writes the few TLS-encoded structures the DS builds itself (SignContent, RefHashInput).</summary>
public static class MlsWriter
{
    /// <summary>Appends a variable-length integer in its shortest form (RFC 9420 §2.1.2).</summary>
    public static void WriteVarint(IBufferWriter<byte> writer, uint value)
    {
        if (value < 0x40)
        {
            writer.GetSpan(1)[0] = (byte)value;
            writer.Advance(1);
        }
        else if (value < 0x4000)
        {
            BinaryPrimitives.WriteUInt16BigEndian(writer.GetSpan(2), (ushort)(value | 0x4000));
            writer.Advance(2);
        }
        else if (value < 0x4000_0000)
        {
            BinaryPrimitives.WriteUInt32BigEndian(writer.GetSpan(4), value | 0x8000_0000);
            writer.Advance(4);
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(value), "MLS vectors are limited to 2^30-1 bytes");
        }
    }

    /// <summary>Appends an <c>opaque&lt;V&gt;</c> vector.</summary>
    public static void WriteOpaque(IBufferWriter<byte> writer, ReadOnlySpan<byte> data)
    {
        WriteVarint(writer, (uint)data.Length);
        writer.Write(data);
    }
}
