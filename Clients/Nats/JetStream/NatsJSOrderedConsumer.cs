using System.Runtime.CompilerServices;

namespace Catbird.Nats.JetStream;

/// <summary>Where an ordered consumer starts and what it reads.</summary>
public sealed record NatsJSOrderedConsumerOpts
{
    /// <summary>Only messages on this subject (wildcards allowed).</summary>
    public string? FilterSubject { get; init; }

    /// <summary><c>all</c>, <c>last</c>, <c>new</c>, <c>last_per_subject</c> or <c>by_start_sequence</c>.</summary>
    public string DeliverPolicy { get; init; } = "all";

    /// <summary>First stream sequence for <c>by_start_sequence</c>.</summary>
    public long? OptStartSeq { get; init; }

    /// <summary>Deliver headers only (no payloads).</summary>
    public bool HeadersOnly { get; init; }

    /// <summary>Heartbeat interval; three missed heartbeats re-create the consumer.</summary>
    public TimeSpan IdleHeartbeat { get; init; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// An ordered consumer, as the official clients define it: an ephemeral push consumer without acks, read strictly in
/// stream order; flow control is answered, and after a gap in consumer sequences, a stall (missed heartbeats) or a lost
/// connection, it is re-created to start after the last stream sequence delivered, so nothing is skipped or repeated.
/// </summary>
public sealed class NatsJSOrderedConsumer(NatsJSContext js, string stream, NatsJSOrderedConsumerOpts? opts = null)
{
    private readonly NatsJSOrderedConsumerOpts _opts = opts ?? new NatsJSOrderedConsumerOpts();

    /// <summary>The stream read.</summary>
    public string Stream { get; } = stream;

    /// <summary>The last stream sequence delivered.</summary>
    public long LastStreamSequence { get; private set; }

    /// <summary>Called each time the server-side consumer is (re)created, with its info (pending counts).</summary>
    public Action<ConsumerInfo>? OnCreated { get; init; }

    /// <summary>Reads until <paramref name="ct"/> is cancelled.</summary>
    public async IAsyncEnumerable<NatsJSMsg> ConsumeAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var connection = js.Connection;
        while (!ct.IsCancellationRequested)
        {
            var inbox = NatsConnection.NewInbox();
            await using var subscription = await connection.SubscribeAsync(inbox, null, ct);
            var resume = LastStreamSequence > 0;
            var config = new ConsumerConfig
            {
                AckPolicy = "none",
                DeliverSubject = inbox,
                FilterSubject = _opts.FilterSubject,
                FlowControl = true,
                IdleHeartbeat = (long)_opts.IdleHeartbeat.TotalMilliseconds * 1_000_000,
                HeadersOnly = _opts.HeadersOnly ? true : null,
                MemStorage = true,
                NumReplicas = 1,
                InactiveThreshold = 30_000_000_000,
                ReplayPolicy = "instant",
                DeliverPolicy = resume ? "by_start_sequence" : _opts.DeliverPolicy,
                OptStartSeq = resume ? LastStreamSequence + 1 : _opts.OptStartSeq,
            };
            NatsJSConsumer consumer;
            try
            {
                consumer = await js.CreateOrUpdateConsumerAsync(Stream, config, ct);
            }
            catch (NatsException) when (!ct.IsCancellationRequested)
            {
                await Task.Delay(_opts.IdleHeartbeat, ct); // Not connected, or the server is restarting.
                continue;
            }

            OnCreated?.Invoke(consumer.Info);
            long expected = 1;
            while (!ct.IsCancellationRequested)
            {
                NatsMsg msg;
                using (var stall = CancellationTokenSource.CreateLinkedTokenSource(ct))
                {
                    stall.CancelAfter(_opts.IdleHeartbeat * 3);
                    try
                    {
                        if (!await subscription.Msgs.WaitToReadAsync(stall.Token) || !subscription.Msgs.TryRead(out msg))
                        {
                            break;
                        }
                    }
                    catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                    {
                        break; // Missed heartbeats: the consumer or the connection is gone.
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

                if (NatsJSMsgMetadata.Parse(msg.ReplyTo) is not { } metadata)
                {
                    continue;
                }

                if (metadata.ConsumerSequence != expected)
                {
                    break; // A gap: start again after the last message delivered.
                }

                expected++;
                LastStreamSequence = metadata.StreamSequence;
                yield return new NatsJSMsg(msg, metadata);
            }

            try
            {
                await js.DeleteConsumerAsync(Stream, consumer.Name, CancellationToken.None);
            }
            catch (Exception e) when (e is NatsException or OperationCanceledException)
            {
                // Gone with the server; its inactivity threshold removes it otherwise.
            }
        }
    }
}
