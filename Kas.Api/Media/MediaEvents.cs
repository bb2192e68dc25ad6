using System.Text.Json;

namespace Catbird.Kas.Api.Media;

/// <summary>Publishes media events to <c>${MEDIA_METRICS_SUBJECT}.&lt;type&gt;</c>; never throws (metrics must not fail playback).</summary>
public interface IMediaEventPublisher
{
    /// <summary>Publishes one event.</summary>
    ValueTask PublishAsync(MediaEvent mediaEvent, CancellationToken ct);
}

/// <summary>The publisher when NATS is not configured: events go to the log and the <c>kas.media.sessions</c> counter only.</summary>
public sealed class LogOnlyMediaEventPublisher(ILogger<LogOnlyMediaEventPublisher> logger, Policy.KasMetrics metrics) : IMediaEventPublisher
{
    /// <inheritdoc />
    public ValueTask PublishAsync(MediaEvent mediaEvent, CancellationToken ct)
    {
        metrics.MediaSessions.Add(1, new KeyValuePair<string, object?>("event", mediaEvent.Type));
        KasLog.MediaEvent(logger, mediaEvent.Type, mediaEvent.SessionId ?? "-", mediaEvent.UserId);
        return ValueTask.CompletedTask;
    }

    /// <summary>The JSON of an event as published.</summary>
    public static byte[] Serialize(MediaEvent mediaEvent) => JsonSerializer.SerializeToUtf8Bytes(mediaEvent, Rewrap.KasJsonContext.Default.MediaEvent);
}
