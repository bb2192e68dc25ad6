using System.Text.Json;
using Catbird.Membership.Worker.Storage;
using Catbird.Nats;
using Catbird.Nats.JetStream;

namespace Catbird.Membership.Worker.Messaging;

/// <summary>
/// Consumes Mls.Api's conversation events from JetStream (<c>CATBIRD_EVENTS</c>, durable consumer
/// <c>membership-worker</c>, explicit acks): created → room, members-added/removed → members. Handling is idempotent
/// by the event's <c>Nats-Msg-Id</c>, so a redelivery changes nothing; a malformed event is terminated, a store failure
/// is retried later.
/// </summary>
internal sealed partial class ConvoEventConsumer(NatsJSContext js, IMembershipStore store, MembershipCache cache, ILogger<ConvoEventConsumer> logger) : BackgroundService
{
    public const string Stream = "CATBIRD_EVENTS";
    public const string Durable = "membership-worker";
    public const string Filter = "catbird.events.mls.convo.>";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EnsureStreamAsync(stoppingToken);
                var consumer = await js.CreateOrUpdateConsumerAsync(Stream, new ConsumerConfig
                {
                    DurableName = Durable,
                    FilterSubject = Filter,
                    AckPolicy = "explicit",
                    AckWait = 30_000_000_000,
                    MaxDeliver = 20,
                    DeliverPolicy = "all",
                }, stoppingToken);
                LogConsuming(logger, Stream, Durable);
                await foreach (var msg in consumer.ConsumeAsync(100, stoppingToken))
                {
                    await HandleAsync(msg, stoppingToken);
                }
            }
            catch (NatsException e) when (!stoppingToken.IsCancellationRequested)
            {
                LogNatsUnavailable(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    internal async Task HandleAsync(NatsJSMsg msg, CancellationToken ct)
    {
        ConvoEvent? convoEvent;
        try
        {
            convoEvent = JsonSerializer.Deserialize(msg.Data.Span, MembershipJsonContext.Default.ConvoEvent);
        }
        catch (JsonException)
        {
            convoEvent = null;
        }

        if (convoEvent is null || string.IsNullOrWhiteSpace(convoEvent.ConvoId) || string.IsNullOrWhiteSpace(convoEvent.Type))
        {
            LogMalformed(logger, msg.Subject);
            await msg.AckTerminateAsync(ct);
            return;
        }

        var eventId = msg.Headers?.GetLast("Nats-Msg-Id") ?? $"{msg.Metadata?.Stream}:{msg.Metadata?.StreamSequence}";
        try
        {
            if (await store.ApplyAsync(convoEvent, eventId, ct))
            {
                cache.Invalidate(convoEvent.ConvoId);
                LogApplied(logger, convoEvent.Type, convoEvent.ConvoId, convoEvent.Epoch);
            }

            await msg.AckAsync(ct: ct);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            LogStoreFailed(logger, convoEvent.ConvoId, e.Message);
            await msg.NakAsync(TimeSpan.FromSeconds(5), ct);
        }
    }

    private async Task EnsureStreamAsync(CancellationToken ct)
    {
        try
        {
            await js.GetStreamAsync(Stream, ct);
        }
        catch (NatsJSApiException e) when (e.Error.Code == 404)
        {
            // Mls.Api usually creates it; whoever starts first does, with the subjects of ARCHITECTURE.md.
            try
            {
                await js.CreateStreamAsync(new StreamConfig { Name = Stream, Subjects = ["catbird.events.>"], Storage = "file", DuplicateWindow = 120_000_000_000 }, ct);
            }
            catch (NatsJSApiException exists) when (exists.Error.ErrCode == 10058)
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consuming {Stream} with durable consumer {Durable}")]
    private static partial void LogConsuming(ILogger logger, string stream, string durable);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Type} for room {Room} (epoch {Epoch})")]
    private static partial void LogApplied(ILogger logger, string type, string room, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a malformed event on {Subject}")]
    private static partial void LogMalformed(ILogger logger, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NATS unavailable for the event consumer: {Reason}")]
    private static partial void LogNatsUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not apply an event of room {Room}; retrying later: {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string room, string reason);
}
