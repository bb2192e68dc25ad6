using System.IO.Compression;
using System.Text.Json;
using Catbird.Hosting.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Catbird.Hosting.Dashboard;

/// <summary>An endpoint in <c>/api/resources</c>.</summary>
public sealed record EndpointView(string Name, string Url);

/// <summary>One resource in <c>/api/resources</c>.</summary>
public sealed record ResourceView(string Name, string Type, string State, string? Health, IReadOnlyList<EndpointView> Endpoints, int Restarts, int? ProcessId, string? HealthDetail);

/// <summary>A page of a resource's console lines.</summary>
public sealed record LogPage(IReadOnlyList<LogLine> Lines, long Next);

/// <summary>
/// The dashboard: a page listing resources with their state, health, endpoints, restarts and live console logs;
/// <c>GET /api/resources</c> for scripts; and an OTLP/HTTP receiver (<c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c>).
/// </summary>
internal sealed class DashboardServer(Uri url, Func<IReadOnlyList<ResourceState>> states, TelemetryStore telemetry) : IAsyncDisposable
{
    private const long MaxOtlpBody = 16 * 1024 * 1024;
    private WebApplication? _app;

    /// <summary>Converts live state to the JSON shape of <c>/api/resources</c>.</summary>
    public static List<ResourceView> Views(IEnumerable<ResourceState> states) => states.Select(s => new ResourceView(
        s.Resource.Name, s.Resource.DisplayType, s.Status.ToString(), s.Health,
        s.Endpoints.Select(e => new EndpointView(e.Name, e.Url)).ToList(), s.Restarts, s.ProcessId, s.HealthDetail)).ToList();

    public async Task StartAsync(CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url.GetLeftPart(UriPartial.Authority));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxOtlpBody);
        var app = builder.Build();

        app.MapGet("/", () => Results.Content(DashboardPage.Html, "text/html; charset=utf-8"));
        app.MapGet("/api/resources", () => Results.Json(Views(states()), HostingJsonContext.Default.ListResourceView));
        app.MapGet("/api/resources/{name}/logs", (string name, long? after) =>
        {
            var state = states().FirstOrDefault(s => s.Resource.Name == name);
            if (state is null)
            {
                return Results.Problem(statusCode: 404, title: $"No resource named '{name}'.");
            }

            var lines = state.LinesAfter(after ?? 0);
            return Results.Json(new LogPage(lines, lines.Count == 0 ? after ?? 0 : lines[^1].Sequence), HostingJsonContext.Default.LogPage);
        });
        app.MapGet("/api/telemetry", () => Results.Json(telemetry.Summaries().ToList(), HostingJsonContext.Default.ListTelemetrySummary));
        app.MapPost("/v1/traces", (HttpRequest request) => ReceiveAsync(request, TelemetryStore.Signal.Traces));
        app.MapPost("/v1/metrics", (HttpRequest request) => ReceiveAsync(request, TelemetryStore.Signal.Metrics));
        app.MapPost("/v1/logs", (HttpRequest request) => ReceiveAsync(request, TelemetryStore.Signal.Logs));

        try
        {
            await app.StartAsync(ct);
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            throw new InvalidOperationException($"The dashboard cannot listen on {url}: {e.Message}. Choose another address with --dashboard-url.", e);
        }

        _app = app;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }
    }

    private async Task<IResult> ReceiveAsync(HttpRequest request, TelemetryStore.Signal signal)
    {
        if (request.ContentType?.StartsWith("application/x-protobuf", StringComparison.OrdinalIgnoreCase) != true)
        {
            return Results.Problem(statusCode: 415, title: "OTLP/HTTP bodies must be application/x-protobuf.");
        }

        using var buffer = new MemoryStream();
        var body = request.Headers.ContentEncoding.ToString() == "gzip" ? new GZipStream(request.Body, CompressionMode.Decompress) : request.Body;
        await body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
        if (buffer.Length > MaxOtlpBody)
        {
            return Results.Problem(statusCode: 413, title: "OTLP body too large.");
        }

        try
        {
            telemetry.Record(signal, buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (FormatException e)
        {
            return Results.Problem(statusCode: 400, title: "Malformed OTLP protobuf.", detail: e.Message);
        }

        // An empty Export*ServiceResponse: full success.
        return Results.Bytes([], "application/x-protobuf");
    }
}
