using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Catbird.Proxy;

/// <summary>Settings of a <see cref="WebSocketBridge"/>.</summary>
public sealed record WebSocketBridgeOptions
{
    /// <summary>Time allowed to open the backend WebSocket.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A bridge with no message in either direction for this long is closed with 1001 (going away).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest frame fragment read at once; larger messages are relayed fragment by fragment.</summary>
    public int BufferSize { get; init; } = 16 * 1024;
}

/// <summary>
/// Bridges an incoming WebSocket upgrade to a backend WebSocket: the backend is connected first (through the allowlist's
/// connect-time check), the client's sub-protocols are offered to it and the one it picks is accepted for the client; then
/// both directions are pumped one fragment at a time (a slow reader slows the writer), close codes and descriptions are
/// carried across, and a bridge idle in both directions is torn down (both connections aborted).
/// </summary>
public sealed partial class WebSocketBridge : IDisposable
{
    private readonly HttpMessageInvoker _invoker;
    private readonly WebSocketBridgeOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a bridge whose backend connections are checked against <paramref name="allowlist"/>.</summary>
    public WebSocketBridge(WebSocketBridgeOptions options, BackendAllowlist allowlist, ILogger<WebSocketBridge> logger)
    {
        _options = options;
        _logger = logger;
        _invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = options.ConnectTimeout,
            ConnectCallback = allowlist.ConnectAsync,
        }, disposeHandler: true);
    }

    /// <summary>
    /// Connects to <paramref name="backend"/> (a ws:// or wss:// URL), accepts the client's upgrade and relays until either side
    /// closes. <paramref name="requestHeaders"/> are sent on the backend handshake (for example an identity assertion).
    /// </summary>
    public async Task BridgeAsync(HttpContext context, Uri backend, IReadOnlyDictionary<string, string>? requestHeaders = null)
    {
        using var upstream = new ClientWebSocket();
        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            upstream.Options.AddSubProtocol(protocol);
        }
        upstream.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        var remote = context.Connection.RemoteIpAddress;
        if (remote is not null)
        {
            upstream.Options.SetRequestHeader("X-Forwarded-For", (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString());
        }
        upstream.Options.SetRequestHeader("X-Forwarded-Proto", context.Request.Scheme);
        upstream.Options.SetRequestHeader("X-Forwarded-Host", context.Request.Host.Value);
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            upstream.Options.SetRequestHeader("traceparent", activity.Id);
        }
        foreach (var (name, value) in requestHeaders ?? new Dictionary<string, string>())
        {
            upstream.Options.SetRequestHeader(name, value);
        }

        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted))
        {
            connectTimeout.CancelAfter(_options.ConnectTimeout);
            try
            {
                await upstream.ConnectAsync(backend, _invoker, connectTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or OperationCanceledException)
            {
                if (context.RequestAborted.IsCancellationRequested)
                {
                    return;
                }
                var timedOut = e is OperationCanceledException;
                LogBackendConnectFailed(_logger, backend.GetLeftPart(UriPartial.Authority), e.GetType().Name);
                await HttpForwarder.WriteProblemAsync(context,
                    timedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway,
                    timedOut ? HttpForwarder.GatewayTimeoutType : HttpForwarder.BadGatewayType,
                    timedOut ? "Backend timeout" : "Backend unreachable",
                    "The backend WebSocket could not be opened.").ConfigureAwait(false);
                return;
            }
        }

        using var client = await context.WebSockets.AcceptWebSocketAsync(upstream.SubProtocol).ConfigureAwait(false);
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var idle = new IdleWatch(_options.IdleTimeout, lifetime);
        var toBackend = PumpAsync(client, upstream, idle, lifetime.Token);
        var toClient = PumpAsync(upstream, client, idle, lifetime.Token);
        try
        {
            await Task.WhenAll(toBackend, toClient).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            if (idle.Expired)
            {
                LogIdleClosed(_logger, backend.GetLeftPart(UriPartial.Authority));
                await CloseQuietlyAsync(client, WebSocketCloseStatus.EndpointUnavailable, "idle").ConfigureAwait(false);
                await CloseQuietlyAsync(upstream, WebSocketCloseStatus.EndpointUnavailable, "idle").ConfigureAwait(false);
            }
            else
            {
                client.Abort();
                upstream.Abort();
            }
        }
        finally
        {
            idle.Dispose();
        }
    }

    private async Task PumpAsync(WebSocket source, WebSocket destination, IdleWatch idle, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_options.BufferSize);
        try
        {
            while (true)
            {
                var result = await source.ReceiveAsync(buffer.AsMemory(0, _options.BufferSize), cancellationToken).ConfigureAwait(false);
                idle.Touch();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (destination.State is WebSocketState.Open or WebSocketState.CloseReceived)
                    {
                        await destination.CloseOutputAsync(source.CloseStatus ?? WebSocketCloseStatus.Empty,
                            source.CloseStatus is null ? null : source.CloseStatusDescription, cancellationToken).ConfigureAwait(false);
                    }
                    return;
                }
                await destination.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string description)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            socket.Abort();
            return;
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            socket.Abort();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _invoker.Dispose();

    /// <summary>Cancels the bridge when no message has passed for the idle timeout.</summary>
    private sealed class IdleWatch : IDisposable
    {
        private readonly TimeSpan _timeout;
        private readonly Timer _timer;
        private long _lastTouch = Environment.TickCount64;

        public IdleWatch(TimeSpan timeout, CancellationTokenSource lifetime)
        {
            _timeout = timeout;
            var period = TimeSpan.FromMilliseconds(Math.Max(50, timeout.TotalMilliseconds / 4));
            _timer = new Timer(_ =>
            {
                if (Environment.TickCount64 - Interlocked.Read(ref _lastTouch) >= _timeout.TotalMilliseconds)
                {
                    Expired = true;
                    lifetime.Cancel();
                }
            }, null, period, period);
        }

        public bool Expired { get; private set; }

        public void Touch() => Interlocked.Exchange(ref _lastTouch, Environment.TickCount64);

        public void Dispose() => _timer.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Backend WebSocket {Backend} could not be opened: {Reason}")]
    private static partial void LogBackendConnectFailed(ILogger logger, string backend, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "WebSocket bridge to {Backend} closed after the idle timeout")]
    private static partial void LogIdleClosed(ILogger logger, string backend);
}
