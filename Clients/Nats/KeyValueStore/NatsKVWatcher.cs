using System.Runtime.CompilerServices;
using Catbird.Nats.JetStream;

namespace Catbird.Nats.KeyValueStore;

/// <summary>Reads a bucket through an ordered consumer, noticing when the initial values have all arrived.</summary>
internal sealed class NatsKVWatcher(NatsJSContext js, NatsKVStore store, string stream, string prefix, string filter, NatsKVWatchOpts opts, bool stopAtInitialEnd)
{
    public async IAsyncEnumerable<NatsKVEntry> RunAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var initialDone = opts.UpdatesOnly;
        using var caughtUp = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var consumer = new NatsJSOrderedConsumer(js, stream, new NatsJSOrderedConsumerOpts
        {
            FilterSubject = prefix + filter,
            HeadersOnly = opts.MetaOnly,
            DeliverPolicy = opts.UpdatesOnly ? "new" : opts.IncludeHistory ? "all" : "last_per_subject",
        })
        {
            OnCreated = info =>
            {
                // Nothing to replay: the initial values (none) are complete.
                if (!initialDone && info.NumPending == 0)
                {
                    initialDone = true;
                    if (stopAtInitialEnd)
                    {
                        caughtUp.Cancel();
                    }
                }
            },
        };

        await using var messages = consumer.ConsumeAsync(caughtUp.Token).GetAsyncEnumerator(caughtUp.Token);
        while (true)
        {
            try
            {
                if (!await messages.MoveNextAsync())
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                yield break; // Caught up, for a one-shot read.
            }

            var msg = messages.Current;
            var operation = NatsKVStore.OperationOf(msg.Headers);
            if (!(opts.IgnoreDeletes && operation != NatsKVOperation.Put))
            {
                yield return new NatsKVEntry(store.Bucket, msg.Subject[prefix.Length..], msg.Data, msg.Metadata!.StreamSequence, msg.Metadata.Timestamp, operation, msg.Metadata.NumPending);
            }

            if (!initialDone && msg.Metadata!.NumPending == 0)
            {
                initialDone = true;
                if (stopAtInitialEnd)
                {
                    yield break;
                }
            }
        }
    }
}
