using Catbird.Kas.Api.Apis;
using Catbird.Kas.Api.Auth;
using Catbird.Kas.Api.Keys;
using Catbird.Kas.Api.Media;
using Catbird.Kas.Api.Messaging;
using Catbird.Kas.Api.Policy;
using Catbird.Kas.Api.Rewrap;
using Catbird.Kas.Api.Storage;
using Catbird.Nats;
using Catbird.Redis;
using Microsoft.Extensions.Options;

namespace Catbird.Kas.Api;

/// <summary>Service registration and the request pipeline of Kas.Api.</summary>
public static class Extensions
{
    /// <summary>Registers options, keys, authentication, policy decisions and the rewrap service.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<KasOptions>().BindConfiguration(string.Empty).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KasOptions>, KasOptionsValidator>();
        var options = new KasOptions();
        builder.Configuration.Bind(options);

        services.TryAddSingletonTimeProvider();
        services.AddHttpClient();
        services.AddSingleton(sp =>
        {
            var kas = sp.GetRequiredService<IOptions<KasOptions>>().Value;
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("Catbird.Kas.Api.Keys");
            return KasKeyLoader.LoadAsync(kas, sp.GetRequiredService<IHostEnvironment>(), logger, CancellationToken.None).GetAwaiter().GetResult();
        });
        services.AddSingleton<NanoKeyAccess>();
        services.AddSingleton<Tdf3KeyAccess>();
        services.AddSingleton<OidcTokenValidator>();
        if (!string.IsNullOrWhiteSpace(options.ServiceDid))
        {
            services.AddSingleton(sp =>
            {
                var kas = sp.GetRequiredService<IOptions<KasOptions>>().Value;
                var resolverOptions = new Catbird.Identity.Did.DidResolverOptions
                {
                    AllowHttpLocalhost = sp.GetRequiredService<IHostEnvironment>().IsDevelopment(),
                };
                if (!string.IsNullOrWhiteSpace(kas.PlcDirectoryUrl))
                {
                    resolverOptions = resolverOptions with { PlcDirectoryUrl = new Uri(kas.PlcDirectoryUrl) };
                }

                return new Catbird.Identity.Did.DidResolver(resolverOptions, sp.GetRequiredService<IHttpClientFactory>().CreateClient("plc"));
            });
            services.AddSingleton<Catbird.Identity.Did.IDidKeyResolver>(sp => sp.GetRequiredService<Catbird.Identity.Did.DidResolver>());
            // Replays are refused across replicas when Redis is configured; a lone instance without Redis keeps them in memory.
            services.AddSingleton<Catbird.Identity.Jwt.IJtiReplayStore>(sp => sp.GetService<RedisConnection>() is { } redis
                ? new Catbird.Identity.Redis.RedisJtiReplayStore(redis, "kas:", TimeSpan.FromSeconds(120), sp.GetService<TimeProvider>() ?? TimeProvider.System)
                : new Catbird.Identity.Jwt.MemoryJtiReplayStore());
            services.AddSingleton(sp => new Catbird.Identity.Jwt.ServiceJwtVerifier(
                sp.GetRequiredService<Catbird.Identity.Did.IDidKeyResolver>(), sp.GetRequiredService<Catbird.Identity.Jwt.IJtiReplayStore>()));
            services.AddSingleton<IAtprotoServiceTokenValidator, AtprotoServiceTokenValidator>();
        }

        services.AddSingleton(sp => new BearerAuthenticator(sp.GetRequiredService<OidcTokenValidator>(),
            sp.GetRequiredService<ILogger<BearerAuthenticator>>(), sp.GetService<IAtprotoServiceTokenValidator>()));
        services.AddSingleton<SignedRequestTokenVerifier>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("nats")))
        {
            if (services.All(s => s.ServiceType != typeof(NatsConnection)))
            {
                builder.AddNatsClient("nats");
            }

            services.AddSingleton<IKasMessaging, NatsKasMessaging>();
            services.AddSingleton<IMembershipDirectory, MessagingMembershipDirectory>();
            services.AddSingleton<IMediaEventPublisher, MessagingMediaEventPublisher>();
        }
        else
        {
            services.AddSingleton<IMembershipDirectory, UnavailableMembershipDirectory>();
            services.AddSingleton<IMediaEventPublisher, LogOnlyMediaEventPublisher>();
        }

        services.AddSingleton<PolicyDecisionPoint>();
        services.AddSingleton<KasMetrics>();
        services.AddSingleton<RewrapService>();
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("redis")))
        {
            if (services.All(s => s.ServiceType != typeof(RedisConnection)))
            {
                builder.AddRedisClient("redis");
            }

            services.AddSingleton<MediaSessionStore>();
        }

        services.AddSingleton<IBlobStore>(sp =>
        {
            var kas = sp.GetRequiredService<IOptions<KasOptions>>().Value;
            return string.IsNullOrWhiteSpace(kas.S3Bucket)
                ? new LocalBlobStore(Path.Combine(kas.EffectiveStateDirectory(sp.GetRequiredService<IHostEnvironment>().ContentRootPath), "blobs"))
                : S3BlobStore.Create(kas);
        });
        services.AddSingleton<MediaServices>();
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, KasJsonContext.Default));
        services.AddKasRateLimits(options);
        services.AddKasCors(options);
        services.AddProblemDetails();
        return builder;
    }

    /// <summary>
    /// Loads the key ring (before the server listens, so a bad key stops the process), then adds CORS, rate limiting
    /// and WebSockets to the pipeline.
    /// </summary>
    public static WebApplication UseKasPipeline(this WebApplication app)
    {
        app.Services.GetRequiredService<IOptions<KasOptions>>();
        app.Services.GetRequiredService<KasKeyRing>();
        var oidc = app.Services.GetRequiredService<OidcTokenValidator>();
        if (!oidc.IsConfigured && app.Services.GetService<IAtprotoServiceTokenValidator>() is null)
        {
            KasLog.NoCallerAuthentication(app.Logger);
        }

        app.UseCors();
        app.UseRateLimiter();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        return app;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (services.All(s => s.ServiceType != typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}
