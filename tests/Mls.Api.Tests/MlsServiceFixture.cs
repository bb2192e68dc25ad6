using System.Net.Http.Headers;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Catbird.Identity.Crypto;
using Catbird.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Catbird.Mls.Api.Tests;

/// <summary>A test account: a secp256k1 key whose did:plc document the directory stand-in serves; mints service JWTs.</summary>
public sealed class TestAccount(string did, ECDsa key)
{
    private static readonly BigInteger Order =
        BigInteger.Parse("0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", System.Globalization.NumberStyles.HexNumber);

    public string Did { get; } = did;

    /// <summary>The private scalar, hex, for clients outside this process (the npm interop clients sign with it).</summary>
    public string PrivateKeyHex => Convert.ToHexStringLower(key.ExportParameters(true).D!);

    public AtprotoPublicKey PublicKey
    {
        get
        {
            var q = key.ExportParameters(false).Q;
            return AtprotoPublicKey.FromSec1(AtprotoCurve.Secp256k1, [4, .. q.X!, .. q.Y!]);
        }
    }

    public string Token(string lxm, string aud = MlsServiceFixture.ServiceDid, long? exp = null)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64Url("""{"typ":"JWT","alg":"ES256K"}"""u8.ToArray());
        var payload = B64Url(Encoding.UTF8.GetBytes(
            $$"""{"iat":{{now}},"iss":"{{Did}}","aud":"{{aud}}","exp":{{exp ?? now + 60}},"lxm":"{{lxm}}","jti":"{{Guid.NewGuid():N}}"}"""));
        var signature = key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
        if (s > Order / 2)
        {
            var low = (Order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
            signature.AsSpan(32).Clear();
            low.CopyTo(signature.AsSpan(64 - low.Length));
        }
        return $"{header}.{payload}.{B64Url(signature)}";
    }

    public HttpRequestMessage Request(HttpMethod method, string nsid, string? query = null, HttpContent? body = null)
    {
        var request = new HttpRequestMessage(method, $"/xrpc/{nsid}{(query is null ? "" : "?" + query)}") { Content = body };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token(nsid));
        return request;
    }

    private static string B64Url(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Mls.Api in process (WebApplicationFactory) against real Postgres and Redis and a DID directory stand-in.</summary>
public sealed class MlsServiceFixture : IAsyncLifetime
{
    public const string ServiceDid = "did:web:mls.test.example";

    private PostgresServer? _postgres;
    private RedisServer? _redis;
    private NatsServer? _nats;
    private DidDirectoryServer? _directory;
    private WebApplicationFactory<Program>? _factory;
    private Dictionary<string, string?> _settings = [];

    public HttpClient Client { get; private set; } = null!;

    public DidDirectoryServer Directory => _directory!;

    public NatsServer Nats => _nats!;

    public async ValueTask InitializeAsync()
    {
        var ct = TestDeadline.Token(TimeSpan.FromSeconds(120));
        _postgres = await PostgresServer.StartAsync(ct);
        _redis = await RedisServer.StartAsync(ct: ct);
        _nats = await NatsServer.StartAsync(ct: ct);
        _directory = await DidDirectoryServer.StartAsync(ct);
        var database = await _postgres.CreateDatabaseAsync(null, ct);
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:mlsdb"] = database,
            ["ConnectionStrings:redis"] = _redis.ConnectionString,
            ["ConnectionStrings:nats"] = _nats.Url,
            ["SERVICE_DID"] = ServiceDid,
            ["PLC_DIRECTORY_URL"] = _directory.Url.ToString(),
        };
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in _settings)
            {
                web.UseSetting(key, value);
            }
        });
        Client = _factory.CreateClient();
    }

    /// <summary>The service's settings (connection strings, service DID, directory), for instances started elsewhere.</summary>
    public IReadOnlyDictionary<string, string?> Settings => _settings;

    /// <summary>A second in-process instance against the same servers with some settings changed; dispose it.</summary>
    public WebApplicationFactory<Program> CreateVariant(IReadOnlyDictionary<string, string?> overrides) =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in _settings.Concat(overrides))
            {
                web.UseSetting(key, value);
            }
        });

    public TestAccount NewAccount(bool legacyDocument = false)
    {
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var account = new TestAccount($"did:plc:test{suffix}aaaa", ECDsa.Create(ECCurve.CreateFromValue("1.3.132.0.10")));
        _directory!.Register(account.Did, legacyDocument ? DidDocuments.LegacyPlc(account.Did, account.PublicKey) : DidDocuments.Multikey(account.Did, account.PublicKey));
        return account;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        if (_directory is not null)
        {
            await _directory.DisposeAsync();
        }
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
