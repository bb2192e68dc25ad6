using Catbird.Proxy;
using Catbird.ServiceDefaults.Http;

namespace Catbird.Cloud.Gateway.Apis;

/// <summary>
/// The platform's own services behind the gateway, found by service discovery: <c>/xrpc/blue.catbird.mls.*</c> →
/// mls-api, <c>/kas/*</c> and <c>/media/*</c> → kas-api. Their own authentication applies; the gateway forwards.
/// </summary>
public static class PlatformApi
{
    /// <summary>The mls-api service name.</summary>
    public const string MlsApi = "mls-api";

    /// <summary>The kas-api service name.</summary>
    public const string KasApi = "kas-api";

    /// <summary>Maps the platform routes.</summary>
    public static IEndpointRouteBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        app.Map("/xrpc/{nsid}", (HttpContext context, string nsid, PlatformForwarder forwarder, ServiceEndpointResolver services) =>
            nsid.StartsWith("blue.catbird.mls.", StringComparison.Ordinal)
                ? ForwardAsync(context, forwarder, services, MlsApi)
                : WriteXrpcNotFoundAsync(context, nsid));
        app.Map("/kas/{**rest}", (HttpContext context, PlatformForwarder forwarder, ServiceEndpointResolver services) => ForwardAsync(context, forwarder, services, KasApi));
        app.Map("/media/{**rest}", (HttpContext context, PlatformForwarder forwarder, ServiceEndpointResolver services) => ForwardAsync(context, forwarder, services, KasApi));
        return app;
    }

    private static async Task ForwardAsync(HttpContext context, PlatformForwarder forwarder, ServiceEndpointResolver services, string service)
    {
        var backend = services.Resolve(service, "https+http");
        if (backend is null)
        {
            await HttpForwarder.WriteProblemAsync(context, StatusCodes.Status503ServiceUnavailable, "https://catbird.blue/problems/service-not-configured",
                "Service not configured", $"The gateway has no endpoint for {service} (services__{service}__http__0).");
            return;
        }

        await forwarder.Forwarder.ForwardAsync(context, new Uri(backend, context.Request.Path.Value + context.Request.QueryString.Value));
    }

    private static Task WriteXrpcNotFoundAsync(HttpContext context, string nsid)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return context.Response.WriteAsJsonAsync(new XrpcError("MethodNotImplemented", $"{nsid} is not served by this gateway."), GatewayJsonContext.Default.XrpcError);
    }
}

/// <summary>The forwarder used for the platform routes (kept apart from tenant forwarding and its allowlist).</summary>
public sealed class PlatformForwarder(HttpForwarder forwarder) : IDisposable
{
    /// <summary>The forwarder.</summary>
    public HttpForwarder Forwarder { get; } = forwarder;

    /// <inheritdoc />
    public void Dispose() => Forwarder.Dispose();
}
