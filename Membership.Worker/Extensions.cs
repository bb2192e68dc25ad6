using Catbird.Membership.Worker.Messaging;
using Catbird.Membership.Worker.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Catbird.Membership.Worker;

/// <summary>Registration of Membership.Worker's services.</summary>
public static class Extensions
{
    /// <summary>
    /// NATS, the SQLite membership store (with a readiness check), the conversation-event consumer and the
    /// <c>catbird.membership.check</c> responder.
    /// </summary>
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNatsClient("nats");
        builder.Services.AddOptions<MembershipOptions>().Configure<IConfiguration>(MembershipOptions.Bind).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MembershipOptions>, MembershipOptionsValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => new SqliteMembershipStore(
            services.GetRequiredService<IOptions<MembershipOptions>>().Value.DatabasePath(builder.Configuration["CATBIRD_STATE_DIR"])));
        builder.Services.AddSingleton<IMembershipStore>(services => services.GetRequiredService<SqliteMembershipStore>());
        builder.Services.AddSingleton<MembershipCache>();
        builder.Services.AddHostedService<ConvoEventConsumer>();
        builder.Services.AddHostedService<MembershipCheckResponder>();
        builder.Services.AddHealthChecks().AddCheck<MembershipStoreHealthCheck>("membership-store", HealthStatus.Unhealthy, [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}

/// <summary>Healthy when the SQLite store answers a query.</summary>
internal sealed class MembershipStoreHealthCheck(SqliteMembershipStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy("SQLite store answers");
        }
        catch (Microsoft.Data.Sqlite.SqliteException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "SQLite store does not answer", e);
        }
    }
}
