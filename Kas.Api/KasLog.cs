namespace Catbird.Kas.Api;

/// <summary>Kas.Api log messages.</summary>
internal static partial class KasLog
{
    [LoggerMessage(1, LogLevel.Information, "KAS key {Kid} ({Algorithm}) loaded")]
    public static partial void KeyLoaded(ILogger logger, string kid, string algorithm);

    [LoggerMessage(2, LogLevel.Warning, "Generated a development KAS key at {Path}; never use it outside development")]
    public static partial void DevelopmentKeyCreated(ILogger logger, string path);

    [LoggerMessage(3, LogLevel.Information,
        "Rewrap decision {Outcome} for entity {Entity} kid {Kid} binding {Binding} ({BindingKind}) policy {PolicyId}: {Reason}")]
    public static partial void RewrapDecision(ILogger logger, string outcome, string entity, string kid, string binding,
        string bindingKind, string policyId, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Rewrap request refused with {Status} for {Entity}: {Reason}")]
    public static partial void RewrapRefused(ILogger logger, int status, string entity, string reason);

    [LoggerMessage(5, LogLevel.Warning, "Membership check of {Subject} in {Room} got no answer: {Reason}")]
    public static partial void MembershipUnanswered(ILogger logger, string subject, string room, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Bearer token refused: {Reason}")]
    public static partial void BearerRefused(ILogger logger, string reason);

    [LoggerMessage(7, LogLevel.Warning, "Could not refresh the OIDC JWKS from {Url}: {Reason}")]
    public static partial void JwksRefreshFailed(ILogger logger, string url, string reason);

    [LoggerMessage(8, LogLevel.Information, "Media {Event} for session {SessionId} user {User}")]
    public static partial void MediaEvent(ILogger logger, string @event, string sessionId, string user);

    [LoggerMessage(9, LogLevel.Warning, "Publishing media metric {Subject} failed: {Reason}")]
    public static partial void MediaMetricFailed(ILogger logger, string subject, string reason);

    [LoggerMessage(10, LogLevel.Information, "WebSocket {Connection} closed: {Reason}")]
    public static partial void WebSocketClosed(ILogger logger, string connection, string reason);

    [LoggerMessage(12, LogLevel.Warning,
        "No caller authentication is configured (OAUTH_PUBLIC_KEY_PATH, OAUTH_JWKS_URL or SERVICE_DID): every rewrap, media and WebSocket request will be refused")]
    public static partial void NoCallerAuthentication(ILogger logger);

    [LoggerMessage(11, LogLevel.Warning, "WebSocket {Connection} error reply {ErrorType}: {Message}")]
    public static partial void WebSocketError(ILogger logger, string connection, string errorType, string message);
}
