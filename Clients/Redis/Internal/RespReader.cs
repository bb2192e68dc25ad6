using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Catbird.Redis.Internal;

/// <summary>Limits the reader enforces before it trusts a length from the server.</summary>
internal readonly record struct RespLimits(int MaxBulkLength, int MaxArrayLength)
{
    /// <summary>Longest status, error or length line.</summary>
    public const int MaxLineLength = 64 * 1024;

    /// <summary>Deepest nesting of arrays.</summary>
    public const int MaxDepth = 32;

    public static RespLimits From(RedisOptions options) => new(options.MaxBulkLength, options.MaxArrayLength);
}

/// <summary>
/// Reads RESP2 from a <see cref="ReadOnlySequence{T}"/> in two steps: <see cref="TrySkipFrame"/> checks that one whole,
/// well-formed reply is buffered (checking every length against <see cref="RespLimits"/> before it is used), and the
/// <c>Read…</c> methods decode a frame that has passed that check.
/// </summary>
internal static class RespReader
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;

    /// <summary>
    /// Advances past one complete reply. Returns false, with the reader's position unspecified, when more bytes are needed.
    /// </summary>
    /// <exception cref="RedisProtocolException">The bytes are not RESP2 or exceed a limit.</exception>
    public static bool TrySkipFrame(ref SequenceReader<byte> reader, in RespLimits limits, int depth = 0)
    {
        if (!reader.TryRead(out var type))
        {
            return false;
        }

        switch (type)
        {
            case (byte)'+':
            case (byte)'-':
                return TryReadLine(ref reader, out _);
            case (byte)':':
                if (!TryReadLine(ref reader, out var integerLine))
                {
                    return false;
                }

                ParseInteger(integerLine, "integer reply");
                return true;
            case (byte)'$':
            {
                if (!TryReadLength(ref reader, "bulk string", out var length))
                {
                    return false;
                }

                if (length == -1)
                {
                    return true;
                }

                if (length > limits.MaxBulkLength)
                {
                    throw new RedisProtocolException($"The server sent a bulk string of {length} bytes, more than the limit of {limits.MaxBulkLength} bytes (RedisOptions.MaxBulkLength).");
                }

                if (reader.Remaining < length + 2)
                {
                    return false;
                }

                reader.Advance(length);
                ExpectCrLf(ref reader, "bulk string");
                return true;
            }

            case (byte)'*':
            {
                if (!TryReadLength(ref reader, "array", out var count))
                {
                    return false;
                }

                if (count == -1)
                {
                    return true;
                }

                if (count > limits.MaxArrayLength)
                {
                    throw new RedisProtocolException($"The server sent an array of {count} items, more than the limit of {limits.MaxArrayLength} (RedisOptions.MaxArrayLength).");
                }

                if (depth >= RespLimits.MaxDepth)
                {
                    throw new RedisProtocolException($"The server sent arrays nested more than {RespLimits.MaxDepth} deep.");
                }

                // Every item needs at least 3 bytes; fail fast instead of scanning a partial array many times.
                if (reader.Remaining < count * 3L)
                {
                    return false;
                }

                for (var i = 0; i < count; i++)
                {
                    if (!TrySkipFrame(ref reader, limits, depth + 1))
                    {
                        return false;
                    }
                }

                return true;
            }

            default:
                throw new RedisProtocolException($"The server sent a reply starting with byte 0x{type:X2} ('{Printable(type)}'), which is not a RESP2 type marker.");
        }
    }

    /// <summary>Decodes a verified frame into a <see cref="RedisReply"/> tree (errors become <see cref="RedisReplyKind.Error"/> values).</summary>
    public static RedisReply ReadReply(ref SequenceReader<byte> reader)
    {
        reader.TryRead(out var type);
        switch (type)
        {
            case (byte)'+':
                return RedisReply.SimpleString(ReadLineText(ref reader));
            case (byte)'-':
                return RedisReply.Error(ReadLineText(ref reader));
            case (byte)':':
                TryReadLine(ref reader, out var line);
                return RedisReply.Integer(ParseInteger(line, "integer reply"));
            case (byte)'$':
                return RedisReply.BulkString(ReadBulkBody(ref reader));
            default:
            {
                TryReadLength(ref reader, "array", out var count);
                if (count < 0)
                {
                    return RedisReply.Array(null);
                }

                var items = count == 0 ? [] : new RedisReply[count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = ReadReply(ref reader);
                }

                return RedisReply.Array(items);
            }
        }
    }

    /// <summary>Reads the length line and body of a verified bulk string (the <c>$</c> already consumed).</summary>
    public static byte[]? ReadBulkBody(ref SequenceReader<byte> reader)
    {
        TryReadLength(ref reader, "bulk string", out var length);
        if (length < 0)
        {
            return null;
        }

        var bytes = length == 0 ? [] : new byte[length];
        reader.TryCopyTo(bytes);
        reader.Advance(length + 2);
        return bytes;
    }

    /// <summary>Reads the length line and body of a verified bulk string as UTF-8 text.</summary>
    public static string? ReadBulkText(ref SequenceReader<byte> reader)
    {
        TryReadLength(ref reader, "bulk string", out var length);
        if (length < 0)
        {
            return null;
        }

        string text;
        var unread = reader.UnreadSpan;
        if (unread.Length >= length)
        {
            text = Encoding.UTF8.GetString(unread[..length]);
        }
        else
        {
            text = Encoding.UTF8.GetString(reader.UnreadSequence.Slice(0, length));
        }

        reader.Advance(length + 2);
        return text;
    }

    /// <summary>Reads the rest of a verified status or error line as text.</summary>
    public static string ReadLineText(ref SequenceReader<byte> reader)
    {
        TryReadLine(ref reader, out var line);
        return Encoding.UTF8.GetString(line);
    }

    /// <summary>Reads a verified integer line (the <c>:</c> already consumed).</summary>
    public static long ReadIntegerBody(ref SequenceReader<byte> reader)
    {
        TryReadLine(ref reader, out var line);
        return ParseInteger(line, "integer reply");
    }

    /// <summary>Reads a verified array header (the <c>*</c> already consumed); -1 for a null array.</summary>
    public static int ReadArrayLength(ref SequenceReader<byte> reader)
    {
        TryReadLength(ref reader, "array", out var count);
        return count;
    }

    private static bool TryReadLength(ref SequenceReader<byte> reader, string what, out int length)
    {
        length = 0;
        if (!TryReadLine(ref reader, out var line))
        {
            return false;
        }

        var value = ParseInteger(line, what, " length");
        if (value < -1 || value > int.MaxValue - 2)
        {
            throw new RedisProtocolException($"The server sent an invalid {what} length {value}.");
        }

        length = (int)value;
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySpan<byte> line)
    {
        // Look at the contiguous span first: almost every line is in one segment.
        var unread = reader.UnreadSpan;
        var end = unread.IndexOf((byte)'\r');
        if (end >= 0 && end + 1 < unread.Length)
        {
            if (end > RespLimits.MaxLineLength)
            {
                throw new RedisProtocolException($"The server sent a line longer than {RespLimits.MaxLineLength} bytes.");
            }

            if (unread[end + 1] != (byte)'\n')
            {
                throw new RedisProtocolException("The server sent a carriage return not followed by a line feed.");
            }

            line = unread[..end];
            reader.Advance(end + 2);
            return true;
        }

        // Slow path: the line spans segments.
        var probe = reader;
        if (!probe.TryReadTo(out ReadOnlySequence<byte> lineSequence, (byte)'\r', advancePastDelimiter: true))
        {
            if (reader.Remaining > RespLimits.MaxLineLength)
            {
                throw new RedisProtocolException($"The server sent more than {RespLimits.MaxLineLength} bytes without a line end.");
            }

            line = default;
            return false;
        }

        if (lineSequence.Length > RespLimits.MaxLineLength)
        {
            throw new RedisProtocolException($"The server sent a line longer than {RespLimits.MaxLineLength} bytes.");
        }

        if (!probe.TryPeek(out var lineFeed))
        {
            line = default;
            return false;
        }

        if (lineFeed != (byte)'\n')
        {
            throw new RedisProtocolException("The server sent a carriage return not followed by a line feed.");
        }

        probe.Advance(1);
        line = lineSequence.IsSingleSegment ? lineSequence.FirstSpan : lineSequence.ToArray();
        reader = probe;
        return true;
    }

    private static void ExpectCrLf(ref SequenceReader<byte> reader, string what)
    {
        if (!reader.IsNext(CrLf, advancePast: true))
        {
            throw new RedisProtocolException($"The server sent a {what} whose body is not followed by CRLF (the length does not match the data).");
        }
    }

    private static long ParseInteger(ReadOnlySpan<byte> line, string what, string suffix = "")
    {
        if (line.Length == 0 || line.Length > 20 || !Utf8Parser.TryParse(line, out long value, out var consumed) || consumed != line.Length)
        {
            throw new RedisProtocolException($"The server sent an invalid {what}{suffix}: '{Printable(line)}'.");
        }

        return value;
    }

    private static string Printable(byte b) => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : "?";

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var shown = bytes.Length > 32 ? bytes[..32] : bytes;
        var builder = new StringBuilder(shown.Length);
        foreach (var b in shown)
        {
            builder.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
        }

        return bytes.Length > 32 ? builder.Append('…').ToString() : builder.ToString();
    }
}
