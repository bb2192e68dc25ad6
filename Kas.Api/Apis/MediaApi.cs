using System.Diagnostics;
using System.Text.Json;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Media;
using Catbird.Kas.Api.Policy;
using Catbird.Kas.Api.Rewrap;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api.Apis;

/// <summary>What the media handlers need (one singleton, injected into each handler).</summary>
public sealed class MediaServices(
    BearerAuthenticator authenticator,
    IServiceProvider services,
    NanoKeyAccess keyAccess,
    PolicyDecisionPoint decisions,
    IMediaEventPublisher events,
    IOptions<KasOptions> options,
    TimeProvider time)
{
    /// <summary>Authenticates bearer tokens.</summary>
    public BearerAuthenticator Authenticator { get; } = authenticator;

    /// <summary>The session store, or null when Redis is not configured.</summary>
    public MediaSessionStore? Sessions { get; } = services.GetService<MediaSessionStore>();

    /// <summary>Opens NanoTDF headers.</summary>
    public NanoKeyAccess KeyAccess { get; } = keyAccess;

    /// <summary>Decides policies.</summary>
    public PolicyDecisionPoint Decisions { get; } = decisions;

    /// <summary>Publishes media events.</summary>
    public IMediaEventPublisher Events { get; } = events;

    /// <summary>Settings.</summary>
    public KasOptions Options { get; } = options.Value;

    /// <summary>Clock.</summary>
    public TimeProvider Time { get; } = time;
}

/// <summary>
/// Media DRM sessions (<c>/media/v1</c>): start, key request, heartbeat, end. Authenticated by bearer token (the
/// session's user is the token subject); concurrency enforced atomically in Redis; events to NATS.
/// </summary>
public static class MediaApi
{
    /// <summary>Largest NanoTDF header accepted by key-request.</summary>
    public const int MaxHeaderBytes = 16 * 1024;

