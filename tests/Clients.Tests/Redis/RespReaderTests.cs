using System.Buffers;
using System.Text;
using Catbird.Redis;
using Catbird.Redis.Internal;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Unit")]
public sealed class RespReaderTests
{
    private static readonly RespLimits Limits = new(MaxBulkLength: 1024, MaxArrayLength: 100);

    public static TheoryData<string> WellFormedFrames =>
    [
        "+OK\r\n",
        "-ERR unknown command 'FOO'\r\n",
        ":0\r\n",
        ":-9223372036854775808\r\n",
        "$-1\r\n",
        "$0\r\n\r\n",
        "$5\r\nhe\r\no\r\n",
        "*-1\r\n",
        "*0\r\n",
        "*3\r\n$3\r\nfoo\r\n:42\r\n*2\r\n+a\r\n$-1\r\n",
        "*2\r\n-WRONGTYPE x\r\n$4\r\n\r\n\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(WellFormedFrames))]
    public void TrySkipFrame_SplitAtEveryByteBoundary_FindsTheSameFrameEnd(string frame)
    {
        // A second frame follows so that the reader must stop exactly at the end of the first.
        var bytes = Encoding.UTF8.GetBytes(frame + "+NEXT\r\n");
        var expected = Decode(new ReadOnlySequence<byte>(bytes), out var expectedEnd);
        Assert.Equal(Encoding.UTF8.GetByteCount(frame), expectedEnd);

        for (var split = 0; split <= bytes.Length; split++)
        {
            var sequence = Segmented(bytes, split);
            var reply = Decode(sequence, out var end);
            Assert.Equal(expectedEnd, end);
            Assert.Equal(expected, reply);
        }
    }

    [Theory]
    [MemberData(nameof(WellFormedFrames))]
    public void TrySkipFrame_EveryStrictPrefix_IsIncomplete(string frame)
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        for (var length = 0; length < bytes.Length; length++)
        {
            // Also split each prefix into one-byte segments: the worst case for line scanning.
            foreach (var sequence in new[] { new ReadOnlySequence<byte>(bytes, 0, length), OneBytePerSegment(bytes.AsSpan(0, length).ToArray()) })
            {
                var reader = new SequenceReader<byte>(sequence);
                Assert.False(RespReader.TrySkipFrame(ref reader, Limits), $"prefix of {length} bytes of {frame.ReplaceLineEndings("\\n")}");
            }
        }
    }

    [Fact]
    public void TrySkipFrame_OneBytePerSegment_DecodesNestedArray()
    {
        var bytes = Encoding.UTF8.GetBytes("*2\r\n$5\r\nhello\r\n*1\r\n:7\r\n");
        var reply = Decode(OneBytePerSegment(bytes), out var end);
        Assert.Equal(bytes.Length, end);
        var items = reply.AsArray()!;
        Assert.Equal("hello", items[0].AsString());
        Assert.Equal(7, items[1].AsArray()![0].AsInt64());
    }

    public static TheoryData<string, string> MalformedFrames => new()
    {
        { "!oops\r\n", "not a RESP2 type marker" },
        { ":12x\r\n", "invalid integer" },
        { ":\r\n", "invalid integer" },
        { "$-2\r\n", "invalid bulk string length" },
        { "$abc\r\n", "invalid bulk string length" },
        { "$3\r\nabcd\r\n", "not followed by CRLF" },
        { "$2048\r\n", "limit of 1024 bytes" },
        { "$2147483647\r\n", "invalid bulk string length" },
        { "*101\r\n", "limit of 100" },
        { "*-5\r\n", "invalid array length" },
        { "+OK\rX\n", "carriage return not followed by a line feed" },
        { "*1\r\n!\r\n", "not a RESP2 type marker" },
    };

    [Theory]
    [MemberData(nameof(MalformedFrames))]
    public void TrySkipFrame_Malformed_ThrowsProtocolException(string frame, string expectedMessage)
    {
        var bytes = Encoding.UTF8.GetBytes(frame);
        for (var split = 0; split <= bytes.Length; split++)
        {
            var e = Assert.Throws<RedisProtocolException>(() =>
            {
                var reader = new SequenceReader<byte>(Segmented(bytes, split));
                RespReader.TrySkipFrame(ref reader, Limits);
            });
            Assert.Contains(expectedMessage, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TrySkipFrame_LineWithoutEndBeyondLimit_Throws()
    {
        var bytes = Encoding.ASCII.GetBytes("+" + new string('a', RespLimits.MaxLineLength + 10));
        var e = Assert.Throws<RedisProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            RespReader.TrySkipFrame(ref reader, Limits);
        });
        Assert.Contains("without a line end", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrySkipFrame_NestingBeyondLimit_Throws()
    {
        var bytes = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("*1\r\n", RespLimits.MaxDepth + 1)) + ":1\r\n");
        var e = Assert.Throws<RedisProtocolException>(() =>
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
            RespReader.TrySkipFrame(ref reader, Limits);
        });
        Assert.Contains("nested", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoders_ErrorReply_ThrowsServerExceptionWithCode()
    {
        var frame = new ReadOnlySequence<byte>("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"u8.ToArray());
        var e = Assert.Throws<RedisServerException>(() => Decoders.Bytes.Decode(frame, "GET"));
        Assert.Equal("WRONGTYPE", e.ErrorCode);
        Assert.StartsWith("GET failed: WRONGTYPE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoders_TextSplitAcrossSegments_DecodesUtf8()
    {
        var bytes = Encoding.UTF8.GetBytes("$8\r\nh\u00e9llo\u00e9\r\n");
        for (var split = 0; split <= bytes.Length; split++)
        {
            Assert.Equal("h\u00e9llo\u00e9", Decoders.Text.Decode(Segmented(bytes, split), "GET"));
        }
    }

    [Fact]
    public void CommandBuffer_EncodesArguments()
    {
        var buffer = new CommandBuffer();
        buffer.WriteArrayHeader(5);
        buffer.WriteBulk("SET");
        buffer.WriteBulk("k\u00e9");
        buffer.WriteBulk(-12L);
        buffer.WriteBulk(double.NegativeInfinity);
        buffer.WriteBulk(1.5);
        Assert.Equal("*5\r\n$3\r\nSET\r\n$3\r\nk\u00e9\r\n$3\r\n-12\r\n$4\r\n-inf\r\n$3\r\n1.5\r\n", Encoding.UTF8.GetString(buffer.Written));
        Assert.Throws<ArgumentException>(() => buffer.WriteArgument(CancellationToken.None));
    }

    private static RedisReply Decode(ReadOnlySequence<byte> sequence, out long end)
    {
        var reader = new SequenceReader<byte>(sequence);
        Assert.True(RespReader.TrySkipFrame(ref reader, Limits));
        end = reader.Consumed;
        var frameReader = new SequenceReader<byte>(sequence.Slice(0, reader.Position));
        return RespReader.ReadReply(ref frameReader);
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int split)
    {
        if (split == 0 || split >= bytes.Length)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, split));
        var last = first.Append(bytes.AsMemory(split));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private static ReadOnlySequence<byte> OneBytePerSegment(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, 1));
        var last = first;
        for (var i = 1; i < bytes.Length; i++)
        {
            last = last.Append(bytes.AsMemory(i, 1));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
