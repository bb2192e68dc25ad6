using System.Text;
using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Testing;

namespace Catbird.Clients.Tests.Nats;

[Trait("Category", "Service")]
public sealed class JetStreamTests(NatsFixture nats) : IClassFixture<NatsFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    [Fact]
    public async Task Streams_are_created_updated_inspected_purged_and_deleted()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var name = Unique("S");
        var created = await js.CreateStreamAsync(new StreamConfig { Name = name, Subjects = [$"{name}.>"], Storage = "memory" }, Ct);
        Assert.Equal(name, created.Config.Name);

        var again = await Assert.ThrowsAsync<NatsJSApiException>(() => js.CreateStreamAsync(new StreamConfig { Name = name, Subjects = [$"{name}.other"], Storage = "memory" }, Ct));
        Assert.Equal(10058, again.Error.ErrCode);
        var updated = await js.CreateOrUpdateStreamAsync(new StreamConfig { Name = name, Subjects = [$"{name}.>"], Storage = "memory", MaxMsgs = 100 }, Ct);
        Assert.Equal(100, updated.Config.MaxMsgs);

        await js.PublishAsync($"{name}.a", "1"u8.ToArray(), ct: Ct);
        await js.PublishAsync($"{name}.b", "2"u8.ToArray(), ct: Ct);
        Assert.Equal(2, (await js.GetStreamAsync(name, Ct)).State.Messages);
        await js.PurgeStreamAsync(name, $"{name}.a", Ct);
        Assert.Equal(1, (await js.GetStreamAsync(name, Ct)).State.Messages);
        Assert.True((await js.GetAccountInfoAsync(Ct)).Streams >= 1);

        await js.DeleteStreamAsync(name, Ct);
        var missing = await Assert.ThrowsAsync<NatsJSApiException>(() => js.GetStreamAsync(name, Ct));
        Assert.Equal(404, missing.Error.Code);
    }

    [Fact]
    public async Task Publishes_are_deduplicated_and_guarded_by_expected_sequences()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var name = Unique("D");
        await js.CreateStreamAsync(new StreamConfig { Name = name, Subjects = [$"{name}.>"], Storage = "memory" }, Ct);

        var first = await js.PublishAsync($"{name}.x", "a"u8.ToArray(), new NatsJSPubOpts { MsgId = "m-1" }, ct: Ct);
        var duplicate = await js.PublishAsync($"{name}.x", "a"u8.ToArray(), new NatsJSPubOpts { MsgId = "m-1" }, ct: Ct);
        Assert.False(first.Duplicate);
        Assert.True(duplicate.Duplicate);
        Assert.Equal(first.Seq, duplicate.Seq);

        var next = await js.PublishAsync($"{name}.x", "b"u8.ToArray(), new NatsJSPubOpts { ExpectedLastSequence = first.Seq }, ct: Ct);
        var stale = await Assert.ThrowsAsync<NatsJSApiException>(() => js.PublishAsync($"{name}.x", "c"u8.ToArray(), new NatsJSPubOpts { ExpectedLastSequence = first.Seq }, ct: Ct));
        Assert.Equal(10071, stale.Error.ErrCode);
        var bySubject = await Assert.ThrowsAsync<NatsJSApiException>(() => js.PublishAsync($"{name}.x", "c"u8.ToArray(), new NatsJSPubOpts { ExpectedLastSubjectSequence = 0 }, ct: Ct));
        Assert.Equal(10071, bySubject.Error.ErrCode);
        Assert.Equal(first.Seq + 1, next.Seq);

        await Assert.ThrowsAsync<NatsNoRespondersException>(() => js.PublishAsync("nowhere.stored", "x"u8.ToArray(), ct: Ct));
    }

    [Fact]
    public async Task Pull_consumers_ack_nak_terminate_and_redeliver()
    {
        await using var connection = new NatsConnection(nats.Server.Url);
        var js = new NatsJSContext(connection);
        var name = Unique("P");
        await js.CreateStreamAsync(new StreamConfig { Name = name, Subjects = [$"{name}.>"], Storage = "memory" }, Ct);
        for (var i = 0; i < 5; i++)
        {
            var headers = new NatsHeaders().Set("X-Index", i.ToString());
            await js.PublishAsync($"{name}.m", Encoding.UTF8.GetBytes($"m{i}"), headers: headers, ct: Ct);
        }

        var consumer = await js.CreateOrUpdateConsumerAsync(name, new ConsumerConfig { DurableName = "worker", AckWait = 30_000_000_000, MaxDeliver = 5 }, Ct);
        var batch = new List<NatsJSMsg>();
        await foreach (var msg in consumer.FetchAsync(3, TimeSpan.FromSeconds(2), Ct))
        {
            batch.Add(msg);
        }

        Assert.Equal(["m0", "m1", "m2"], batch.Select(m => Encoding.UTF8.GetString(m.Data.Span)));
        Assert.Equal("1", batch[1].Headers!.GetLast("X-Index"));
        Assert.Equal(name, batch[0].Metadata!.Stream);
        Assert.Equal(1, batch[0].Metadata!.StreamSequence);
        Assert.Equal(4, batch[0].Metadata!.NumPending);
        await batch[0].AckAsync(doubleAck: true, ct: Ct);
        await batch[1].AckTerminateAsync(Ct);
        await batch[2].AckProgressAsync(Ct);
        await batch[2].NakAsync(ct: Ct);

        var rest = new List<NatsJSMsg>();
        await foreach (var msg in consumer.FetchAsync(10, TimeSpan.FromSeconds(1), Ct))
        {
            rest.Add(msg);
            await msg.AckAsync(ct: Ct);
        }

        Assert.Contains(rest, m => Encoding.UTF8.GetString(m.Data.Span) == "m2" && m.Metadata!.NumDelivered == 2);
        Assert.Contains(rest, m => Encoding.UTF8.GetString(m.Data.Span) == "m4");
        Assert.DoesNotContain(rest, m => Encoding.UTF8.GetString(m.Data.Span) is "m0" or "m1");
        Assert.Null(await consumer.NextAsync(TimeSpan.FromMilliseconds(300), Ct));

        var durable = await js.GetConsumerAsync(name, "worker", Ct);
        Assert.Equal(0, durable.Info.NumPending);
        await js.DeleteConsumerAsync(name, "worker", Ct);
    }
}
