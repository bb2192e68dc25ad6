// Rewrap throughput: HTTP at 32 concurrent clients vs the raw crypto bound measured in-process in the same run.
//   dotnet run -c Release --project bench/kas [-- seconds=5 clients=32 requests=1500]
// The raw bound does the same per-request work without HTTP: verify the bearer token (ES256) and the signed request
// token (ES256), parse the header, ECDH + HKDF for the DEK, decrypt the policy, check the binding, make a session
// key pair, ECDH + HKDF for the wrap key, AES-GCM wrap. Load generator and server share this process and its cores.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Kas.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Catbird.Kas.Api.Apis;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.NanoTdf;

var settings = args.Select(a => a.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
var seconds = int.Parse(settings.GetValueOrDefault("seconds", "5"), System.Globalization.CultureInfo.InvariantCulture);
var clients = int.Parse(settings.GetValueOrDefault("clients", "32"), System.Globalization.CultureInfo.InvariantCulture);
var requestCount = int.Parse(settings.GetValueOrDefault("requests", "1500"), System.Globalization.CultureInfo.InvariantCulture);

var folder = Directory.CreateTempSubdirectory("kas-bench-").FullName;
using var kasKey = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
using var issuer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
var kasPath = Path.Combine(folder, "kas.pem");
var issuerPath = Path.Combine(folder, "issuer.pem");
File.WriteAllText(kasPath, kasKey.ExportECPrivateKeyPem());
File.WriteAllText(issuerPath, issuer.ExportSubjectPublicKeyInfoPem());
const string Attribute = "https://example.com/attr/classification/value/secret";

Console.WriteLine($"preparing {requestCount} distinct requests…");
var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
var kasPoint = curve.Compress(kasKey.ExportParameters(false).Q);
var requests = new List<(string Bearer, string Body, byte[] Header, string SrtKeyPem, string ClientKeyPem)>();
for (var i = 0; i < requestCount; i++)
{
    using var signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    using var session = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    var policy = new JsonObject
    {
        ["uuid"] = Guid.NewGuid().ToString(),
        ["body"] = new JsonObject { ["dataAttributes"] = new JsonArray(new JsonObject { ["attribute"] = Attribute }), ["dissem"] = new JsonArray() },
    }.ToJsonString();
    var nano = NanoTdfCreator.Create(curve, kasPoint, new ResourceLocator(ResourceProtocol.Http, "localhost/kas"), Encoding.UTF8.GetBytes(policy));
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var bearer = Sign(issuer, new JsonObject { ["alg"] = "ES256" }, new JsonObject
    {
        ["sub"] = $"user{i % 50}", ["iat"] = now, ["exp"] = now + 3600,
        ["entitlements"] = new JsonArray(Attribute),
        ["tdf_claims"] = new JsonObject { ["client_public_signing_key"] = signer.ExportSubjectPublicKeyInfoPem() },
    });
    var requestBody = new JsonObject
    {
        ["algorithm"] = "ec:secp256r1",
        ["keyAccess"] = new JsonObject { ["type"] = "remote", ["url"] = "", ["protocol"] = "kas", ["header"] = Convert.ToBase64String(nano.Header.Bytes) },
        ["clientPublicKey"] = session.ExportSubjectPublicKeyInfoPem(),
    }.ToJsonString();
    var srt = Sign(signer, new JsonObject { ["alg"] = "ES256" }, new JsonObject { ["requestBody"] = requestBody, ["iat"] = now, ["exp"] = now + 3600 });
    requests.Add((bearer, new JsonObject { ["signedRequestToken"] = srt }.ToJsonString(), nano.Header.Bytes, signer.ExportSubjectPublicKeyInfoPem(), session.ExportSubjectPublicKeyInfoPem()));
}

// Raw bound: the same cryptographic work per request, on as many threads as cores.
RawBound(TimeSpan.FromSeconds(1));

var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = folder, Args = [] });
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["KAS_KEY_PATH"] = "e1=" + kasPath,
    ["OAUTH_PUBLIC_KEY_PATH"] = issuerPath,
    ["KAS_RATE_LIMIT"] = "1000000",
});
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.AddServiceDefaults();
builder.AddApplicationServices();
var app = builder.Build();
app.UseKasPipeline();
app.MapKasApi();
await app.StartAsync();
var address = app.Urls.First();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
{
    BaseAddress = new Uri(address),
};

await ClosedLoop(TimeSpan.FromSeconds(1));

// The machine is shared, so load drifts: raw and HTTP phases alternate and each round gives its own ratio.
var ratios = new List<double>();
var peaks = new List<double>();
var allLatencies = new List<double>();
for (var round = 1; round <= 3; round++)
{
    var raw = RawBound(TimeSpan.FromSeconds(seconds));
    var (rate, latencies) = await ClosedLoop(TimeSpan.FromSeconds(seconds));
    peaks.Add(rate);
    allLatencies.AddRange(latencies);
    ratios.Add(rate / raw);
    Console.WriteLine($"round {round}: raw crypto bound {raw:F0}/s ({Environment.ProcessorCount} threads), HTTP {clients} clients {rate:F0}/s, ratio {rate / raw:F2}, p95 {Percentile(latencies, 95):F2} ms");
}

