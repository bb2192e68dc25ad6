using Catbird.Nats;
using Catbird.Nats.JetStream;
using Catbird.Nats.KeyValueStore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The NATS client integration, shaped like Aspire's <c>AddNatsClient</c>: a <see cref="NatsConnection"/> from
/// <c>ConnectionStrings:&lt;name&gt;</c>, JetStream and KV contexts, and a ready-tagged health check on the connection.
/// The client's telemetry (<c>Catbird.Nats</c>) is collected by the service defaults.
/// </summary>
public static class NatsClientExtensions
{
    /// <summary>How long the health check waits for a connection.</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Registers a singleton <see cref="NatsConnection"/> (connecting on first use, so the host starts while NATS is down),
    /// <see cref="NatsJSContext"/>, <see cref="NatsKVContext"/>, and a health check named <c>nats</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string is missing or malformed.</exception>
    public static IHostApplicationBuilder AddNatsClient(this IHostApplicationBuilder builder, string connectionName, Func<NatsOpts, NatsOpts>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The NATS connection string 'ConnectionStrings:{connectionName}' is missing. Set the environment variable "
                + $"ConnectionStrings__{connectionName} (for example 'nats://user:password@127.0.0.1:4222').");
        }

        NatsOpts options;
        try
        {
            options = NatsOpts.FromUrl(connectionString) with { Name = builder.Environment.ApplicationName };
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"The NATS connection string 'ConnectionStrings:{connectionName}' is invalid: {e.Message}", e);
        }

        if (configure is not null)
        {
            options = configure(options);
        }

        builder.Services.AddSingleton(services => new NatsConnection(options with { LoggerFactory = services.GetRequiredService<ILoggerFactory>() }));
        builder.Services.AddSingleton(services => new NatsJSContext(services.GetRequiredService<NatsConnection>()));
        builder.Services.AddSingleton(services => new NatsKVContext(services.GetRequiredService<NatsJSContext>()));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new NatsHealthCheck(services.GetRequiredService<NatsConnection>()),
            HealthStatus.Unhealthy,
            [ServiceDefaultsExtensions.ReadyTag, "nats"],
            HealthCheckTimeout));
        return builder;
    }
}

/// <summary>Healthy when the connection is open; degraded while reconnecting; a closed connection is tried once.</summary>
public sealed class NatsHealthCheck(NatsConnection connection) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        switch (connection.ConnectionState)
        {
            case NatsConnectionState.Open:
                return HealthCheckResult.Healthy("NATS connection open");
            case NatsConnectionState.Connecting or NatsConnectionState.Reconnecting:
                return HealthCheckResult.Degraded($"NATS connection {connection.ConnectionState}");
            default:
                try
                {
                    await connection.ConnectAsync(cancellationToken);
                    return HealthCheckResult.Healthy("NATS connection open");
                }
                catch (Exception e) when (e is NatsException or OperationCanceledException)
                {
                    return new HealthCheckResult(context.Registration.FailureStatus, "NATS is not reachable", e);
                }
        }
    }
}
