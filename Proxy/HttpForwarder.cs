using System.Diagnostics;
using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Catbird.Proxy;

/// <summary>Settings of an <see cref="HttpForwarder"/>.</summary>
public sealed record HttpForwarderOptions
{
    /// <summary>Time allowed to open a TCP connection to a backend.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time allowed between sending the request and receiving the response headers; past it the client gets 504.</summary>
    public TimeSpan ResponseHeadersTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Consecutive failures (connection errors, timeouts) that open a backend's circuit.</summary>
    public int CircuitFailureThreshold { get; init; } = 5;

    /// <summary>How long an open circuit refuses requests before one trial request is let through.</summary>
    public TimeSpan CircuitOpenDuration { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Forwards an ASP.NET Core request to a backend over one pooled <see cref="SocketsHttpHandler"/> (no redirects, cookies or
/// decompression), streaming both bodies without buffering. Hop-by-hop headers (including those named by <c>Connection</c>)
/// are dropped, <c>X-Forwarded-For/Proto/Host</c> are set, and the current trace context is propagated as <c>traceparent</c>.
/// Connection failures answer 502, response-header timeouts 504 and an open circuit 503, as RFC 9457 problem details.
/// </summary>
public sealed partial class HttpForwarder : IDisposable
{
    /// <summary>Problem type for a backend that could not be reached.</summary>
    public const string BadGatewayType = "https://catbird.blue/problems/backend-unreachable";

    /// <summary>Problem type for a backend that did not answer in time.</summary>
    public const string GatewayTimeoutType = "https://catbird.blue/problems/backend-timeout";

    /// <summary>Problem type for a backend whose circuit is open after repeated failures.</summary>
    public const string CircuitOpenType = "https://catbird.blue/problems/backend-circuit-open";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
        "traceparent", "tracestate",
    };

    private static readonly HashSet<string> ResponseHopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    private readonly HttpMessageInvoker _invoker;
    private readonly HttpForwarderOptions _options;
    private readonly CircuitBreakers _circuits;
    private readonly ILogger _logger;

    /// <summary>Creates a forwarder whose connections are checked against <paramref name="allowlist"/> at connect time.</summary>
    public HttpForwarder(HttpForwarderOptions options, BackendAllowlist allowlist, ILogger<HttpForwarder> logger, TimeProvider? time = null)
    {
        _options = options;
        _logger = logger;
        _circuits = new CircuitBreakers(options.CircuitFailureThreshold, options.CircuitOpenDuration, time ?? TimeProvider.System);
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            EnableMultipleHttp2Connections = true,
            ConnectCallback = allowlist.ConnectAsync,
            // The trace context is written by the forwarder itself from Activity.Current.
            ActivityHeadersPropagator = DistributedContextPropagator.CreateNoOutputPropagator(),
        };
        _invoker = new HttpMessageInvoker(handler, disposeHandler: true);
    }

    /// <summary>
    /// Sends the current request to <paramref name="destination"/> (the full backend URL, path and query included) and copies
    /// the response back. <paramref name="transform"/> may adjust the outgoing request (for example its Authorization header).
    /// </summary>
    public async Task ForwardAsync(HttpContext context, Uri destination, Action<HttpRequestMessage>? transform = null)
    {
        var backendKey = destination.GetLeftPart(UriPartial.Authority);
        if (!_circuits.TryEnter(backendKey))
        {
            await WriteProblemAsync(context, StatusCodes.Status503ServiceUnavailable, CircuitOpenType,
                "Backend temporarily unavailable", "The backend failed repeatedly; requests are paused.").ConfigureAwait(false);
            return;
        }

        using var request = CreateRequest(context, destination);
        transform?.Invoke(request);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_options.ResponseHeadersTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            _circuits.Release(backendKey, success: true);
            context.Abort();
            return;
        }
        catch (OperationCanceledException)
        {
            _circuits.Release(backendKey, success: false);
            LogBackendTimeout(_logger, backendKey);
            await WriteProblemAsync(context, StatusCodes.Status504GatewayTimeout, GatewayTimeoutType,
                "Backend timeout", "The backend did not answer in time.").ConfigureAwait(false);
            return;
        }
        catch (HttpRequestException e)
        {
            _circuits.Release(backendKey, success: false);
            LogBackendUnreachable(_logger, backendKey, e.InnerException?.GetType().Name ?? e.HttpRequestError.ToString());
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, BadGatewayType,
                "Backend unreachable", "The backend could not be reached.").ConfigureAwait(false);
            return;
        }
        _circuits.Release(backendKey, success: (int)response.StatusCode < 500 || (int)response.StatusCode == 501);

