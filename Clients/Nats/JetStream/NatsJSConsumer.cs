using System.Globalization;
using System.Runtime.CompilerServices;

namespace Catbird.Nats.JetStream;

/// <summary>Where a JetStream message sits in its stream and consumer (parsed from its <c>$JS.ACK</c> reply subject).</summary>
public sealed record NatsJSMsgMetadata(string Stream, string Consumer, long NumDelivered, long StreamSequence, long ConsumerSequence, DateTimeOffset Timestamp, long NumPending)
{
    /// <summary>Parses <c>$JS.ACK.&lt;stream&gt;.&lt;consumer&gt;.&lt;delivered&gt;.&lt;sseq&gt;.&lt;cseq&gt;.&lt;ns&gt;.&lt;pending&gt;</c> (and the 12-token form with domain and account).</summary>
    public static NatsJSMsgMetadata? Parse(string? replyTo)
    {
        if (replyTo is null || !replyTo.StartsWith("$JS.ACK.", StringComparison.Ordinal))
        {
            return null;
        }

        var tokens = replyTo.Split('.');
        var offset = tokens.Length switch
        {
            9 => 2,
            >= 12 => 4,
            _ => -1,
        };
        if (offset < 0)
        {
            return null;
        }

        static long N(string s) => long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        try
        {
            var nanos = N(tokens[offset + 5]);
            return new NatsJSMsgMetadata(tokens[offset], tokens[offset + 1], N(tokens[offset + 2]), N(tokens[offset + 3]), N(tokens[offset + 4]),
                DateTimeOffset.UnixEpoch.AddTicks(nanos / 100), N(tokens[offset + 6]));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <summary>A message delivered by a JetStream consumer.</summary>
public readonly record struct NatsJSMsg(NatsMsg Msg, NatsJSMsgMetadata? Metadata)
{
    /// <summary>The subject it was published on.</summary>
    public string Subject => Msg.Subject;

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Data => Msg.Data;

    /// <summary>The headers.</summary>
    public NatsHeaders? Headers => Msg.Headers;

    /// <summary>Acknowledges; with <paramref name="doubleAck"/> waits for the server to confirm.</summary>
    public async ValueTask AckAsync(bool doubleAck = false, CancellationToken ct = default)
    {
        if (doubleAck)
        {
            await Msg.Connection!.RequestAsync(ReplyTo, "+ACK"u8.ToArray(), null, null, ct);
        }
        else
        {
            await Reply("+ACK"u8.ToArray(), ct);
        }
    }

    /// <summary>Negative acknowledgement: redeliver, after <paramref name="delay"/> when given.</summary>
    public ValueTask NakAsync(TimeSpan? delay = null, CancellationToken ct = default) =>
        Reply(delay is { } d
            ? System.Text.Encoding.ASCII.GetBytes("-NAK " + System.Text.Json.JsonSerializer.Serialize(new NakDelay { Delay = (long)(d.TotalMilliseconds * 1_000_000) }, JetStreamJsonContext.Default.NakDelay))
            : "-NAK"u8.ToArray(), ct);

    /// <summary>Stops redelivery of this message.</summary>
    public ValueTask AckTerminateAsync(CancellationToken ct = default) => Reply("+TERM"u8.ToArray(), ct);

    /// <summary>Resets the ack timer: still working on it.</summary>
    public ValueTask AckProgressAsync(CancellationToken ct = default) => Reply("+WPI"u8.ToArray(), ct);

    private string ReplyTo => Msg.ReplyTo ?? throw new InvalidOperationException("This message cannot be acknowledged (no reply subject).");

    private ValueTask Reply(byte[] body, CancellationToken ct) => Msg.Connection!.PublishAsync(ReplyTo, body, null, null, ct);
}

/// <summary>A pull consumer.</summary>
public sealed class NatsJSConsumer(NatsJSContext context, string stream, ConsumerInfo info)
{
    /// <summary>The consumer's configuration and state when it was created or looked up.</summary>
    public ConsumerInfo Info { get; } = info;

    /// <summary>The stream.</summary>
    public string Stream { get; } = stream;

    /// <summary>The consumer name.</summary>
    public string Name => Info.Name;

    /// <summary>
    /// Fetches up to <paramref name="maxMsgs"/> messages, waiting at most <paramref name="expires"/> (default 5 s) for
    /// them; ends early when the server says there are no more.
    /// </summary>
    public async IAsyncEnumerable<NatsJSMsg> FetchAsync(int maxMsgs, TimeSpan? expires = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMsgs, 1);
        var wait = expires ?? TimeSpan.FromSeconds(5);
        var connection = context.Connection;
        var inbox = NatsConnection.NewInbox();
        await using var subscription = await connection.SubscribeAsync(inbox, null, ct);
        var request = NatsJSContext.Serialize(new PullRequest { Batch = maxMsgs, Expires = (long)(wait.TotalMilliseconds * 1_000_000) }, JetStreamJsonContext.Default.PullRequest);
        await connection.PublishAsync($"$JS.API.CONSUMER.MSG.NEXT.{Stream}.{Name}", request, null, inbox, ct);

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(wait + TimeSpan.FromSeconds(1));
        var received = 0;
        while (received < maxMsgs)
        {
            NatsMsg msg;
            try
            {
                if (!await subscription.Msgs.WaitToReadAsync(deadline.Token) || !subscription.Msgs.TryRead(out msg))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                yield break;
            }

            if (msg.Headers is { Code: > 0 } status)
            {
                if (status.Code is 404 or 408 or 409)
                {
                    yield break; // No messages, request expired, or the consumer went away.
                }

                continue; // 100: heartbeat.
            }

            received++;
            yield return new NatsJSMsg(msg, NatsJSMsgMetadata.Parse(msg.ReplyTo));
        }
    }

    /// <summary>The next message, or null when none arrives within <paramref name="expires"/>.</summary>
    public async Task<NatsJSMsg?> NextAsync(TimeSpan? expires = null, CancellationToken ct = default)
    {
        await foreach (var msg in FetchAsync(1, expires, ct))
        {
            return msg;
        }

        return null;
    }

    /// <summary>Consumes continuously, fetching batches of <paramref name="batch"/>, until <paramref name="ct"/> is cancelled.</summary>
    public async IAsyncEnumerable<NatsJSMsg> ConsumeAsync(int batch = 100, [EnumeratorCancellation] CancellationToken ct = default)
    {
        while (!ct.IsCancellationRequested)
        {
            var any = false;
            IAsyncEnumerator<NatsJSMsg>? enumerator = null;
            try
            {
                enumerator = FetchAsync(batch, TimeSpan.FromSeconds(5), ct).GetAsyncEnumerator(ct);
            }
            catch (NatsException)
            {
                enumerator = null;
            }

            if (enumerator is not null)
            {
                await using (enumerator)
                {
                    while (true)
                    {
                        bool moved;
                        try
                        {
                            moved = await enumerator.MoveNextAsync();
                        }
                        catch (NatsException)
                        {
                            break; // Connection trouble: fetch again after a pause.
                        }
                        catch (OperationCanceledException) when (ct.IsCancellationRequested)
                        {
                            yield break;
                        }

                        if (!moved)
                        {
                            break;
                        }

                        any = true;
                        yield return enumerator.Current;
                    }
                }
            }

            if (!any)
            {
                try
                {
                    await Task.Delay(100, ct);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
            }
        }
    }
}
