using System.Text.Json;
using Catbird.Nats;

namespace Catbird.Membership.Worker.Messaging;

/// <summary>
/// Answers <c>catbird.membership.check</c> (<c>{"room","subject"}</c> → <c>{"member","epoch"}</c>) in a queue group, so
/// replicas share the load. A malformed request is answered <c>member:false</c> with an error; a store failure is not
/// answered at all, so the caller's timeout turns it into "deny".
/// </summary>
internal sealed partial class MembershipCheckResponder(NatsConnection nats, MembershipCache cache, ILogger<MembershipCheckResponder> logger) : BackgroundService
{
    public const string Subject = "catbird.membership.check";
    public const string QueueGroup = "membership-worker";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var subscription = await nats.SubscribeAsync(Subject, QueueGroup, stoppingToken);
                LogListening(logger, Subject);
                await foreach (var msg in subscription.ReadAllAsync(stoppingToken))
                {
                    await AnswerAsync(msg, stoppingToken);
                }
            }
            catch (NatsException e)
            {
                LogNatsUnavailable(logger, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    internal async Task AnswerAsync(NatsMsg msg, CancellationToken ct)
    {
        if (msg.ReplyTo is null)
        {
            return;
        }

        using var activity = msg.StartActivity();
        MembershipCheckResponse response;
        try
        {
            var request = JsonSerializer.Deserialize(msg.Data.Span, MembershipJsonContext.Default.MembershipCheckRequest);
            if (string.IsNullOrWhiteSpace(request?.Room) || string.IsNullOrWhiteSpace(request.Subject))
            {
                response = new MembershipCheckResponse(false, 0, "room and subject are required");
            }
            else
            {
                var answer = await cache.CheckAsync(request.Room, request.Subject, ct);
                response = new MembershipCheckResponse(answer.Member, answer.Epoch);
            }
        }
        catch (JsonException)
        {
            response = new MembershipCheckResponse(false, 0, "malformed request");
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            LogStoreFailed(logger, e.Message);
            return; // No answer: the caller denies.
        }

        await msg.ReplyAsync(JsonSerializer.SerializeToUtf8Bytes(response, MembershipJsonContext.Default.MembershipCheckResponse), ct: ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Answering membership checks on {Subject}")]
    private static partial void LogListening(ILogger logger, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "NATS unavailable for membership checks: {Reason}")]
    private static partial void LogNatsUnavailable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Membership store failed; the check is left unanswered (deny): {Reason}")]
    private static partial void LogStoreFailed(ILogger logger, string reason);
}