    /// <summary>Maps <c>/media/v1/*</c>.</summary>
    public static IEndpointRouteBuilder MapMediaApi(this IEndpointRouteBuilder app)
    {
        var media = app.MapGroup("/media/v1").RequireRateLimiting(KasRateLimits.MediaPolicy).RequireCors(KasCors.PolicyName)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(256 * 1024));
        media.MapPost("/session/start", StartSession);
        media.MapPost("/key-request", KeyRequest);
        media.MapPost("/session/{id}/heartbeat", Heartbeat);
        media.MapDelete("/session/{id}", EndSession);
        return app;
    }

    /// <summary><c>POST /media/v1/session/start</c>.</summary>
    public static async Task<Results<Ok<SessionStartResponse>, JsonHttpResult<MediaError>>> StartSession(
        SessionStartRequest? request, HttpContext context, MediaServices s, CancellationToken ct)
    {
        var (entity, error) = await AuthenticateAsync(s, context, ct);
        if (entity is null)
        {
            return error!;
        }

        if (s.Sessions is null)
        {
            return Error(503, "unavailable", "media sessions need Redis (ConnectionStrings__redis)");
        }

        if (string.IsNullOrWhiteSpace(request?.AssetId) || request.AssetId.Length > 256)
        {
            return Error(400, "invalid_request", "assetId is required (at most 256 characters)");
        }

        if (request.UserId is { Length: > 0 } userId && userId != entity.Subject)
        {
            return Error(403, "policy_denied", "userId does not match the authenticated subject");
        }

        var session = await s.Sessions.StartAsync(entity.Subject, request.AssetId, request, context.Connection.RemoteIpAddress?.ToString(), ct);
        var now = s.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (session is null)
        {
            await s.Events.PublishAsync(new MediaEvent("concurrency_limit", null, entity.Subject, request.AssetId, now, $"limit {s.Sessions.Limit}"), ct);
            return Error(429, "concurrency_limit", $"at most {s.Sessions.Limit} concurrent streams");
        }

        await s.Events.PublishAsync(new MediaEvent("session_start", session.SessionId, entity.Subject, request.AssetId, now), ct);
        return TypedResults.Ok(new SessionStartResponse(session.SessionId, "started"));
    }

    /// <summary><c>POST /media/v1/key-request</c>.</summary>
    public static async Task<Results<Ok<MediaKeyResponse>, JsonHttpResult<MediaError>>> KeyRequest(
        MediaKeyRequest? request, HttpContext context, MediaServices s, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var (entity, error) = await AuthenticateAsync(s, context, ct);
        if (entity is null)
        {
            return error!;
        }

        if (s.Sessions is null)
        {
            return Error(503, "unavailable", "media sessions need Redis (ConnectionStrings__redis)");
        }

        if (request is null || string.IsNullOrWhiteSpace(request.SessionId))
        {
            return Error(400, "invalid_request", "sessionId is required");
        }

        if (!string.IsNullOrEmpty(request.SpcData))
        {
            return Error(501, "not_implemented", "FairPlay key requests are not supported by this KAS");
        }

        var session = await s.Sessions.GetAsync(request.SessionId, ct);
        if (session is null)
        {
            return Error(404, "session_not_found", "no live session with that id");
        }

        if (session.UserId != entity.Subject || (request.UserId is { Length: > 0 } u && u != entity.Subject)
                                             || (request.AssetId is { Length: > 0 } a && a != session.AssetId))
        {
            return Error(403, "policy_denied", "the session belongs to another user or asset");
        }

        var now = s.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (s.Options.MediaRentalWindowHours > 0 && await s.Sessions.FirstPlayAsync(session.UserId, session.AssetId, ct) is { } firstPlay
                                                 && now - firstPlay > (long)TimeSpan.FromHours(s.Options.MediaRentalWindowHours).TotalMilliseconds)
        {
            await s.Events.PublishAsync(new MediaEvent("rental_window", session.SessionId, entity.Subject, session.AssetId, now, "expired"), ct);
            return Error(403, "policy_denied", "the rental window of this asset has expired");
        }

        byte[] header;
        try
        {
            header = Convert.FromBase64String(request.NanotdfHeader ?? "");
        }
        catch (FormatException)
        {
            return Error(400, "invalid_request", "nanotdfHeader is not base64");
        }

        if (header.Length is 0 or > MaxHeaderBytes)
        {
            return Error(400, "invalid_request", $"nanotdfHeader must be 1 to {MaxHeaderBytes} bytes");
        }

        using var clientKey = ClientKey.Import(request.ClientPublicKey, out _);
        if (clientKey?.Ec is null)
        {
            return Error(400, "invalid_request", "clientPublicKey must be a PEM EC public key");
        }

        if (!await s.Sessions.TouchAsync(session, ct))
        {
            return Error(404, "session_not_found", "the session expired");
        }

        var (opened, failure) = s.KeyAccess.Open(header, null);
        if (opened is null)
        {
            return Error(failure!.Status, failure.Status == 403 ? "policy_denied" : "invalid_request", failure.Error);
        }

        try
        {
            var decision = await s.Decisions.DecideAsync(entity, opened.Policy, ct);
            if (!decision.Permit)
            {
                await s.Events.PublishAsync(new MediaEvent("policy_denial", session.SessionId, entity.Subject, session.AssetId, now, decision.Reason), ct);
                return Error(decision.DependencyFailed ? 503 : 403, decision.DependencyFailed ? "unavailable" : "policy_denied", decision.Reason);
            }

            using var rewrapSession = new RewrapSession(clientKey);
            var wrapped = rewrapSession.Wrap(opened.Dek, 16);
            var latency = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            await s.Events.PublishAsync(new MediaEvent("key_request", session.SessionId, entity.Subject, session.AssetId, now,
                SegmentIndex: request.SegmentIndex, LatencyMs: latency), ct);
            return TypedResults.Ok(new MediaKeyResponse(rewrapSession.PublicKeyPem, Convert.ToBase64String(wrapped), "success",
                new MediaKeyMetadata(Math.Round(latency, 3), request.SegmentIndex)));
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(opened.Dek);
        }
    }

    /// <summary><c>POST /media/v1/session/{id}/heartbeat</c>.</summary>
    public static async Task<Results<Ok<HeartbeatResponse>, JsonHttpResult<MediaError>>> Heartbeat(
        string id, HeartbeatRequest? request, HttpContext context, MediaServices s, CancellationToken ct)
    {
        var (session, error) = await OwnSessionAsync(s, context, id, ct);
        if (session is null)
        {
            return error!;
        }

        var state = request?.State?.ToLowerInvariant();
        if (state is not (null or "playing" or "paused" or "stopped"))
        {
            return Error(400, "invalid_request", "state must be playing, paused or stopped");
        }

        var now = s.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (state == "playing" && session.FirstPlayTimestamp is null)
        {
            session.FirstPlayTimestamp = now;
            var firstPlay = await s.Sessions!.MarkFirstPlayAsync(session.UserId, session.AssetId, now, ct);
            if (firstPlay == now)
            {
                await s.Events.PublishAsync(new MediaEvent("rental_window", session.SessionId, session.UserId, session.AssetId, now, "started"), ct);
            }
        }

        session.State = state ?? session.State;
        session.SegmentIndex = request?.SegmentIndex ?? session.SegmentIndex;
        if (!await s.Sessions!.TouchAsync(session, ct))
        {
            return Error(404, "session_not_found", "the session expired");
        }

        return TypedResults.Ok(new HeartbeatResponse("ok", session.LastHeartbeat));
    }

    /// <summary><c>DELETE /media/v1/session/{id}</c>.</summary>
    public static async Task<Results<NoContent, JsonHttpResult<MediaError>>> EndSession(
        string id, HttpContext context, MediaServices s, CancellationToken ct)
    {
        var (session, error) = await OwnSessionAsync(s, context, id, ct);
        if (session is null)
        {
            return error!;
        }

        await s.Sessions!.EndAsync(session, ct);
        await s.Events.PublishAsync(new MediaEvent("session_end", session.SessionId, session.UserId, session.AssetId, s.Time.GetUtcNow().ToUnixTimeMilliseconds()), ct);
        return TypedResults.NoContent();
    }

    private static async Task<(PlaybackSession? Session, JsonHttpResult<MediaError>? Error)> OwnSessionAsync(MediaServices s, HttpContext context, string id, CancellationToken ct)
    {
        var (entity, error) = await AuthenticateAsync(s, context, ct);
        if (entity is null)
        {
            return (null, error);
        }

        if (s.Sessions is null)
        {
            return (null, Error(503, "unavailable", "media sessions need Redis (ConnectionStrings__redis)"));
        }

        var session = await s.Sessions.GetAsync(id, ct);
        if (session is null)
        {
            return (null, Error(404, "session_not_found", "no live session with that id"));
        }

        return session.UserId == entity.Subject
            ? (session, null)
            : (null, Error(403, "policy_denied", "the session belongs to another user"));
    }

    private static async Task<(KasEntity? Entity, JsonHttpResult<MediaError>? Error)> AuthenticateAsync(MediaServices s, HttpContext context, CancellationToken ct)
    {
        try
        {
            return (await s.Authenticator.AuthenticateAsync(context.Request.Headers.Authorization.ToString(), ct), null);
        }
        catch (BearerTokenException error)
        {
            return (null, Error(401, "authentication_failed", error.Message));
        }
    }

    private static JsonHttpResult<MediaError> Error(int status, string code, string message) =>
        TypedResults.Json(new MediaError(code, message), KasJsonContext.Default.MediaError, statusCode: status);
}
