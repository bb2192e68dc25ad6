using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.NanoTdf;

namespace Catbird.Kas.Api.Tests.Infrastructure;

/// <summary>
/// The actors of a rewrap test: a KAS key written to a PEM file, an OIDC issuer key (its public PEM on disk), and
/// clients with their own signing and session keys. Tokens are compact JWS made here with ES256.
/// </summary>
internal sealed class TestIdentity : IDisposable
{
    public TestIdentity()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("kas-test-").FullName;
        KasKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        KasKeyPath = Path.Combine(Directory, "kas.pem");
        File.WriteAllText(KasKeyPath, PemEncoding.WriteString("EC PRIVATE KEY", KasKey.ExportECPrivateKey()));
        Issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        IssuerPublicKeyPath = Path.Combine(Directory, "issuer.pem");
        File.WriteAllText(IssuerPublicKeyPath, Issuer.ExportSubjectPublicKeyInfoPem());
    }

    public string Directory { get; }

    public ECDiffieHellman KasKey { get; }

    public string KasKeyPath { get; }

    public ECDsa Issuer { get; }

    public string IssuerPublicKeyPath { get; }

    public byte[] KasPublicPoint => EcCurveInfo.For(NanoTdfCurve.Secp256r1).Compress(KasKey.ExportParameters(false).Q);

    public Dictionary<string, string?> Configuration(string convoPrefix = "https://catbird.test/attr/convo/value/") => new()
    {
        ["KAS_KEY_PATH"] = "e1=" + KasKeyPath,
        ["OAUTH_PUBLIC_KEY_PATH"] = IssuerPublicKeyPath,
        ["KAS_CONVO_ATTRIBUTE_PREFIX"] = convoPrefix,
        ["KAS_RATE_LIMIT"] = "10000",
        ["CORS_ORIGINS"] = "https://app.catbird.test",
    };

    public CreatedNanoTdf CreateNanoTdf(string policyJson, NanoTdfCreateOptions? options = null, string? kid = null) =>
        NanoTdfCreator.Create(EcCurveInfo.For(NanoTdfCurve.Secp256r1), KasPublicPoint,
            new ResourceLocator(ResourceProtocol.Http, "localhost/kas", kid), Encoding.UTF8.GetBytes(policyJson), options);

    public static string Policy(IEnumerable<string>? attributes = null, IEnumerable<string>? dissem = null)
    {
        var body = new JsonObject
        {
            ["dataAttributes"] = new JsonArray((attributes ?? []).Select(a => (JsonNode)new JsonObject { ["attribute"] = a }).ToArray()),
            ["dissem"] = new JsonArray((dissem ?? []).Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
        };
        return new JsonObject { ["uuid"] = Guid.NewGuid().ToString(), ["body"] = body }.ToJsonString();
    }

    /// <summary>An access token from the issuer, with extra claims merged in.</summary>
    public string AccessToken(string subject, TestClient? client = null, IEnumerable<string>? entitlements = null, JsonObject? extra = null,
        TimeSpan? lifetime = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject
        {
            ["sub"] = subject,
            ["iat"] = now,
            ["exp"] = now + (long)(lifetime ?? TimeSpan.FromMinutes(5)).TotalSeconds,
        };
        if (client is not null)
        {
            claims["tdf_claims"] = new JsonObject { ["client_public_signing_key"] = client.SigningKey.ExportSubjectPublicKeyInfoPem() };
        }

        if (entitlements is not null)
        {
            claims["entitlements"] = new JsonArray(entitlements.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray());
        }

        foreach (var (name, value) in extra ?? [])
        {
            claims[name] = value?.DeepClone();
        }

        return Sign(Issuer, new JsonObject { ["alg"] = "ES256", ["typ"] = "JWT" }, claims);
    }

    public static string Sign(ECDsa key, JsonObject header, JsonObject claims)
    {
        var input = Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." +
                    Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256);
        return input + "." + Jws.Base64UrlEncode(signature);
    }

    public void Dispose()
    {
        KasKey.Dispose();
        Issuer.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A rewrap client: its SRT signing key and its ephemeral ECDH key.</summary>
internal sealed class TestClient : IDisposable
{
    public ECDsa SigningKey { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public ECDiffieHellman SessionKey { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);

    public string ClientPublicKeyPem => SessionKey.ExportSubjectPublicKeyInfoPem();

    public static string V1Body(string clientPublicKeyPem, byte[] header) => new JsonObject
    {
        ["algorithm"] = "ec:secp256r1",
        ["keyAccess"] = new JsonObject { ["type"] = "remote", ["url"] = "", ["protocol"] = "kas", ["header"] = Convert.ToBase64String(header) },
        ["clientPublicKey"] = clientPublicKeyPem,
    }.ToJsonString();

    public static string V2Body(string clientPublicKeyPem, params (string Id, byte[] Header)[] kaos) => new JsonObject
    {
        ["clientPublicKey"] = clientPublicKeyPem,
        ["requests"] = new JsonArray(new JsonObject
        {
            ["algorithm"] = "ec:secp256r1",
            ["policy"] = new JsonObject { ["id"] = "policy" },
            ["keyAccessObjects"] = new JsonArray(kaos.Select(k => (JsonNode)new JsonObject
            {
                ["keyAccessObjectId"] = k.Id,
                ["keyAccessObject"] = new JsonObject { ["header"] = Convert.ToBase64String(k.Header), ["url"] = "http://localhost/kas" },
            }).ToArray()),
        }),
    }.ToJsonString();

    public string SignedRequestToken(string requestBody, string alg = "ES256", ECDsa? signer = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject { ["requestBody"] = requestBody, ["iat"] = now - 3600, ["exp"] = now + 3600 };
        if (alg == "none")
        {
            return Jws.Base64UrlEncode("""{"alg":"none"}"""u8) + "." + Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString())) + ".";
        }

        return TestIdentity.Sign(signer ?? SigningKey, new JsonObject { ["alg"] = alg }, claims);
    }

    /// <summary>Opens a wrapped key with the session public key from the response.</summary>
    public byte[] Unwrap(string sessionPublicKeyPem, string wrappedBase64, int tagLength)
    {
        using var session = ECDiffieHellman.Create();
        session.ImportFromPem(sessionPublicKeyPem);
        var x = SessionKey.DeriveRawSecretAgreement(session.PublicKey);
        var key = NanoTdfCrypto.DeriveKey(x, NanoTdfCrypto.SaltL1L);
        return NanoTdfCrypto.Unwrap(key, Convert.FromBase64String(wrappedBase64), tagLength);
    }

    public static StringContent Json(string token) =>
        new(new JsonObject { ["signedRequestToken"] = token }.ToJsonString(), Encoding.UTF8, "application/json");

    public void Dispose()
    {
        SigningKey.Dispose();
        SessionKey.Dispose();
    }
}