ratios.Sort();
var peak = peaks.Max();
Console.WriteLine($"median ratio HTTP / raw bound: {ratios[1]:F2}; peak HTTP {peak:F0}/s, p50 {Percentile(allLatencies, 50):F2} ms, p95 {Percentile(allLatencies, 95):F2} ms");
var half = peak / 2;
var halfLatencies = await OpenLoop(half, TimeSpan.FromSeconds(seconds));
Console.WriteLine($"HTTP open loop at {half:F0}/s (half peak): p50 {Percentile(halfLatencies, 50):F2} ms, p95 {Percentile(halfLatencies, 95):F2} ms, p99 {Percentile(halfLatencies, 99):F2} ms");
await app.StopAsync();
Directory.Delete(folder, recursive: true);
return;

double RawBound(TimeSpan duration)
{
    var count = 0L;
    var stop = Stopwatch.StartNew();
    Parallel.For(0, Environment.ProcessorCount, worker =>
    {
        var i = worker;
        while (stop.Elapsed < duration)
        {
            var r = requests[i++ % requests.Count];
            RawRewrap(r.Bearer, r.Body, r.Header, r.SrtKeyPem, r.ClientKeyPem);
            Interlocked.Increment(ref count);
        }
    });
    return count / stop.Elapsed.TotalSeconds;
}

void RawRewrap(string bearer, string body, byte[] headerBytes, string srtKeyPem, string clientKeyPem)
{
    var bearerJws = Jws.Parse(bearer)!;
    if (!bearerJws.VerifyWith(issuer))
    {
        throw new InvalidOperationException("bearer");
    }

    var srt = JsonNode.Parse(body)!["signedRequestToken"]!.GetValue<string>();
    using var srtKey = ECDsa.Create();
    srtKey.ImportFromPem(srtKeyPem);
    var srtJws = Jws.Parse(srt)!;
    if (!srtJws.VerifyWith(srtKey))
    {
        throw new InvalidOperationException("srt");
    }

    _ = JsonNode.Parse(JsonNode.Parse(srtJws.Payload)!["requestBody"]!.GetValue<string>());
    var header = NanoTdfHeader.Parse(headerBytes);
    var dek = NanoTdfCrypto.DeriveDek(kasKey, header);
    _ = NanoTdfCrypto.DecryptPolicy(dek, header) ?? throw new InvalidOperationException("policy");
    _ = NanoTdfCrypto.VerifyBinding(header, dek) ?? throw new InvalidOperationException("binding");
    using var client = ECDiffieHellman.Create();
    client.ImportFromPem(clientKeyPem);
    using var session = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    var wrapKey = NanoTdfCrypto.DeriveKey(session.DeriveRawSecretAgreement(client.PublicKey), NanoTdfCrypto.SaltL1L);
    _ = NanoTdfCrypto.Wrap(wrapKey, dek, header.TagLength);
    _ = PemEncoding.WriteString("PUBLIC KEY", session.ExportSubjectPublicKeyInfo());
}

async Task<(double Rate, List<double> Latencies)> ClosedLoop(TimeSpan duration)
{
    var latencies = new ConcurrentBag<double>();
    var next = -1;
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        while (stop.Elapsed < duration)
        {
            var started = Stopwatch.GetTimestamp();
            await Send(requests[(int)((uint)Interlocked.Increment(ref next) % (uint)requests.Count)]);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }));
    return (latencies.Count / stop.Elapsed.TotalSeconds, latencies.ToList());
}

async Task<List<double>> OpenLoop(double rate, TimeSpan duration)
{
    // Constant throughput: each of the clients sends on its own schedule (rate / clients per second, phases spread),
    // so the aggregate arrival rate is fixed and a slow response does not slow the arrivals of the others.
    var latencies = new ConcurrentBag<double>();
    var interval = TimeSpan.FromSeconds(clients / rate);
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
    {
        var due = interval * client / clients;
        var sent = client;
        while (due < duration)
        {
            var wait = due - stop.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var started = Stopwatch.GetTimestamp();
            await Send(requests[sent % requests.Count]);
            latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            sent += clients;
            due += interval;
        }
    }));
    return latencies.ToList();
}

async Task Send((string Bearer, string Body, byte[] Header, string SrtKeyPem, string ClientKeyPem) request)
{
    using var message = new HttpRequestMessage(HttpMethod.Post, "/kas/v2/rewrap") { Content = new StringContent(request.Body, Encoding.UTF8, "application/json") };
    message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", request.Bearer);
    using var response = await http.SendAsync(message);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"rewrap answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    await response.Content.ReadAsByteArrayAsync();
}

static double Percentile(List<double> values, int percentile)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    values.Sort();
    return values[Math.Min(values.Count - 1, (int)Math.Ceiling(percentile / 100.0 * values.Count) - 1)];
}

static string Sign(ECDsa key, JsonObject header, JsonObject claims)
{
    var input = Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Jws.Base64UrlEncode(Encoding.UTF8.GetBytes(claims.ToJsonString()));
    return input + "." + Jws.Base64UrlEncode(key.SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256));
}
