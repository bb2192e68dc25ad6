namespace Catbird.Kas.Api.NanoTdf;

/// <summary>A bounds-checked big-endian cursor; every read names the field it was reading when the data runs out.</summary>
internal ref struct NanoTdfReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; set; }

    public readonly int Remaining => _data.Length - Position;

    public readonly ReadOnlySpan<byte> Data => _data;

    public byte ReadByte(string field)
    {
        Require(1, field);
        return _data[Position++];
    }

    public readonly byte PeekByte(int offset, string field)
    {
        if (Position + offset >= _data.Length)
        {
            throw new NanoTdfFormatException($"truncated header: {field} missing at offset {Position + offset}");
        }

        return _data[Position + offset];
    }

    public ushort ReadUInt16(string field)
    {
        Require(2, field);
        var value = (ushort)((_data[Position] << 8) | _data[Position + 1]);
        Position += 2;
        return value;
    }

    public ReadOnlySpan<byte> ReadBytes(int count, string field)
    {
        Require(count, field);
        var slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }

    private readonly void Require(int count, string field)
    {
        if (count < 0 || Remaining < count)
        {
            throw new NanoTdfFormatException(
                $"truncated header: {field} needs {count} bytes at offset {Position}, {Remaining} left");
        }
    }
}
