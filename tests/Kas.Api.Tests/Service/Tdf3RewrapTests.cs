using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Rewrap;
using Catbird.Kas.Api.Tests.Infrastructure;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>TDF3 key access objects wrapped for the KAS RSA key (the <c>@opentdf/client</c> 1.x TDF3 request shape).</summary>
[Trait("Category", "Service")]
public sealed class Tdf3RewrapTests : IAsyncLifetime
{
    private const string Secret = "https://example.com/attr/classification/value/secret";
    private readonly TestIdentity _identity = new();
    private readonly RSA _kasRsa = RSA.Create(2048);
    private KasHost _host = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var path = Path.Combine(_identity.Directory, "kas-rsa.pem");
        await File.WriteAllTextAsync(path, _kasRsa.ExportPkcs8PrivateKeyPem(), Ct);
        var configuration = _identity.Configuration();
        configuration["KAS_RSA_KEY_PATH"] = "r1=" + path;
        _host = await KasHost.StartAsync(configuration, Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        _kasRsa.Dispose();
        _identity.Dispose();
    }

    [Fact]
    public async Task Rsa_client_gets_the_split_back_under_rsa_oaep()
    {
        using var client = RSA.Create(2048);
        var (kao, policy, dek) = WrappedKeyAccess(TestIdentity.Policy([Secret]));
        var body = new JsonObject { ["algorithm"] = "RS256", ["keyAccess"] = kao, ["policy"] = policy, ["clientPublicKey"] = client.ExportSubjectPublicKeyInfoPem() };

        var (status, json) = await RewrapAsync(client, "alice", [Secret], body.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(dek, client.Decrypt(Convert.FromBase64String(json!["entityWrappedKey"]!.GetValue<string>()), RSAEncryptionPadding.OaepSHA1));
    }

    [Fact]
    public async Task Ec_client_gets_a_v2_result_under_the_tdf_salt()
    {
        using var client = RSA.Create(2048);
        using var session = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var (kao, policy, dek) = WrappedKeyAccess(TestIdentity.Policy([Secret]));
        var body = new JsonObject
        {
            ["clientPublicKey"] = session.ExportSubjectPublicKeyInfoPem(),
            ["requests"] = new JsonArray(new JsonObject
            {
                ["algorithm"] = "rsa:2048",
                ["policy"] = new JsonObject { ["id"] = "p1", ["body"] = policy },
                ["keyAccessObjects"] = new JsonArray(new JsonObject { ["keyAccessObjectId"] = "k1", ["keyAccessObject"] = kao }),
            }),
        };

        var (status, json) = await RewrapAsync(client, "alice", [Secret], body.ToJsonString());

        Assert.Equal(HttpStatusCode.OK, status);
        var result = json!["responses"]![0]!["results"]![0]!;
        Assert.Equal("permit", result["status"]!.GetValue<string>());
        using var server = ECDiffieHellman.Create();
        server.ImportFromPem(json["sessionPublicKey"]!.GetValue<string>());
        var key = NanoTdfCrypto.DeriveKey(session.DeriveRawSecretAgreement(server.PublicKey), SHA256.HashData("TDF"u8));
        Assert.Equal(dek, NanoTdfCrypto.Unwrap(key, Convert.FromBase64String(result["kasWrappedKey"]!.GetValue<string>()), 16));
    }

    [Theory]
    [InlineData("binding", HttpStatusCode.Forbidden)]
    [InlineData("entitlement", HttpStatusCode.Forbidden)]
    [InlineData("wrapped", HttpStatusCode.BadRequest)]
    public async Task Refusals(string what, HttpStatusCode expected)
    {
        using var client = RSA.Create(2048);
        var (kao, policy, _) = WrappedKeyAccess(TestIdentity.Policy([Secret]));
        switch (what)
        {
            case "binding":
                kao["policyBinding"] = new JsonObject { ["alg"] = "HS256", ["hash"] = Convert.ToBase64String(new byte[64]) };
                break;
            case "wrapped":
                kao["wrappedKey"] = Convert.ToBase64String(new byte[256]);
                break;
        }

        var body = new JsonObject { ["algorithm"] = "RS256", ["keyAccess"] = kao, ["policy"] = policy, ["clientPublicKey"] = client.ExportSubjectPublicKeyInfoPem() };

        var (status, _) = await RewrapAsync(client, "alice", what == "entitlement" ? [] : [Secret], body.ToJsonString());

        Assert.Equal(expected, status);
    }

    private (JsonObject Kao, string Policy, byte[] Dek) WrappedKeyAccess(string policyJson)
    {
        var dek = RandomNumberGenerator.GetBytes(32);
        var policy = Convert.ToBase64String(Encoding.UTF8.GetBytes(policyJson));
        var kao = new JsonObject
        {
            ["type"] = "wrapped",
            ["url"] = _host.Address + "kas",
            ["protocol"] = "kas",
            ["wrappedKey"] = Convert.ToBase64String(_kasRsa.Encrypt(dek, RSAEncryptionPadding.OaepSHA1)),
            ["policyBinding"] = Tdf3KeyAccess.Binding(dek, policy),
        };
        return (kao, policy, dek);
    }

    private async Task<(HttpStatusCode Status, JsonNode? Json)> RewrapAsync(RSA signer, string subject, string[] entitlements, string requestBody)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject { ["requestBody"] = requestBody, ["iat"] = now, ["exp"] = now + 60 };
        var input = Jws.Base64UrlEncode("""{"alg":"RS256"}"""u8) + "." + Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var srt = input + "." + Jws.Base64UrlEncode(signer.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        var bearer = _identity.AccessToken(subject, entitlements: entitlements, extra: new JsonObject
        {
            ["tdf_claims"] = new JsonObject { ["client_public_signing_key"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(signer.ExportSubjectPublicKeyInfoPem())) },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = TestClient.Json(srt) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await _host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
