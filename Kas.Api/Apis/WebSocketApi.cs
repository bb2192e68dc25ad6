using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.Policy;
using Catbird.Kas.Api.Rewrap;
using Catbird.Kas.Api.WebSocket;
using Catbird.Kas.Api.Storage;
using Catbird.Redis;

namespace Catbird.Kas.Api.Apis;

/// <summary><c>/ws</c>: the Arkavo binary protocol, authenticated by bearer token at upgrade (header, or <c>access_token</c> query for browsers).</summary>
public static class WebSocketApi
{
    /// <summary>Maps <c>/ws</c>.</summary>
    public static IEndpointRouteBuilder MapWebSocketApi(this IEndpointRouteBuilder app)
    {
        app.Map("/ws", Connect).RequireRateLimiting(KasRateLimits.KasPolicy);
        return app;
    }

    private static async Task Connect(HttpContext context, BearerAuthenticator authenticator, KasKeyRing ring, NanoKeyAccess keyAccess,
        PolicyDecisionPoint decisions, IBlobStore blobs, Microsoft.Extensions.Options.IOptions<KasOptions> options, ILoggerFactory loggers,
        IHostApplicationLifetime lifetime)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await Results.Problem("this endpoint speaks WebSocket only", statusCode: 400, title: "invalid_argument").ExecuteAsync(context);
            return;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(authorization) && context.Request.Query["access_token"].ToString() is { Length: > 0 } queryToken)
        {
            authorization = "Bearer " + queryToken;
        }

        KasEntity entity;
        try
        {
            entity = await authenticator.AuthenticateAsync(authorization, context.RequestAborted);
        }
        catch (BearerTokenException error)
        {
            await Results.Problem(error.Message, statusCode: 401, title: "unauthenticated").ExecuteAsync(context);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        var connection = new ArkavoSocket(socket, entity, ring, keyAccess, decisions, context.RequestServices.GetService<RedisConnection>(),
            blobs, context.RequestServices.GetService<Catbird.Kas.Api.Messaging.IKasMessaging>(), options.Value.NatsSubject, loggers.CreateLogger<ArkavoSocket>());
        await connection.RunAsync(stopping.Token);
    }
}
