namespace Catbird.Identity.Jwt;

/// <summary>What the receiving service requires of a token.</summary>
/// <param name="Audiences">Accepted <c>aud</c> values (for example the service DID with and without <c>#atproto_mls</c>).</param>
/// <param name="Lxm">The NSID being called; a token that names another method is refused.</param>
/// <param name="RequireLxm">When true, a token without <c>lxm</c> is refused.</param>
public sealed record ServiceJwtExpectations(IReadOnlyCollection<string> Audiences, string? Lxm, bool RequireLxm = true);

/// <summary>A verified AT Protocol inter-service token.</summary>
/// <param name="Issuer">The <c>iss</c> claim as sent (may carry a <c>#service</c> fragment).</param>
/// <param name="IssuerDid">The account DID: <c>iss</c> without its fragment.</param>
public sealed record VerifiedServiceJwt(string Issuer, string IssuerDid, string Audience, string? Lxm, string Jti,
    DateTimeOffset Expires, DateTimeOffset? IssuedAt, string Algorithm);

/// <summary>Why a token was refused; the names are the XRPC error names returned with 401.</summary>
public enum ServiceJwtError
{
    /// <summary>Not a well-formed JWT, unsupported alg, missing or malformed claims, lifetime too long.</summary>
    BadJwt,

    /// <summary>An access, refresh or DPoP token (<c>typ</c>) used as a service token.</summary>
    BadJwtType,

    /// <summary><c>exp</c> is in the past.</summary>
    ExpiredToken,

    /// <summary><c>aud</c> is not this service.</summary>
    BadJwtAudience,

    /// <summary><c>lxm</c> is missing or names another method.</summary>
    BadJwtLexiconMethod,

    /// <summary><c>iss</c> is not a DID, or its document could not be resolved to a key.</summary>
    BadJwtIssuer,

    /// <summary>The signature does not verify with the issuer's key (after one refetch).</summary>
    BadJwtSignature,

    /// <summary>The <c>jti</c> was already used by this issuer within its lifetime.</summary>
    ReplayedToken,
}

/// <summary>A refused token.</summary>
public sealed class ServiceJwtException(ServiceJwtError error, string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The reason.</summary>
    public ServiceJwtError Error { get; } = error;

    /// <summary>The XRPC error name.</summary>
    public string ErrorName => Error.ToString();
}

/// <summary>Remembers (issuer, jti) pairs until the token expires.</summary>
public interface IJtiReplayStore
{
    /// <summary>Records the pair; returns false when it was already recorded (a replay).</summary>
    ValueTask<bool> TryRecordAsync(string issuer, string jti, DateTimeOffset expires, CancellationToken ct);
}

/// <summary>Options of <see cref="ServiceJwtVerifier"/>.</summary>
public sealed record ServiceJwtVerifierOptions
{
    /// <summary>Longest accepted <c>exp - iat</c> (and <c>exp - now</c>). The PDS issues at most one hour.</summary>
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Tolerated clock difference for <c>iat</c> in the future. <c>exp</c> gets no leeway.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest token accepted, in characters.</summary>
    public int MaxTokenLength { get; init; } = 8192;

    /// <summary>
    /// A shared secret for HS256 development tokens; null (the default) refuses HS256. The service decides when this may
    /// be set (Mls.Api: only in Development and bound to loopback).
    /// </summary>
    public byte[]? DevelopmentHmacSecret { get; init; }
}
