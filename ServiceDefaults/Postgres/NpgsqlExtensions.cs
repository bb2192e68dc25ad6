using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

/// <summary>The PostgreSQL client integration, shaped like Aspire's <c>AddNpgsqlDataSource</c>.</summary>
public static class NpgsqlExtensions
{
    /// <summary>How long the health check waits for <c>SELECT 1</c>.</summary>
    public static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Registers a singleton <see cref="NpgsqlDataSource"/> for <c>ConnectionStrings:<paramref name="connectionName"/></c>
    /// (environment variable <c>ConnectionStrings__mlsdb</c> and so on) and a ready-tagged health check running <c>SELECT 1</c>.
    /// Npgsql's own ActivitySource and Meter (<c>Npgsql</c>) are collected by the service's telemetry.
    /// </summary>
    /// <exception cref="InvalidOperationException">The connection string is missing.</exception>
    public static IHostApplicationBuilder AddNpgsqlDataSource(this IHostApplicationBuilder builder, string connectionName,
        Action<NpgsqlDataSourceBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(connectionName);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"The PostgreSQL connection string 'ConnectionStrings:{connectionName}' is missing. Set the environment variable "
                + $"ConnectionStrings__{connectionName} (for example 'Host=127.0.0.1;Port=5432;Username=…;Password=…;Database={connectionName}').");
        }

        try
        {
            _ = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"The PostgreSQL connection string 'ConnectionStrings:{connectionName}' is invalid: {e.Message}", e);
        }

        builder.Services.AddSingleton(services =>
        {
            var dataSourceBuilder = new NpgsqlDataSourceBuilder(connectionString);
            dataSourceBuilder.UseLoggerFactory(services.GetService<ILoggerFactory>());
            configure?.Invoke(dataSourceBuilder);
            return dataSourceBuilder.Build();
        });
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            services => new NpgsqlHealthCheck(services.GetRequiredService<NpgsqlDataSource>()),
            HealthStatus.Unhealthy,
            [ServiceDefaultsExtensions.ReadyTag, "postgres"],
            HealthCheckTimeout));
        return builder;
    }
}

/// <summary>Healthy when the database answers <c>SELECT 1</c>.</summary>
public sealed class NpgsqlHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("PostgreSQL answered");
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "PostgreSQL did not answer", e);
        }
    }
}
