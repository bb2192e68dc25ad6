using Catbird.Identity.Did;
using Catbird.Identity.Jwt;
using Catbird.Mls.Api.Apis;
using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Events;
using Catbird.Mls.Api.Storage;
using Catbird.Redis;
using Catbird.ServiceDefaults.Postgres;
using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api;

/// <summary>Service registration and the XRPC route table of Mls.Api.</summary>
public static class Extensions
{
    /// <summary>Options (validated on start), Postgres with migrations, Redis, DID resolution and the service-JWT verifier, stores.</summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MlsOptions>().BindConfiguration(string.Empty).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MlsOptions>, MlsOptionsValidator>();
        services.AddSingleton(TimeProvider.System);

        builder.AddNpgsqlDataSource("mlsdb");
        builder.AddPostgresMigrations(typeof(Extensions).Assembly);
        builder.AddRedisClient("redis");
        builder.AddNatsClient("nats");
        services.AddHostedService<OutboxRelay>();

        services.AddHttpClient("plc");
        services.AddSingleton<IDidKeyResolver>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<MlsOptions>>().Value;
            var plc = sp.GetRequiredService<IHttpClientFactory>().CreateClient("plc");
            return new DidResolver(new DidResolverOptions
            {
                PlcDirectoryUrl = new Uri(options.PlcDirectoryUrl),
                AllowPrivateNetworkHosts = options.DidWebAllowPrivateHosts,
                AllowHttpLocalhost = options.DidWebAllowPrivateHosts,
            }, plc, new Catbird.Identity.Redis.RedisDidDocumentCache(sp.GetRequiredService<RedisConnection>(), "mls:"), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton<IJtiReplayStore>(sp => new Catbird.Identity.Redis.RedisJtiReplayStore(sp.GetRequiredService<RedisConnection>(), "mls:",
            TimeSpan.FromSeconds(sp.GetRequiredService<IOptions<MlsOptions>>().Value.JtiTtlSeconds), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ServiceJwtVerifier(sp.GetRequiredService<IDidKeyResolver>(), sp.GetRequiredService<IJtiReplayStore>(),
            new ServiceJwtVerifierOptions
            {
                DevelopmentHmacSecret = sp.GetRequiredService<IOptions<MlsOptions>>().Value.DevTokenSecret is { } secret ? System.Text.Encoding.UTF8.GetBytes(secret) : null,
            },
            time: sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<RedisRateLimiter>();
        services.AddSingleton<XrpcAuthFilter>();
        services.AddSingleton<ConvoStore>();
        services.AddSingleton<KeyPackageStore>();
        services.AddSingleton<CommitStore>();
        services.AddSingleton<GroupInfoStore>();
        services.AddSingleton<BlobStore>();
        services.AddSingleton<IdempotencyStore>();
        services.AddHostedService<ExpirySweeper>();
        return builder;
    }

    /// <summary>Maps <c>/.well-known/did.json</c> and the authenticated <c>/xrpc/blue.catbird.mls.*</c> routes.</summary>
    public static WebApplication MapMlsApi(this WebApplication app)
    {
        app.ErrorBodies();
        app.MapWellKnownApi();
        var xrpc = app.MapGroup("/xrpc").AddEndpointFilter<XrpcAuthFilter>().WithMetadata(new BodyLimit(BodyLimit.Default));
        xrpc.MapConvoApi();
        xrpc.MapKeyPackageApi();
        xrpc.MapMessageApi();
        xrpc.MapGroupApi();
        xrpc.MapGroupInfoApi();
        xrpc.MapBlobApi();
        xrpc.MapStreamApi();
        app.MapFallback("/xrpc/{**nsid}", () => Xrpc.Error(404, "MethodNotImplemented", "unknown XRPC method"));
        return app;
    }
}