        using (response)
        {
            CopyResponseHeaders(context, response);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                try
                {
                    await body.CopyToAsync(context.Response.Body, 81920, context.RequestAborted).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
                {
                    // Headers are already sent: the only honest signal left is a broken response.
                    LogResponseBodyAborted(_logger, backendKey);
                    context.Abort();
                }
            }
        }
    }

    /// <summary>Writes an RFC 9457 problem details response if the response has not started.</summary>
    public static Task WriteProblemAsync(HttpContext context, int status, string type, string title, string detail)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }
        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/problem+json";
        var problem = new ForwarderProblem(type, title, status, detail);
        return System.Text.Json.JsonSerializer.SerializeAsync(context.Response.Body, problem,
            ForwarderJsonContext.Default.ForwarderProblem, context.RequestAborted);
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, Uri destination)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), destination)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        var canHaveBody = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody
            ?? (incoming.ContentLength > 0 || incoming.Headers.ContainsKey("Transfer-Encoding"));
        if (canHaveBody)
        {
            request.Content = new StreamContent(incoming.Body, 81920);
        }

        var connectionListed = ConnectionTokens(incoming.Headers.Connection);
        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name) || connectionListed.Contains(name))
            {
                continue;
            }
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values!);
            }
        }

        // The gateway is the edge: forwarded headers describe what it saw, not what a client claimed.
        var remote = context.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        }
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.Value);

        var activity = Activity.Current;
        if (activity is not null && activity.IdFormat == ActivityIdFormat.W3C)
        {
            request.Headers.TryAddWithoutValidation("traceparent", activity.Id);
            if (!string.IsNullOrEmpty(activity.TraceStateString))
            {
                request.Headers.TryAddWithoutValidation("tracestate", activity.TraceStateString);
            }
        }
        else
        {
            // No local span: pass the caller's context through unchanged.
            if (incoming.Headers.TryGetValue("traceparent", out var traceparent))
            {
                request.Headers.TryAddWithoutValidation("traceparent", (string?)traceparent);
            }
            if (incoming.Headers.TryGetValue("tracestate", out var tracestate))
            {
                request.Headers.TryAddWithoutValidation("tracestate", (string?)tracestate);
            }
        }
        return request;
    }

    private static void CopyResponseHeaders(HttpContext context, HttpResponseMessage response)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        var connectionListed = ConnectionTokens(string.Join(',', response.Headers.Connection));
        foreach (var header in response.Headers)
        {
            if (!ResponseHopByHop.Contains(header.Key) && !connectionListed.Contains(header.Key))
            {
                context.Response.Headers.Append(header.Key, header.Value.ToArray());
            }
        }
        foreach (var header in response.Content.Headers)
        {
            context.Response.Headers.Append(header.Key, header.Value.ToArray());
        }
    }

    private static HashSet<string> ConnectionTokens(StringValues connection)
    {
        var tokens = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in connection)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                tokens.Add(token);
            }
        }
        return tokens;
    }

    /// <inheritdoc/>
    public void Dispose() => _invoker.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} did not answer in time")]
    private static partial void LogBackendTimeout(ILogger logger, string backend);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} unreachable: {Reason}")]
    private static partial void LogBackendUnreachable(ILogger logger, string backend, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Response body from {Backend} aborted")]
    private static partial void LogResponseBodyAborted(ILogger logger, string backend);
}

/// <summary>An RFC 9457 problem details body.</summary>
public sealed record ForwarderProblem(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail);

[JsonSerializable(typeof(ForwarderProblem))]
internal sealed partial class ForwarderJsonContext : JsonSerializerContext;
