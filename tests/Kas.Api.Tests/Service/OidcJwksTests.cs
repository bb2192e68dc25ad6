using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Catbird.Kas.Api.Tests.Service;

[Trait("Category", "Service")]
public sealed class OidcJwksTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Jwks_keys_verify_tokens_and_a_new_kid_triggers_a_refresh()
    {
        using var identity = new TestIdentity();
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rotated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var published = new List<(string Kid, ECDsa Key)> { ("k1", first) };
        await using var jwks = await StartJwksAsync(() => new JsonObject
        {
            ["keys"] = new JsonArray(published.Select(p => (JsonNode)Jwk(p.Kid, p.Key)).ToArray()),
        }.ToJsonString());
        var configuration = identity.Configuration();
        configuration.Remove("OAUTH_PUBLIC_KEY_PATH");
        configuration["OAUTH_JWKS_URL"] = jwks.Urls.First() + "/jwks";
        configuration["OAUTH_ISSUER"] = "https://idp.test";
        await using var host = await KasHost.StartAsync(configuration, Ct);

        var ok = await RewrapStatusAsync(host, identity, Token(first, "k1", "https://idp.test"));
        var wrongIssuer = await RewrapStatusAsync(host, identity, Token(first, "k1", "https://evil.test"));
        var unknownBeforeRotation = await RewrapStatusAsync(host, identity, Token(rotated, "k2", "https://idp.test"));
        published.Add(("k2", rotated));
        await Task.Delay(TimeSpan.FromSeconds(31), Ct);
        var afterRotation = await RewrapStatusAsync(host, identity, Token(rotated, "k2", "https://idp.test"));

        Assert.Equal(HttpStatusCode.BadRequest, ok);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongIssuer);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownBeforeRotation);
        Assert.Equal(HttpStatusCode.BadRequest, afterRotation);
    }

    /// <summary>401 when the bearer token is refused; 400 (no signedRequestToken) once it is accepted.</summary>
    private static async Task<HttpStatusCode> RewrapStatusAsync(KasHost host, TestIdentity identity, string token)
    {
        _ = identity;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = new StringContent("{}") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return response.StatusCode;
    }

    private static string Token(ECDsa key, string kid, string issuer)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return TestIdentity.Sign(key, new JsonObject { ["alg"] = "ES256", ["kid"] = kid },
            new JsonObject { ["sub"] = "jwks-user", ["iss"] = issuer, ["iat"] = now, ["exp"] = now + 300 });
    }

    private static JsonObject Jwk(string kid, ECDsa key)
    {
        var q = key.ExportParameters(false).Q;
        return new JsonObject
        {
            ["kty"] = "EC", ["crv"] = "P-256", ["kid"] = kid, ["use"] = "sig", ["alg"] = "ES256",
            ["x"] = Jws.Base64UrlEncode(q.X), ["y"] = Jws.Base64UrlEncode(q.Y),
        };
    }

    private static async Task<WebApplication> StartJwksAsync(Func<string> body)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/jwks", () => Results.Text(body(), "application/json"));
        await app.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        return app;
    }
}
