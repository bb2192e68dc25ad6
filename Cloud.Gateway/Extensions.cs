using System.Net;
using Catbird.Cloud.Gateway.Apis;
using Catbird.Proxy;

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
        var forwarder = new HttpForwarderOptions();
        if (builder.Configuration["GATEWAY_BACKEND_TIMEOUT_SECONDS"] is { } seconds && double.TryParse(seconds, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0)
        {
            forwarder = forwarder with { ResponseHeadersTimeout = TimeSpan.FromSeconds(value) };
        }

        // The platform's own services come from the operator's configuration (service discovery), not from tenants, so
        // their forwarder may reach any address; tenant backends get the SSRF-guarded allowlist when they land.
        builder.Services.AddSingleton(services => new PlatformForwarder(new HttpForwarder(forwarder,
            new BackendAllowlist(["http", "https"], ["*"], [IPNetwork.Parse("0.0.0.0/0"), IPNetwork.Parse("::/0")]),
            services.GetRequiredService<ILogger<HttpForwarder>>())));
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, GatewayJsonContext.Default));
        builder.Services.AddProblemDetails();
        return builder;
    }
}
