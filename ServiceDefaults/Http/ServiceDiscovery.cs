using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Catbird.ServiceDefaults.Http;

/// <summary>
/// Resolves <c>http://mls-api</c>-style URIs from the endpoints the AppHost injects (<c>services__mls-api__http__0</c>),
/// as Aspire's service discovery does. <c>https+http://name</c> prefers an https endpoint and falls back to http.
/// </summary>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    /// <summary>
    /// Returns the base URI of <paramref name="serviceName"/> for <paramref name="scheme"/> (<c>http</c>, <c>https</c> or
    /// <c>https+http</c>), or null when the configuration has no such endpoint.
    /// </summary>
    public Uri? Resolve(string serviceName, string scheme)
    {
        foreach (var candidate in scheme.Split('+', StringSplitOptions.RemoveEmptyEntries))
        {
            var section = configuration.GetSection("services").GetSection(serviceName).GetSection(candidate);
            var first = section.GetChildren().OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Value).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
            if (first is not null && Uri.TryCreate(first, UriKind.Absolute, out var uri))
            {
                return uri;
            }
        }

        return null;
    }

    /// <summary>
    /// Rewrites <paramref name="requestUri"/> when its host names a configured service; returns it unchanged otherwise.
    /// </summary>
    public Uri Rewrite(Uri requestUri)
    {
        var scheme = requestUri.Scheme;
        if (requestUri.IsLoopback || requestUri.HostNameType != UriHostNameType.Dns || requestUri.Host.Contains('.', StringComparison.Ordinal))
        {
            return requestUri;
        }

        var resolved = Resolve(requestUri.Host, scheme);
        if (resolved is null)
        {
            return requestUri;
        }

        var builder = new UriBuilder(requestUri) { Scheme = resolved.Scheme, Host = resolved.Host, Port = resolved.Port };
        return builder.Uri;
    }
}

/// <summary>Rewrites each request's URI through <see cref="ServiceEndpointResolver"/>.</summary>
public sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            request.RequestUri = resolver.Rewrite(uri);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Registration of service discovery.</summary>
public static class ServiceDiscoveryExtensions
{
    /// <summary>Registers <see cref="ServiceEndpointResolver"/>.</summary>
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        services.AddSingleton<ServiceEndpointResolver>();
        services.AddTransient<ServiceDiscoveryHandler>();
        return services;
    }

    /// <summary>Adds the service discovery handler to an HttpClient.</summary>
    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder) => builder.AddHttpMessageHandler<ServiceDiscoveryHandler>();
}
