using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;

namespace Catbird.Mls.Api.Tests;

/// <summary>HS256 development tokens: accepted only when configured, in Development, bound to loopback.</summary>
[Trait("Category", "Service")]
public sealed class DevelopmentTokenTests(MlsServiceFixture fixture) : IClassFixture<MlsServiceFixture>
{
    private const string Secret = "0123456789abcdef0123456789abcdef-dev";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Development", "http://127.0.0.1:5100;http://[::1]:5101", Secret, true)]
    [InlineData("Development", null, Secret, true)]
    [InlineData("Production", "http://127.0.0.1:5100", Secret, false)]
    [InlineData("Development", "http://0.0.0.0:5100", Secret, false)]
    [InlineData("Development", "http://127.0.0.1:5100", "too-short", false)]
    public void The_secret_is_refused_outside_development_off_loopback_or_when_short(string environment, string? urls, string secret, bool valid)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = urls }).Build();
        var validator = new MlsOptionsValidator(new HostingEnvironment { EnvironmentName = environment }, configuration);
        var result = validator.Validate(null, new MlsOptions { ServiceDid = "did:web:mls.example.com", DevTokenSecret = secret });
        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("DEV_TOKEN_SECRET", result.FailureMessage);
        }
    }

    [Fact]
    public async Task Hs256_tokens_work_only_when_the_development_secret_is_set()
    {
        var did = "did:plc:dev" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        const string nsid = "blue.catbird.mls.getConvos";

        await using (var enabled = fixture.CreateVariant(new Dictionary<string, string?> { ["DEV_TOKEN_SECRET"] = Secret }))
        {
            using var client = enabled.CreateClient();
            using var ok = await GetAsync(client, nsid, Hs256(did, nsid, Secret));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            using var forged = await GetAsync(client, nsid, Hs256(did, nsid, Secret + "-wrong"));
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        using var disabled = await GetAsync(fixture.Client, nsid, Hs256(did, nsid, Secret));
        Assert.Equal(HttpStatusCode.Unauthorized, disabled.StatusCode);
        Assert.Contains("BadJwt", await disabled.Content.ReadAsStringAsync(Ct));
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string nsid, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/xrpc/{nsid}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
    }

    private static string Hs256(string did, string lxm, string secret)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64("""{"typ":"JWT","alg":"HS256"}"""u8.ToArray());
        var payload = B64(Encoding.UTF8.GetBytes(
            $$"""{"iat":{{now}},"iss":"{{did}}","aud":"{{MlsServiceFixture.ServiceDid}}","exp":{{now + 60}},"lxm":"{{lxm}}","jti":"{{Guid.NewGuid():N}}"}"""));
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(header + "." + payload));
        return $"{header}.{payload}.{B64(signature)}";
    }

    private static string B64(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
