using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api.Apis;

/// <summary><c>/.well-known/did.json</c>: the service's did:web document with its <c>#atproto_mls</c> entry.</summary>
public static class WellKnownApi
{
    public static IEndpointRouteBuilder MapWellKnownApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/did.json", (IOptions<MlsOptions> options) =>
        {
            var settings = options.Value;
            var endpoint = settings.ServiceEndpoint
                ?? (settings.ServiceDid.StartsWith("did:web:", StringComparison.Ordinal)
                    ? "https://" + Uri.UnescapeDataString(settings.ServiceDid["did:web:".Length..])
                    : null);
            if (endpoint is null)
            {
                return Xrpc.Error(404, "NotFound", "no did:web document: SERVICE_DID is not a did:web and SERVICE_ENDPOINT is unset");
            }
            var document = new DidDocument(["https://www.w3.org/ns/did/v1"], settings.ServiceDid,
                [new DidDocumentService("#atproto_mls", "AtprotoMlsService", endpoint)]);
            return Xrpc.Ok(document, MlsJsonContext.Default.DidDocument);
        });
        return app;
    }
}
