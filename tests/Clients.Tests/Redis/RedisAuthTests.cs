using Catbird.Redis;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Redis;

[Trait("Category", "Service")]
public sealed class RedisAuthTests : IAsyncLifetime
{
    private const string Password = "s3cret-pass";
    private RedisServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await RedisServer.StartAsync(Password, Ct);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task RightPassword_Connects()
    {
        await using var redis = await RedisConnection.ConnectAsync(RedisOptions.Parse(_server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(await redis.SetAsync("k", "v", ct: Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task WrongPassword_ThrowsAuthenticationException()
    {
        var e = await Assert.ThrowsAsync<RedisAuthenticationException>(() =>
            RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{_server.Port},password=wrong"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("refused authentication", e.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingPassword_ThrowsAuthenticationExceptionNamingTheSetting()
    {
        var e = await Assert.ThrowsAsync<RedisAuthenticationException>(() =>
            RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{_server.Port}"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains("NOAUTH", e.Message, StringComparison.Ordinal);
        Assert.Contains("password=", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_LazyConnection_CommandFailsWithAuthErrorInMessage()
    {
        await using var redis = new RedisConnection(RedisOptions.Parse($"127.0.0.1:{_server.Port},password=wrong") with { CommandTimeout = TimeSpan.FromMilliseconds(500) });
        var e = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.GetAsync("k", Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.IsType<RedisAuthenticationException>(e.InnerException);
        Assert.Contains("WRONGPASS", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AclUser_ConnectsWithUserAndPassword_AndWrongUserPasswordFails()
    {
        var user = $"app{Guid.NewGuid():N}"[..12];
        await using (var admin = await RedisConnection.ConnectAsync(RedisOptions.Parse(_server.ConnectionString), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))
        {
            await admin.ExecuteAsync(["ACL", "SETUSER", user, "on", ">user-pass", "~*", "+@all"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct);
        }

        await using (var app = await RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{_server.Port},user={user},password=user-pass"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))
        {
            Assert.Equal(user, (await app.ExecuteAsync(["ACL", "WHOAMI"], Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Ct)).AsString());
        }

        var e = await Assert.ThrowsAsync<RedisAuthenticationException>(() =>
            RedisConnection.ConnectAsync(RedisOptions.Parse($"127.0.0.1:{_server.Port},user={user},password=nope"), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Contains($"user '{user}'", e.Message, StringComparison.Ordinal);
    }
}
