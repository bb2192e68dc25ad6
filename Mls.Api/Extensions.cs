namespace Catbird.Mls.Api;

/// <summary>Registration of Mls.Api's services.</summary>
public static class Extensions
{
    /// <summary>
    /// The dependencies Mls.Api stands on: Postgres <c>mlsdb</c>, Redis and NATS, each with its readiness check.
    /// The XRPC API itself (issue #4) is not built yet.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("mlsdb");
        builder.AddRedisClient("redis");
        builder.AddNatsClient("nats");
        return builder;
    }
}
