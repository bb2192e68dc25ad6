using System.Buffers.Binary;

namespace Catbird.Kas.Api.WebSocket;

/// <summary>The <c>arkavo.Action</c> enum.</summary>
public enum ArkavoAction : sbyte
{
    /// <summary>Unset.</summary>
    Unused = 0,

    /// <summary>Join.</summary>
    Join = 1,

    /// <summary>Apply.</summary>
    Apply = 2,

    /// <summary>Approve.</summary>
    Approve = 3,

    /// <summary>Leave.</summary>
    Leave = 4,

    /// <summary>Cache in Redis.</summary>
    Cache = 5,

    /// <summary>Store durably (blob store).</summary>
    Store = 6,

    /// <summary>Share.</summary>
    Share = 7,

    /// <summary>Invite.</summary>
    Invite = 8,
}

/// <summary>The <c>arkavo.EventData</c> union tag.</summary>
public enum ArkavoEventData : byte
{
    /// <summary>No data.</summary>
    None = 0,

    /// <summary>UserEvent: fetch <c>target_id</c> from the cache.</summary>
    UserEvent = 1,

    /// <summary>CacheEvent: cache (or store) <c>target_payload</c> under <c>target_id</c>.</summary>
    CacheEvent = 2,

    /// <summary>RouteEvent: forward the event to <c>profile.&lt;base58(target_id)&gt;</c>.</summary>
    RouteEvent = 3,
}

