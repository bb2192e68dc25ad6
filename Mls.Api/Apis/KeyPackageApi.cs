using Catbird.Identity.Did;
using Catbird.Mls.Api.Auth;
using Catbird.Mls.Api.Mls;
using Catbird.Mls.Api.Storage;
using Microsoft.Extensions.Options;

namespace Catbird.Mls.Api.Apis;

/// <summary>Key packages: publishKeyPackage, getKeyPackages.</summary>
public static class KeyPackageApi
{
    public static RouteGroupBuilder MapKeyPackageApi(this RouteGroupBuilder xrpc)
    {
        xrpc.MapPost("blue.catbird.mls.publishKeyPackage", PublishAsync);
        xrpc.MapGet("blue.catbird.mls.getKeyPackages", GetAsync);
        xrpc.MapGet("blue.catbird.mls.getKeyPackageStats", StatsAsync);
        return xrpc;
    }

    private static async Task<IResult> PublishAsync(HttpContext http, KeyPackageStore store, IOptions<MlsOptions> options, TimeProvider time, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var input = await Xrpc.ReadBodyAsync(http.Request, MlsJsonContext.Default.PublishKeyPackageInput, ct);
        if (input.KeyPackage is null || input.KeyPackage.Length > 65536)
        {
            throw Xrpc.BadRequest("keyPackage (base64, ≤ 65536 characters) is required", "InvalidKeyPackage");
        }
        var bytes = Xrpc.DecodeBase64(input.KeyPackage, "keyPackage");
        MlsKeyPackage keyPackage;
        try
        {
            keyPackage = MlsDecoder.DecodeKeyPackage(bytes);
        }
        catch (MlsFormatException e)
        {
            throw Xrpc.BadRequest($"keyPackage: {e.Message}", "InvalidKeyPackage");
        }
        var suite = MlsCipherSuite.FromName(input.CipherSuite ?? "") ?? throw Xrpc.BadRequest("unknown cipherSuite", "InvalidCipherSuite");
        if (suite.Id != keyPackage.CipherSuite)
        {
            throw Xrpc.BadRequest("cipherSuite differs from the key package's", "InvalidCipherSuite");
        }
        var now = time.GetUtcNow();
        if (KeyPackageValidator.Validate(keyPackage, caller, now) is { } problem)
        {
            throw Xrpc.BadRequest(problem.Message, "InvalidKeyPackage");
        }
        var lifetimeEnd = DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(keyPackage.LeafNode.Lifetime!.NotAfter, 253402300799UL));
        var expires = input.Expires ?? (lifetimeEnd < now.AddDays(30) ? lifetimeEnd : now.AddDays(30));
        if (expires <= now)
        {
            throw Xrpc.BadRequest("expires must be in the future");
        }
        if (expires > now.AddDays(90))
        {
            throw Xrpc.BadRequest("expires is more than 90 days ahead", "ExpirationTooFar");
        }
        if (expires > lifetimeEnd)
        {
            expires = lifetimeEnd;
        }
        var hash = await store.PublishAsync(caller, keyPackage, expires, options.Value.MaxKeyPackagesPerDid, ct);
        return Xrpc.Ok(new PublishKeyPackageOutput(hash), MlsJsonContext.Default.PublishKeyPackageOutput);
    }

    private static async Task<IResult> GetAsync(HttpContext http, KeyPackageStore store, IOptions<MlsOptions> options, string? cipherSuite, CancellationToken ct)
    {
        var caller = XrpcAuthFilter.CallerDid(http);
        var dids = http.Request.Query["dids"].Where(d => d is not null).Select(d => d!).Distinct(StringComparer.Ordinal).ToList();
        if (dids.Count is < 1 or > 100)
        {
            throw Xrpc.BadRequest("dids: 1..100 DIDs", dids.Count > 100 ? "TooManyDids" : "InvalidRequest");
        }
        if (dids.Any(d => !DidSyntax.IsValid(d)))
        {
            throw Xrpc.BadRequest("dids must be DIDs", "InvalidDid");
        }
        ushort? suite = null;
        if (cipherSuite is not null)
        {
            suite = (MlsCipherSuite.FromName(cipherSuite) ?? throw Xrpc.BadRequest("unknown cipherSuite", "InvalidCipherSuite")).Id;
        }
        var (found, missing) = await store.ReserveAsync(caller, dids, suite, TimeSpan.FromSeconds(options.Value.KeyPackageReservationSeconds), ct);
        return Xrpc.Ok(new GetKeyPackagesOutput(found, missing.Count == 0 ? null : missing), MlsJsonContext.Default.GetKeyPackagesOutput);
    }

    /// <summary>The caller's own inventory (the lexicon's optional <c>did</c> may only name the caller).</summary>
    private static async Task<IResult> StatsAsync(HttpContext http, KeyPackageStore store, TimeProvider time, string? did, string? cipherSuite, CancellationToken ct)
    {
        const int threshold = 5;
        var caller = XrpcAuthFilter.CallerDid(http);
        if (did is not null && did != caller)
        {
            throw new XrpcException(403, "Forbidden", "key package stats are only available for the caller's own DID");
        }
        ushort? suite = null;
        if (cipherSuite is not null)
        {
            suite = (MlsCipherSuite.FromName(cipherSuite) ?? throw Xrpc.BadRequest("unknown cipherSuite", "InvalidCipherSuite")).Id;
        }
        var (bySuite, oldest) = await store.StatsAsync(caller, suite, ct);
        var available = bySuite.Sum(s => s.Available);
        string? expiresIn = null;
        if (oldest is { } expiry)
        {
            var left = expiry - time.GetUtcNow();
            expiresIn = $"{(int)left.TotalDays}d {left.Hours}h";
        }
        return Xrpc.Ok(new KeyPackageStatsOutput(available, threshold, available < threshold, expiresIn,
            bySuite.Select(s => new SuiteStats(MlsCipherSuite.FromId(s.Suite)!.Name, s.Available, s.Consumed)).ToList()),
            MlsJsonContext.Default.KeyPackageStatsOutput);
    }
}
