// sendMessage throughput and latency of Mls.Api (own process, real Postgres/Redis/NATS, ES256K service JWTs pre-minted
// with unique jti) at 32 concurrent senders across 100 conversations, against pgbench running a single-row insert
// transaction on the same Postgres in the same run.
// usage: dotnet run -c Release --project bench/mls-send -- [messages] [seconds-for-pgbench]
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Catbird.Identity.Crypto;
using Catbird.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Npgsql;

const int Senders = 32;
const int Conversations = 100;
const string ServiceDid = "did:web:mls.bench";
var messages = args.Length > 0 ? int.Parse(args[0]) : 20_000;
var pgbenchSeconds = args.Length > 1 ? int.Parse(args[1]) : 10;
var secp256k1 = ECCurve.CreateFromValue("1.3.132.0.10");
var order = BigInteger.Parse("0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141", System.Globalization.NumberStyles.HexNumber);

await using var postgres = await PostgresServer.StartAsync();
await using var redis = await RedisServer.StartAsync();
await using var nats = await NatsServer.StartAsync();
var database = await postgres.CreateDatabaseAsync("mlsbench");

// A did:plc directory stand-in serving each sender's secp256k1 key as Multikey.
var accounts = Enumerable.Range(0, Senders).Select(i => (Did: $"did:plc:bench{i:D2}aaaaaaaaaaaaaaaaaa", Key: ECDsa.Create(secp256k1))).ToArray();
var documents = accounts.ToDictionary(a => a.Did, a =>
{
    var q = a.Key.ExportParameters(false).Q;
    var multikey = AtprotoPublicKey.FromSec1(AtprotoCurve.Secp256k1, [4, .. q.X!, .. q.Y!]).Multikey;
    return $$"""{"id":"{{a.Did}}","verificationMethod":[{"id":"{{a.Did}}#atproto","type":"Multikey","controller":"{{a.Did}}","publicKeyMultibase":"{{multikey}}"}]}""";
});
var directoryBuilder = WebApplication.CreateSlimBuilder();
directoryBuilder.WebHost.UseUrls("http://127.0.0.1:0");
await using var directory = directoryBuilder.Build();
directory.MapGet("/{did}", (string did) => documents.TryGetValue(did, out var doc) ? Results.Content(doc, "application/json") : Results.NotFound());
await directory.StartAsync();
var directoryUrl = directory.Urls.First();

// Mls.Api as its own process.
var port = ServerProcess.FreePort();
var dll = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "mls-api-path.txt")).Trim();
var environment = new Dictionary<string, string>
{
    ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
    ["ASPNETCORE_ENVIRONMENT"] = "Production",
    ["ConnectionStrings__mlsdb"] = database,
    ["ConnectionStrings__redis"] = redis.ConnectionString,
    ["ConnectionStrings__nats"] = nats.Url,
    ["SERVICE_DID"] = ServiceDid,
    ["PLC_DIRECTORY_URL"] = directoryUrl,
    ["RATE_LIMIT_PER_DID_PER_MINUTE"] = "100000000",
    ["RATE_LIMIT_PER_IP_PER_MINUTE"] = "100000000",
    ["Logging__LogLevel__Default"] = "Warning",
};
foreach (var (key, value) in environment)
{
    Environment.SetEnvironmentVariable(key, value);
}

await using var service = ServerProcess.Start("mls-api", "dotnet", [dll], Path.GetDirectoryName(dll));
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
await service.WaitUntilAsync(async ct => (await http.GetAsync("/health/ready", ct)).IsSuccessStatusCode, TimeSpan.FromSeconds(60), CancellationToken.None);

string Token(int sender, string nsid)
{
    var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    var header = B64("""{"typ":"JWT","alg":"ES256K"}"""u8.ToArray());
    var payload = B64(Encoding.UTF8.GetBytes($$"""{"iat":{{now}},"iss":"{{accounts[sender].Did}}","aud":"{{ServiceDid}}","exp":{{now + 3000}},"lxm":"{{nsid}}","jti":"{{Guid.NewGuid():N}}"}"""));
    var signature = accounts[sender].Key.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    var s = new BigInteger(signature.AsSpan(32), isUnsigned: true, isBigEndian: true);
    if (s > order / 2)
    {
        var low = (order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        signature.AsSpan(32).Clear();
        low.CopyTo(signature.AsSpan(64 - low.Length));
    }

    return $"{header}.{payload}.{B64(signature)}";
}

// 100 conversations, each owned by one sender; each sender writes only to its own.
var convos = new (string Id, byte[] GroupId, int Sender)[Conversations];
for (var c = 0; c < Conversations; c++)
{
    var groupId = RandomNumberGenerator.GetBytes(16);
    using var request = new HttpRequestMessage(HttpMethod.Post, "/xrpc/blue.catbird.mls.createConvo")
    {
        Content = JsonContent.Create(new Dictionary<string, string> { ["groupId"] = Convert.ToHexStringLower(groupId), ["cipherSuite"] = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" }),
    };
    request.Headers.Authorization = new("Bearer", Token(c % Senders, "blue.catbird.mls.createConvo"));
    using var response = await http.SendAsync(request);
    var body = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"createConvo: {(int)response.StatusCode} {body}");
    }

    convos[c] = (JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!, groupId, c % Senders);
}

Console.WriteLine($"minting {messages:N0} ES256K tokens…");
var work = Enumerable.Range(0, messages).Select(i =>
{
    var convo = convos[i % Conversations];
    var json = JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["convoId"] = convo.Id,
        ["msgId"] = Guid.NewGuid().ToString(),
        ["ciphertext"] = new Dictionary<string, string> { ["$bytes"] = Convert.ToBase64String(PrivateMessage(convo.GroupId)) },
        ["epoch"] = 0,
        ["paddedSize"] = 512,
    });
    return (Sender: convo.Sender, Json: json, Token: Token(convo.Sender, "blue.catbird.mls.sendMessage"));
}).GroupBy(w => w.Sender).Select(g => g.ToArray()).ToArray();

