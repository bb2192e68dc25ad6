using System.Buffers;
using System.Globalization;

namespace Catbird.Redis.Internal;

/// <summary>Turns one verified reply frame into the typed result of a command. Instances are stateless singletons.</summary>
internal abstract class ReplyDecoder<T>
{
    /// <summary>Decodes <paramref name="frame"/>; throws <see cref="RedisServerException"/> for an error reply.</summary>
    public T Decode(in ReadOnlySequence<byte> frame, string command)
    {
        var reader = new SequenceReader<byte>(frame);
        reader.TryRead(out var type);
        if (type == (byte)'-')
        {
            throw new RedisServerException(RespReader.ReadLineText(ref reader), command);
        }

        return Decode(type, ref reader, command);
    }

    /// <summary>Decodes a reply whose type byte has been read.</summary>
    protected abstract T Decode(byte type, ref SequenceReader<byte> reader, string command);

    protected static RedisException Unexpected(byte type, string command) =>
        new($"{command} got an unexpected {TypeName(type)} reply.");

    private static string TypeName(byte type) => type switch
    {
        (byte)'+' => "simple-string",
        (byte)':' => "integer",
        (byte)'$' => "bulk-string",
        (byte)'*' => "array",
        _ => "unknown",
    };
}

/// <summary>The decoders the typed commands use.</summary>
internal static class Decoders
{
    public static readonly ReplyDecoder<byte[]?> Bytes = new BytesDecoder();
    public static readonly ReplyDecoder<string?> Text = new TextDecoder();
    public static readonly ReplyDecoder<long> Integer = new IntegerDecoder();
    public static readonly ReplyDecoder<bool> IntegerIsOne = new IntegerIsOneDecoder();
    public static readonly ReplyDecoder<bool> OkOrNull = new OkOrNullDecoder();
    public static readonly ReplyDecoder<TimeSpan?> MillisecondsToLive = new MillisecondsToLiveDecoder();
    public static readonly ReplyDecoder<string[]> TextArray = new TextArrayDecoder();
    public static readonly ReplyDecoder<(string Member, double Score)[]> ScoredMembers = new ScoredMembersDecoder();
    public static readonly ReplyDecoder<Dictionary<string, byte[]>> HashBytes = new HashBytesDecoder();
    public static readonly ReplyDecoder<Dictionary<string, string>> HashText = new HashTextDecoder();
    public static readonly ReplyDecoder<RedisReply> Reply = new RedisReplyDecoder();

    private sealed class BytesDecoder : ReplyDecoder<byte[]?>
    {
        protected override byte[]? Decode(byte type, ref SequenceReader<byte> reader, string command) => type switch
        {
            (byte)'$' => RespReader.ReadBulkBody(ref reader),
            (byte)'+' => System.Text.Encoding.UTF8.GetBytes(RespReader.ReadLineText(ref reader)),
            (byte)'*' when RespReader.ReadArrayLength(ref reader) < 0 => null,
            _ => throw Unexpected(type, command),
        };
    }

    private sealed class TextDecoder : ReplyDecoder<string?>
    {
        protected override string? Decode(byte type, ref SequenceReader<byte> reader, string command) => type switch
        {
            (byte)'$' => RespReader.ReadBulkText(ref reader),
            (byte)'+' => RespReader.ReadLineText(ref reader),
            (byte)':' => RespReader.ReadIntegerBody(ref reader).ToString(CultureInfo.InvariantCulture),
            (byte)'*' when RespReader.ReadArrayLength(ref reader) < 0 => null,
            _ => throw Unexpected(type, command),
        };
    }

    private sealed class IntegerDecoder : ReplyDecoder<long>
    {
        protected override long Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type == (byte)':')
            {
                return RespReader.ReadIntegerBody(ref reader);
            }

