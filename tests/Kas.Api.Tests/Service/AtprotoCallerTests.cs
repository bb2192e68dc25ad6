using System.Net;
using System.Net.Http.Headers;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Identity.Crypto;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>ATProto service-JWT callers (verified by Catbird.Identity against a did:plc directory stand-in) sign the SRT with their DID key.</summary>
[Trait("Category", "Service")]
public sealed class AtprotoCallerTests
{
    private const string ServiceDid = "did:web:kas.catbird.test";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Did_caller_rewraps_and_a_replayed_token_is_refused()
    {
        using var didKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var did = "did:plc:" + new string('a', 12) + "bcdefghijklm"[..12];
        var multikey = AtprotoPublicKey.FromSec1(AtprotoCurve.P256, didKey.ExportParameters(false) is var p ? [0x04, .. p.Q.X!, .. p.Q.Y!] : []).Multikey;
        await using var plc = await StartPlcAsync(did, multikey);
        using var identity = new TestIdentity();
        var configuration = identity.Configuration();
        configuration["SERVICE_DID"] = ServiceDid;
        configuration["PLC_DIRECTORY_URL"] = plc.Urls.First();
        await using var host = await KasHost.StartAsync(configuration, Ct);
        using var session = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var nano = identity.CreateNanoTdf(TestIdentity.Policy(dissem: [did]));
        var body = TestClient.V1Body(session.ExportSubjectPublicKeyInfoPem(), nano.Header.Bytes);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var serviceJwt = Sign(didKey, new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT" },
            new JsonObject { ["iss"] = did, ["aud"] = ServiceDid, ["iat"] = now, ["exp"] = now + 60, ["jti"] = Guid.NewGuid().ToString() });
        var srt = Sign(didKey, new JsonObject { ["alg"] = "ES256" }, new JsonObject { ["requestBody"] = body, ["iat"] = now, ["exp"] = now + 60 });

        var (first, json) = await RewrapAsync(host, serviceJwt, srt);
        var (replayed, _) = await RewrapAsync(host, serviceJwt, srt);

        Assert.True(first == HttpStatusCode.OK, $"{first} {json}");
        using var server = ECDiffieHellman.Create();
        server.ImportFromPem(json!["sessionPublicKey"]!.GetValue<string>());
        var key = Catbird.Kas.Api.NanoTdf.NanoTdfCrypto.DeriveKey(session.DeriveRawSecretAgreement(server.PublicKey), Catbird.Kas.Api.NanoTdf.NanoTdfCrypto.SaltL1L);
        Assert.Equal(nano.Dek, Catbird.Kas.Api.NanoTdf.NanoTdfCrypto.Unwrap(key, Convert.FromBase64String(json["entityWrappedKey"]!.GetValue<string>()), nano.Header.TagLength));
        Assert.Equal(HttpStatusCode.Unauthorized, replayed);
    }

    private static async Task<(HttpStatusCode, JsonNode?)> RewrapAsync(KasHost host, string bearer, string srt)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = TestClient.Json(srt) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await host.Client.SendAsync(request, Ct).WaitAsync(TimeSpan.FromSeconds(15), Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    /// <summary>ES256 with a low-S signature, as AT Protocol requires.</summary>
    private static string Sign(ECDsa key, JsonObject header, JsonObject claims)
    {
        var input = Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256);
        var n = BigInteger.Parse("0FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", System.Globalization.NumberStyles.HexNumber);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        if (s > n / 2)
        {
            var low = (n - s).ToByteArray(isUnsigned: true, isBigEndian: true);
            Array.Clear(signature, 32, 32);
            low.CopyTo(signature, 64 - low.Length);
        }

        return input + "." + Jws.Base64UrlEncode(signature);
    }

    private static async Task<WebApplication> StartPlcAsync(string did, string multikey)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var document = new JsonObject
        {
            ["id"] = did,
            ["verificationMethod"] = new JsonArray(new JsonObject
            {
                ["id"] = did + "#atproto", ["type"] = "Multikey", ["controller"] = did, ["publicKeyMultibase"] = multikey,
            }),
        }.ToJsonString();
        app.MapGet("/{id}", (string id) => id == did ? Results.Text(document, "application/json") : Results.NotFound());
        await app.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        return app;
    }
}