/// <summary>
/// An <c>arkavo.Event</c> FlatBuffers table with the fields the service uses (slots from the generated Rust code of
/// arkavo-rs): Event {action:i8 @4, timestamp:u64 @6, status:i8 @8, data_type:u8 @10, data @12};
/// UserEvent {target_id:[u8] @10}; CacheEvent {target_id:[u8] @4, target_payload:[u8] @6, ttl:u32 @8, one_time_access:bool @10};
/// RouteEvent {target_id:[u8] @6, payload:[u8] @16}.
/// </summary>
public sealed record ArkavoEvent(
    ArkavoAction Action,
    ulong Timestamp,
    sbyte Status,
    ArkavoEventData DataType,
    byte[]? TargetId,
    byte[]? TargetPayload,
    uint Ttl,
    bool OneTimeAccess)
{
    /// <summary>Reads an event, checking every offset and length against the buffer.</summary>
    /// <exception cref="FormatException">The bytes are not a readable Event.</exception>
    public static ArkavoEvent Read(ReadOnlySpan<byte> buffer)
    {
        var root = Table.Root(buffer);
        var action = (ArkavoAction)(sbyte)root.Byte(4);
        var timestamp = root.UInt64(6);
        var status = (sbyte)root.Byte(8);
        var dataType = (ArkavoEventData)root.Byte(10);
        if (dataType == ArkavoEventData.None || !root.TrySubTable(12, out var table))
        {
            return new ArkavoEvent(action, timestamp, status, ArkavoEventData.None, null, null, 0, false);
        }

        return dataType switch
        {
            ArkavoEventData.UserEvent => new ArkavoEvent(action, timestamp, status, dataType, table.Bytes(10), null, 0, false),
            ArkavoEventData.CacheEvent => new ArkavoEvent(action, timestamp, status, dataType, table.Bytes(4), table.Bytes(6), table.UInt32(8), table.Byte(10) != 0),
            ArkavoEventData.RouteEvent => new ArkavoEvent(action, timestamp, status, dataType, table.Bytes(6), table.Bytes(16), 0, false),
            _ => throw new FormatException($"unknown event data type {(byte)dataType}"),
        };
    }

    /// <summary>Writes the event as a FlatBuffer (forward layout, every scalar naturally aligned).</summary>
    public byte[] Write()
    {
        var output = new FlatBufferWriter();
        output.UInt32(0);
        var eventTable = output.Table(
        [
            (4, 1, FieldKind.Scalar, (ulong)(byte)Action),
            (6, 8, FieldKind.Scalar, Timestamp),
            (8, 1, FieldKind.Scalar, (ulong)(byte)Status),
            (10, 1, FieldKind.Scalar, (ulong)DataType),
            (12, 4, FieldKind.Offset, 0),
        ]);
        output.PatchUOffset(0, eventTable.Start);
        if (DataType == ArkavoEventData.None)
        {
            return output.ToArray();
        }

        var fields = DataType switch
        {
            ArkavoEventData.UserEvent => new List<(int, int, FieldKind, ulong)> { (10, 4, FieldKind.Offset, 0) },
            ArkavoEventData.CacheEvent => [(4, 4, FieldKind.Offset, 0), (6, 4, FieldKind.Offset, 0), (8, 4, FieldKind.Scalar, Ttl), (10, 1, FieldKind.Scalar, OneTimeAccess ? 1UL : 0)],
            _ => [(6, 4, FieldKind.Offset, 0), (16, 4, FieldKind.Offset, 0)],
        };
        var dataTable = output.Table(fields);
        output.PatchUOffset(eventTable.FieldAt[12], dataTable.Start);
        switch (DataType)
        {
            case ArkavoEventData.UserEvent:
                output.PatchUOffset(dataTable.FieldAt[10], output.Vector(TargetId ?? []));
                break;
            case ArkavoEventData.CacheEvent:
                output.PatchUOffset(dataTable.FieldAt[4], output.Vector(TargetId ?? []));
                output.PatchUOffset(dataTable.FieldAt[6], output.Vector(TargetPayload ?? []));
                break;
            default:
                output.PatchUOffset(dataTable.FieldAt[6], output.Vector(TargetId ?? []));
                output.PatchUOffset(dataTable.FieldAt[16], output.Vector(TargetPayload ?? []));
                break;
        }

        return output.ToArray();
    }

    private enum FieldKind
    {
        Scalar,
        Offset,
    }

    private readonly ref struct Table
    {
        private readonly ReadOnlySpan<byte> _buffer;
        private readonly int _position;
        private readonly int _vtable;
        private readonly int _vtableSize;

        private Table(ReadOnlySpan<byte> buffer, int position)
        {
            _buffer = buffer;
            _position = position;
            var soffset = BinaryPrimitives.ReadInt32LittleEndian(Slice(buffer, position, 4));
            var vtable = (long)position - soffset;
            if (vtable < 0 || vtable + 4 > buffer.Length)
            {
                throw new FormatException("vtable outside the buffer");
            }

            _vtable = (int)vtable;
            _vtableSize = BinaryPrimitives.ReadUInt16LittleEndian(buffer.Slice(_vtable, 2));
            if (_vtableSize < 4 || _vtableSize % 2 != 0 || _vtable + _vtableSize > buffer.Length)
            {
                throw new FormatException("bad vtable size");
            }
        }

        public static Table Root(ReadOnlySpan<byte> buffer)
        {
            var offset = BinaryPrimitives.ReadUInt32LittleEndian(Slice(buffer, 0, 4));
            return new Table(buffer, checked((int)Math.Min(offset, int.MaxValue)));
        }

        public byte Byte(int slot) => Field(slot, 1) is var at and >= 0 ? _buffer[at] : (byte)0;

        public uint UInt32(int slot) => Field(slot, 4) is var at and >= 0 ? BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Slice(at, 4)) : 0;

        public ulong UInt64(int slot) => Field(slot, 8) is var at and >= 0 ? BinaryPrimitives.ReadUInt64LittleEndian(_buffer.Slice(at, 8)) : 0;

        public bool TrySubTable(int slot, out Table table)
        {
            var target = Follow(slot);
            table = target < 0 ? default : new Table(_buffer, target);
            return target >= 0;
        }

        public byte[]? Bytes(int slot)
        {
            var target = Follow(slot);
            if (target < 0)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadUInt32LittleEndian(Slice(_buffer, target, 4));
            return Slice(_buffer, target + 4, checked((int)Math.Min(length, int.MaxValue))).ToArray();
        }

        private int Follow(int slot)
        {
            var at = Field(slot, 4);
            if (at < 0)
            {
                return -1;
            }

            var target = (long)at + BinaryPrimitives.ReadUInt32LittleEndian(_buffer.Slice(at, 4));
            if (target + 4 > _buffer.Length)
            {
                throw new FormatException("offset outside the buffer");
            }

            return (int)target;
        }

        private int Field(int slot, int size)
        {
            if (slot >= _vtableSize)
            {
                return -1;
            }

            int offset = BinaryPrimitives.ReadUInt16LittleEndian(_buffer.Slice(_vtable + slot, 2));
            if (offset == 0)
            {
                return -1;
            }

            var at = (long)_position + offset;
            if (at + size > _buffer.Length)
            {
                throw new FormatException("field outside the buffer");
            }

            return (int)at;
        }

        private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> buffer, int start, int length)
        {
            if (start < 0 || length < 0 || (long)start + length > buffer.Length)
            {
                throw new FormatException("truncated FlatBuffer");
            }

            return buffer.Slice(start, length);
        }
    }

    private sealed class FlatBufferWriter
    {
        private readonly List<byte> _bytes = [];

        public sealed record WrittenTable(int Start, Dictionary<int, int> FieldAt);

        public void UInt32(uint value)
        {
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(b, value);
            _bytes.AddRange(b);
        }

        public WrittenTable Table(List<(int Slot, int Size, FieldKind Kind, ulong Value)> fields)
        {
            var maxSlot = fields.Max(f => f.Slot);
            Align(2);
            var vtable = _bytes.Count;
            var vtableSize = maxSlot + 2;
            _bytes.AddRange(new byte[vtableSize]);

            // Table: soffset, then fields from largest to smallest so each is naturally aligned after an 8-aligned start.
            Align(8);
            var start = _bytes.Count;
            _bytes.AddRange(new byte[4]);
            var fieldAt = new Dictionary<int, int>();
            foreach (var field in fields.OrderByDescending(f => f.Size))
            {
                Align(field.Size);
                fieldAt[field.Slot] = _bytes.Count;
                var value = new byte[field.Size];
                for (var i = 0; i < field.Size; i++)
                {
                    value[i] = (byte)(field.Value >> (8 * i));
                }

                _bytes.AddRange(value);
            }

            var tableSize = _bytes.Count - start;
            WriteUInt16(vtable, (ushort)vtableSize);
            WriteUInt16(vtable + 2, (ushort)tableSize);
            foreach (var (slot, at) in fieldAt)
            {
                WriteUInt16(vtable + slot, (ushort)(at - start));
            }

            WriteInt32(start, start - vtable);
            return new WrittenTable(start, fieldAt);
        }

        public int Vector(byte[] data)
        {
            Align(4);
            var start = _bytes.Count;
            UInt32((uint)data.Length);
            _bytes.AddRange(data);
            return start;
        }

        public void PatchUOffset(int at, int target) => WriteInt32(at, target - at);

        public byte[] ToArray()
        {
            Align(8);
            return [.. _bytes];
        }

        private void Align(int size)
        {
            while (_bytes.Count % size != 0)
            {
                _bytes.Add(0);
            }
        }

        private void WriteUInt16(int at, ushort value)
        {
            _bytes[at] = (byte)value;
            _bytes[at + 1] = (byte)(value >> 8);
        }

        private void WriteInt32(int at, int value)
        {
            for (var i = 0; i < 4; i++)
            {
                _bytes[at + i] = (byte)(value >> (8 * i));
            }
        }
    }
}
