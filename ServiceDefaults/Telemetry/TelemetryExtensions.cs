using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Catbird.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry for a Catbird service without OpenTelemetry.Extensions.Hosting (not restorable here): the tracer and
/// meter providers are built with the SDK's builders and owned by a hosted service; logs go through the logging provider.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>ActivitySources traced by every service (wildcards allowed).</summary>
    public static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "Catbird.*"];

    /// <summary>Meters collected by every service (wildcards allowed).</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics", "Microsoft.AspNetCore.RateLimiting", "System.Net.Http", "System.Runtime",
        "Npgsql", "Catbird.*",
    ];

    /// <summary>Adds OpenTelemetry traces, metrics and logs, exported by OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.</summary>
    public static IHostApplicationBuilder AddDefaultTelemetry(this IHostApplicationBuilder builder)
    {
        var settings = TelemetrySettings.From(builder.Configuration, builder.Environment.ApplicationName);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.SetResourceBuilder(settings.CreateResource());
            if (settings.OtlpEndpoint is not null)
            {
                logging.AddOtlpExporter(o => settings.ConfigureExporter(o, "/v1/logs"));
            }
        });

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(static _ => new PrometheusMetrics());
        builder.Services.AddHostedService<TelemetryService>();
        return builder;
    }
}

/// <summary>Telemetry settings read from the standard OpenTelemetry environment variables.</summary>
public sealed record TelemetrySettings(string ServiceName, Uri? OtlpEndpoint, OtlpExportProtocol Protocol)
{
    /// <summary>Reads <c>OTEL_SERVICE_NAME</c>, <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> and <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>.</summary>
    public static TelemetrySettings From(IConfiguration configuration, string applicationName)
    {
        var name = configuration["OTEL_SERVICE_NAME"];
        var endpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var protocol = configuration["OTEL_EXPORTER_OTLP_PROTOCOL"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException(
                $"OTEL_EXPORTER_OTLP_PROTOCOL '{other}' is not supported; use 'grpc' or 'http/protobuf'."),
        };
        Uri? uri = null;
        if (!string.IsNullOrWhiteSpace(endpoint) && !Uri.TryCreate(endpoint, UriKind.Absolute, out uri))
        {
            throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_ENDPOINT '{endpoint}' is not an absolute URL.");
        }

        return new TelemetrySettings(string.IsNullOrWhiteSpace(name) ? applicationName : name, uri, protocol);
    }

    /// <summary>The resource describing this service (name, plus <c>OTEL_RESOURCE_ATTRIBUTES</c>).</summary>
    public ResourceBuilder CreateResource() => ResourceBuilder.CreateDefault().AddService(ServiceName).AddEnvironmentVariableDetector();

    /// <summary>Points an OTLP exporter at the configured endpoint; for http/protobuf the signal path is appended.</summary>
    public void ConfigureExporter(OtlpExporterOptions options)
    {
        options.Protocol = Protocol;
        if (OtlpEndpoint is not null)
        {
            options.Endpoint = OtlpEndpoint;
        }
    }

    internal void ConfigureExporter(OtlpExporterOptions options, string signalPath)
    {
        ConfigureExporter(options);
        if (OtlpEndpoint is not null && Protocol == OtlpExportProtocol.HttpProtobuf)
        {
            options.Endpoint = new Uri(OtlpEndpoint, OtlpEndpoint.AbsolutePath.TrimEnd('/') + signalPath);
        }
    }
}

/// <summary>Owns the tracer and meter providers for the life of the host.</summary>
internal sealed class TelemetryService(TelemetrySettings settings, PrometheusMetrics prometheus) : IHostedService, IDisposable
{
    private TracerProvider? _tracing;
    private MeterProvider? _metrics;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        prometheus.Start();
        if (settings.OtlpEndpoint is null)
        {
            return Task.CompletedTask;
        }

        _tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(settings.CreateResource())
            .AddSource(TelemetryExtensions.ActivitySources)
            .AddOtlpExporter(o => settings.ConfigureExporter(o, "/v1/traces"))
            .Build();
        _metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(settings.CreateResource())
            .AddMeter(TelemetryExtensions.Meters)
            .AddOtlpExporter(o => settings.ConfigureExporter(o, "/v1/metrics"))
            .Build();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _tracing?.ForceFlush(2000);
        _metrics?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _tracing?.Dispose();
        _metrics?.Dispose();
    }
}
