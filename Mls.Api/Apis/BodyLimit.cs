using Microsoft.AspNetCore.Http.Metadata;

namespace Catbird.Mls.Api.Apis;

/// <summary>Per-route request body limits, enforced by routing before the handler reads the body (413 PayloadTooLarge).</summary>
public sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
{
    /// <summary>Default for XRPC routes: small JSON bodies.</summary>
    public const long Default = 256 * 1024;

    /// <summary>Routes that carry MLS messages up to 10 MiB, base64-encoded inside JSON.</summary>
    public const long MlsMessage = 15 * 1024 * 1024;

    public long? MaxRequestBodySize { get; } = bytes;
}
