using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Tests.Infrastructure;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>Garbage in any field of a rewrap or media request is a 4xx, never a 500.</summary>
[Trait("Category", "Service")]
public sealed class HostileRequestTests(RewrapHostFixture fixture) : IClassFixture<RewrapHostFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Mutated_rewrap_requests_never_fail_with_500()
    {
        var random = new Random(99);
        using var client = new TestClient();
        var header = fixture.Identity.CreateNanoTdf(TestIdentity.Policy()).Header.Bytes;
        var bodies = new List<string>
        {
            "", "null", "[]", "{\"signedRequestToken\":null}", "{\"signedRequestToken\":123}", "{\"signedRequestToken\":\"a.b\"}",
            "{\"signedRequestToken\":\"" + new string('x', 5000) + "\"}",
        };
        var requestBodies = new List<string>
        {
            "not json", "{}", "[]", """{"clientPublicKey":123}""", """{"clientPublicKey":"x","requests":[null]}""",
            """{"clientPublicKey":"x","requests":[{"keyAccessObjects":[null,{}]}]}""",
            TestClient.V1Body(client.ClientPublicKeyPem, header).Replace("\"algorithm\":\"ec:secp256r1\"", "\"algorithm\":[1]", StringComparison.Ordinal),
            TestClient.V2Body(client.ClientPublicKeyPem, ("k", []), ("k", new byte[3])),
            TestClient.V2Body("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", ("k", header)),
        };
        for (var i = 0; i < 40; i++)
        {
            var mutated = header.ToArray();
            mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            requestBodies.Add(random.Next(2) == 0
                ? TestClient.V1Body(client.ClientPublicKeyPem, mutated)
                : TestClient.V2Body(client.ClientPublicKeyPem, ("a", mutated), ("b", header)));
        }

        bodies.AddRange(requestBodies.Select(b => new JsonObject { ["signedRequestToken"] = client.SignedRequestToken(b) }.ToJsonString()));
        var token = fixture.Identity.AccessToken("hostile", client, ["https://example.com/attr/a/value/b"]);
        foreach (var body in bodies)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await fixture.Host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

            Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {body[..Math.Min(body.Length, 200)]}");
        }
    }

    [Theory]
    [InlineData("/kas/v2/kas_public_key?algorithm=%00")]
    [InlineData("/kas/v2/kas_public_key?fmt=xml")]
    [InlineData("/kas/kas_public_key?algorithm=ec:secp999r1")]
    [InlineData("/ws")]
    public async Task Odd_gets_are_4xx(string path)
    {
        using var response = await fixture.Host.Client.GetAsync(path, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.InRange((int)response.StatusCode, 400, 499);
    }
}
