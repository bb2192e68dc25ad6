using System.Text.Json;
using Catbird.Cloud.Gateway.Voice;
using Catbird.Testing;

namespace Catbird.Cloud.Gateway.Tests.Voice;

[Trait("Category", "Interop")]
public sealed class LiveKitTokenTests
{
    private const string ApiKey = "catbird-test-key";
    private const string Secret = "a-livekit-secret-of-at-least-32-bytes!";

    private static LiveKitTokenIssuer Issuer() =>
        new(new LiveKitOptions { Url = new Uri("wss://livekit.catbird.test"), ApiKey = ApiKey, ApiSecret = Secret }, TimeProvider.System);

    [Fact]
    public async Task Livekit_server_sdk_verifies_the_token_and_reads_the_grant()
    {
        var ct = TestContext.Current.CancellationToken;
        var token = Issuer().Mint("alice»0001", "Alice", "server-1234", canPublish: true, canSubscribe: true);

        var result = (await NodeScript.RunAsync("gateway/verify-livekit.mjs", [ApiKey, Secret, token], null, TimeSpan.FromSeconds(60), ct))
            .EnsureSuccess("verify-livekit.mjs");

        using var claims = JsonDocument.Parse(result.StdOut);
        var root = claims.RootElement;
        Assert.Equal(ApiKey, root.GetProperty("iss").GetString());
        Assert.Equal("alice»0001", root.GetProperty("sub").GetString());
        Assert.Equal("Alice", root.GetProperty("name").GetString());
        Assert.True(root.GetProperty("exp").GetInt64() > DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var video = root.GetProperty("video");
        Assert.True(video.GetProperty("roomJoin").GetBoolean());
        Assert.Equal("server-1234", video.GetProperty("room").GetString());
        Assert.True(video.GetProperty("canPublish").GetBoolean());
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_is_rejected_by_the_sdk()
    {
        var ct = TestContext.Current.CancellationToken;
        var token = Issuer().Mint("alice»0001", "Alice", "server-1234", canPublish: false, canSubscribe: true);

        var result = await NodeScript.RunAsync("gateway/verify-livekit.mjs", [ApiKey, Secret + "-other", token], null,
            TimeSpan.FromSeconds(60), ct);

        Assert.NotEqual(0, result.ExitCode);
    }

    [Theory]
    [InlineData("too-short-secret")]
    [InlineData("")]
    [Trait("Category", "Unit")]
    public void Short_secrets_are_refused(string secret) =>
        Assert.Throws<ArgumentException>(() => new LiveKitTokenIssuer(
            new LiveKitOptions { Url = new Uri("wss://x.test"), ApiKey = ApiKey, ApiSecret = secret }, TimeProvider.System));
}
