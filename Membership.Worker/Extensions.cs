namespace Catbird.Membership.Worker;

/// <summary>Registration of Membership.Worker's services.</summary>
public static class Extensions
{
    /// <summary>
    /// The dependency Membership.Worker stands on: NATS, with its readiness check. The stores, the control plane and the
    /// event consumer (issue #6) are not built yet.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNatsClient("nats");
        return builder;
    }
}
