using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Catbird.Redis.Internal;

/// <summary>
/// The RESP encoding of one command (<c>*N\r\n$len\r\narg\r\n…</c>), in a pooled array that is reused with its
/// <see cref="PendingCommand"/>.
/// </summary>
internal sealed class CommandBuffer
{
    private const int InitialSize = 128;
    private const int RetainedMaxSize = 16 * 1024;
    private byte[] _buffer = new byte[InitialSize];
    private int _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear()
    {
        _length = 0;
        if (_buffer.Length > RetainedMaxSize)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = new byte[InitialSize];
        }
    }

    /// <summary>Writes <c>*count\r\n</c>.</summary>
    public void WriteArrayHeader(int count)
    {
        var span = GetSpan(16);
        span[0] = (byte)'*';
        Utf8Formatter.TryFormat(count, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        _length += written + 3;
    }

    /// <summary>Writes bytes that are already RESP (a precomputed command name such as <c>$3\r\nGET\r\n</c>).</summary>
    public void WriteRaw(ReadOnlySpan<byte> resp)
    {
        resp.CopyTo(GetSpan(resp.Length));
        _length += resp.Length;
    }

    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        WriteBulkHeader(value.Length);
        var span = GetSpan(value.Length + 2);
        value.CopyTo(span);
        span[value.Length] = (byte)'\r';
        span[value.Length + 1] = (byte)'\n';
        _length += value.Length + 2;
    }

    public void WriteBulk(string value)
    {
        var byteCount = Encoding.UTF8.GetByteCount(value);
        WriteBulkHeader(byteCount);
        var span = GetSpan(byteCount + 2);
        Encoding.UTF8.GetBytes(value, span);
        span[byteCount] = (byte)'\r';
        span[byteCount + 1] = (byte)'\n';
        _length += byteCount + 2;
    }

    public void WriteBulk(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out var written);
        WriteBulk(digits[..written]);
    }

    public void WriteBulk(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            WriteBulk("+inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            WriteBulk("-inf"u8);
        }
        else if (double.IsNaN(value))
        {
            throw new ArgumentException("NaN is not a valid Redis number.", nameof(value));
        }
        else
        {
            Span<byte> text = stackalloc byte[32];
            value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture);
            WriteBulk(text[..written]);
        }
    }

    /// <summary>Writes a command argument given as an object (raw commands, scripts).</summary>
    public void WriteArgument(object? argument)
    {
        switch (argument)
        {
            case string text:
                WriteBulk(text);
                break;
            case byte[] bytes:
                WriteBulk(bytes);
                break;
            case ReadOnlyMemory<byte> memory:
                WriteBulk(memory.Span);
                break;
            case Memory<byte> memory:
                WriteBulk(memory.Span);
                break;
            case int number:
                WriteBulk(number);
                break;
            case long number:
                WriteBulk(number);
                break;
            case uint number:
                WriteBulk(number);
                break;
            case short number:
                WriteBulk(number);
                break;
            case double number:
                WriteBulk(number);
                break;
            case float number:
                WriteBulk(number);
                break;
            case bool flag:
                WriteBulk(flag ? "1"u8 : "0"u8);
                break;
            case TimeSpan span:
                WriteBulk((long)span.TotalMilliseconds);
                break;
            case null:
                throw new ArgumentNullException(nameof(argument), "A Redis command argument is null.");
            default:
                throw new ArgumentException(
                    $"A Redis command argument of type {argument.GetType().Name} is not supported (use string, byte[], ReadOnlyMemory<byte>, an integer, double or bool).",
                    nameof(argument));
        }
    }

    private void WriteBulkHeader(int length)
    {
        var span = GetSpan(16);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        _length += written + 3;
    }

    private Span<byte> GetSpan(int size)
    {
        if (_buffer.Length - _length < size)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + size));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            if (_buffer.Length > InitialSize)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = bigger;
        }

        return _buffer.AsSpan(_length);
    }
}
