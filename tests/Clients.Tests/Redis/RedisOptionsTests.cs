using Catbird.Redis;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Unit")]
public sealed class RedisOptionsTests
{
    [Fact]
    public void Parse_AspireFormat_ReadsEveryOption()
    {
        var options = RedisOptions.Parse("cache.internal:6380,password=p@ss=word,ssl=true,user=app,defaultDatabase=3,connectTimeout=1500,asyncTimeout=700,abortConnect=false,name=mls-api,sslHost=redis.example");
        Assert.Equal([new RedisEndPoint("cache.internal", 6380)], options.EndPoints);
        Assert.Equal("p@ss=word", options.Password);
        Assert.Equal("app", options.User);
        Assert.True(options.Ssl);
        Assert.Equal("redis.example", options.SslHost);
        Assert.Equal(3, options.Database);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(700), options.CommandTimeout);
        Assert.False(options.AbortOnConnectFail);
        Assert.Equal("mls-api", options.ClientName);
    }

    [Fact]
    public void Parse_HostWithoutPort_UsesDefaultPortAndDefaults()
    {
        var options = RedisOptions.Parse("localhost");
        Assert.Equal("localhost", options.Host);
        Assert.Equal(6379, options.Port);
        Assert.Null(options.Password);
        Assert.Equal(TimeSpan.FromSeconds(5), options.CommandTimeout);
        Assert.True(options.AbortOnConnectFail);
    }

    [Fact]
    public void Parse_SeveralEndPointsAndIpv6_KeepsOrder()
    {
        var options = RedisOptions.Parse("10.0.0.1:7000, [::1]:7001 ,redis");
        Assert.Equal([new RedisEndPoint("10.0.0.1", 7000), new RedisEndPoint("::1", 7001), new RedisEndPoint("redis", 6379)], options.EndPoints);
    }

    [Fact]
    public void Parse_Url_ReadsCredentialsAndDatabase()
    {
        var options = RedisOptions.Parse("rediss://app:s%40cret@cache:6390/2");
        Assert.True(options.Ssl);
        Assert.Equal("app", options.User);
        Assert.Equal("s@cret", options.Password);
        Assert.Equal(2, options.Database);
        Assert.Equal(new RedisEndPoint("cache", 6390), options.EndPoints[0]);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("password=x", "names no server")]
    [InlineData("localhost:6379,bogus=1", "unknown option 'bogus'")]
    [InlineData("localhost:99999", "port")]
    [InlineData("localhost,ssl=maybe", "'ssl' must be true or false")]
    public void Parse_Invalid_ThrowsNamingTheProblem(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => RedisOptions.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_HostAndPort_ReplaceEndPoints()
    {
        var options = RedisOptions.Default with { Host = "a", Port = 1234 };
        Assert.Equal([new RedisEndPoint("a", 1234)], options.EndPoints);
        Assert.Equal("localhost:6379", RedisOptions.Default.EndPoints[0].ToString());
    }
}
