using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Catbird.Cloud.Gateway.Proxy;

/// <summary>Limits of the forwarder.</summary>
public sealed record ForwarderOptions
{
    /// <summary>How long connecting to a backend may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a backend may take to send its response headers.</summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(100);
}

/// <summary>What happened to a forwarded request.</summary>
public enum ForwardResult
{
    /// <summary>The backend's response was relayed.</summary>
    Success,

    /// <summary>The backend could not be reached (502).</summary>
    BadGateway,

    /// <summary>The backend did not answer in time (504).</summary>
    GatewayTimeout,

    /// <summary>The client went away.</summary>
    ClientAborted,
}

/// <summary>
/// A reverse-proxy forwarder on <see cref="SocketsHttpHandler"/>: request and response bodies stream through without
/// buffering, hop-by-hop headers (and those the Connection header lists) are dropped, X-Forwarded-For/Proto/Host and the
/// trace context are set, and a backend that cannot be reached or is too slow becomes a 502 or 504 problem response.
/// </summary>
public sealed partial class HttpForwarder : IDisposable
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host",
    };

    private readonly HttpMessageInvoker _invoker;
    private readonly ForwarderOptions _options;
    private readonly ILogger<HttpForwarder> _logger;

    /// <summary>Creates a forwarder with its own connection pool.</summary>
    public HttpForwarder(ForwarderOptions options, ILogger<HttpForwarder> logger)
    {
        _options = options;
        _logger = logger;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null, // we set traceparent ourselves, once
        });
    }

    /// <summary>Forwards the current request to <paramref name="destination"/> (scheme, host, port and path).</summary>
    public async Task<ForwardResult> ForwardAsync(HttpContext context, Uri destination)
    {
        using var request = CreateRequest(context, destination);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(_options.ResponseTimeout);
        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return ForwardResult.ClientAborted;
        }
        catch (OperationCanceledException)
        {
            LogBackendFailed(_logger, destination.GetLeftPart(UriPartial.Authority), "timed out");
            await WriteProblemAsync(context, StatusCodes.Status504GatewayTimeout, "gateway-timeout", "The backend did not answer in time.");
            return ForwardResult.GatewayTimeout;
        }
        catch (HttpRequestException e)
        {
            LogBackendFailed(_logger, destination.GetLeftPart(UriPartial.Authority), e.Message);
            await WriteProblemAsync(context, StatusCodes.Status502BadGateway, "bad-gateway", "The backend could not be reached.");
            return ForwardResult.BadGateway;
        }

        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            CopyResponseHeaders(response, context.Response);
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
                await body.CopyToAsync(context.Response.Body, 64 * 1024, context.RequestAborted);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
            {
                // The client or the backend went away mid-body; the response is already started, so abort it.
                context.Abort();
                return context.RequestAborted.IsCancellationRequested ? ForwardResult.ClientAborted : ForwardResult.BadGateway;
            }
        }

        return ForwardResult.Success;
    }

    /// <inheritdoc />
    public void Dispose() => _invoker.Dispose();

    internal static HttpRequestMessage CreateRequest(HttpContext context, Uri destination)
    {
        var incoming = context.Request;
        var request = new HttpRequestMessage(new HttpMethod(incoming.Method), new Uri(destination, destination.AbsolutePath + incoming.QueryString.Value))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        if (HasBody(incoming))
        {
            request.Content = new StreamContent(incoming.Body, 64 * 1024);
        }

        var connectionListed = ConnectionTokens(incoming.Headers.Connection);
        foreach (var (name, values) in incoming.Headers)
        {
            if (HopByHop.Contains(name) || connectionListed.Contains(name) || name.StartsWith(':') || name.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }

        var remote = context.Connection.RemoteIpAddress?.ToString();
        var forwardedFor = incoming.Headers["X-Forwarded-For"].ToString();
        if (remote is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", string.IsNullOrEmpty(forwardedFor) ? remote : $"{forwardedFor}, {remote}");
        }

        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", incoming.Scheme);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", incoming.Host.Value);
        if (Activity.Current is { } activity && !request.Headers.Contains("traceparent"))
        {
            request.Headers.Remove("traceparent");
            request.Headers.TryAddWithoutValidation("traceparent", activity.Id);
        }

        return request;
    }

    private static void CopyResponseHeaders(HttpResponseMessage response, HttpResponse outgoing)
    {
        var connectionListed = ConnectionTokens(response.Headers.Connection.ToArray());
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (HopByHop.Contains(header.Key) || connectionListed.Contains(header.Key))
            {
                continue;
            }

            outgoing.Headers[header.Key] = header.Value.ToArray();
        }
    }

    private static HashSet<string> ConnectionTokens(IEnumerable<string?> values)
    {
        var tokens = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in values)
        {
            foreach (var token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                tokens.Add(token);
            }
        }

        return tokens;
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0 || (request.ContentLength is null && request.Method is "POST" or "PUT" or "PATCH"
            && request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == true);

    internal static Task WriteProblemAsync(HttpContext context, int status, string type, string title)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        return Results.Problem(statusCode: status, type: $"https://catbird.blue/problems/{type}", title: title).ExecuteAsync(context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend {Backend} failed: {Reason}")]
    private static partial void LogBackendFailed(ILogger logger, string backend, string reason);
}
