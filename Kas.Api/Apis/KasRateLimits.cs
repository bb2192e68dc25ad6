using System.Globalization;
using System.Threading.RateLimiting;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Rewrap;
using Microsoft.AspNetCore.RateLimiting;

namespace Catbird.Kas.Api.Apis;

/// <summary>
/// Per-client request limits: with Redis a one-second window shared by all instances (<see cref="RedisWindowRateLimiter"/>),
/// otherwise token buckets of <c>KAS_RATE_LIMIT</c> (default 100) per second on <c>/kas</c> and
/// <c>MEDIA_RATE_LIMIT</c> (default 300) on <c>/media</c>, keyed by the bearer token's subject (read without
/// verification, so paired with the client address) or, without a token, the client address alone.
/// Refusals are 429 with <c>Retry-After</c>.
/// </summary>
public static class KasRateLimits
{
    /// <summary>Policy name of the KAS routes.</summary>
    public const string KasPolicy = "kas";

    /// <summary>Policy name of the media routes.</summary>
    public const string MediaPolicy = "media";

    /// <summary>Registers both policies.</summary>
    public static IServiceCollection AddKasRateLimits(this IServiceCollection services, KasOptions options)
    {
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = (context, _) =>
            {
                var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retry.ToString(CultureInfo.InvariantCulture);
                return ValueTask.CompletedTask;
            };
            limiter.AddPolicy(KasPolicy, context => Bucket(context, "kas", options.KasRateLimit));
            limiter.AddPolicy(MediaPolicy, context => Bucket(context, "media", options.MediaRateLimit));
        });
        return services;
    }

    /// <summary>The identity a request is counted under.</summary>
    public static string ClientIdentity(HttpContext context)
    {
        var token = BearerAuthenticator.TokenFrom(context.Request.Headers.Authorization.ToString());
        if (token is not null && Jws.Parse(token) is { } jws)
        {
            var claims = jws.PayloadElement();
            if (claims.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                foreach (var name in new[] { "sub", "iss" })
                {
                    if (claims.TryGetProperty(name, out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String)
                    {
                        // The claim is unverified here, so it is paired with the address: a forged token naming
                        // someone else only spends the forger's own bucket.
                        return name + ":" + value.GetString() + "@" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
                    }
                }
            }
        }

        return "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
    }

    private static RateLimitPartition<string> Bucket(HttpContext context, string scope, int perSecond)
    {
        var key = scope + "|" + ClientIdentity(context);
        var redis = context.RequestServices.GetService<Catbird.Redis.RedisConnection>();
        return redis is null
            ? RateLimitPartition.GetTokenBucketLimiter(key, _ => LocalOptions(perSecond))
            : RateLimitPartition.Get(key, k => new RedisWindowRateLimiter(redis, "kas:rl:" + k, perSecond, new TokenBucketRateLimiter(LocalOptions(perSecond))));
    }

    private static TokenBucketRateLimiterOptions LocalOptions(int perSecond) => new()
    {
        TokenLimit = perSecond,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>CORS for browser clients: origins from <c>CORS_ORIGINS</c> (comma separated, <c>*</c> for any).</summary>
public static class KasCors
{
    /// <summary>Policy name.</summary>
    public const string PolicyName = "kas-cors";

    /// <summary>Registers the policy.</summary>
    public static IServiceCollection AddKasCors(this IServiceCollection services, KasOptions options)
    {
        var origins = (options.CorsOrigins ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        services.AddCors(cors => cors.AddPolicy(PolicyName, policy =>
        {
            if (origins.Contains("*"))
            {
                policy.AllowAnyOrigin();
            }
            else
            {
                policy.WithOrigins(origins);
            }

            policy.AllowAnyHeader().WithMethods("GET", "POST", "DELETE", "OPTIONS").WithExposedHeaders("Retry-After").SetPreflightMaxAge(TimeSpan.FromMinutes(10));
        }));
        return services;
    }
}
