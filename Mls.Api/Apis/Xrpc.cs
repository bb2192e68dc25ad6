using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Catbird.Mls.Api.Apis;

/// <summary>A request refused with an XRPC error; handlers throw it and <see cref="Xrpc.ErrorBodies"/> writes it.</summary>
public sealed class XrpcException(int status, string error, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string Error { get; } = error;
}

/// <summary>XRPC conventions: error bodies, JSON bodies read without 500s, base64 in either alphabet.</summary>
public static class Xrpc
{
    public static XrpcException BadRequest(string message, string error = "InvalidRequest") => new(400, error, message);

    public static IResult Error(int status, string error, string message) =>
        TypedResults.Json(new XrpcError(error, message), MlsJsonContext.Default.XrpcError, statusCode: status);

    public static IResult Ok<T>(T value, JsonTypeInfo<T> type) => TypedResults.Json(value, type);

    /// <summary>Reads a JSON body; malformed or wrong-shaped JSON is a 400 InvalidRequest, not a 500.</summary>
    public static async Task<T> ReadBodyAsync<T>(HttpRequest request, JsonTypeInfo<T> type, CancellationToken ct)
    {
        if (request.ContentType is null || !request.ContentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw BadRequest("Content-Type must be application/json");
        }
        try
        {
            return await JsonSerializer.DeserializeAsync(request.Body, type, ct) ?? throw BadRequest("body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw BadRequest($"invalid JSON body: {e.Message}");
        }
    }

    /// <summary>Decodes base64 in the standard or URL alphabet, padded or not, or throws 400.</summary>
    public static byte[] DecodeBase64(string? text, string field)
    {
        if (string.IsNullOrEmpty(text) || !Catbird.Identity.Crypto.Base64UrlText.TryDecode(text, out var bytes))
        {
            throw BadRequest($"{field} must be base64");
        }
        return bytes;
    }

    /// <summary>Decodes an atproto bytes value (<c>{"$bytes": …}</c>) or a bare base64 string.</summary>
    public static byte[] DecodeBytes(JsonElement value, string field) => value.ValueKind switch
    {
        JsonValueKind.String => DecodeBase64(value.GetString(), field),
        JsonValueKind.Object when value.TryGetProperty("$bytes", out var inner) && inner.ValueKind == JsonValueKind.String =>
            DecodeBase64(inner.GetString(), field),
        _ => throw BadRequest($"{field} must be {{\"$bytes\": base64}}"),
    };

    /// <summary>Turns <see cref="XrpcException"/> (and body-size and bad-request exceptions) into XRPC error bodies.</summary>
    public static IApplicationBuilder ErrorBodies(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        try
        {
            await next(context);
        }
        catch (XrpcException e) when (!context.Response.HasStarted)
        {
            await Error(e.Status, e.Error, e.Message).ExecuteAsync(context);
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted)
        {
            var status = e.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400;
            await Error(status, status == 413 ? "PayloadTooLarge" : "InvalidRequest", e.Message).ExecuteAsync(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // A dependency failure or a bug: logged, and still an XRPC body (503 when the database or Redis is unreachable).
            var dependency = e is Npgsql.NpgsqlException or Catbird.Redis.RedisException or TimeoutException;
            XrpcLog.Unhandled(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Catbird.Mls.Api.Xrpc"), context.Request.Path, e);
            await Error(dependency ? 503 : 500, dependency ? "ServiceUnavailable" : "InternalServerError",
                dependency ? "a dependency is unavailable, retry later" : "internal error").ExecuteAsync(context);
        }
    });
}

internal static partial class XrpcLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error on {Path}")]
    public static partial void Unhandled(ILogger logger, string path, Exception exception);
}
