using System.Globalization;
using System.Text;

namespace Catbird.Redis;

/// <summary>The RESP2 reply types.</summary>
public enum RedisReplyKind
{
    /// <summary><c>+OK</c>: a short status text.</summary>
    SimpleString,

    /// <summary><c>-ERR …</c>: an error text (only seen inside arrays; a top-level error throws <see cref="RedisServerException"/>).</summary>
    Error,

    /// <summary><c>:42</c>: a signed 64-bit integer.</summary>
    Integer,

    /// <summary><c>$3\r\nfoo</c>: binary-safe bytes, or null (<c>$-1</c>).</summary>
    BulkString,

    /// <summary><c>*2 …</c>: a list of replies, or null (<c>*-1</c>).</summary>
    Array,
}

/// <summary>One reply from the server, as a small discriminated value with typed accessors.</summary>
public readonly struct RedisReply : IEquatable<RedisReply>
{
    private readonly object? _value;
    private readonly long _integer;

    private RedisReply(RedisReplyKind kind, object? value, long integer)
    {
        Kind = kind;
        _value = value;
        _integer = integer;
    }

    /// <summary>Which of the RESP2 types this reply is.</summary>
    public RedisReplyKind Kind { get; }

    /// <summary>True for the null bulk string and the null array.</summary>
    public bool IsNull => Kind is RedisReplyKind.BulkString or RedisReplyKind.Array && _value is null;

    /// <summary>True for an error reply.</summary>
    public bool IsError => Kind == RedisReplyKind.Error;

    /// <summary>A simple-string reply.</summary>
    public static RedisReply SimpleString(string text) => new(RedisReplyKind.SimpleString, text, 0);

    /// <summary>An error reply.</summary>
    public static RedisReply Error(string text) => new(RedisReplyKind.Error, text, 0);

    /// <summary>An integer reply.</summary>
    public static RedisReply Integer(long value) => new(RedisReplyKind.Integer, null, value);

    /// <summary>A bulk-string reply (null for <c>$-1</c>).</summary>
    public static RedisReply BulkString(byte[]? bytes) => new(RedisReplyKind.BulkString, bytes, 0);

    /// <summary>An array reply (null for <c>*-1</c>).</summary>
    public static RedisReply Array(RedisReply[]? items) => new(RedisReplyKind.Array, items, 0);

    /// <summary>The integer of an <see cref="RedisReplyKind.Integer"/> reply, or a bulk/simple string that holds one.</summary>
    /// <exception cref="InvalidCastException">The reply is not an integer.</exception>
    public long AsInt64() => Kind switch
    {
        RedisReplyKind.Integer => _integer,
        RedisReplyKind.BulkString or RedisReplyKind.SimpleString when
            long.TryParse(AsString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => throw new InvalidCastException($"A {Kind} reply is not an integer."),
    };

    /// <summary>The text of a simple string, error or bulk string (UTF-8), the integer as text, or null for a null reply.</summary>
    /// <exception cref="InvalidCastException">The reply is an array.</exception>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.SimpleString or RedisReplyKind.Error => (string?)_value,
        RedisReplyKind.BulkString => _value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null,
        RedisReplyKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        _ => IsNull ? null : throw new InvalidCastException("An array reply is not a string."),
    };

    /// <summary>The bytes of a bulk string (or the UTF-8 of a simple string), or null for a null reply.</summary>
    /// <exception cref="InvalidCastException">The reply is an integer or array.</exception>
    public byte[]? AsBytes() => Kind switch
    {
        RedisReplyKind.BulkString => (byte[]?)_value,
        RedisReplyKind.SimpleString or RedisReplyKind.Error => Encoding.UTF8.GetBytes((string)_value!),
        _ => IsNull ? null : throw new InvalidCastException($"A {Kind} reply is not a byte string."),
    };

    /// <summary>The items of an array reply, or null for a null reply.</summary>
    /// <exception cref="InvalidCastException">The reply is not an array.</exception>
    public RedisReply[]? AsArray() => Kind == RedisReplyKind.Array || IsNull
        ? (RedisReply[]?)_value
        : throw new InvalidCastException($"A {Kind} reply is not an array.");

    /// <inheritdoc />
    public bool Equals(RedisReply other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }

        return Kind switch
        {
            RedisReplyKind.Integer => _integer == other._integer,
            RedisReplyKind.SimpleString or RedisReplyKind.Error => string.Equals((string?)_value, (string?)other._value, StringComparison.Ordinal),
            RedisReplyKind.BulkString => _value is byte[] a ? other._value is byte[] b && a.AsSpan().SequenceEqual(b) : other._value is null,
            _ => _value is RedisReply[] x ? other._value is RedisReply[] y && x.AsSpan().SequenceEqual(y) : other._value is null,
        };
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is RedisReply other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, _integer, _value is string s ? s.GetHashCode(StringComparison.Ordinal) : 0);

    /// <summary>Equality of kind and content.</summary>
    public static bool operator ==(RedisReply left, RedisReply right) => left.Equals(right);

    /// <summary>Inequality of kind or content.</summary>
    public static bool operator !=(RedisReply left, RedisReply right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        RedisReplyKind.Array when _value is RedisReply[] items => $"[{string.Join(", ", items)}]",
        RedisReplyKind.Error => $"(error) {_value}",
        _ when IsNull => "(nil)",
        _ => AsString() ?? "(nil)",
    };
}
