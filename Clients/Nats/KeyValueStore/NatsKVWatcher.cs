using System.Runtime.CompilerServices;
using Catbird.Nats.JetStream;

namespace Catbird.Nats.KeyValueStore;

/// <summary>
/// Reads a bucket through an ephemeral ordered push consumer (as the official clients do): flow control answered,
/// heartbeats watched, and the consumer re-created from the last stream sequence seen after a gap, a stall or a reconnect.
/// </summary>
internal sealed class NatsKVWatcher(NatsJSContext js, NatsKVStore store, string stream, string prefix, string filter, NatsKVWatchOpts opts, bool stopAtInitialEnd)
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    public async IAsyncEnumerable<NatsKVEntry> RunAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var connection = js.Connection;
        long lastStreamSeq = 0;
        var initialDone = opts.UpdatesOnly;
        while (!ct.IsCancellationRequested)
        {
            var inbox = NatsConnection.NewInbox();
            await using var subscription = await connection.SubscribeAsync(inbox, null, ct);
            var config = new ConsumerConfig
            {
                AckPolicy = "none",
                DeliverSubject = inbox,
                FilterSubject = prefix + filter,
                FlowControl = true,
                IdleHeartbeat = (long)Heartbeat.TotalMilliseconds * 1_000_000,
                HeadersOnly = opts.MetaOnly ? true : null,
                MemStorage = true,
                NumReplicas = 1,
                InactiveThreshold = 30_000_000_000,
                ReplayPolicy = "instant",
                DeliverPolicy = lastStreamSeq > 0 ? "by_start_sequence" : opts.UpdatesOnly ? "new" : opts.IncludeHistory ? "all" : "last_per_subject",
                OptStartSeq = lastStreamSeq > 0 ? lastStreamSeq + 1 : null,
            };
            NatsJSConsumer consumer;
            try
            {
                consumer = await js.CreateOrUpdateConsumerAsync(stream, config, ct);
            }
            catch (NatsException) when (!ct.IsCancellationRequested && !stopAtInitialEnd)
            {
                await Task.Delay(Heartbeat, ct);
                continue;
            }

            if (!initialDone && consumer.Info.NumPending == 0)
            {
                initialDone = true;
                if (stopAtInitialEnd)
                {
                    yield break;
                }
            }

            long expectedConsumerSeq = 1;
            var restart = false;
            while (!restart && !ct.IsCancellationRequested)
            {
                NatsMsg msg;
                using (var stall = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    stall.CancelAfter(Heartbeat * 3);
                    try
                    {
                        if (!await subscription.Msgs.WaitToReadAsync(stall.Token) || !subscription.Msgs.TryRead(out msg))
                        {
                            restart = true;
                            continue;
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        restart = true; // No heartbeat: the consumer or the connection is gone.
                        continue;
                    }
                }

                if (msg.Headers is { Code: 100 })
                {
                    if (msg.ReplyTo is not null)
                    {
                        await connection.PublishAsync(msg.ReplyTo, default, null, null, ct); // flow control
                    }

                    continue;
                }

                var metadata = NatsJSMsgMetadata.Parse(msg.ReplyTo);
                if (metadata is null)
                {
                    continue;
                }

                if (metadata.ConsumerSequence != expectedConsumerSeq)
                {
                    restart = true; // A gap: start again after the last message we saw.
                    continue;
                }

                expectedConsumerSeq++;
                lastStreamSeq = metadata.StreamSequence;
                var operation = NatsKVStore.OperationOf(msg.Headers);
                var key = msg.Subject[prefix.Length..];
                if (!(opts.IgnoreDeletes && operation != NatsKVOperation.Put))
                {
                    yield return new NatsKVEntry(store.Bucket, key, msg.Data, metadata.StreamSequence, metadata.Timestamp, operation, metadata.NumPending);
                }

                if (!initialDone && metadata.NumPending == 0)
                {
                    initialDone = true;
                    if (stopAtInitialEnd)
                    {
                        yield break;
                    }
                }
            }

            try
            {
                await js.DeleteConsumerAsync(stream, consumer.Name, CancellationToken.None);
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException)
            {
                // Gone already (server restart); the inactivity threshold cleans up otherwise.
            }
        }
    }
}
