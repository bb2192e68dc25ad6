using System.Text;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Nats.KeyValueStore;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Nats;

[Trait("Category", "Service")]
public sealed class KeyValueTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private static string Text(NatsKVEntry entry) => Encoding.UTF8.GetString(entry.Value.Span);

    [Fact]
    public async Task Put_get_create_update_delete_and_purge_follow_the_kv_rules()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var kv = new NatsKVContext(new NatsJSContext(connection));
        var store = await kv.CreateStoreAsync(new NatsKVConfig { Bucket = Unique("b"), History = 5 }, Ct);

        var r1 = await store.PutAsync("room.1", "v1"u8.ToArray(), Ct);
        var entry = await store.GetEntryAsync("room.1", Ct);
        Assert.Equal(("v1", r1, NatsKVOperation.Put), (Text(entry), entry.Revision, entry.Operation));

        var r2 = await store.UpdateAsync("room.1", "v2"u8.ToArray(), r1, Ct);
        await Assert.ThrowsAsync<NatsKVWrongLastRevisionException>(() => store.UpdateAsync("room.1", "v3"u8.ToArray(), r1, Ct));
        Assert.Equal("v2", Text(await store.GetEntryAsync("room.1", Ct)));

        await Assert.ThrowsAsync<NatsKVCreateException>(() => store.CreateAsync("room.1", "x"u8.ToArray(), Ct));
        var created = await store.CreateAsync("room.2", "fresh"u8.ToArray(), Ct);
        Assert.True(created > r2);

        await store.DeleteAsync("room.1", ct: Ct);
        await Assert.ThrowsAsync<NatsKVKeyNotFoundException>(() => store.GetEntryAsync("room.1", Ct));
        Assert.Null(await store.TryGetEntryAsync("never", Ct));
        await store.CreateAsync("room.1", "after-delete"u8.ToArray(), Ct);

        var history = new List<NatsKVEntry>();
        await foreach (var revision in store.GetHistoryAsync("room.1", Ct))
        {
            history.Add(revision);
        }

        Assert.Equal([NatsKVOperation.Put, NatsKVOperation.Put, NatsKVOperation.Del, NatsKVOperation.Put], history.Select(h => h.Operation));

        await store.PurgeAsync("room.1", Ct);
        history.Clear();
        await foreach (var revision in store.GetHistoryAsync("room.1", Ct))
        {
            history.Add(revision);
        }

        Assert.Equal([NatsKVOperation.Purge], history.Select(h => h.Operation));

        var keys = new List<string>();
        await foreach (var key in store.GetKeysAsync(ct: Ct))
        {
            keys.Add(key);
        }

        Assert.Equal(["room.2"], keys);
        await Assert.ThrowsAsync<ArgumentException>(() => store.PutAsync("bad key", "x"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Buckets_use_the_official_stream_configuration()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var bucket = Unique("cfg");
        await new NatsKVContext(js).CreateStoreAsync(new NatsKVConfig { Bucket = bucket, History = 3, MaxAge = TimeSpan.FromMinutes(10) }, Ct);
        var config = (await js.GetStreamAsync("KV_" + bucket, Ct)).Config;
        Assert.Equal([$"$KV.{bucket}.>"], config.Subjects!);
        Assert.Equal(3, config.MaxMsgsPerSubject);
        Assert.Equal("new", config.Discard);
        Assert.True(config.AllowRollupHdrs);
        Assert.True(config.DenyDelete);
        Assert.True(config.AllowDirect);
        Assert.Equal(120_000_000_000, config.DuplicateWindow);
    }

    [Fact]
    public async Task Watch_delivers_current_values_then_changes_and_resumes_after_a_server_restart()
    {
        await using var server = await NatsServer.StartAsync(ct: Ct);
        await using var connection = new NatsConnection(NatsOpts.FromUrl(server.Url) with { ReconnectWait = TimeSpan.FromMilliseconds(50) });
        var store = await new NatsKVContext(new NatsJSContext(connection)).CreateStoreAsync(new NatsKVConfig { Bucket = "watched" }, Ct);
        await store.PutAsync("a", "1"u8.ToArray(), Ct);
        await store.PutAsync("b", "1"u8.ToArray(), Ct);
        await store.PutAsync("a", "2"u8.ToArray(), Ct);

        using var watching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        watching.CancelAfter(TimeSpan.FromSeconds(40));
        var seen = System.Threading.Channels.Channel.CreateUnbounded<NatsKVEntry>();
        var watcher = Task.Run(async () =>
        {
            await foreach (var entry in store.WatchAsync(ct: watching.Token))
            {
                await seen.Writer.WriteAsync(entry, watching.Token);
            }
        }, watching.Token);

        async Task<NatsKVEntry> Next() => await seen.Reader.ReadAsync(watching.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(20), Ct);
        var initial = new[] { await Next(), await Next() }.OrderBy(e => e.Key).ToArray();
        Assert.Equal(("a", "2"), (initial[0].Key, Text(initial[0])));
        Assert.Equal(("b", "1"), (initial[1].Key, Text(initial[1])));

        await store.DeleteAsync("b", ct: Ct);
        var deleted = await Next();
        Assert.Equal(("b", NatsKVOperation.Del), (deleted.Key, deleted.Operation));

        await server.RestartAsync(Ct);
        await WaitUntilAsync(async () =>
        {
            try
            {
                await store.PutAsync("c", "after-restart"u8.ToArray(), Ct);
                return true;
            }
            catch (NatsException)
            {
                return false;
            }
        });

        NatsKVEntry resumed;
        do
        {
            resumed = await Next();
        }
        while (resumed.Key != "c");
        Assert.Equal("after-restart", Text(resumed));
        await watching.CancelAsync();
        await watcher.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in time");
            await Task.Delay(100, Ct);
        }
    }
}
