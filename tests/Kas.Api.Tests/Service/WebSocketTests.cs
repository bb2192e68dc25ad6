using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Catbird.Kas.Api.NanoTdf;
using Catbird.Kas.Api.Tests.Infrastructure;
using Catbird.Kas.Api.WebSocket;
using Catbird.Testing;

namespace Catbird.Kas.Api.Tests.Service;

/// <summary>Kas.Api with Redis, for the WebSocket protocol.</summary>
public sealed class WebSocketHostFixture : IAsyncLifetime
{
    internal TestIdentity Identity { get; } = new();

    internal RedisServer Redis { get; private set; } = null!;

    internal KasHost Host { get; private set; } = null!;

    internal string StateDirectory { get; } = Directory.CreateTempSubdirectory("kas-ws-state-").FullName;

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        Redis = await RedisServer.StartAsync(ct: ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        var configuration = Identity.Configuration();
        configuration["ConnectionStrings:redis"] = Redis.ConnectionString;
        configuration["KAS_STATE_DIR"] = StateDirectory;
        Host = await KasHost.StartAsync(configuration, ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Host.DisposeAsync();
        }
        finally
        {
            await Redis.DisposeAsync();
            Identity.Dispose();
            Directory.Delete(StateDirectory, recursive: true);
        }
    }
}