var latencies = new double[messages];
var next = -1;
var failures = 0;
var clock = Stopwatch.StartNew();
await Task.WhenAll(work.Select(async mine =>
{
    foreach (var item in mine)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/xrpc/blue.catbird.mls.sendMessage") { Content = new StringContent(item.Json, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new("Bearer", item.Token);
        var started = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request);
        latencies[Interlocked.Increment(ref next)] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        if (!response.IsSuccessStatusCode)
        {
            Interlocked.Increment(ref failures);
        }
    }
}));
var elapsed = clock.Elapsed.TotalSeconds;
Array.Sort(latencies);
var rate = messages / elapsed;

// pgbench: a comparable single-row insert transaction on the same server.
await using (var connection = new NpgsqlConnection(database))
{
    await connection.OpenAsync();
    await using var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS bench_messages (convo text, seq bigint, body bytea, created_at timestamptz DEFAULT now())", connection);
    await create.ExecuteNonQueryAsync();
}

var script = Path.Combine(Path.GetTempPath(), $"pgbench-{Guid.NewGuid():N}.sql");
await File.WriteAllTextAsync(script, "\\set c random(1, 100)\nINSERT INTO bench_messages (convo, seq, body) VALUES ('c' || :c, :c, decode(repeat('ab', 512), 'hex'));\n");
var csb = new NpgsqlConnectionStringBuilder(database);
var pgbench = new ProcessStartInfo("/usr/lib/postgresql/15/bin/pgbench") { RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { "-n", "-c", Senders.ToString(), "-j", "2", "-T", pgbenchSeconds.ToString(), "-f", script, "-h", "127.0.0.1", "-p", csb.Port.ToString(), "-U", csb.Username!, csb.Database! })
{
    pgbench.ArgumentList.Add(a);
}

pgbench.Environment["PGPASSWORD"] = csb.Password;
using var run = Process.Start(pgbench)!;
var output = await run.StandardOutput.ReadToEndAsync();
await run.WaitForExitAsync();
File.Delete(script);
var tpsLine = output.Split('\n').FirstOrDefault(l => l.StartsWith("tps", StringComparison.Ordinal)) ?? throw new InvalidOperationException("pgbench: " + output + await run.StandardError.ReadToEndAsync());
var tps = double.Parse(tpsLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2], System.Globalization.CultureInfo.InvariantCulture);

Console.WriteLine($"sendMessage: {messages:N0} in {elapsed:0.00} s = {rate:N0}/s ({failures} failed), p50 {latencies[messages / 2]:0.00} ms, p99 {latencies[(int)(messages * 0.99)]:0.00} ms");
Console.WriteLine($"pgbench single-row insert, {Senders} clients: {tps:N0} tps");
Console.WriteLine($"ratio sendMessage / pgbench: {rate / tps:0.00}x");

static string B64(byte[] value) => Convert.ToBase64String(value).TrimEnd('=').Replace('+', '-').Replace('/', '_');

// A PrivateMessage (application content) of this group at epoch 0, 512 bytes: what a DS routes without keys.
static byte[] PrivateMessage(byte[] groupId)
{
    var head = new List<byte> { 0, 1, 0, 2, (byte)groupId.Length };
    head.AddRange(groupId);
    var epoch = new byte[8];
    BinaryPrimitives.WriteUInt64BigEndian(epoch, 0);
    head.AddRange(epoch);
    head.Add(1);
    head.Add(0);
    head.Add(16);
    head.AddRange(RandomNumberGenerator.GetBytes(16));
    var length = 512 - head.Count - 2;
    head.Add((byte)(0x40 | (length >> 8)));
    head.Add((byte)length);
    head.AddRange(RandomNumberGenerator.GetBytes(length));
    return [.. head];
}
