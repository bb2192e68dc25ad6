using Catbird.Cloud.Gateway.Proxy;

namespace Catbird.Cloud.Gateway;

/// <summary>Registration of Cloud.Gateway's services.</summary>
public static class Extensions
{
    /// <summary>
    /// Postgres <c>gatewaydb</c> and Redis (each with its readiness check) and the forwarder for the platform routes.
    /// Tenants, authentication and the tenant proxy (issue #7) are not built yet.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("gatewaydb");
        builder.AddRedisClient("redis");
        var forwarder = new ForwarderOptions();
        if (builder.Configuration["GATEWAY_BACKEND_TIMEOUT_SECONDS"] is { } seconds && double.TryParse(seconds, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            forwarder = forwarder with { ResponseTimeout = TimeSpan.FromSeconds(value) };
        }

        builder.Services.AddSingleton(forwarder);
        builder.Services.AddSingleton<HttpForwarder>();
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));
        builder.Services.AddProblemDetails();
        return builder;
    }
}
