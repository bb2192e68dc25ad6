using System.Text;
using Catbird.Redis;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Unit")]
public sealed class RedisReplyTests
{
    [Fact]
    public void Accessors_ConvertBetweenCompatibleKinds()
    {
        Assert.Equal(42, RedisReply.Integer(42).AsInt64());
        Assert.Equal("42", RedisReply.Integer(42).AsString());
        Assert.Equal(-7, RedisReply.BulkString(Encoding.ASCII.GetBytes("-7")).AsInt64());
        Assert.Equal("OK", RedisReply.SimpleString("OK").AsString());
        Assert.Equal("OK"u8.ToArray(), RedisReply.SimpleString("OK").AsBytes());
        Assert.True(RedisReply.BulkString(null).IsNull);
        Assert.Null(RedisReply.BulkString(null).AsString());
        Assert.True(RedisReply.Array(null).IsNull);
        Assert.Null(RedisReply.Array(null).AsArray());
        Assert.True(RedisReply.Error("ERR x").IsError);
        Assert.Throws<InvalidCastException>(() => RedisReply.Array([]).AsString());
        Assert.Throws<InvalidCastException>(() => RedisReply.SimpleString("x").AsArray());
        Assert.Throws<InvalidCastException>(() => RedisReply.BulkString("abc"u8.ToArray()).AsInt64());
    }

    [Fact]
    public void Equality_ComparesContent()
    {
        var a = RedisReply.Array([RedisReply.BulkString("x"u8.ToArray()), RedisReply.Integer(1)]);
        var b = RedisReply.Array([RedisReply.BulkString("x"u8.ToArray()), RedisReply.Integer(1)]);
        Assert.Equal(a, b);
        Assert.NotEqual(a, RedisReply.Array([RedisReply.BulkString("y"u8.ToArray()), RedisReply.Integer(1)]));
        Assert.NotEqual(RedisReply.SimpleString("1"), RedisReply.Integer(1));
        Assert.Equal("[x, 1]", a.ToString());
        Assert.Equal("(nil)", RedisReply.BulkString(null).ToString());
    }

    [Fact]
    public void Script_Sha1_MatchesRedis()
    {
        // The digest redis-cli prints for SCRIPT LOAD "return 1".
        Assert.Equal("e0e1f9fabfc9d4800c877a703b823ac0578ff8db", new RedisScript("return 1").Sha1);
    }
}
