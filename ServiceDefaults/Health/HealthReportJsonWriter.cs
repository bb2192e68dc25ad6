using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Catbird.ServiceDefaults.Health;

/// <summary>Writes a <see cref="HealthReport"/> as JSON: overall status, duration and every entry with its detail.</summary>
public static class HealthReportJsonWriter
{
    /// <summary>The response writer used by the health endpoints.</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(context.Response.Body, ToDocument(report), HealthJsonContext.Default.HealthDocument, context.RequestAborted);
    }

    /// <summary>The JSON document for <paramref name="report"/>.</summary>
    public static HealthDocument ToDocument(HealthReport report) => new(
        report.Status.ToString(),
        report.TotalDuration.TotalMilliseconds,
        report.Entries.ToDictionary(
            static e => e.Key,
            static e => new HealthEntryDocument(
                e.Value.Status.ToString(),
                e.Value.Description,
                e.Value.Duration.TotalMilliseconds,
                e.Value.Exception?.Message,
                e.Value.Tags.ToArray(),
                e.Value.Data.Count == 0 ? null : e.Value.Data.ToDictionary(static d => d.Key, static d => d.Value?.ToString()))));
}

/// <summary>The health endpoint's JSON body.</summary>
public sealed record HealthDocument(string Status, double TotalDurationMs, Dictionary<string, HealthEntryDocument> Entries);

/// <summary>One health check's result.</summary>
public sealed record HealthEntryDocument(string Status, string? Description, double DurationMs, string? Error, string[] Tags, Dictionary<string, string?>? Data);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthDocument))]
internal sealed partial class HealthJsonContext : JsonSerializerContext;
