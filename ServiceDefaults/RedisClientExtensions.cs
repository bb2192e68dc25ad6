using Catbird.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The Redis client integration, shaped like Aspire's: a <see cref="RedisConnection"/> (and a <see cref="RedisSubscriber"/>)
/// from <c>ConnectionStrings:&lt;name&gt;</c>, a ready-tagged <c>PING</c> health check, and the client's telemetry.
/// </summary>
public static class RedisClientExtensions
{
    /// <summary>How long the health check waits for <c>PING</c>.</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Registers a singleton <see cref="RedisConnection"/> and <see cref="RedisSubscriber"/> for the connection string
    /// <c>ConnectionStrings:<paramref name="connectionName"/></c> (the environment variable <c>ConnectionStrings__redis</c>),
    /// a health check named <c>redis</c> (or <c>redis-&lt;name&gt;</c>) tagged <see cref="ServiceDefaultsExtensions.ReadyTag"/>,
    /// and the <c>Catbird.Redis</c> ActivitySource and Meter. Nothing connects until the first command or health check, so
    /// the host starts even while Redis is down.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="connectionName">The connection-string name, such as <c>redis</c>.</param>
    /// <param name="configure">Adjusts the options parsed from the connection string.</param>
    /// <exception cref="InvalidOperationException">The connection string is missing or malformed.</exception>
    public static IHostApplicationBuilder AddRedisClient(this IHostApplicationBuilder builder, string connectionName, Func<RedisOptions, RedisOptions>? configure = null)
    {
        var options = ReadOptions(builder, connectionName, configure);
        builder.Services.AddSingleton(services => new RedisConnection(WithLogging(options, services)));
        builder.Services.AddSingleton(services => new RedisSubscriber(WithLogging(options, services)));
        AddHealthCheck(builder, connectionName == "redis" ? "redis" : $"redis-{connectionName}", services => services.GetRequiredService<RedisConnection>());
        AddTelemetry(builder);
        return builder;
    }

    /// <summary>
    /// As <see cref="AddRedisClient"/>, but registers the connection and subscriber as keyed services under
    /// <paramref name="connectionName"/>, for a service that talks to more than one Redis.
    /// </summary>
    public static IHostApplicationBuilder AddKeyedRedisClient(this IHostApplicationBuilder builder, string connectionName, Func<RedisOptions, RedisOptions>? configure = null)
    {
        var options = ReadOptions(builder, connectionName, configure);
        builder.Services.AddKeyedSingleton(connectionName, (services, _) => new RedisConnection(WithLogging(options, services)));
        builder.Services.AddKeyedSingleton(connectionName, (services, _) => new RedisSubscriber(WithLogging(options, services)));
        AddHealthCheck(builder, $"redis-{connectionName}", services => services.GetRequiredKeyedService<RedisConnection>(connectionName));
        AddTelemetry(builder);
        return builder;
    }

    private static RedisOptions ReadOptions(IHostApplicationBuilder builder, string connectionName, Func<RedisOptions, RedisOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The Redis connection string 'ConnectionStrings:{connectionName}' is missing. Set the environment variable "
                + $"ConnectionStrings__{connectionName} (for example '127.0.0.1:6379,password=…') or add it to configuration.");
        }

        RedisOptions options;
        try
        {
            options = RedisOptions.Parse(connectionString);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException($"The Redis connection string 'ConnectionStrings:{connectionName}' is invalid: {e.Message}", e);
        }

        // Name the connection after the service (visible in CLIENT LIST) unless the connection string names it.
        if (options.ClientName is null && !string.IsNullOrWhiteSpace(builder.Environment.ApplicationName))
        {
            options = options with { ClientName = new string([.. builder.Environment.ApplicationName.Where(c => !char.IsWhiteSpace(c))]) };
        }

        options = configure?.Invoke(options) ?? options;
        try
        {
            // Fail at startup, naming the setting, rather than on the first command.
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"The Redis options for '{connectionName}' are invalid: {e.Message}", e);
        }

        return options;
    }

    private static RedisOptions WithLogging(RedisOptions options, IServiceProvider services) =>
        services.GetService<ILoggerFactory>() is { } loggerFactory ? options with { LoggerFactory = loggerFactory } : options;

    private static void AddHealthCheck(IHostApplicationBuilder builder, string name, Func<IServiceProvider, RedisConnection> connection) =>
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            name,
            services => new RedisHealthCheck(connection(services)),
            failureStatus: null,
            tags: [ServiceDefaultsExtensions.ReadyTag],
            timeout: HealthCheckTimeout));

    private static void AddTelemetry(IHostApplicationBuilder builder)
    {
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(RedisConnection.TelemetryName));
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(RedisConnection.TelemetryName));
    }
}

/// <summary>Healthy when Redis answers <c>PING</c> (connecting first if needed).</summary>
internal sealed class RedisHealthCheck(RedisConnection connection) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var roundTrip = await connection.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy($"PING answered in {roundTrip.TotalMilliseconds:0.0} ms.");
        }
        catch (Exception e) when (e is RedisException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Redis did not answer PING: {e.Message}", e);
        }
    }
}
