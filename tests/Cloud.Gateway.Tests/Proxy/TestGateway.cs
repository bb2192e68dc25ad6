using Catbird.Proxy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Catbird.Cloud.Gateway.Tests.Proxy;

/// <summary>A minimal Kestrel app that forwards <c>/p/{**rest}</c> and bridges <c>/ws</c> to one backend base URL.</summary>
internal sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpForwarder _forwarder;
    private readonly WebSocketBridge _bridge;

    private TestGateway(WebApplication app, HttpForwarder forwarder, WebSocketBridge bridge, Uri baseUri)
    {
        _app = app;
        _forwarder = forwarder;
        _bridge = bridge;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public static async Task<TestGateway> StartAsync(Uri backend, BackendAllowlist allowlist, CancellationToken ct,
        HttpForwarderOptions? options = null, WebSocketBridgeOptions? bridgeOptions = null)
    {
        var forwarder = new HttpForwarder(options ?? new HttpForwarderOptions(), allowlist, NullLogger<HttpForwarder>.Instance);
        var bridge = new WebSocketBridge(bridgeOptions ?? new WebSocketBridgeOptions(), allowlist, NullLogger<WebSocketBridge>.Instance);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/p/{**rest}", (HttpContext context, string? rest) =>
            forwarder.ForwardAsync(context, new Uri(backend, (rest ?? "") + context.Request.QueryString)));
        var wsBackend = new UriBuilder(backend) { Scheme = "ws", Path = "/ws" }.Uri;
        app.Map("/ws", (HttpContext context) => context.WebSockets.IsWebSocketRequest
            ? bridge.BridgeAsync(context, wsBackend)
            : Task.CompletedTask);
        await app.StartAsync(ct);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestGateway(app, forwarder, bridge, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
        _forwarder.Dispose();
        _bridge.Dispose();
    }
}
