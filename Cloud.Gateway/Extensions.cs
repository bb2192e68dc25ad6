namespace Catbird.Cloud.Gateway;

/// <summary>Registration of Cloud.Gateway's services.</summary>
public static class Extensions
{
    /// <summary>
    /// The dependencies Cloud.Gateway stands on: Postgres <c>gatewaydb</c> and Redis, each with its readiness check.
    /// Tenants, the proxy and authentication (issue #7) are not built yet.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("gatewaydb");
        builder.AddRedisClient("redis");
        return builder;
    }
}
