using Catbird.ServiceDefaults.Health;
using Catbird.ServiceDefaults.Http;
using Catbird.ServiceDefaults.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The defaults every Catbird service shares: health endpoints, OpenTelemetry, <c>/metrics</c>, a standard resilience
/// handler and service discovery on every HttpClient.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Tag carried by checks that probe a dependency (reported by <c>/health/ready</c>).</summary>
    public const string ReadyTag = "ready";

    /// <summary>Tag carried by checks that only say the process is alive.</summary>
    public const string LiveTag = "live";

    /// <summary>Paths whose requests are neither traced nor logged as ordinary traffic.</summary>
    public static readonly string[] ProbePaths = ["/health", "/health/live", "/health/ready", "/alive", "/metrics"];

    /// <summary>Adds health checks, telemetry, resilience and service discovery to the host.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddDefaultTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy("process is running"), [LiveTag]);
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every check), <c>/health/live</c> and <c>/alive</c> (process only), <c>/health/ready</c>
    /// (dependencies) with JSON detail, and <c>/metrics</c> in Prometheus text format. Probe requests are not traced.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.Use(static (context, next) =>
        {
            if (IsProbe(context.Request.Path) && context.Features.Get<IHttpActivityFeature>()?.Activity is { } activity)
            {
                activity.IsAllDataRequested = false;
                activity.ActivityTraceFlags &= ~System.Diagnostics.ActivityTraceFlags.Recorded;
            }

            return next(context);
        });

        app.MapHealthChecks("/health", Options(static _ => true));
        app.MapHealthChecks("/health/live", Options(static r => r.Tags.Contains(LiveTag)));
        app.MapHealthChecks("/alive", Options(static r => r.Tags.Contains(LiveTag)));
        app.MapHealthChecks("/health/ready", Options(static r => r.Tags.Contains(ReadyTag)));
        app.MapPrometheusMetrics("/metrics");
        return app;
    }

    private static bool IsProbe(PathString path)
    {
        foreach (var probe in ProbePaths)
        {
            if (path.Equals(probe, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static HealthCheckOptions Options(Func<HealthCheckRegistration, bool> predicate) => new()
    {
        Predicate = predicate,
        ResponseWriter = HealthReportJsonWriter.WriteAsync,
        ResultStatusCodes =
        {
            [HealthStatus.Healthy] = StatusCodes.Status200OK,
            [HealthStatus.Degraded] = StatusCodes.Status200OK,
            [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
        },
    };
}
