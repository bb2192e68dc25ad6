using Catbird.Identity.Jwt;
using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api.Auth;

/// <summary>
/// Requires <c>Authorization: Bearer &lt;service JWT&gt;</c> on every XRPC route: audience = SERVICE_DID (with or
/// without <c>#atproto_mls</c>), <c>lxm</c> = the called NSID (when ENFORCE_LXM), unused jti. The caller's DID is
/// then available through <see cref="CallerDid"/>.
/// </summary>
public sealed partial class XrpcAuthFilter(ServiceJwtVerifier verifier, RedisRateLimiter rateLimiter, IOptions<MlsOptions> options,
    ILogger<XrpcAuthFilter> logger) : IEndpointFilter
{
    private const string CallerKey = "catbird.caller";

    public static string CallerDid(HttpContext context) =>
        context.Items[CallerKey] as string ?? throw new InvalidOperationException("no authenticated caller");

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || header.Length <= 7)
        {
            return Unauthorized(http, "AuthRequired", "Authorization: Bearer <service JWT> is required");
        }
        var nsid = http.Request.Path.Value!["/xrpc/".Length..];
        var settings = options.Value;
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (await rateLimiter.TryAcquireAsync("ip:" + ip, settings.RateLimitPerIpPerMinute, http.RequestAborted) is { } ipRetry)
        {
            return TooManyRequests(http, ipRetry);
        }
        try
        {
            var verified = await verifier.VerifyAsync(header[7..].Trim(),
                new ServiceJwtExpectations(settings.Audiences, settings.EnforceLxm ? nsid : null), http.RequestAborted);
            http.Items[CallerKey] = verified.IssuerDid;
            if (await rateLimiter.TryAcquireAsync("did:" + verified.IssuerDid, settings.RateLimitPerDidPerMinute, http.RequestAborted) is { } didRetry)
            {
                return TooManyRequests(http, didRetry);
            }
        }
        catch (ServiceJwtException e)
        {
            LogRefused(logger, nsid, e.ErrorName, e.Message);
            return Unauthorized(http, e.ErrorName, e.Message);
        }
        return await next(context);
    }

    private static IResult TooManyRequests(HttpContext http, int retryAfterSeconds)
    {
        http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Apis.Xrpc.Error(429, "RateLimitExceeded", $"too many requests; retry in {retryAfterSeconds} s");
    }

    private static IResult Unauthorized(HttpContext http, string error, string message)
    {
        http.Response.Headers.WWWAuthenticate = $"Bearer error=\"{error}\"";
        return Apis.Xrpc.Error(401, error, message);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused token for {Nsid}: {Error} ({Reason})")]
    private static partial void LogRefused(ILogger logger, string nsid, string error, string reason);
}