[Trait("Category", "Service")]
public sealed class WebSocketTests(WebSocketHostFixture fixture) : IClassFixture<WebSocketHostFixture>
{
    private const string Secret = "https://example.com/attr/classification/value/secret";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upgrade_without_a_valid_token_is_401()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(WsUri(), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Public_key_then_rewrap_gives_a_key_the_client_can_open()
    {
        using var socket = await ConnectAsync(fixture.Identity.AccessToken("ws-user", entitlements: [Secret]));
        using var client = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
        var nano = fixture.Identity.CreateNanoTdf(TestIdentity.Policy([Secret]));

        var beforeSession = await ExchangeAsync(socket, [ArkavoMessageType.Rewrap, .. nano.Header.Bytes]);
        var exchange = await ExchangeAsync(socket, [ArkavoMessageType.PublicKey, .. curve.Compress(client.ExportParameters(false).Q)]);
        var kasKey = await ExchangeAsync(socket, [ArkavoMessageType.KasPublicKey]);
        var rewrapped = await ExchangeAsync(socket, [ArkavoMessageType.Rewrap, .. nano.Seal("payload"u8)]);

        Assert.Equal(ArkavoMessageType.Error, beforeSession[0]);
        Assert.Contains("Session not established", Encoding.UTF8.GetString(beforeSession, 1, beforeSession.Length - 1), StringComparison.Ordinal);
        Assert.Equal(66, exchange.Length);
        Assert.Equal(ArkavoMessageType.PublicKey, exchange[0]);
        Assert.Equal([ArkavoMessageType.KasPublicKey, .. fixture.Identity.KasPublicPoint], kasKey);
        Assert.Equal(ArkavoMessageType.RewrappedKey, rewrapped[0]);
        Assert.Equal(94, rewrapped.Length);
        Assert.Equal(nano.Header.EphemeralPublicKey, rewrapped[1..34]);
        var secret = NanoTdfCrypto.SharedSecret(client, curve, exchange.AsSpan(1, 33));
        var wrapKey = NanoTdfCrypto.DeriveKey(secret, NanoTdfCrypto.SaltL1L);
        Assert.Equal(nano.Dek, NanoTdfCrypto.Unwrap(wrapKey, rewrapped.AsSpan(34), 16));
    }

    [Fact]
    public async Task Every_failure_is_answered_with_0xFF()
    {
        using var socket = await ConnectAsync(fixture.Identity.AccessToken("ws-mallory"));
        var curve = EcCurveInfo.For(NanoTdfCurve.Secp256r1);
        using var client = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var denied = fixture.Identity.CreateNanoTdf(TestIdentity.Policy([Secret]));

        var answers = new List<(string Case, byte[] Reply)>
        {
            ("short key", await ExchangeAsync(socket, [ArkavoMessageType.PublicKey, 0x02, 0x01])),
            ("unknown type", await ExchangeAsync(socket, [0x42, 1, 2, 3])),
            ("empty", await ExchangeAsync(socket, [])),
            ("bad event", await ExchangeAsync(socket, [ArkavoMessageType.Event, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2])),
            ("big event", await ExchangeAsync(socket, [ArkavoMessageType.Event, .. new byte[ArkavoSocket.MaxEventBytes + 1]])),
            ("nats", await ExchangeAsync(socket, [ArkavoMessageType.Nats, .. "L1L"u8])),
        };
        await ExchangeAsync(socket, [ArkavoMessageType.PublicKey, .. curve.Compress(client.ExportParameters(false).Q)]);
        answers.Add(("second key", await ExchangeAsync(socket, [ArkavoMessageType.PublicKey, .. curve.Compress(client.ExportParameters(false).Q)])));
        answers.Add(("bad header", await ExchangeAsync(socket, [ArkavoMessageType.Rewrap, 0x4C, 0x31, 0x4C, 0x00])));
        answers.Add(("denied", await ExchangeAsync(socket, [ArkavoMessageType.Rewrap, .. denied.Header.Bytes])));
        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        answers.Add(("text", await ReceiveAsync(socket)));

        Assert.All(answers, a => Assert.True(a.Reply.Length > 1 && a.Reply[0] == ArkavoMessageType.Error, a.Case));
        var deniedJson = JsonNode.Parse(answers.Single(a => a.Case == "denied").Reply.AsSpan(1).ToArray())!;
        Assert.Equal("policy_denied", deniedJson["error_type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cache_events_set_get_and_one_time_access()
    {
        using var socket = await ConnectAsync(fixture.Identity.AccessToken("ws-cache"));
        var id = RandomNumberGenerator.GetBytes(16);
        var onceId = RandomNumberGenerator.GetBytes(16);
        byte[] Cache(byte[] target, byte[] payload, bool once) =>
            [ArkavoMessageType.Event, .. new ArkavoEvent(ArkavoAction.Cache, 1, 0, ArkavoEventData.CacheEvent, target, payload, 60, once).Write()];
        byte[] Get(byte[] target) =>
            [ArkavoMessageType.Event, .. new ArkavoEvent(ArkavoAction.Join, 2, 0, ArkavoEventData.UserEvent, target, null, 0, false).Write()];

        var set = await ExchangeAsync(socket, Cache(id, "cached-bytes"u8.ToArray(), false));
        var get = await ExchangeAsync(socket, Get(id));
        var getAgain = await ExchangeAsync(socket, Get(id));
        await ExchangeAsync(socket, Cache(onceId, "once"u8.ToArray(), true));
        var once = await ExchangeAsync(socket, Get(onceId));
        var gone = await ExchangeAsync(socket, Get(onceId));
        var missing = await ExchangeAsync(socket, Get(RandomNumberGenerator.GetBytes(8)));

        Assert.Equal([ArkavoMessageType.Event, .. "cached-bytes"u8], set);
        Assert.Equal([ArkavoMessageType.Event, .. "cached-bytes"u8], get);
        Assert.Equal(get, getAgain);
        Assert.Equal([ArkavoMessageType.Event, .. "once"u8], once);
        Assert.Equal([ArkavoMessageType.Event, .. "Event not found"u8], gone);
        Assert.Equal([ArkavoMessageType.Event, .. "Event not found"u8], missing);
    }

    [Fact]
    public async Task Store_events_go_to_the_blob_folder()
    {
        using var socket = await ConnectAsync(fixture.Identity.AccessToken("ws-store"));
        var id = RandomNumberGenerator.GetBytes(12);

        var reply = await ExchangeAsync(socket,
            [ArkavoMessageType.Event, .. new ArkavoEvent(ArkavoAction.Store, 3, 0, ArkavoEventData.CacheEvent, id, "durable"u8.ToArray(), 0, false).Write()]);

        Assert.Equal([ArkavoMessageType.Event, .. "Successfully stored"u8], reply);
        Assert.Equal("durable"u8.ToArray(), await File.ReadAllBytesAsync(Path.Combine(fixture.StateDirectory, "blobs", Base58.Encode(id), "data"), Ct));
    }

    private Uri WsUri() => new($"ws://127.0.0.1:{fixture.Host.Address.Port}/ws");

    private async Task<ClientWebSocket> ConnectAsync(string token)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await socket.ConnectAsync(WsUri(), Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return socket;
    }

    private static async Task<byte[]> ExchangeAsync(ClientWebSocket socket, byte[] message)
    {
        await socket.SendAsync(message, WebSocketMessageType.Binary, true, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return await ReceiveAsync(socket);
    }

    private static async Task<byte[]> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var output = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            output.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return output.ToArray();
    }
}
