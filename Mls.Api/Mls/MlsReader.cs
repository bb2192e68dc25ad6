using System.Buffers.Binary;

namespace Catbird.Mls.Api.Mls;

/// <summary>
/// Reads the TLS presentation language as RFC 9420 uses it (§2.1): big-endian integers and vectors whose length is a
/// QUIC-style variable-length integer that must use its shortest encoding. Positions are absolute offsets into the
/// original buffer, so a parser can slice out the signed part of a structure.
/// </summary>
public ref struct MlsReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly int _end;
    private int _position;

    public MlsReader(ReadOnlySpan<byte> buffer) : this(buffer, 0, buffer.Length) { }

    private MlsReader(ReadOnlySpan<byte> buffer, int start, int end)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _end - _position;

    public readonly bool AtEnd => _position == _end;

    /// <summary>The bytes between two absolute positions of the underlying buffer.</summary>
    public readonly ReadOnlySpan<byte> Slice(int start, int end) => _buffer[start..end];

    public byte ReadUInt8() => Take(1)[0];

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public uint ReadUInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

    public ulong ReadUInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    /// <summary>A variable-length integer (RFC 9420 §2.1.2): 1, 2 or 4 bytes, prefix 0b11 invalid, minimal encoding required.</summary>
    public uint ReadVarint()
    {
        if (Remaining < 1)
        {
            throw new MlsFormatException("truncated: expected a variable-length integer");
        }
        var first = _buffer[_position];
        var prefix = first >> 6;
        switch (prefix)
        {
            case 0:
                _position++;
                return first;
            case 1:
            {
                var value = (uint)(BinaryPrimitives.ReadUInt16BigEndian(Take(2)) & 0x3FFF);
                if (value < 0x40)
                {
                    throw new MlsFormatException("variable-length integer is not minimally encoded");
                }
                return value;
            }
            case 2:
            {
                var value = BinaryPrimitives.ReadUInt32BigEndian(Take(4)) & 0x3FFF_FFFF;
                if (value < 0x4000)
                {
                    throw new MlsFormatException("variable-length integer is not minimally encoded");
                }
                return value;
            }
            default:
                throw new MlsFormatException("variable-length integer with reserved prefix 0b11");
        }
    }

    /// <summary>An <c>opaque data&lt;V&gt;</c> vector.</summary>
    public ReadOnlySpan<byte> ReadOpaque() => Take(ReadLength());

    /// <summary>An <c>opaque data&lt;V&gt;</c> vector that must be exactly <paramref name="length"/> bytes.</summary>
    public ReadOnlySpan<byte> ReadOpaque(int length, string what)
    {
        var data = ReadOpaque();
        if (data.Length != length)
        {
            throw new MlsFormatException($"{what} must be {length} bytes, was {data.Length}");
        }
        return data;
    }

    /// <summary>Enters a vector of structures: returns a reader bounded to the vector's bytes and moves past them.</summary>
    public MlsReader ReadVector()
    {
        var length = ReadLength();
        var inner = new MlsReader(_buffer, _position, _position + length);
        _position += length;
        return inner;
    }

    /// <summary>An <c>optional&lt;T&gt;</c> presence byte.</summary>
    public bool ReadPresence() => ReadUInt8() switch
    {
        0 => false,
        1 => true,
        var b => throw new MlsFormatException($"optional presence byte must be 0 or 1, was {b}"),
    };

    /// <summary>Fails unless every byte has been read (no trailing data).</summary>
    public readonly void EnsureEnd(string what)
    {
        if (!AtEnd)
        {
            throw new MlsFormatException($"{Remaining} unexpected trailing bytes after {what}");
        }
    }

    private int ReadLength()
    {
        var length = ReadVarint();
        if (length > (uint)Remaining)
        {
            throw new MlsFormatException($"vector length {length} exceeds the {Remaining} bytes left");
        }
        return (int)length;
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > Remaining)
        {
            throw new MlsFormatException($"truncated: needed {count} bytes, {Remaining} left");
        }
        var span = _buffer.Slice(_position, count);
        _position += count;
        return span;
    }
}
