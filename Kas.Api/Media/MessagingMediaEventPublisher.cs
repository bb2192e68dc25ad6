using Catbird.Kas.Api.Messaging;
using Catbird.Kas.Api.Policy;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Media;

/// <summary>Publishes media events as JSON to <c>${MEDIA_METRICS_SUBJECT}.&lt;type&gt;</c>; a failed publish is logged and counted, never thrown.</summary>
public sealed class MessagingMediaEventPublisher(IKasMessaging messaging, IOptions<KasOptions> options, KasMetrics metrics,
    ILogger<MessagingMediaEventPublisher> logger) : IMediaEventPublisher
{
    /// <inheritdoc />
    public async ValueTask PublishAsync(MediaEvent mediaEvent, CancellationToken ct)
    {
        metrics.MediaSessions.Add(1, new KeyValuePair<string, object?>("event", mediaEvent.Type));
        var subject = options.Value.MediaMetricsSubject + "." + mediaEvent.Type;
        try
        {
            await messaging.PublishAsync(subject, LogOnlyMediaEventPublisher.Serialize(mediaEvent), ct);
        }
        catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            KasLog.MediaMetricFailed(logger, subject, error.Message);
        }
    }
}
