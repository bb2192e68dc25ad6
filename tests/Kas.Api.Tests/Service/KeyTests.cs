using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Tests.Service;

[Trait("Category", "Service")]
public sealed class KeyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Public_key_endpoints_serve_pem_jwk_and_a_certificate_over_the_same_key()
    {
        using var identity = new TestIdentity();
        await using var host = await KasHost.StartAsync(identity.Configuration(), Ct);
        var expectedSpki = identity.KasKey.ExportSubjectPublicKeyInfo();

        var v2 = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key?algorithm=ec:secp256r1", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        var hidden = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key?algorithm=ec:secp256r1&v=1", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        var jwk = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key?algorithm=ec:secp256r1&fmt=jwk", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        var legacy = JsonSerializer.Deserialize<string>(await host.Client.GetStringAsync("/kas/kas_public_key?algorithm=ec:secp256r1", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        using var missing = await host.Client.GetAsync("/kas/v2/kas_public_key?algorithm=rsa:2048", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        using (var fromPem = ECDiffieHellman.Create())
        {
            fromPem.ImportFromPem(v2["publicKey"]!.GetValue<string>());
            Assert.Equal(expectedSpki, fromPem.ExportSubjectPublicKeyInfo());
        }

        Assert.Equal("e1", v2["kid"]!.GetValue<string>());
        Assert.Null(hidden["kid"]);
        var jwkObject = JsonNode.Parse(jwk["publicKey"]!.GetValue<string>())!;
        Assert.Equal("P-256", jwkObject["crv"]!.GetValue<string>());
        Assert.Equal(Catbird.Kas.Api.Auth.Jws.Base64UrlEncode(identity.KasKey.ExportParameters(false).Q.X), jwkObject["x"]!.GetValue<string>());
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", legacy, StringComparison.Ordinal);
        using var certificate = X509Certificate2.CreateFromPem(legacy);
        Assert.Equal(expectedSpki, certificate.PublicKey.ExportSubjectPublicKeyInfo());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Several_keys_rotate_by_kid_and_files_without_a_kid_find_their_key()
    {
        using var identity = new TestIdentity();
        using var old = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        using var p384 = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP384);
        var oldPath = Path.Combine(identity.Directory, "old.pem");
        var p384Path = Path.Combine(identity.Directory, "p384.pem");
        await File.WriteAllTextAsync(oldPath, old.ExportPkcs8PrivateKeyPem(), Ct);
        await File.WriteAllTextAsync(p384Path, p384.ExportECPrivateKeyPem(), Ct);
        var configuration = identity.Configuration();
        configuration["KAS_KEY_PATH"] = $"e1={identity.KasKeyPath};e0={oldPath};{p384Path}";
        await using var host = await KasHost.StartAsync(configuration, Ct);
        var ring = host.Services.GetRequiredService<KasKeyRing>();
        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
        var locator = new ResourceLocator(ResourceProtocol.Http, "localhost/kas");
        var policy = System.Text.Encoding.UTF8.GetBytes(TestIdentity.Policy());

        var oldWithoutKid = NanoTdfCreator.Create(curve, curve.Compress(old.ExportParameters(false).Q), locator, policy);
        var oldWithKid = NanoTdfCreator.Create(curve, curve.Compress(old.ExportParameters(false).Q), locator with { Identifier = "e0" }, policy);
        var p384Curve = EcCurveInfo.For(NanoTdfCurve.Secp384r1);
        var p384File = NanoTdfCreator.Create(p384Curve, p384Curve.Compress(p384.ExportParameters(false).Q), locator, policy,
            new NanoTdfCreateOptions { Binding = NanoTdfBindingStyle.EcdsaFixed });
        var access = host.Services.GetRequiredService<Catbird.Kas.Api.Rewrap.NanoKeyAccess>();

        Assert.Equal("e1", ring.Current("ec:secp256r1")!.Kid);
        Assert.Equal(KasKey.DeriveKid(p384.ExportSubjectPublicKeyInfo()), ring.Current("ec:secp384r1")!.Kid);
        Assert.Equal("e0", access.Open(oldWithoutKid.Header, null).Opened!.Key.Kid);
        Assert.Equal(oldWithKid.Dek, access.Open(oldWithKid.Header, null).Opened!.Dek);
        Assert.Equal(p384File.Dek, access.Open(p384File.Header, null).Opened!.Dek);
        var p384Key = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key?algorithm=ec:secp384r1", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        Assert.Contains("BEGIN PUBLIC KEY", p384Key["publicKey"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rsa_key_is_served_as_spki()
    {
        using var identity = new TestIdentity();
        using var rsa = RSA.Create(2048);
        var rsaPath = Path.Combine(identity.Directory, "rsa.pem");
        await File.WriteAllTextAsync(rsaPath, rsa.ExportPkcs8PrivateKeyPem(), Ct);
        var configuration = identity.Configuration();
        configuration["KAS_RSA_KEY_PATH"] = "r1=" + rsaPath;
        await using var host = await KasHost.StartAsync(configuration, Ct);

        var v2 = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key?algorithm=rsa:2048", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;
        var legacy = JsonSerializer.Deserialize<string>(await host.Client.GetStringAsync("/kas/kas_public_key?algorithm=rsa:2048", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;

        Assert.Equal("r1", v2["kid"]!.GetValue<string>());
        Assert.Equal(rsa.ExportSubjectPublicKeyInfoPem() + "\n", legacy);
    }

    [Fact]
    public async Task Production_without_keys_refuses_to_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => KasHost.StartAsync(new Dictionary<string, string?>(), Ct));

        Assert.Contains("KAS_KEY_PATH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_key_file_refuses_to_start()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kas-bad-").FullName, "bad.pem");
        await File.WriteAllTextAsync(path, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", Ct);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => KasHost.StartAsync(new Dictionary<string, string?> { ["KAS_KEY_PATH"] = path }, Ct));

        Assert.Contains("no EC or RSA private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Development_generates_a_key_into_the_state_folder_and_reuses_it()
    {
        var state = Directory.CreateTempSubdirectory("kas-state-").FullName;
        var configuration = new Dictionary<string, string?> { ["KAS_STATE_DIR"] = state };
        string first;
        await using (var host = await KasHost.StartAsync(configuration, Ct, environment: "Development"))
        {
            first = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!["publicKey"]!.GetValue<string>();
        }

        await using (var again = await KasHost.StartAsync(configuration, Ct, environment: "Development"))
        {
            var second = JsonNode.Parse(await again.Client.GetStringAsync("/kas/v2/kas_public_key", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!["publicKey"]!.GetValue<string>();
            Assert.Equal(first, second);
        }

        Assert.True(File.Exists(Path.Combine(state, KasKeyLoader.DevelopmentKeyFile)));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, KasKeyLoader.DevelopmentKeyFile)));
        }
    }

    [Fact]
    public async Task Kms_wrapped_key_is_decrypted_at_startup_through_moto()
    {
        var moto = MotoServer.FindExecutable();
        if (moto is null)
        {
            Assert.Skip("moto_server is not installed on this machine");
        }

        await using var server = await MotoServer.StartAsync(moto, Ct);
        var credentials = new BasicAWSCredentials("test", "test");
        using var kms = new AmazonKeyManagementServiceClient(credentials, new AmazonKeyManagementServiceConfig { ServiceURL = server.Url, AuthenticationRegion = "us-east-1" });
        var created = await kms.CreateKeyAsync(new CreateKeyRequest { Description = "catbird kas test" }, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        using var key = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var encrypted = await kms.EncryptAsync(new EncryptRequest
        {
            KeyId = created.KeyMetadata.KeyId,
            Plaintext = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(key.ExportECPrivateKeyPem())),
        }, Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        var configuration = new Dictionary<string, string?>
        {
            ["KMS_KEY_ID"] = created.KeyMetadata.KeyId,
            ["KMS_ENCRYPTED_KEY_BASE64"] = Convert.ToBase64String(encrypted.CiphertextBlob.ToArray()),
            ["KMS_KEY_KID"] = "kms1",
            ["AWS_ENDPOINT_URL"] = server.Url,
            ["AWS_REGION"] = "us-east-1",
            ["AWS_ACCESS_KEY_ID"] = "test",
            ["AWS_SECRET_ACCESS_KEY"] = "test",
        };

        await using var host = await KasHost.StartAsync(configuration, Ct);
        var v2 = JsonNode.Parse(await host.Client.GetStringAsync("/kas/v2/kas_public_key", Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct))!;

        Assert.Equal("kms1", v2["kid"]!.GetValue<string>());
        Assert.Equal(key.ExportSubjectPublicKeyInfoPem() + "\n", v2["publicKey"]!.GetValue<string>());

        configuration["KMS_ENCRYPTED_KEY_BASE64"] = Convert.ToBase64String(new byte[64]);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => KasHost.StartAsync(configuration, Ct));
        Assert.Contains("KMS could not decrypt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_validation_names_the_settings()
    {
        var validator = new KasOptionsValidator(new Microsoft.Extensions.Hosting.Internal.HostingEnvironment { EnvironmentName = "Production" });

        var result = validator.Validate(null, new KasOptions { MaxConcurrentStreams = 0, KmsEncryptedKeyBase64 = "AAAA", KasRateLimit = 0 });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("MAX_CONCURRENT_STREAMS", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("KMS_KEY_ID", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("KAS_RATE_LIMIT", StringComparison.Ordinal));
        _ = typeof(IOptions<>);
    }
}

[Trait("Category", "Service")]
public sealed class ConnectRouteTests
{
    [Fact]
    public async Task Connect_public_key_routes_answer_get_and_post()
    {
        var ct = TestContext.Current.CancellationToken;
        using var identity = new TestIdentity();
        await using var host = await KasHost.StartAsync(identity.Configuration(), ct);

        using var post = await host.Client.PostAsync("/kas.AccessService/PublicKey",
            new StringContent("""{"algorithm":"ec:secp256r1"}""", System.Text.Encoding.UTF8, "application/json"), ct).WaitAsync(TimeSpan.FromSeconds(10), ct);
        var get = JsonNode.Parse(await host.Client.GetStringAsync("/kas.AccessService/PublicKey?algorithm=ec:secp256r1", ct).WaitAsync(TimeSpan.FromSeconds(10), ct))!;
        var posted = JsonNode.Parse(await post.Content.ReadAsStringAsync(ct))!;

        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal(get["publicKey"]!.GetValue<string>(), posted["publicKey"]!.GetValue<string>());
        Assert.Equal("e1", posted["kid"]!.GetValue<string>());
    }
}
