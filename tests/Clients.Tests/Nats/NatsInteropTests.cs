using System.Text;
using System.Text.Json;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Nats.KeyValueStore;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Nats;

/// <summary>Our client and the official JavaScript clients (@nats-io/* 3.4.0) on the same server.</summary>
[Trait("Category", "Interop")]
public sealed class NatsInteropTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(60);

    private async Task<JsonElement> NodeAsync(params string[] args)
    {
        var result = await NodeScript.RunAsync("nats/interop.mjs", [args[0], nats.Server.Url, .. args[1..]], null, NodeTimeout, Ct);
        result.EnsureSuccess($"nats/interop.mjs {args[0]}");
        return JsonDocument.Parse(result.StdOut.Trim().Split('\n')[^1]).RootElement;
    }

    [Fact]
    public async Task A_bucket_written_by_the_js_client_is_read_and_watched_by_ours()
    {
        var bucket = "js_" + Guid.NewGuid().ToString("N")[..8];
        await NodeAsync("kv-write", bucket);

        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var store = await new NatsKVContext(js).GetStoreAsync(bucket, Ct);
        Assert.Equal("hello again", Encoding.UTF8.GetString((await store.GetEntryAsync("x", Ct)).Value.Span));
        Assert.Null(await store.TryGetEntryAsync("z", Ct));
        var keys = new List<string>();
        await foreach (var key in store.GetKeysAsync(ct: Ct))
        {
            keys.Add(key);
        }

        Assert.Equal(["x", "y"], keys.Order());

        // The JS client's stream settings are the ones ours would make for the same bucket. (deny_delete differs:
        // @nats-io/kv 3.4 leaves it false; we keep ADR-8's true, which only blocks the stream's message-delete API.)
        var theirs = (await js.GetStreamAsync("KV_" + bucket, Ct)).Config;
        var ourBucket = "ours_" + Guid.NewGuid().ToString("N")[..8];
        await new NatsKVContext(js).CreateStoreAsync(new NatsKVConfig { Bucket = ourBucket, History = 5 }, Ct);
        var ours = (await js.GetStreamAsync("KV_" + ourBucket, Ct)).Config;
        Assert.Equal(
            (theirs.MaxMsgsPerSubject, theirs.Discard, theirs.AllowRollupHdrs, theirs.AllowDirect, theirs.DuplicateWindow, theirs.Retention, theirs.Storage),
            (ours.MaxMsgsPerSubject, ours.Discard, ours.AllowRollupHdrs, ours.AllowDirect, ours.DuplicateWindow, ours.Retention, ours.Storage));

        var watched = new List<NatsKVEntry>();
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        watching.CancelAfter(TimeSpan.FromSeconds(20));
        await foreach (var entry in store.WatchAsync(ct: watching.Token))
        {
            watched.Add(entry);
            if (entry.Delta == 0)
            {
                break;
            }
        }

        Assert.Contains(watched, e => e.Key == "x" && Encoding.UTF8.GetString(e.Value.Span) == "hello again");
        Assert.Contains(watched, e => e.Key == "z" && e.Operation == NatsKVOperation.Del);
    }

    [Fact]
    public async Task A_bucket_written_by_ours_is_read_and_watched_by_the_js_client()
    {
        var bucket = "net_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NatsConnection(nats.Server.Url);
        var store = await new NatsKVContext(new NatsJSContext(connection)).CreateStoreAsync(new NatsKVConfig { Bucket = bucket, History = 3 }, Ct);
        await store.PutAsync("rooms.r1", "{\"epoch\":1}"u8.ToArray(), Ct);
        var revision = await store.PutAsync("rooms.r2", "{\"epoch\":7}"u8.ToArray(), Ct);
        await store.PutAsync("deleted", "x"u8.ToArray(), Ct);
        await store.DeleteAsync("deleted", ct: Ct);

        var read = await NodeAsync("kv-read", bucket, "deleted");
        Assert.Equal(["rooms.r1", "rooms.r2"], read.GetProperty("keys").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal("{\"epoch\":7}", read.GetProperty("values").GetProperty("rooms.r2").GetProperty("value").GetString());
        Assert.Equal(revision, read.GetProperty("values").GetProperty("rooms.r2").GetProperty("revision").GetInt64());
        Assert.Equal("DEL", read.GetProperty("deletedOperation").GetString());

        var watcher = NodeScript.RunAsync("nats/interop.mjs", ["kv-watch", nats.Server.Url, bucket, "live"], null, NodeTimeout, Ct);
        NodeResult? result = null;
        for (var i = 0; i < 100 && result is null; i++)
        {
            await store.PutAsync("live", Encoding.UTF8.GetBytes($"update-{i}"), Ct);
            if (await Task.WhenAny(watcher, Task.Delay(200, Ct)) == watcher)
            {
                result = await watcher;
            }
        }

        result ??= await watcher;
        result.EnsureSuccess("kv-watch");
        Assert.StartsWith("update-", JsonDocument.Parse(result.StdOut.Trim()).RootElement.GetProperty("value").GetString());
    }

    [Fact]
    public async Task JetStream_messages_cross_between_the_clients_with_their_headers()
    {
        var stream = "XS" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var subject = $"{stream}.events";
        await NodeAsync("js-publish", stream, subject);

        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var consumer = await js.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig { DurableName = "net-reader" }, Ct);
        var received = new List<NatsJSMsg>();
        await foreach (var msg in consumer.FetchAsync(2, TimeSpan.FromSeconds(3), Ct))
        {
            received.Add(msg);
            await msg.AckAsync(ct: Ct);
        }

        Assert.Equal(["js-1", "js-2"], received.Select(m => Encoding.UTF8.GetString(m.Data.Span)));
        Assert.All(received, m => Assert.Equal("js", m.Headers!.GetLast("X-From")));
        Assert.All(received, m => Assert.Equal(["a", "b"], m.Headers!["X-Multi"]));
        Assert.Equal("js-msg-1", received[0].Headers!.GetLast("Nats-Msg-Id"));

        var headers = new NatsHeaders().Set("X-From", "dotnet");
        headers.Add("X-Multi", "c");
        headers.Add("X-Multi", "d");
        await js.PublishAsync(subject, "net-3"u8.ToArray(), new NatsJSPubOpts { MsgId = "net-msg-3" }, headers, Ct);
        var consumed = await NodeAsync("js-consume", stream, "3");
        var last = consumed.GetProperty("messages").EnumerateArray().Last();
        Assert.Equal("net-3", last.GetProperty("data").GetString());
        Assert.Equal("dotnet", last.GetProperty("from").GetString());
        Assert.Equal(["c", "d"], last.GetProperty("multi").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task Nkeys_and_signatures_agree_with_the_official_nkeys_library()
    {
        var theirs = await NodeAsync("nkey-new", "server-nonce-123");
        var pair = NKeyPair.FromSeed(theirs.GetProperty("seed").GetString()!);
        Assert.Equal(theirs.GetProperty("publicKey").GetString(), pair.PublicKey);
        Assert.True(NKeyPair.Verify(pair.PublicKey, "server-nonce-123"u8, Convert.FromBase64String(theirs.GetProperty("signature").GetString()!)));

        var ours = NKeyPair.Create(NKeyType.User);
        var signature = Convert.ToBase64String(ours.Sign("another-nonce"u8));
        var check = await NodeAsync("nkey-check", ours.Seed, ours.PublicKey, "another-nonce", signature);
        Assert.True(check.GetProperty("matches").GetBoolean());
        Assert.True(check.GetProperty("verified").GetBoolean());
    }
}