            if (type == (byte)'$' && long.TryParse(RespReader.ReadBulkText(ref reader), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }

            throw Unexpected(type, command);
        }
    }

    private sealed class IntegerIsOneDecoder : ReplyDecoder<bool>
    {
        protected override bool Decode(byte type, ref SequenceReader<byte> reader, string command) =>
            type == (byte)':' ? RespReader.ReadIntegerBody(ref reader) == 1 : throw Unexpected(type, command);
    }

    private sealed class OkOrNullDecoder : ReplyDecoder<bool>
    {
        protected override bool Decode(byte type, ref SequenceReader<byte> reader, string command) => type switch
        {
            (byte)'+' => true,
            (byte)'$' => RespReader.ReadBulkBody(ref reader) is not null,
            (byte)'*' => RespReader.ReadArrayLength(ref reader) >= 0,
            _ => throw Unexpected(type, command),
        };
    }

    private sealed class MillisecondsToLiveDecoder : ReplyDecoder<TimeSpan?>
    {
        protected override TimeSpan? Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type != (byte)':')
            {
                throw Unexpected(type, command);
            }

            var milliseconds = RespReader.ReadIntegerBody(ref reader);
            return milliseconds < 0 ? null : TimeSpan.FromMilliseconds(milliseconds);
        }
    }

    private sealed class TextArrayDecoder : ReplyDecoder<string[]>
    {
        protected override string[] Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type != (byte)'*')
            {
                throw Unexpected(type, command);
            }

            var count = RespReader.ReadArrayLength(ref reader);
            if (count <= 0)
            {
                return [];
            }

            var items = new string[count];
            for (var i = 0; i < count; i++)
            {
                items[i] = ReadText(ref reader, command);
            }

            return items;
        }
    }

    private sealed class ScoredMembersDecoder : ReplyDecoder<(string Member, double Score)[]>
    {
        protected override (string Member, double Score)[] Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type != (byte)'*')
            {
                throw Unexpected(type, command);
            }

            var count = RespReader.ReadArrayLength(ref reader);
            if (count <= 0)
            {
                return [];
            }

            var items = new (string, double)[count / 2];
            for (var i = 0; i < items.Length; i++)
            {
                var member = ReadText(ref reader, command);
                var score = ParseScore(ReadText(ref reader, command), command);
                items[i] = (member, score);
            }

            return items;
        }
    }

    private sealed class HashBytesDecoder : ReplyDecoder<Dictionary<string, byte[]>>
    {
        protected override Dictionary<string, byte[]> Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type != (byte)'*')
            {
                throw Unexpected(type, command);
            }

            var count = Math.Max(0, RespReader.ReadArrayLength(ref reader)) / 2;
            var result = new Dictionary<string, byte[]>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var field = ReadText(ref reader, command);
                reader.TryRead(out var valueType);
                result[field] = valueType == (byte)'$' ? RespReader.ReadBulkBody(ref reader) ?? [] : throw Unexpected(valueType, command);
            }

            return result;
        }
    }

    private sealed class HashTextDecoder : ReplyDecoder<Dictionary<string, string>>
    {
        protected override Dictionary<string, string> Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            if (type != (byte)'*')
            {
                throw Unexpected(type, command);
            }

            var count = Math.Max(0, RespReader.ReadArrayLength(ref reader)) / 2;
            var result = new Dictionary<string, string>(count, StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var field = ReadText(ref reader, command);
                result[field] = ReadText(ref reader, command);
            }

            return result;
        }
    }

    private sealed class RedisReplyDecoder : ReplyDecoder<RedisReply>
    {
        protected override RedisReply Decode(byte type, ref SequenceReader<byte> reader, string command)
        {
            reader.Rewind(1);
            return RespReader.ReadReply(ref reader);
        }
    }

    private static string ReadText(ref SequenceReader<byte> reader, string command)
    {
        reader.TryRead(out var type);
        return type switch
        {
            (byte)'$' => RespReader.ReadBulkText(ref reader) ?? "",
            (byte)'+' => RespReader.ReadLineText(ref reader),
            (byte)':' => RespReader.ReadIntegerBody(ref reader).ToString(CultureInfo.InvariantCulture),
            _ => throw new RedisException($"{command} got an unexpected item in its array reply."),
        };
    }

    internal static double ParseScore(string text, string command) => text switch
    {
        "inf" or "+inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new RedisException($"{command} got a score that is not a number: '{text}'."),
    };
}
